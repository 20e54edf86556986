//! Decodes raw capture files repeatedly and prints events/s: a fixed workload for profilers
//! (`valgrind --tool=callgrind`, `perf record`), complementing `cargo bench`.
//!
//! Usage: `cargo run --release -p oisp-decode --example decode_loop -- ROUNDS FILE.oraw...`

use oisp_decode::Decoder;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let files: Vec<String> = args.collect();
    let captures: Vec<_> = files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f).unwrap_or_else(|e| panic!("{f}: {e}"));
            let (records, err) = oisp_capture::read_all(&bytes);
            if let Some(e) = err {
                panic!("{f}: {e}");
            }
            records
        })
        .collect();
    let start = Instant::now();
    let (mut events, mut calls) = (0usize, 0u64);
    let mut out = Vec::new();
    for _ in 0..rounds {
        for records in &captures {
            let mut dec = Decoder::default();
            for r in records {
                dec.push(r, &mut out);
                events += out.len();
                out.clear();
            }
            dec.finish(&mut out);
            events += out.len();
            out.clear();
            calls += dec.stats().ai_calls;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{rounds} rounds: {events} events, {calls} AI calls in {secs:.3} s ({:.0} calls/s)",
        calls as f64 / secs
    );
}
