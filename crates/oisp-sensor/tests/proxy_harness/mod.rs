//! The harness of proxy_e2e.rs: the mock provider over HTTPS with its own CA, and
//! `oisp-sensor run`/`proxy` pointed at it (`--upstream-ca` the mock's CA). No root needed.
#![allow(dead_code)]

use crate::e2e::{mock_dir, serial, KillOnDrop};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

pub const KEY: &str = "sk-proj-TESTKEY0123456789abcdefghijklmnopqrstuvwxyzPRX0";
pub const ANTHROPIC_KEY: &str = "sk-ant-api03-TESTKEY0123456789abcdefghijklmnopqrstuvwxyzPRX0-AA";

/// A running mock provider and a scratch directory.
pub struct Mock {
    pub tmp: PathBuf,
    pub port: u16,
    pub plain_port: u16,
    /// The mock's CA certificate (what `--upstream-ca` trusts).
    pub ca: PathBuf,
    _mock: KillOnDrop,
    _guard: MutexGuard<'static, ()>,
}

/// What `oisp-sensor run` did.
pub struct Ran {
    pub out: Output,
    pub events: Vec<Value>,
}

impl Ran {
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    /// Events of `event_type`.
    pub fn of(&self, event_type: &str) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["event_type"] == event_type)
            .collect()
    }
}

impl Mock {
    pub fn start(name: &str) -> Mock {
        let guard = serial();
        let dir = mock_dir();
        let tmp = std::env::temp_dir().join(format!("oisp-proxy-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        let port_file = tmp.join("port.json");
        let mock = KillOnDrop(
            Command::new("python3")
                .arg(dir.join("mock.py"))
                .args(["--port", "0", "--plain-port", "0", "--quiet", "--port-file"])
                .arg(&port_file)
                .arg("--ca-dir")
                .arg(tmp.join("mockca"))
                .current_dir(&dir)
                .stdout(Stdio::null())
                .spawn()
                .expect("start mock"),
        );
        let start = Instant::now();
        let (port, plain_port) = loop {
            if let Some(v) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            {
                let p = |k: &str| v[k].as_u64().expect(k) as u16;
                break (p("https_port"), p("http_port"));
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "mock did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Mock {
            ca: tmp.join("mockca/ca.pem"),
            tmp,
            port,
            plain_port,
            _mock: mock,
            _guard: guard,
        }
    }

    pub fn base(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    pub fn plain_base(&self) -> String {
        format!("http://localhost:{}", self.plain_port)
    }

    /// The proxy's CA directory of this test.
    pub fn proxy_ca_dir(&self) -> PathBuf {
        self.tmp.join("proxyca")
    }

    /// `oisp-sensor run [sensor_args] -- cmd…` (upstream CA: the mock's), events as JSON Lines.
    pub fn run(&self, sensor_args: &[&str], cmd: &[&str]) -> Ran {
        self.run_in(&self.tmp, sensor_args, cmd)
    }

    /// [`run`](Self::run) in directory `dir`.
    pub fn run_in(&self, dir: &Path, sensor_args: &[&str], cmd: &[&str]) -> Ran {
        self.run_with(dir, &[], sensor_args, cmd)
    }

    /// [`run_in`](Self::run_in) with `env` added to the sensor's (and so CMD's) environment.
    pub fn run_with(
        &self,
        dir: &Path,
        env: &[(&str, String)],
        sensor_args: &[&str],
        cmd: &[&str],
    ) -> Ran {
        let events = self.tmp.join("events.jsonl");
        let _ = std::fs::remove_file(&events);
        let out = sensor()
            .arg("run")
            .args(["--no-store", "--redaction", "full", "-o"])
            .arg(&events)
            .arg("--ca-dir")
            .arg(self.proxy_ca_dir())
            .arg("--upstream-ca")
            .arg(&self.ca)
            .args(sensor_args)
            .arg("--")
            .args(cmd)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(dir)
            .output()
            .expect("run oisp-sensor run");
        Ran {
            out,
            events: read_events(&events),
        }
    }

    /// A Python script (`code`, saved as `name` in the scratch directory, with arguments
    /// `args`) run with the mock venv's interpreter (official SDKs) through `run`.
    pub fn python(&self, sensor_args: &[&str], name: &str, code: &str, args: &[&str]) -> Ran {
        let script = self.tmp.join(name);
        std::fs::write(&script, code).unwrap();
        let py = mock_dir().join(".venv/bin/python3");
        let mut cmd = vec![py.to_str().unwrap(), script.to_str().unwrap()];
        cmd.extend_from_slice(args);
        self.run(sensor_args, &cmd)
    }
}

/// The sensor binary, with no configuration file.
pub fn sensor() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_oisp-sensor"));
    c.env("OISP_CONFIG", "");
    c
}

pub fn read_events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The text of an `ai.request`'s messages and of an `ai.response`'s choices, concatenated.
pub fn texts(ev: &Value) -> String {
    let mut s = String::new();
    for m in ev["data"]["messages"].as_array().into_iter().flatten() {
        s.push_str(&m["content"].to_string());
    }
    for c in ev["data"]["choices"].as_array().into_iter().flatten() {
        s.push_str(&c["message"]["content"].to_string());
    }
    s
}

/// Asserts exactly one request (a message exactly `prompt`) and one response (the mock's reply
/// to it, or tool calls),
/// with `model` (prefix), usage, and a process whose executable ends with `exe`; returns the
/// request.
pub fn expect_call<'a>(
    ran: &'a Ran,
    prompt: &str,
    model: &str,
    exe: &str,
) -> (&'a Value, &'a Value) {
    let reqs: Vec<&Value> = ran
        .of("ai.request")
        .into_iter()
        .filter(|e| texts(e).contains(&format!("\"{prompt}\"")))
        .collect();
    assert_eq!(
        reqs.len(),
        1,
        "one request with {prompt:?}; stderr:\n{}",
        ran.stderr()
    );
    let req = reqs[0];
    let id = req["data"]["request_id"].clone();
    let resps: Vec<&Value> = ran
        .of("ai.response")
        .into_iter()
        .filter(|e| e["data"]["request_id"] == id)
        .collect();
    assert_eq!(resps.len(), 1, "one response to {prompt:?}");
    let resp = resps[0];
    assert!(
        texts(resp).contains(&format!("mock reply to: \\\"{prompt}"))
            || resp["data"]["tool_calls"].is_array(),
        "reply to {prompt:?}: {resp}"
    );
    assert!(
        resp["data"]["model"]["id"]
            .as_str()
            .unwrap_or("")
            .starts_with(model),
        "model of {prompt:?}: {resp}"
    );
    assert!(
        resp["data"]["usage"]["prompt_tokens"].as_u64().unwrap_or(0) > 0,
        "usage of {prompt:?}: {resp}"
    );
    for e in [req, resp] {
        assert_eq!(e["source"]["capture_method"], "mitm_proxy");
        assert!(
            e["process"]["exe"].as_str().unwrap_or("").ends_with(exe),
            "process of {prompt:?}: {}",
            e["process"]
        );
        assert!(e["process"]["pid"].as_u64().unwrap_or(0) > 0);
    }
    (req, resp)
}
