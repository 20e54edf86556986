//! Shared test data: the golden events of the bundled captures (real decoder output), and
//! synthetic volumes made from them with fresh ids and timestamps.
#![allow(dead_code)]

use oisp_event::{format_ts, Event, EventData};
use oisp_sinks::Item;
use std::path::{Path, PathBuf};

/// Every event of `fixtures/golden/*.jsonl`, file by file, in file order.
pub fn golden_events() -> Vec<Event> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/golden")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            out.push(serde_json::from_str(line).unwrap());
        }
    }
    assert!(out.len() > 200, "golden events: {}", out.len());
    out
}

pub fn items(events: &[Event]) -> Vec<Item> {
    events
        .iter()
        .map(|e| Item::new(e.clone()).unwrap())
        .collect()
}

/// `n` events cycling through the golden ones, event `i` at `start_ns + i * step_ns`, with
/// unique event ids and request ids (so calls still pair up within one cycle).
pub fn synth(n: usize, start_ns: u64, step_ns: u64) -> Vec<Event> {
    let golden = golden_events();
    (0..n)
        .map(|i| {
            let cycle = i / golden.len();
            let mut ev = golden[i % golden.len()].clone();
            ev.event_id = format!("SYN{i:020}");
            ev.ts = format_ts(start_ns + i as u64 * step_ns);
            let suffix = |id: &mut Option<String>| {
                if let Some(id) = id {
                    id.push_str(&format!("-{cycle}"));
                }
            };
            match &mut ev.data {
                EventData::AiRequest(d) => suffix(&mut d.request_id),
                EventData::AiResponse(d) => suffix(&mut d.request_id),
                _ => {}
            }
            ev
        })
        .collect()
}

/// Nanoseconds since the epoch, now.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

pub const DAY_NS: u64 = 86_400_000_000_000;
