//! Tests that run a real `record` need root (eBPF). Without it they fail, unless
//! OISP_SKIP_ROOT_TESTS=1 asks to skip them; a skip says so in the output.
#![allow(dead_code)]

/// True when this process runs as root (real uid 0).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// False (after saying why) when `test` must be skipped; panics when it needs root and skipping
/// was not asked for.
pub fn root_or_skip(test: &str) -> bool {
    if is_root() {
        return true;
    }
    if std::env::var("OISP_SKIP_ROOT_TESTS").as_deref() == Ok("1") {
        eprintln!("{test}: skipped: not root and OISP_SKIP_ROOT_TESTS=1 (eBPF capture needs root)");
        return false;
    }
    panic!(
        "{test} needs root for eBPF capture: run as root, or set OISP_SKIP_ROOT_TESTS=1 to skip it explicitly"
    );
}
