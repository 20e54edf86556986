//! The web UI end to end: `oisp-sensor web` over a store filled by `demo` and `replay` (real
//! decoded captures, including Claude Code and Codex sessions), driven in Debian's headless
//! chromium by `tools/web-test/ui-test.mjs` (playwright-core): every view is loaded, its content
//! checked against facts read independently with `show --json`, and screenshotted into
//! `target/artifacts/web/`. Also: the token a non-loopback address requires.

use serde_json::Value;
mod http_get;

use http_get::{get, port_of};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_oisp-sensor");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `target/` (the binary lives in `target/debug/`).
fn target_dir() -> PathBuf {
    Path::new(BIN)
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

fn run(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run oisp-sensor");
    assert!(
        out.status.success(),
        "oisp-sensor {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running `oisp-sensor web`, killed on drop.
struct Web {
    child: Child,
    url: String,
}

impl Drop for Web {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(store: &Path, addr: &str) -> Web {
    let mut child = Command::new(BIN)
        .args(["web", "-i"])
        .arg(store)
        .args(["--web-addr", addr])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start oisp-sensor web");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("web printed its URL")
            .expect("read stderr");
        if let Some(u) = line.split("web UI at ").nth(1) {
            break u.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Web { child, url }
}

/// A store with the demo, the two-agent recording, and a call recorded with minimal redaction.
fn filled_store(dir: &Path) -> PathBuf {
    let store = dir.join("events.db");
    let s = store.to_str().unwrap();
    run(&["demo", "--store", s, "-o", "/dev/null"]);
    let agents = repo().join("fixtures/agents/two-agents.oraw");
    run(&[
        "replay",
        agents.to_str().unwrap(),
        "--store",
        s,
        "-o",
        "/dev/null",
    ]);
    let large = repo().join("fixtures/captures/large-prompt.oraw");
    run(&[
        "replay",
        large.to_str().unwrap(),
        "--redaction",
        "minimal",
        "--store",
        s,
        "-o",
        "/dev/null",
    ]);
    store
}

/// What the page must show, read with `show --json` (not through the web API).
fn expectations(store: &Path) -> Value {
    let events: Vec<Value> = run(&["show", "-i", store.to_str().unwrap(), "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let of = |t: &'static str| events.iter().filter(move |e| e["event_type"] == t);
    let prompt = "Say hello to the OISP sensor.";
    let response_of = |req: &Value| {
        let rid = req["data"]["request_id"].clone();
        of("ai.response").find(move |e| e["data"]["request_id"] == rid)
    };
    // the demo sends this prompt from several clients: take one whose response has a cost
    let req = of("ai.request")
        .find(|e| {
            e["data"]["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["content"] == prompt))
                && response_of(e).is_some_and(|r| r["data"]["usage"]["total_cost_usd"].is_f64())
        })
        .expect("the demo's hello request");
    let resp = response_of(req).expect("its response");
    let redacted = of("ai.request")
        .find(|e| e.to_string().contains("$redacted"))
        .expect("a request recorded with minimal redaction");
    let claude = of("agent.session")
        .find(|e| e["data"]["agent"]["name"] == "claude-code")
        .or_else(|| of("agent.session").find(|e| e["process"]["name"] == "claude"))
        .expect("a Claude Code session");
    let cost: f64 = of("ai.response")
        .filter_map(|e| e["data"]["usage"]["total_cost_usd"].as_f64())
        .sum();
    serde_json::json!({
        "ai_calls": of("ai.request").count(),
        "cost_usd": cost,
        "prompt": prompt,
        "request_id": req["data"]["request_id"],
        "response": resp["data"]["choices"][0]["message"]["content"],
        "call_cost": resp["data"]["usage"]["total_cost_usd"],
        "model": resp["data"]["model"]["id"],
        "key_prefix": req["data"]["auth"]["key_prefix"],
        "key_hash": req["data"]["auth"]["key_hash"],
        "redacted_request_id": redacted["data"]["request_id"],
        "trace_id": claude["trace_context"]["trace_id"],
        "tool_text": "alpha-from-claude",
        "exec_text": "tee /tmp/r2/proj/claude-a.txt",
        "file_text": "/tmp/r2/proj/claude-a.txt",
    })
}

#[test]
fn every_view_shows_real_decoded_data_in_headless_chromium() {
    let tools = repo().join("tools/web-test");
    assert!(
        tools.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `npm ci --prefix tools/web-test` (scripts/test.sh does)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: install Debian's chromium (scripts/install-deps.sh does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path());
    let expect = expectations(&store);
    let web = serve(&store, "127.0.0.1:0");
    let artifacts = target_dir().join("artifacts/web");
    let out = Command::new("node")
        .arg(tools.join("ui-test.mjs"))
        .env("OISP_URL", web.url.trim_end_matches('/'))
        .env("OISP_BIN", BIN)
        .env("OISP_STORE", &store)
        .env(
            "OISP_LIVE_RAW",
            repo().join("fixtures/captures/websocket-python.oraw"),
        )
        .env("OISP_EXPECT", expect.to_string())
        .env("OISP_ARTIFACTS", &artifacts)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    println!("screenshots: {}", artifacts.display());
    assert!(out.status.success(), "browser checks failed:\n{stdout}");
}

#[test]
fn a_non_loopback_address_requires_the_printed_token_on_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("events.db");
    run(&[
        "demo",
        "--store",
        store.to_str().unwrap(),
        "-o",
        "/dev/null",
    ]);
    let web = serve(&store, "0.0.0.0:0");
    let (_, token) = web.url.split_once("/?token=").expect("URL with token");
    assert_eq!(token.len(), 32, "{}", web.url);
    let port = port_of(&web.url);
    for path in [
        "/",
        "/assets/app.js",
        "/api/overview",
        "/api/events",
        "/api/health",
    ] {
        let (code, _) = get(port, path, None);
        assert_eq!(code, 401, "{path} without the token");
        let (code, _) = get(port, path, Some("0123456789abcdef0123456789abcdef"));
        assert_eq!(code, 401, "{path} with a wrong token");
        let (code, _) = get(port, path, Some(token));
        assert_eq!(code, 200, "{path} with the token");
    }
    let (code, resp) = get(port, &format!("/?token={token}"), None);
    assert_eq!(code, 200);
    assert!(
        resp.contains("Set-Cookie: oisp_token=") || resp.contains("set-cookie: oisp_token="),
        "{resp}"
    );
}

#[test]
fn a_missing_store_is_a_clear_error() {
    let out = Command::new(BIN)
        .args([
            "web",
            "-i",
            "/nonexistent/events.db",
            "--web-addr",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no event store at /nonexistent/events.db"),
        "{err}"
    );
}
