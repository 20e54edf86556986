//! Test support: the real OTLP receiver (tools/otlp-receiver, official protos) and the
//! recorded fixtures decoded into events.

#![allow(dead_code)]

mod check;
#[allow(unused_imports)]
pub use check::check_export;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

pub use oisp_testkit::{capture_events as fixture_events, items, repo_root as root};

/// Creates the receiver's venv once per test process; a failure fails the test with the reason.
fn venv_python() -> PathBuf {
    static SETUP: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    SETUP
        .get_or_init(|| {
            let dir = root().join("tools/otlp-receiver");
            let out = Command::new(dir.join("setup-venv.sh"))
                .output()
                .map_err(|e| format!("cannot run tools/otlp-receiver/setup-venv.sh: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "tools/otlp-receiver/setup-venv.sh failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Ok(dir.join(".venv/bin/python3"))
        })
        .clone()
        .unwrap_or_else(|e| panic!("the OTLP test receiver cannot be set up: {e}"))
}

/// A running receiver; killed when dropped.
pub struct Receiver {
    child: Child,
    _stdin: ChildStdin,
    pub grpc_port: u16,
    pub http_port: u16,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl Receiver {
    /// Starts `receiver.py` with extra `args` (`--fail unavailable`, `--partial 2`, ...).
    pub fn start(args: &[&str]) -> Receiver {
        let python = venv_python();
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("received.jsonl");
        let mut child = Command::new(python)
            .arg(root().join("tools/otlp-receiver/receiver.py"))
            .arg("--out")
            .arg(&out)
            .args(args)
            .env("GRPC_VERBOSITY", "ERROR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start receiver.py");
        let stdin = child.stdin.take().expect("stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read READY line");
        let ports: Vec<u16> = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("receiver did not start: {line:?}"))
            .split(' ')
            .map(|kv| kv.split_once('=').expect("k=v").1.parse().expect("port"))
            .collect();
        Receiver {
            child,
            _stdin: stdin,
            grpc_port: ports[0],
            http_port: ports[1],
            out,
            _dir: dir,
        }
    }

    pub fn grpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Every request received so far, decoded by the official classes (MessageToDict).
    pub fn received(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).expect("receiver writes JSON lines"))
            .collect()
    }

    /// Waits up to `timeout` for at least `n` requests.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let end = std::time::Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n || std::time::Instant::now() >= end {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An attribute value from MessageToDict output as JSON: strings, ints (JSON strings there),
/// doubles, bools, arrays.
pub fn attr<'a>(attrs: &'a Value, key: &str) -> Option<&'a Value> {
    attrs
        .as_array()?
        .iter()
        .find(|kv| kv["key"] == key)
        .map(|kv| &kv["value"])
}

pub fn attr_str(attrs: &Value, key: &str) -> Option<String> {
    attr(attrs, key)?["stringValue"].as_str().map(str::to_owned)
}

pub fn attr_int(attrs: &Value, key: &str) -> Option<i64> {
    attr(attrs, key)?["intValue"].as_str()?.parse().ok()
}

/// Hex of a MessageToDict bytes field (base64).
pub fn hex_id(v: &Value) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap_or(""))
        .expect("base64 id");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// (resource attributes, log record) of every log record received.
pub fn log_records(received: &[Value]) -> Vec<(Value, Value)> {
    let mut out = Vec::new();
    for r in received.iter().filter(|r| r["signal"] == "logs") {
        for rl in r["request"]["resourceLogs"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for sl in rl["scopeLogs"].as_array().into_iter().flatten() {
                assert_eq!(sl["scope"]["name"], "oisp-sensor");
                for rec in sl["logRecords"].as_array().into_iter().flatten() {
                    out.push((rl["resource"]["attributes"].clone(), rec.clone()));
                }
            }
        }
    }
    out
}

/// (resource attributes, span) of every span received.
pub fn spans(received: &[Value]) -> Vec<(Value, Value)> {
    let mut out = Vec::new();
    for r in received.iter().filter(|r| r["signal"] == "traces") {
        for rs in r["request"]["resourceSpans"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                assert_eq!(ss["scope"]["name"], "oisp-sensor");
                for span in ss["spans"].as_array().into_iter().flatten() {
                    out.push((rs["resource"]["attributes"].clone(), span.clone()));
                }
            }
        }
    }
    out
}

/// The spans of AI calls and tool calls only (not the spans of agent sessions — `invoke_agent`
/// — nor of the commands, file changes and connections in them).
pub fn call_spans(received: &[Value]) -> Vec<(Value, Value)> {
    spans(received)
        .into_iter()
        .filter(|(_, s)| {
            let name = s["name"].as_str().unwrap_or("");
            !["invoke_agent ", "exec ", "file.", "connect "]
                .iter()
                .any(|p| name.starts_with(p))
        })
        .collect()
}
