//! `record` with fewer privileges than it needs for every TLS hook: root limited to CAP_BPF,
//! CAP_PERFMON, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH and CAP_SYS_RESOURCE (no CAP_SYS_ADMIN:
//! on kernels with the 2025 perf fix plain uprobes need it). The capture still starts, and both
//! its start message and `status` name each TLS stack whose hooks the kernel refused, with the
//! capability to add. Needs root and `setpriv` (util-linux).

mod root;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sensor() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_oisp-sensor"));
    c.env("OISP_CONFIG", "");
    c
}

#[test]
fn refused_hooks_are_named_at_start_and_by_status() {
    if !root::root_or_skip("refused_hooks_are_named_at_start_and_by_status") {
        return;
    }
    let tmp = std::env::temp_dir().join(format!("oisp-privileges-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let state = tmp.join("run/state.json");
    let mut record = Command::new("setpriv")
        .arg("--bounding-set=-all,+bpf,+perfmon,+sys_ptrace,+dac_read_search,+sys_resource")
        .arg(env!("CARGO_BIN_EXE_oisp-sensor"))
        .args(["record", "--no-store", "-o"])
        .arg(tmp.join("events.jsonl"))
        .env("OISP_CONFIG", "")
        .env("OISP_STATE_FILE", &state)
        .stderr(Stdio::piped())
        .spawn()
        .expect("setpriv (util-linux) runs record");
    let pid = record.id();
    let stderr = record.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut lines: Vec<String> = Vec::new();
    // The start message, then the warning and its list (printed right after it).
    while !lines.iter().any(|l| l.contains("capturing (")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => lines.push(l),
            Err(_) => panic!("record never started capturing:\n{}", lines.join("\n")),
        }
    }
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(2)) {
        lines.push(l);
    }
    let text = lines.join("\n");
    // SAFETY: kill has no memory preconditions.
    let stop = || unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let warning = text.contains("not fully hooked") && text.contains("CAP_SYS_ADMIN");
    let status = sensor()
        .env("OISP_STATE_FILE", &state)
        .args(["status", "--json"])
        .output()
        .unwrap();
    stop();
    let exit = record.wait().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let unlocated = doc["record"]["unlocated"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let listed = unlocated.iter().any(|u| {
        u["why"]
            .as_str()
            .is_some_and(|w| w.contains("CAP_SYS_ADMIN") && w.contains("failed to attach"))
    });
    if !warning && !listed && !text.contains("failed to attach") {
        eprintln!(
            "this kernel attached every plain uprobe without CAP_SYS_ADMIN: nothing was refused, \
             so there was nothing to name (the check of the message did not run)"
        );
    } else {
        assert!(warning, "record's start names the refused hooks:\n{text}");
        assert!(listed, "status lists the refused hooks: {unlocated:?}");
    }
    // The capture itself ran: tracepoints and session uprobes attached.
    let probes = doc["record"]["probes"].as_array().map_or(0, |p| p.len());
    assert!(probes > 0, "{doc}");
    assert!(exit.success(), "record stops cleanly on SIGTERM:\n{text}");
    let _ = std::fs::remove_dir_all(&tmp);
}
