//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/*`) through the very harness the
//! cargo-fuzz targets run (`fuzz/harness/`), so CI checks every input the fuzzer found
//! interesting (and every crash it ever found, kept as `regress-*` files) without live fuzzing.
//!
//! Run live fuzzing with `cargo +nightly fuzz run <target>` in `fuzz/` (see `fuzz/README.md`).

#[path = "../../../fuzz/harness/mod.rs"]
mod harness;

use std::path::PathBuf;
use std::time::Instant;

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

/// Runs every file of `target`'s corpus; returns how many were replayed.
fn replay(target: &str) -> usize {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {} unreadable: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let start = Instant::now();
    for f in &files {
        let data = std::fs::read(f).expect("corpus file");
        eprintln!("replaying {}", f.display());
        assert!(harness::run(target, &data), "unknown target {target}");
    }
    println!(
        "fuzz corpus {target}: replayed {} inputs in {:.2?}",
        files.len(),
        start.elapsed()
    );
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    files.len()
}

#[test]
fn corpus_rawfile() {
    replay("rawfile");
}

#[test]
fn corpus_http_stream() {
    replay("http_stream");
}

#[test]
fn corpus_providers() {
    replay("providers");
}

#[test]
fn corpus_decoder() {
    replay("decoder");
}

#[test]
fn every_target_has_a_test() {
    assert_eq!(
        harness::TARGETS,
        ["rawfile", "http_stream", "providers", "decoder"]
    );
    assert!(!harness::run("no_such_target", b""));
}
