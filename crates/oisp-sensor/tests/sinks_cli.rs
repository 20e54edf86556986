//! The sinks through the real binary: `demo` with `--webhook` against the real receiver (signed,
//! and across an outage: what the first run could not deliver waits in the disk queue and goes
//! out with the next run), `--otlp` against the receiver built on the official OpenTelemetry
//! protos, `config check` and the flag/key conflicts.

mod otlp_rx;

use otlp_rx::OtlpReceiver;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Tmp(PathBuf);

impl Tmp {
    fn new(name: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("oisp-sinks-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary with no config file and its store, state and queues under `dir`.
fn bin(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_oisp-sensor"));
    c.env("OISP_STORE", dir.join("store/events.db"))
        .env("OISP_CONFIG", "")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL");
    c
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts tools/webhook-receiver/receiver.py (Python standard library) on `port` (0 = any);
/// returns it and its URL.
fn webhook_receiver(dir: &Path, port: u16, secret: &str) -> (Proc, String) {
    let mut child = Command::new("python3")
        .arg(repo().join("tools/webhook-receiver/receiver.py"))
        .args(["--out"])
        .arg(dir.join("hook.jsonl"))
        .args(["--secret", secret, "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 must be installed to run the webhook receiver");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("receiver did not start: {line}"))
        .to_string();
    (Proc(child), url)
}

fn received_ids(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("hook.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["event_id"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn webhook_survives_an_outage_between_runs_and_is_signed() {
    let t = Tmp::new("hook");
    // Receiver down: demo finishes, says how many events wait, and keeps them on disk.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/");
    let out = bin(&t.0)
        .args(["demo", "--no-store", "--webhook", &url])
        .env("OISP_WEBHOOK_SECRET", "s3cret")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("330 still queued"), "{stderr}");
    assert!(
        t.0.join("store/queue/webhook.db").exists(),
        "queue beside the store"
    );

    // Receiver up (it checks the HMAC signature and refuses unsigned or mis-signed POSTs).
    let (_rx, url2) = webhook_receiver(&t.0, port, "s3cret");
    assert_eq!(url2, url);
    let out = bin(&t.0)
        .args(["demo", "--no-store", "--webhook", &url])
        .env("OISP_WEBHOOK_SECRET", "s3cret")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("webhook → "), "{stderr}");
    assert!(!stderr.contains("still queued"), "{stderr}");
    let ids = received_ids(&t.0);
    // 330 from the first run (queued through the outage) + 330 from the second.
    assert_eq!(ids.len(), 660, "{stderr}");
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 330, "demo events have deterministic ids");

    // A wrong secret: the receiver answers 401, the sink counts the events as dropped.
    let out = bin(&t.0)
        .args(["demo", "--no-store", "--webhook", &url])
        .env("OISP_WEBHOOK_SECRET", "wrong")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("330 dropped"), "{stderr}");
    assert_eq!(received_ids(&t.0).len(), 660);
}

#[test]
fn otlp_flag_exports_every_event_to_a_real_receiver() {
    let t = Tmp::new("otlp");
    let rx = OtlpReceiver::start(t.0.join("otlp.jsonl"));
    for (proto, endpoint) in [
        ("grpc", format!("http://127.0.0.1:{}", rx.grpc)),
        ("http/protobuf", format!("http://127.0.0.1:{}", rx.http)),
    ] {
        // The receiver keeps its output file open: read only what this run adds.
        let before = std::fs::read_to_string(t.0.join("otlp.jsonl")).map_or(0, |s| s.len());
        let out = bin(&t.0)
            .args([
                "demo",
                "--no-store",
                "--otlp",
                &endpoint,
                "--otlp-protocol",
                proto,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{proto}: {stderr}");
        let mut logs = 0;
        let mut spans = 0;
        let got = std::fs::read_to_string(t.0.join("otlp.jsonl"))
            .unwrap_or_else(|e| panic!("{proto}: receiver got nothing ({e}); demo said: {stderr}"));
        for line in got[before..].lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let req = &v["request"];
            for rl in req["resourceLogs"].as_array().into_iter().flatten() {
                for sl in rl["scopeLogs"].as_array().into_iter().flatten() {
                    logs += sl["logRecords"].as_array().map_or(0, Vec::len);
                }
            }
            for rs in req["resourceSpans"].as_array().into_iter().flatten() {
                for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                    spans += ss["spans"].as_array().map_or(0, Vec::len);
                }
            }
        }
        assert_eq!(logs, 330, "{proto}: one log record per event");
        assert!(spans >= 88, "{proto}: a span per AI call (88), got {spans}");
    }
}

#[test]
fn config_check_reports_lines_and_flags_need_their_partners() {
    let t = Tmp::new("cfg");
    let good = t.0.join("good.toml");
    std::fs::write(
        &good,
        "[redaction]\nmode = \"minimal\"\n[[redaction.rules]]\nname = \"emp\"\npattern = 'EMP-\\d+'\n[webhook]\nurl = \"https://user:pw@example.com/h?token=x\"\n",
    )
    .unwrap();
    let out = bin(&t.0)
        .args(["config", "check"])
        .arg(&good)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("OK") && stdout.contains("minimal"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("pw") && !stdout.contains("token"),
        "no secrets: {stdout}"
    );

    let bad = t.0.join("bad.toml");
    std::fs::write(
        &bad,
        "[store]\nretention = \"forever\"\n\n[kafka]\nbrokers = \"k\"\ntopic = \"t\"\n",
    )
    .unwrap();
    let out = bin(&t.0)
        .args(["config", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("bad.toml:2: store.retention"), "{stderr}");
    assert!(stderr.contains("bad.toml:5: kafka.brokers"), "{stderr}");

    // `demo` refuses to start on a bad file, naming it.
    let out = bin(&t.0)
        .args(["demo", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("store.retention"));

    let out = bin(&t.0)
        .args(["demo", "--otlp-protocol", "grpc"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--otlp-protocol needs --otlp"));
    let out = bin(&t.0)
        .args(["demo", "--kafka", "k:9092"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "--kafka without --kafka-topic is a usage error"
    );
}
