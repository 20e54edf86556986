//! Fuzz harness shared by the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, where this directory
//! is the `oisp_fuzz` library) and the stable corpus replay test
//! (`crates/oisp-decode/tests/fuzz_corpus.rs`, which includes this file with `#[path]`), so live
//! fuzzing and CI run exactly the same code. One module per target, each with a `run(data)`
//! entry point; [`input`] holds the helpers they share.
//!
//! Every entry point takes arbitrary bytes and must never panic, loop forever or allocate
//! without bound. Inputs are decoded with a tiny hand-written byte cursor (not `arbitrary`) so
//! the stable test needs no extra dependency, and so seeds can be written by
//! [`http_stream::encode_http_stream`] and [`providers::encode_providers`] from real fixture
//! traffic.

#![allow(dead_code)]

pub mod decoder;
pub mod http_stream;
mod input;
pub mod providers;
pub mod rawfile;

/// Names of the targets, in the order the replay test reports them.
pub const TARGETS: [&str; 4] = ["rawfile", "http_stream", "providers", "decoder"];

/// Runs target `name` on `data`; `false` if the name is unknown.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "rawfile" => rawfile::run(data),
        "http_stream" => http_stream::run(data),
        "providers" => providers::run(data),
        "decoder" => decoder::run(data),
        _ => return false,
    }
    true
}
