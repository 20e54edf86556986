//! End to end, as root: a Go program (`tools/go-client`: net/http over crypto/tls, built here
//! with the machine's Go) calls the mock provider under `oisp-sensor record`, built unstripped
//! (Go's TLS located by symbol) and stripped (`-ldflags=-s -w`: located through `.gopclntab`),
//! over HTTP/2 (net/http's default) and HTTP/1.1; each run makes a non-streaming and a streaming
//! chat completion, each three times at once from three goroutines (HTTP/2: one connection
//! written from all of them and read by the transport's read loop). Every call must be one complete ai.request/ai.response of the Go process (SNI
//! included), and `status` must show the process covered by Go crypto/tls, located as expected.
//!
//! Needs root and BPF (as record_e2e.rs), and `go` (scripts/install-deps.sh installs golang-go).

mod e2e;
mod root;

use e2e::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How many times each run makes each call at once (goroutines; over HTTP/2 one connection).
const PARALLEL: usize = 3;

/// `tools/go-client` built into the test's target directory (`stripped`: `-s -w`), rebuilt when
/// its source is newer. Only the local toolchain and the standard library: nothing is fetched.
fn go_client(stripped: bool) -> PathBuf {
    let src = repo().join("tools/go-client");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(if stripped {
        "go-client-stripped"
    } else {
        "go-client"
    });
    let newest_src = ["main.go", "go.mod"]
        .iter()
        .filter_map(|f| std::fs::metadata(src.join(f)).ok()?.modified().ok())
        .max();
    let built = std::fs::metadata(&out).and_then(|m| m.modified()).ok();
    if built.is_some() && built >= newest_src {
        return out;
    }
    let mut c = Command::new("go");
    c.arg("build").arg("-o").arg(&out);
    if stripped {
        c.arg("-ldflags=-s -w");
    }
    let o = c
        .arg(".")
        .current_dir(&src)
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("CGO_ENABLED", "0")
        .output()
        .unwrap_or_else(|e| {
            panic!("go_e2e needs `go` (scripts/install-deps.sh installs golang-go): {e}")
        });
    assert!(
        o.status.success(),
        "go build: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// The calls of one Go client run (pid): `PARALLEL` non-streaming then `PARALLEL` streaming, each
/// one request paired with one complete response, over `version`.
fn check_go_calls(s: &Session, evs: &[Value], pid: u32, exe: &Path, prompt: &str, version: &str) {
    let name = format!("{} ({version}, pid {pid})", exe.display());
    let of = |t: &str| -> Vec<&Value> {
        evs.iter()
            .filter(|e| e["event_type"] == t && e["process"]["pid"] == pid)
            .collect()
    };
    let reqs = of("ai.request");
    let resps = of("ai.response");
    assert_eq!(reqs.len(), 2 * PARALLEL, "{name}: ai.request: {reqs:#?}");
    assert_eq!(resps.len(), 2 * PARALLEL, "{name}: ai.response: {resps:#?}");
    let mut streams = Vec::new();
    for rq in &reqs {
        let rq_s = rq.to_string();
        let paired: Vec<&&Value> = resps
            .iter()
            .filter(|r| r["data"]["request_id"] == rq["data"]["request_id"])
            .collect();
        assert_eq!(paired.len(), 1, "{name}: responses of {rq_s}: {paired:#?}");
        let rs = paired[0];
        let rs_s = rs.to_string();
        assert_eq!(rq["data"]["model"]["id"], "gpt-4o-mini", "{name}: {rq_s}");
        assert!(
            rq["data"]["messages"].to_string().contains(prompt),
            "{name}: prompt: {rq_s}"
        );
        streams.push(rq["data"]["streaming"].as_bool());
        assert!(
            rs_s.contains(&format!("This is a mock reply to: \\\"{prompt}\\\"")),
            "{name}: response text: {rs_s}"
        );
        assert_eq!(rs["data"]["success"], Value::Bool(true), "{name}: {rs_s}");
        assert!(
            rs["data"]["usage"]["prompt_tokens"].as_u64() > Some(0)
                && rs["data"]["usage"]["completion_tokens"].as_u64() > Some(0),
            "{name}: usage: {rs_s}"
        );
        assert_eq!(
            rq["process"]["exe"],
            exe.to_string_lossy().as_ref(),
            "{name}"
        );
        assert!(
            rq["process"]["cmdline"]
                .as_str()
                .is_some_and(|c| c.contains(prompt)),
            "{name}: cmdline: {rq_s}"
        );
        assert_eq!(
            rq["data"]["provider"]["endpoint"],
            format!("{}/v1/chat/completions", s.base()),
            "{name}: {rq_s}"
        );
        let http = &rq["attrs"]["http"];
        assert_eq!(http["version"], version, "{name}: {rq_s}");
        assert_eq!(rs["attrs"]["http"]["version"], version, "{name}: {rs_s}");
        assert_eq!(http["sni"], "localhost", "{name}: SNI: {rq_s}");
        let remote = http["remote"].as_str().unwrap_or_default();
        assert!(
            remote.ends_with(&format!(":{}", s.base().rsplit(':').next().unwrap())),
            "{name}: remote {remote}: {rq_s}"
        );
    }
    streams.sort();
    let want: Vec<Option<bool>> = [Some(false), Some(true)]
        .iter()
        .flat_map(|s| [*s; PARALLEL])
        .collect();
    assert_eq!(streams, want, "{name}: streaming flags");
    assert!(
        !of("process.exec").is_empty(),
        "{name}: no process.exec of the Go client"
    );
}

/// A thread that creates `start` once `record`'s state file lists probes on `exe` (or after 30 s,
/// letting the client go on and the test fail on what it then misses).
fn start_when_probed(state: &Path, exe: &Path, start: PathBuf) -> std::thread::JoinHandle<()> {
    let (state, exe) = (state.to_path_buf(), exe.to_string_lossy().into_owned());
    std::thread::spawn(move || {
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(30) {
            let probed = std::fs::read_to_string(&state)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| {
                    v["probes"].as_array().map(|a| {
                        a.iter().any(|p| {
                            p["path"] == exe.as_str()
                                && p["symbol"].as_str().is_some_and(|l| l.contains("ret@"))
                        })
                    })
                })
                .unwrap_or(false);
            if probed {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        std::fs::write(&start, b"").expect("write the start file");
    })
}

#[test]
fn go_crypto_tls_h1_h2_symbol_and_pclntab() {
    let Some(mut s) = Session::start("go_crypto_tls") else {
        return;
    };
    let builds = [
        (go_client(false), "by symbol"),
        (go_client(true), "by .gopclntab"),
    ];
    let mut runs = Vec::new();
    for (exe, how) in &builds {
        for (i, (flag, version)) in [("", "HTTP/2"), ("-http1", "HTTP/1.1")]
            .into_iter()
            .enumerate()
        {
            let stripped = if how.contains("pclntab") {
                " stripped"
            } else {
                ""
            };
            let prompt = format!("Hello from Go{stripped} over {version}");
            let mut c = Command::new(exe);
            c.args(["-prompt", &prompt])
                .args(["-parallel", &PARALLEL.to_string()])
                .args(["-ca"])
                .arg(&s.ca)
                .args(["-base", &s.base()]);
            if !flag.is_empty() {
                c.arg(flag);
            }
            // The first run of a new executable waits until record has attached its probes
            // (record attaches when it sees the process start; a quick client could call first).
            let _starter = (i == 0).then(|| {
                let start = s.tmp.join(format!("start-{i}-{how}"));
                c.arg("-start-file").arg(&start);
                start_when_probed(&s.tmp.join("state.json"), exe, start)
            });
            let pid = s.client(&format!("go-client{stripped} {version}"), c);
            runs.push((pid, exe.clone(), prompt, version, *how));
        }
    }
    let status = s.status();
    for (pid, exe, _, _, how) in &runs {
        let line = status
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("pid {pid} ")))
            .unwrap_or_else(|| panic!("no coverage line for pid {pid}:\n{status}"));
        assert!(
            line.contains(&exe.to_string_lossy().to_string())
                && line.contains(&format!("{} AI calls", 2 * PARALLEL))
                && line.contains(&format!("via Go crypto/tls, located {how}, go1."))
                && line.ends_with("full content"),
            "coverage of pid {pid}: {line}"
        );
    }
    for (exe, how) in &builds {
        let probes: Vec<&str> = status
            .lines()
            .filter(|l| l.contains(&exe.to_string_lossy().to_string()) && l.contains(how))
            .collect();
        for want in [
            "crypto/tls.(*Conn).Write@",
            "crypto/tls.(*Conn).Write ret@",
            "crypto/tls.(*Conn).Read@",
            "crypto/tls.(*Conn).Read ret@",
            "crypto/tls.(*Conn).Close@",
            "crypto/tls.(*Conn).makeClientHello@",
            "crypto/tls.hostnameInSNI ret@",
        ] {
            assert!(
                probes.iter().any(|l| l.contains(want)),
                "no {want} probe on {}: {probes:#?}",
                exe.display()
            );
        }
        assert!(
            !probes.iter().any(|l| l.contains("uretprobe")),
            "a uretprobe on Go code: {probes:#?}"
        );
    }
    let evs = s.stop();
    for (pid, exe, prompt, version, _) in &runs {
        check_go_calls(&s, &evs, *pid, exe, prompt, version);
    }
}
