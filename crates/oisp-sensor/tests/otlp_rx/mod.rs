//! The real OTLP receiver (`tools/otlp-receiver/receiver.py`, built on the official
//! OpenTelemetry protos) for the binary's tests: started once per test, killed when dropped.
#![allow(dead_code)] // each test binary uses part of it

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct OtlpReceiver {
    child: Child,
    /// Where it appends one JSON line per export request it got.
    pub out: PathBuf,
    /// Its gRPC and HTTP ports.
    pub grpc: String,
    pub http: String,
}

impl OtlpReceiver {
    /// Sets up its venv (PyPI) and starts it, writing to `out`.
    pub fn start(out: PathBuf) -> OtlpReceiver {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let setup = Command::new("bash")
            .arg(repo.join("tools/otlp-receiver/setup-venv.sh"))
            .output()
            .unwrap();
        assert!(
            setup.status.success(),
            "cannot set up the OTLP receiver (python3-venv and PyPI access needed): {}",
            String::from_utf8_lossy(&setup.stderr)
        );
        let _ = std::fs::remove_file(&out);
        let mut child = Command::new(repo.join("tools/otlp-receiver/.venv/bin/python3"))
            .arg(repo.join("tools/otlp-receiver/receiver.py"))
            .arg("--out")
            .arg(&out)
            .stdin(Stdio::piped()) // it stops when its standard input ends
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        let port = |k: &str| {
            ready
                .split_whitespace()
                .find_map(|w| w.strip_prefix(k))
                .unwrap_or_else(|| panic!("receiver: {ready}"))
                .to_string()
        };
        let (grpc, http) = (port("grpc="), port("http="));
        OtlpReceiver {
            child,
            out,
            grpc,
            http,
        }
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
