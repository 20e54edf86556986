//! End to end, as root: `record --web` serves the web UI over the store it writes while it
//! captures: a curl call made during the recording is in the UI's timeline and conversation
//! routes, and the health route carries the running record's probes and counters.
//!
//! Needs root and BPF. When not root the test fails, unless OISP_SKIP_ROOT_TESTS=1 says to skip.

mod e2e;
mod http_get;
mod root;

use e2e::*;
use http_get::{get_json, port_of};
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn record_with_web_serves_what_it_captures_live() {
    let Some(mut s) = Session::start_with("web", &["--web", "--web-addr", "127.0.0.1:0"]) else {
        return;
    };
    // record prints the URL on the line after "capturing" (kept in record.stderr)
    let log = s.tmp.join("record.stderr");
    let start = Instant::now();
    let url = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(u) = text.lines().find_map(|l| l.split("web UI at ").nth(1)) {
            break u.trim().to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no web UI line: {text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let port = port_of(&url);
    let prompt = "Hello from curl while the web UI watches";
    let body =
        format!(r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"{prompt}"}}]}}"#);
    let mut c = Command::new("curl");
    c.args(["-sS", "-o", "/dev/null", "--http1.1", "--cacert"])
        .arg(&s.ca)
        .args(["-H", &format!("Authorization: Bearer {KEY}")])
        .args(["-H", "content-type: application/json", "-d", &body])
        .arg(format!("{}/v1/chat/completions", s.base()));
    s.client("curl", c);

    // the call reaches the UI while record still runs
    let start = Instant::now();
    let row = loop {
        let page = get_json(port, "/api/events?type=ai.request&process=curl&limit=50");
        if let Some(r) = page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["text"].as_str().is_some_and(|t| t.contains(prompt)))
        {
            break r.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the curl call never reached the web UI: {page}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let rid = row["request_id"].as_str().expect("request id");
    let start = Instant::now();
    let call = loop {
        let call = get_json(port, &format!("/api/call/{rid}"));
        if !call["response"].is_null() || start.elapsed() > Duration::from_secs(20) {
            break call;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(
        call["response"]["data"]["choices"][0]["message"]["content"]
            .as_str()
            .is_some_and(|t| t.contains(prompt)),
        "{call}"
    );
    // the state record publishes reaches the health route (it is written about once a second)
    let start = Instant::now();
    let health = loop {
        let h = get_json(port, "/api/health");
        if h["record"]["counters"]["ai_calls"].as_u64() >= Some(1)
            || start.elapsed() > Duration::from_secs(10)
        {
            break h;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(
        health["record"]["probes"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "health has the running record's probes: {health}"
    );
    assert!(
        health["record"]["counters"]["ai_calls"].as_u64() >= Some(1),
        "{health}"
    );
    assert!(health["drops"].is_u64(), "drops are counted: {health}");
    screenshot_while_recording(&url);
    let evs = s.stop();
    assert!(evs.iter().any(|e| e["event_type"] == "ai.response"));
}

/// Screenshots of the health page (probes, coverage, counters of this running record) and the
/// timeline, into `target/artifacts/web/` beside the browser test's.
fn screenshot_while_recording(url: &str) {
    let tools = repo().join("tools/web-test");
    assert!(
        tools.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `npm ci --prefix tools/web-test` (scripts/test.sh does)"
    );
    let out = std::path::Path::new(env!("CARGO_BIN_EXE_oisp-sensor"))
        .parent()
        .and_then(std::path::Path::parent)
        .unwrap()
        .join("artifacts/web");
    let status = Command::new("node")
        .arg(tools.join("shot.mjs"))
        .arg(url.trim_end_matches('/'))
        .arg(&out)
        .arg("health-recording=#/health=#counters")
        .arg("timeline-recording=#/=#timeline .row")
        .status()
        .expect("run node");
    assert!(status.success(), "screenshots while recording failed");
}
