//! End to end, as root: a Rust client on reqwest + rustls with AWS-LC (`tools/rustls-client`,
//! built by `scripts/test.sh`) POSTs chat completions to the mock under `record`, once as built
//! (symbols kept: AWS-LC's `EVP_AEAD_CTX_seal/open` found by name) and once stripped (found by the
//! structure of AWS-LC's code, as in Codex) — over HTTP/2 and HTTP/1.1, streaming and not. Each
//! call must be one complete ai.request/ai.response of the client's pid, and `status` must say
//! how each executable's functions were found.
//!
//! Needs root and BPF. When not root the tests fail, unless OISP_SKIP_ROOT_TESTS=1 says to skip.

mod e2e;
mod root;

use e2e::*;
use std::path::PathBuf;
use std::process::Command;

/// The client `scripts/test.sh` builds (`OISP_RUSTLS_CLIENT` overrides).
fn client_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("OISP_RUSTLS_CLIENT") {
        return p.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let p = target.join("debug/rustls-client");
    assert!(
        p.is_file(),
        "{} is missing: build it with `cargo build -p oisp-rustls-client` (scripts/test.sh does)",
        p.display()
    );
    p
}

#[test]
fn rustls_client_by_symbol_and_by_structure() {
    let Some(mut s) = Session::start("rustls_client") else {
        return;
    };
    let built = client_binary();
    let stripped = s.tmp.join("rustls-client-stripped");
    let ok = Command::new("strip")
        .arg("-o")
        .arg(&stripped)
        .arg(&built)
        .status()
        .expect("run strip (binutils)");
    assert!(ok.success(), "strip failed");
    let mut calls = Vec::new();
    for (exe, flags, prompt) in [
        (&built, &[][..], "rustls by symbol h2"),
        (
            &built,
            &["--http1", "--stream"][..],
            "rustls by symbol h1 streamed",
        ),
        (&stripped, &[][..], "rustls by structure h2"),
        (
            &stripped,
            &["--http1", "--stream"][..],
            "rustls by structure h1 streamed",
        ),
    ] {
        let mut c = Command::new(exe);
        // a new executable is probed once `record` has seen it start and located its functions
        c.arg(s.base())
            .arg(&s.ca)
            .arg(prompt)
            .args(flags)
            .args(["--wait-ms", "3000"]);
        let pid = s.client(prompt, c);
        calls.push((
            pid,
            exe.to_string_lossy().into_owned(),
            prompt,
            flags.contains(&"--stream"),
        ));
    }
    let status = s.status();
    let evs = s.stop();
    for (pid, exe, prompt, stream) in &calls {
        s.check_calls(
            &evs,
            *pid,
            1,
            &chat_expect("rustls-client", exe, prompt, *stream),
        );
    }
    for (pid, _, prompt, _) in &calls {
        let how = if prompt.contains("symbol") {
            "by symbol"
        } else {
            "by structure"
        };
        let line = status
            .lines()
            .find(|l| l.contains(&format!("pid {pid} ")))
            .unwrap_or_else(|| panic!("no coverage line for pid {pid}:\n{status}"));
        assert!(
            line.contains("via rustls on AWS-LC")
                && line.contains(how)
                && line.ends_with("full content"),
            "{prompt}: {line}"
        );
    }
}
