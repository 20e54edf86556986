//! The harness of record_e2e.rs: the mock provider over HTTPS, a running `oisp-sensor record`
//! (`Session`), and what one captured call must look like (`Expect`).
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

pub const KEY: &str = "sk-proj-TESTKEY0123456789abcdefghijklmnopqrstuvwxyzE2E0";
pub const ANTHROPIC_KEY: &str = "sk-ant-api03-TESTKEY0123456789abcdefghijklmnopqrstuvwxyzE2E0-AA";

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn mock_dir() -> PathBuf {
    repo().join("tools/mock-provider")
}

pub struct KillOnDrop(pub Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One scenario group at a time; the first one brings the clients up to date
/// (`setup-venv.sh` is idempotent: it reinstalls only when `requirements.txt` or the npm lock
/// changed, or a client is missing).
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    static SETUP: OnceLock<()> = OnceLock::new();
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    SETUP.get_or_init(|| {
        let dir = mock_dir();
        run(
            Command::new(dir.join("setup-venv.sh")).current_dir(&dir),
            "setup-venv.sh",
        );
    });
    guard
}

/// A mock provider and a running `oisp-sensor record`.
pub struct Session {
    name: &'static str,
    pub tmp: PathBuf,
    port: u16,
    /// The mock's plain-HTTP port.
    plain_port: u16,
    pub ca: PathBuf,
    events: PathBuf,
    rec: Option<KillOnDrop>,
    _mock: KillOnDrop,
    _guard: MutexGuard<'static, ()>,
}

/// What one call must look like.
pub struct Expect<'a> {
    pub client: &'a str,
    pub exe: &'a str,
    pub cmdline: &'a str,
    pub model: &'a str,
    /// Text of the prompt that must be in `data.messages` (an embeddings request's input is
    /// there too, as a user message); None: not checked.
    pub prompt: Option<&'a str>,
    pub reply: Option<&'a str>,
    pub stream: bool,
    /// The URL path the call went to (`/v1/chat/completions`, `/v1/messages`, …).
    pub path: &'a str,
}

impl Session {
    pub fn start(name: &'static str) -> Option<Session> {
        Session::start_with(name, &[])
    }

    /// [`start`](Self::start) with more `record` arguments (e.g. `--no-ssl`).
    pub fn start_with(name: &'static str, record_args: &[&str]) -> Option<Session> {
        if !crate::root::root_or_skip(&format!("record_e2e::{name}")) {
            return None;
        }
        let guard = serial();
        let mock_dir = mock_dir();
        let tmp = std::env::temp_dir().join(format!("oisp-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        let port_file = tmp.join("port.json");
        let ca_dir = tmp.join("ca");
        let mock = KillOnDrop(
            Command::new("python3")
                .arg(mock_dir.join("mock.py"))
                .args(["--port", "0", "--plain-port", "0", "--quiet", "--port-file"])
                .arg(&port_file)
                .arg("--ca-dir")
                .arg(&ca_dir)
                .current_dir(&mock_dir)
                .stdout(Stdio::null())
                .spawn()
                .expect("start mock"),
        );
        let start = Instant::now();
        let (port, plain_port) = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                if let Ok(v) = serde_json::from_str::<Value>(&text) {
                    let port = |k: &str| v[k].as_u64().expect(k) as u16;
                    break (port("https_port"), port("http_port"));
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{name}: mock did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let events = tmp.join("events.jsonl");
        let mut rec = Command::new(env!("CARGO_BIN_EXE_oisp-sensor"))
            .arg("record")
            .args(record_args)
            .arg("-o")
            .arg(&events)
            .env("OISP_STORE", tmp.join("events.db"))
            .env("OISP_CONFIG", "")
            .env("OISP_STATE_FILE", tmp.join("state.json"))
            .stderr(Stdio::piped())
            .spawn()
            .expect("start record");
        let mut stderr = BufReader::new(rec.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        assert!(
            line.contains("capturing"),
            "{name}: record did not start: {line}"
        );
        // Keep reading record's stderr so it never blocks on a full pipe; kept in
        // `record.stderr` of the session's directory for a failing test to show.
        let log_path = tmp.join("record.stderr");
        std::thread::spawn(move || {
            use std::io::Write;
            let mut log = std::fs::File::create(log_path).ok();
            let mut sink = String::new();
            while stderr.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                if let Some(f) = log.as_mut() {
                    let _ = f.write_all(sink.as_bytes());
                }
                sink.clear();
            }
        });
        Some(Session {
            name,
            tmp,
            port,
            plain_port,
            ca: ca_dir.join("ca.pem"),
            events,
            rec: Some(KillOnDrop(rec)),
            _mock: mock,
            _guard: guard,
        })
    }

    pub fn base(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// The mock's plain-HTTP base URL (no TLS: local model servers, http:// APIs).
    pub fn plain_base(&self) -> String {
        format!("http://localhost:{}", self.plain_port)
    }

    /// What `oisp-sensor status` prints about the running capture, once `record` has published
    /// its state again after this call (it does every second), so that what happened so far is
    /// in it. Panics, with record's stderr, if no new state comes within 15 s.
    pub fn status(&self) -> String {
        let state_file = self.tmp.join("state.json");
        let updated = || -> String {
            std::fs::read_to_string(&state_file)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| v["updated"].as_str().map(str::to_string))
                .unwrap_or_default()
        };
        let before = updated();
        let start = Instant::now();
        // two publications: the first may have been under way when this was called
        let mut seen = 0;
        let mut last = before;
        while seen < 2 {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "{}: record published no state for 15 s (last {last:?}); its stderr:\n{}",
                self.name,
                std::fs::read_to_string(self.tmp.join("record.stderr")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
            let now = updated();
            if now != last {
                seen += 1;
                last = now;
            }
        }
        let out = Command::new(env!("CARGO_BIN_EXE_oisp-sensor"))
            .arg("status")
            .env("OISP_STATE_FILE", &state_file)
            .env("NO_COLOR", "1")
            .output()
            .expect("run status");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a client to completion; returns its pid.
    pub fn client(&self, what: &str, mut cmd: Command) -> u32 {
        if cmd.get_current_dir().is_none() {
            cmd.current_dir(mock_dir());
        }
        let child = cmd
            .env_remove("SSL_CERT_DIR")
            .env("SSL_CERT_FILE", &self.ca)
            .env("REQUESTS_CA_BUNDLE", &self.ca)
            .env("CURL_CA_BUNDLE", &self.ca)
            .env("NODE_EXTRA_CA_CERTS", &self.ca)
            .env("MOCK_BASE", self.base())
            .env("MOCK_PLAIN_BASE", self.plain_base())
            .env("OPENAI_API_KEY", KEY)
            .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {what}: cannot start: {e}", self.name));
        let pid = child.id();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}: {what} failed: {}\n{}",
            self.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        pid
    }

    /// Runs `codex exec PROMPT` (Codex on PATH) in `work` against the mock, as a user would with
    /// a custom provider (`CODEX_HOME/config.toml`, Responses API, over WebSocket when
    /// `websockets`), under `timeout 120`; returns the pid of `timeout` (Codex is its child).
    pub fn codex_exec(&self, prompt: &str, work: &std::path::Path, websockets: bool) -> u32 {
        let home = self.tmp.join("codex-home");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(work).unwrap();
        std::fs::write(
            home.join("config.toml"),
            codex_config(&self.base(), websockets),
        )
        .unwrap();
        let mut cmd = Command::new("timeout");
        cmd.current_dir(work)
            .args([
                "120",
                "codex",
                "exec",
                "--skip-git-repo-check",
                "--dangerously-bypass-approvals-and-sandbox",
                prompt,
            ])
            .env("CODEX_HOME", &home)
            .env("MOCK_OPENAI_KEY", "sk-mock-codex-key-0123456789")
            .env("CODEX_CA_CERTIFICATE", &self.ca);
        self.client("codex exec", cmd)
    }

    /// Runs `claude -p PROMPT` (Claude Code on PATH) against the mock, headless, with a fresh
    /// HOME under the session's directory and permissions skipped, under `timeout 120`; returns
    /// the pid of `timeout` (Claude Code is its child).
    pub fn claude_p(&self, prompt: &str) -> u32 {
        let home = self.tmp.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let mut cmd = Command::new("timeout");
        cmd.args([
            "120",
            "claude",
            "-p",
            prompt,
            "--dangerously-skip-permissions",
        ])
        .env("ANTHROPIC_BASE_URL", self.base())
        .env("IS_SANDBOX", "1")
        .env("HOME", &home)
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_TELEMETRY", "1");
        self.client("claude -p", cmd)
    }

    /// A Python script (the mock's venv: official SDKs); `MOCK_BASE` is the mock's https URL.
    pub fn python(&self, what: &str, code: &str) -> u32 {
        let mut c = Command::new(mock_dir().join(".venv/bin/python"));
        c.args(["-c", code]);
        self.client(what, c)
    }

    pub fn node(&self, what: &str, code: &str) -> u32 {
        let mut c = Command::new("node");
        c.args(["--input-type=module", "-e", code]);
        self.client(what, c)
    }

    /// Stops `record` (SIGTERM, as a user would) and returns the events it wrote.
    pub fn stop(&mut self) -> Vec<Value> {
        // Let the last reads reach the ring buffers and userspace.
        std::thread::sleep(Duration::from_millis(500));
        let mut rec = self.rec.take().expect("record running");
        let ok = Command::new("kill")
            .args(["-TERM", &rec.0.id().to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "{}: cannot send SIGTERM to record", self.name);
        let status = rec.0.wait().unwrap();
        assert!(
            status.success(),
            "{}: record exited with {status}",
            self.name
        );
        let text = std::fs::read_to_string(&self.events).expect("events file");
        text.lines()
            .map(|l| serde_json::from_str(l).expect("event JSON"))
            .collect()
    }

    /// Checks that `pid` made exactly `n` calls looking like `x`, each one ai.request paired
    /// with one ai.response; returns the requests.
    pub fn check_calls<'e>(
        &self,
        evs: &'e [Value],
        pid: u32,
        n: usize,
        x: &Expect,
    ) -> Vec<&'e Value> {
        let name = format!("{}/{}", self.name, x.client);
        let of = |t: &str| -> Vec<&'e Value> {
            evs.iter()
                .filter(|e| e["event_type"] == t && e["process"]["pid"] == pid)
                .collect()
        };
        let reqs = of("ai.request");
        let resps = of("ai.response");
        assert_eq!(
            reqs.len(),
            n,
            "{name}: expected {n} ai.request of pid {pid}, got {}: {reqs:#?}",
            reqs.len()
        );
        assert_eq!(
            resps.len(),
            n,
            "{name}: expected {n} ai.response of pid {pid}, got {}: {resps:#?}",
            resps.len()
        );
        for rq in &reqs {
            let rq_s = rq.to_string();
            let id = &rq["data"]["request_id"];
            let paired: Vec<_> = resps
                .iter()
                .filter(|r| r["data"]["request_id"] == *id)
                .collect();
            assert_eq!(paired.len(), 1, "{name}: responses of {id}: {paired:#?}");
            let rs = paired[0];
            let rs_s = rs.to_string();
            let model = rq["data"]["model"]["id"].as_str().unwrap_or_default();
            assert!(model.starts_with(x.model), "{name}: model {model}: {rq_s}");
            if let Some(prompt) = x.prompt {
                let msgs = rq["data"]["messages"].to_string();
                assert!(msgs.contains(prompt), "{name}: prompt missing: {rq_s}");
            }
            assert_eq!(
                rq["data"]["streaming"],
                Value::Bool(x.stream),
                "{name}: streaming flag: {rq_s}"
            );
            if let Some(reply) = x.reply {
                assert!(rs_s.contains(reply), "{name}: response text: {rs_s}");
            }
            assert_eq!(rs["data"]["success"], Value::Bool(true), "{name}: {rs_s}");
            let usage = &rs["data"]["usage"];
            let tokens = ["prompt_tokens", "input_tokens", "total_tokens"]
                .iter()
                .filter_map(|k| usage[*k].as_u64())
                .max()
                .unwrap_or(0);
            assert!(tokens > 0, "{name}: usage: {rs_s}");
            // process
            let p = &rq["process"];
            let exe = p["exe"].as_str().unwrap_or_default();
            assert!(exe.contains(x.exe), "{name}: exe {exe}");
            let cmdline = p["cmdline"].as_str().unwrap_or_default();
            assert!(
                cmdline.contains(x.cmdline),
                "{name}: cmdline {cmdline:?} lacks {:?}",
                x.cmdline
            );
            // destination: the mock's HTTPS port (SNI localhost), or its plain-HTTP one (no SNI)
            let endpoint = rq["data"]["provider"]["endpoint"]
                .as_str()
                .unwrap_or_default();
            let plain = endpoint.starts_with("http://");
            let (base, port) = if plain {
                (self.plain_base(), self.plain_port)
            } else {
                (self.base(), self.port)
            };
            assert_eq!(
                endpoint,
                format!("{base}{}", x.path),
                "{name}: endpoint: {rq_s}"
            );
            let remote = rq["attrs"]["http"]["remote"].as_str().unwrap_or_default();
            assert!(
                remote.ends_with(&format!(":{port}"))
                    && (remote.starts_with("127.0.0.1") || remote.starts_with("[::1]")),
                "{name}: remote address {remote:?}: {rq_s}"
            );
            let sni = &rq["attrs"]["http"]["sni"];
            if plain {
                assert!(sni.is_null(), "{name}: SNI on plain HTTP: {rq_s}");
            } else {
                assert_eq!(sni, "localhost", "{name}: SNI: {rq_s}");
            }
        }
        assert!(
            !of("process.exec").is_empty(),
            "{name}: no process.exec for pid {pid}"
        );
        // decoded calls are never estimated too (metadata-only flows are for unread content)
        let flows = of("network.flow");
        assert!(
            flows.is_empty(),
            "{name}: metadata-only flows of pid {pid}, whose calls were decoded: {flows:#?}"
        );
        reqs
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

pub fn chat_expect<'a>(client: &'a str, exe: &'a str, prompt: &'a str, stream: bool) -> Expect<'a> {
    Expect {
        client,
        exe,
        cmdline: prompt,
        model: "gpt-4o-mini",
        prompt: Some(prompt),
        reply: Some("This is a mock reply"),
        stream,
        path: "/v1/chat/completions",
    }
}

/// Codex's `config.toml` with the mock at `base` (https://host:port) as its provider: the
/// Responses API (over WebSocket when `websockets`), key from `MOCK_OPENAI_KEY`.
pub fn codex_config(base: &str, websockets: bool) -> String {
    format!(
        "model = \"gpt-5-codex\"\nmodel_provider = \"mock\"\n\n[model_providers.mock]\n\
         name = \"mock\"\nbase_url = \"{base}/v1\"\nenv_key = \"MOCK_OPENAI_KEY\"\n\
         wire_api = \"responses\"\nsupports_websockets = {websockets}\n"
    )
}

/// Whether the event's process is `root` or runs below it (its parent chain holds `root`).
pub fn in_tree(e: &Value, root: u64) -> bool {
    let p = &e["process"];
    p["pid"] == root
        || p["ppid"] == root
        || p["ancestors"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["pid"] == root))
}
