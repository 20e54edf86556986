//! Measures the store: insert throughput, query latencies and size, on events made from the
//! golden fixtures (real decoder output) with fresh ids and timestamps.
//!
//! `cargo run --release -p oisp-store --example store_bench -- [N] [PATH]`
//! (N events, default 100,000; with PATH the store is written there and kept whole for timing
//! the CLI; without, a temporary store is measured for retention too and removed).

use oisp_event::{format_ts, Event, EventData};
use oisp_sinks::Item;
use oisp_store::{Query, Retention, Store};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn golden() -> Vec<Event> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/golden")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .expect("golden file")
                .lines()
                .map(|l| serde_json::from_str(l).expect("golden event"))
                .collect::<Vec<Event>>()
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|s| s.parse().expect("N: a number"))
        .unwrap_or(100_000);
    let tmp;
    let keep = args.next();
    let path = match &keep {
        Some(p) => PathBuf::from(p),
        None => {
            tmp = std::env::temp_dir().join(format!("oisp-store-bench-{}", std::process::id()));
            tmp.join("events.db")
        }
    };
    let golden = golden();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos() as u64;
    let step = 1_000_000; // 1 ms apart, ending now
    let items: Vec<Item> = (0..n)
        .map(|i| {
            let mut ev = golden[i % golden.len()].clone();
            ev.event_id = format!("BENCH{i:021}");
            ev.ts = format_ts(now - (n - i) as u64 * step);
            let cycle = i / golden.len();
            match &mut ev.data {
                EventData::AiRequest(d) => d
                    .request_id
                    .iter_mut()
                    .for_each(|r| *r += &format!("-{cycle}")),
                EventData::AiResponse(d) => d
                    .request_id
                    .iter_mut()
                    .for_each(|r| *r += &format!("-{cycle}")),
                _ => {}
            }
            Item::new(ev).expect("serialise")
        })
        .collect();
    let json_bytes: usize = items.iter().map(|i| i.json.len()).sum();
    let mut store = Store::open(&path).expect("open");
    let t = Instant::now();
    for batch in items.chunks(512) {
        store.insert_batch(batch).expect("insert");
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "insert: {n} events ({:.1} MB JSON) in {secs:.2} s = {:.0} events/s (batches of 512)",
        json_bytes as f64 / 1e6,
        n as f64 / secs
    );
    let t = Instant::now();
    let again = store.insert_batch(&items[..512.min(n)]).expect("redeliver");
    println!("redeliver 512: {again} new in {:.1} ms", ms(t.elapsed()));
    store.checkpoint().expect("checkpoint");
    let size = std::fs::metadata(&path).expect("stat").len();
    println!(
        "size: {:.1} MB ({:.0} bytes/event)",
        size as f64 / 1e6,
        size as f64 / n as f64
    );
    let time = |label: &str, f: &mut dyn FnMut() -> usize| {
        let t = Instant::now();
        let rows = f();
        println!("{label}: {rows} rows in {:.1} ms", ms(t.elapsed()));
    };
    let all = Query::default();
    time("last 20", &mut || {
        store.events(&all, Some(20)).expect("q").len()
    });
    time("all events (json)", &mut || {
        store.events(&all, None).expect("q").len()
    });
    time("facts of all (analyze)", &mut || {
        store.facts(&all).expect("q").len()
    });
    let g = |s: &str| Query {
        grep: Some(s.into()),
        ..Query::default()
    };
    time("grep 'paris', last 20", &mut || {
        store.events(&g("paris"), Some(20)).expect("q").len()
    });
    time("grep 'paris', all", &mut || {
        store.events(&g("paris"), None).expect("q").len()
    });
    time("grep 'pa' (scan), last 20", &mut || {
        store.events(&g("pa"), Some(20)).expect("q").len()
    });
    let ty = Query {
        types: vec!["agent".into()],
        process: Some("node".into()),
        ..Query::default()
    };
    time("type agent + process node", &mut || {
        store.events(&ty, None).expect("q").len()
    });
    if keep.is_some() {
        return; // the store is kept whole for timing the CLI on it
    }
    let r = Retention {
        max_age: Some(Duration::from_millis((n as u64 / 2) * step / 1_000_000)),
        max_bytes: None,
    };
    let t = Instant::now();
    let mut deleted = 0;
    loop {
        let run = store
            .enforce_retention(&r, now, Duration::from_millis(100))
            .expect("retention");
        deleted += run.deleted;
        if run.done {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "retention by age: {deleted} deleted in {secs:.2} s = {:.0} events/s (100 ms runs)",
        deleted as f64 / secs
    );
    std::fs::remove_dir_all(path.parent().expect("dir")).ok();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
