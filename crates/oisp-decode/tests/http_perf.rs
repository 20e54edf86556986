//! Throughput smoke check (run with `cargo test --release -p oisp-decode --test http_perf --
//! --ignored --nocapture`): small keep-alive HTTP/1.1 exchanges through `ConnTracker`.

mod http_support;

use http_support::*;
use oisp_capture::{ConnRole, RawRecord};
use oisp_decode::conn::{ConnTracker, HttpOutput};
use std::time::Instant;

#[test]
#[ignore = "timing; run explicitly in release"]
fn small_exchanges_per_second() {
    let req = post("/v1/chat/completions", "{\"model\":\"m\",\"messages\":[]}");
    let resp = ok("{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"hi\"}}]}");
    let n = 200_000u64;
    let conns = 100u64;
    let mut recs = Vec::with_capacity(n as usize * 2 + conns as usize);
    for c in 0..conns {
        recs.push(open_rec(c, ConnRole::Client, None, 0));
    }
    let mut seq = vec![(0u64, 0u64); conns as usize];
    for i in 0..n {
        let c = i % conns;
        let s = &mut seq[c as usize];
        recs.push(data_rec(c, E, s.0, i, &req));
        recs.push(data_rec(c, I, s.1, i, &resp));
        s.0 += req.len() as u64;
        s.1 += resp.len() as u64;
    }
    let mut t = ConnTracker::default();
    let mut out = Vec::new();
    let mut count = 0u64;
    let start = Instant::now();
    for r in &recs {
        t.push_into(r, &mut out);
        count += out
            .drain(..)
            .filter(|o| matches!(o, HttpOutput::Exchange(_)))
            .count() as u64;
    }
    let el = start.elapsed();
    assert_eq!(count, n);
    let rate = n as f64 / el.as_secs_f64();
    println!("{n} exchanges in {el:?}: {rate:.0}/s");
    let _: &[RawRecord] = &recs;
}
