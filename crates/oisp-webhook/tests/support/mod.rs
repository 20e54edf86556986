//! Shared by the webhook tests: the real receiver process (tools/webhook-receiver/receiver.py)
//! and a stream of real events decoded from the recorded captures.
#![allow(dead_code)]

use oisp_sinks::Item;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub use oisp_testkit::repo_root as root;

/// Events decoded from every `fixtures/captures/*.oraw` whose JSON is at most 64 KiB (the
/// 1 MiB prompt would turn thousands of events into gigabytes).
pub fn fixture_events() -> Vec<oisp_event::Event> {
    let dir = root().join("fixtures/captures");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "oraw"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no captures in {}", dir.display());
    let mut out = Vec::new();
    for path in paths {
        for ev in oisp_testkit::decode_capture_file(&path) {
            if serde_json::to_vec(&ev).unwrap().len() <= 64 * 1024 {
                out.push(ev);
            }
        }
    }
    out
}

/// `n` items: the fixture events repeated, each copy with a fresh ULID event id.
pub fn items(n: usize) -> Vec<Item> {
    oisp_testkit::fresh_items(&fixture_events(), n)
}

/// Options of one receiver run.
#[derive(Default, Clone)]
pub struct ReceiverOpts {
    pub secret: Option<String>,
    pub fail_status: Option<u16>,
    /// -1: every request.
    pub fail_count: i64,
    /// `Retry-After` value sent with the configured failures.
    pub retry_after: Option<String>,
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Bodies larger than this many bytes are answered 413.
    pub max_body: Option<usize>,
    /// Milliseconds between storing a batch and answering 200.
    pub reply_delay_ms: Option<u64>,
}

/// The receiver process; killed (SIGKILL) on drop.
pub struct Receiver {
    child: Option<Child>,
    pub port: u16,
    pub url: String,
    pub out: PathBuf,
    pub requests: PathBuf,
    opts: ReceiverOpts,
}

impl Receiver {
    /// Starts a receiver writing into `dir` on a free port.
    pub fn start(dir: &Path, opts: ReceiverOpts) -> Receiver {
        let mut r = Receiver {
            child: None,
            port: 0,
            url: String::new(),
            out: dir.join("received.jsonl"),
            requests: dir.join("requests.jsonl"),
            opts,
        };
        r.spawn(0);
        r
    }

    fn spawn(&mut self, port: u16) {
        let script = root().join("tools/webhook-receiver/receiver.py");
        let mut cmd = Command::new("python3");
        cmd.arg(&script)
            .args(["--port", &port.to_string()])
            .arg("--out")
            .arg(&self.out)
            .arg("--requests")
            .arg(&self.requests)
            .env_remove("OISP_WEBHOOK_SECRET")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(s) = &self.opts.secret {
            cmd.args(["--secret", s]);
        }
        if let Some(st) = self.opts.fail_status {
            cmd.args(["--fail-status", &st.to_string()]);
            cmd.args(["--fail-count", &self.opts.fail_count.to_string()]);
            if let Some(v) = &self.opts.retry_after {
                cmd.args(["--retry-after", v]);
            }
        }
        if let Some(ms) = self.opts.reply_delay_ms {
            cmd.args(["--reply-delay-ms", &ms.to_string()]);
        }
        if let Some(max) = self.opts.max_body {
            cmd.args(["--max-body", &max.to_string()]);
        }
        if let Some((cert, key)) = &self.opts.tls {
            cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start python3 {} ({e}): python3 is required",
                script.display()
            )
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("receiver did not report its port within 20 s"));
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected receiver output: {line:?}"))
            .to_string();
        self.port = url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {url}"));
        self.url = format!("{url}oisp");
        self.child = Some(child);
    }

    /// SIGKILL: no clean shutdown, in-flight requests are cut.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again on the same port (after `kill`) with new options.
    pub fn restart_with(&mut self, opts: ReceiverOpts) {
        self.opts = opts;
        self.restart();
    }

    /// Bytes stored so far (grows when a batch is stored, before it is acknowledged).
    pub fn stored_bytes(&self) -> u64 {
        std::fs::metadata(&self.out).map_or(0, |m| m.len())
    }

    /// Starts again on the same port (after `kill`).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "restart after kill");
        let port = self.port;
        self.spawn(port);
        assert_eq!(self.port, port);
    }

    /// Event ids in the order they were stored (duplicates included).
    pub fn received_ids(&self) -> Vec<String> {
        read_jsonl(&self.out)
            .iter()
            .map(|v| v["event_id"].as_str().unwrap().to_string())
            .collect()
    }

    /// One JSON object per request answered.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        read_jsonl(&self.requests)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("{}: {e}", path.display()),
    }
}
