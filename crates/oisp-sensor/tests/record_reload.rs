//! `record` re-reads its configuration file on SIGHUP: events from then on go to the new sinks,
//! everything before went to the old ones, and a broken file keeps the running configuration.
//!
//! Needs root and BPF (it runs a real `record`). When not root the test fails, unless
//! OISP_SKIP_ROOT_TESTS=1 says to skip it.

mod root;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn write_config(path: &Path, jsonl: &Path) {
    let text = format!(
        "# written by record_reload.rs\n[record]\nssl = false\nall_processes = true\n\n[store]\nenabled = false\n\n[jsonl]\npath = \"{}\"\n",
        jsonl.display()
    );
    std::fs::write(path, text).unwrap();
}

fn contains(path: &Path, needle: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains(needle))
}

/// Runs `sh -c ': MARKER'` until `path` shows the marker in a process event (exec capture has a
/// short delay), failing after 15 s.
fn exec_marker_until_seen(path: &Path, marker: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        Command::new("sh")
            .arg("-c")
            .arg(format!(": {marker}"))
            .status()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        if contains(path, marker) {
            return;
        }
    }
    panic!("{marker} never reached {}", path.display());
}

fn wait_for_line(rx: &mpsc::Receiver<String>, needle: &str) -> String {
    let end = Instant::now() + Duration::from_secs(15);
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("record never said `{needle}`");
}

#[test]
fn sighup_swaps_sinks_and_a_bad_file_keeps_the_running_config() {
    if !root::root_or_skip("record_reload") {
        return;
    }
    let tmp = std::env::temp_dir().join(format!("oisp-reload-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let (a, b, cfg) = (
        tmp.join("a.jsonl"),
        tmp.join("b.jsonl"),
        tmp.join("config.toml"),
    );
    write_config(&cfg, &a);

    let mut rec = Command::new(env!("CARGO_BIN_EXE_oisp-sensor"))
        .arg("record")
        .arg("--config")
        .arg(&cfg)
        .env("OISP_STATE_FILE", tmp.join("state.json"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = BufReader::new(rec.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            eprintln!("record: {line}");
            let _ = tx.send(line);
        }
    });
    let pid = rec.id().to_string();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_for_line(&rx, "capturing");
        exec_marker_until_seen(&a, "reload-marker-one");

        write_config(&cfg, &b);
        Command::new("kill").args(["-HUP", &pid]).status().unwrap();
        let line = wait_for_line(&rx, "configuration reloaded");
        assert!(line.contains("jsonl"), "{line}");
        exec_marker_until_seen(&b, "reload-marker-two");
        assert!(
            !contains(&a, "reload-marker-two"),
            "old sink got new events"
        );

        std::fs::write(&cfg, "[jsonl]\npath = 3\n").unwrap();
        Command::new("kill").args(["-HUP", &pid]).status().unwrap();
        let line = wait_for_line(&rx, "not reloaded");
        assert!(line.contains("line 2"), "the error names the line: {line}");
        exec_marker_until_seen(&b, "reload-marker-three");
    }));
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = rec.wait().unwrap();
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
    assert!(status.success(), "record exited with {status}");
    for line in std::fs::read_to_string(&b).unwrap().lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("whole JSON lines after reload");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
