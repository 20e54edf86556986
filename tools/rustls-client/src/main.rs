//! A test client of the sensor's rustls capture: an unstripped Rust executable (symbols kept, so
//! AWS-LC's functions are found by name) that POSTs OpenAI chat completions through reqwest on
//! rustls with AWS-LC, as Codex does in its stripped build.
//!
//! Usage: `rustls-client BASE_URL CA_PEM PROMPT [--http1] [--stream] [--wait-ms N]`. Prints the
//! reply's bytes count; exits non-zero on any error. `--wait-ms` sleeps before the first
//! connection: a sensor probes a new executable only after it sees it start, and locating
//! functions in an unknown executable takes a moment.

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: rustls-client BASE_URL CA_PEM PROMPT [--http1] [--stream] [--wait-ms N]");
        return ExitCode::from(2);
    }
    let (base, ca, prompt) = (&args[1], &args[2], &args[3]);
    let http1 = args.iter().any(|a| a == "--http1");
    let stream = args.iter().any(|a| a == "--stream");
    let wait_ms = args
        .iter()
        .position(|a| a == "--wait-ms")
        .and_then(|i| args.get(i + 1)?.parse::<u64>().ok())
        .unwrap_or(0);
    std::thread::sleep(std::time::Duration::from_millis(wait_ms));
    match run(base, ca, prompt, http1, stream).await {
        Ok(n) => {
            println!("{n} bytes");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rustls-client: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(
    base: &str,
    ca: &str,
    prompt: &str,
    http1: bool,
    stream: bool,
) -> Result<usize, Box<dyn std::error::Error>> {
    let pem = std::fs::read(ca)?;
    let mut builder =
        reqwest::Client::builder().tls_certs_only([reqwest::Certificate::from_pem(&pem)?]);
    if http1 {
        builder = builder.http1_only();
    }
    let client = builder.build()?;
    let mut body = serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": prompt}],
    });
    if stream {
        body["stream"] = true.into();
        body["stream_options"] = serde_json::json!({"include_usage": true});
    }
    let resp = client
        .post(format!("{base}/v1/chat/completions"))
        .bearer_auth(std::env::var("OPENAI_API_KEY").unwrap_or_else(|_| "sk-test".into()))
        .json(&body)
        .send()
        .await?
        .error_for_status()?;
    Ok(resp.bytes().await?.len())
}
