//! Fills a store with N events for the web UI benchmark (`tools/web-test/bench.sh`): copies of
//! real decoded events (JSON Lines from `demo` and `replay`), each copy with new event ids,
//! request ids and trace ids, shifted in time, so the store looks like a long recording.
//!
//! `cargo run --release -p oisp-web --example fill_store -- STORE N EVENTS.jsonl…`

use oisp_event::{format_ts, Event};
use oisp_sinks::Item;
use oisp_store::Store;
use serde_json::Value;
use std::path::PathBuf;

/// Time between two copies of the source events.
const COPY_SHIFT_NS: u64 = 10 * 60 * 1_000_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: fill_store STORE N EVENTS.jsonl...";
    let path = PathBuf::from(args.next().ok_or(usage)?);
    let n: usize = args.next().ok_or(usage)?.parse()?;
    let mut sources: Vec<Value> = Vec::new();
    for file in args {
        for line in std::fs::read_to_string(&file)?.lines() {
            if !line.trim().is_empty() {
                sources.push(serde_json::from_str(line)?);
            }
        }
    }
    if sources.is_empty() {
        return Err(usage.into());
    }
    let base = sources
        .iter()
        .filter_map(|v| v["ts"].as_str())
        .filter_map(|t| oisp_event::parse_ts(t).ok())
        .min()
        .ok_or("no timestamps")?;
    let mut store = Store::open(&path)?;
    let start = std::time::Instant::now();
    let mut batch: Vec<Item> = Vec::with_capacity(1000);
    let mut written = 0usize;
    let mut copy = 0u64;
    'fill: loop {
        for src in &sources {
            if written == n {
                break 'fill;
            }
            batch.push(Item::new(variant(src, copy, base)?)?);
            written += 1;
            if batch.len() == 1000 {
                store.insert_batch(&batch)?;
                batch.clear();
            }
        }
        copy += 1;
    }
    store.insert_batch(&batch)?;
    eprintln!(
        "{written} events in {:.1} s → {} ({} MiB)",
        start.elapsed().as_secs_f64(),
        path.display(),
        store.used_bytes()? / (1024 * 1024)
    );
    Ok(())
}

/// Copy `copy` of `src`: ids made unique, time shifted.
fn variant(src: &Value, copy: u64, base: u64) -> Result<Event, Box<dyn std::error::Error>> {
    let mut v = src.clone();
    let ts = oisp_event::parse_ts(v["ts"].as_str().unwrap_or_default()).unwrap_or(base);
    let shifted = ts + copy * COPY_SHIFT_NS;
    v["ts"] = Value::from(format_ts(shifted));
    let id = v["event_id"].as_str().unwrap_or_default().to_string();
    v["event_id"] = Value::from(oisp_event::event_id_from(
        shifted,
        format!("{id}/{copy}").as_bytes(),
    ));
    for key in ["request_id", "conversation_id", "session_id"] {
        if let Some(s) = v["data"][key].as_str() {
            v["data"][key] = Value::from(format!("{s}-{copy}"));
        }
    }
    if let Some(t) = v["trace_context"]["trace_id"].as_str() {
        v["trace_context"]["trace_id"] = Value::from(format!("{copy:08x}{}", &t[8.min(t.len())..]));
    }
    Ok(serde_json::from_value(v)?)
}
