//! Retention by age and by size on real files: what is deleted, what is kept, space given back.

mod common;

use common::{items, now_ns, synth, DAY_NS};
use oisp_store::{Query, Retention, Store};
use std::time::Duration;

fn file_len(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).unwrap().len()
}

fn text_rows(store_path: &std::path::Path) -> i64 {
    let c = rusqlite::Connection::open(store_path).unwrap();
    c.query_row("SELECT count(*) FROM events_text", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn age_retention_deletes_older_events_and_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("age.db");
    let mut store = Store::open(&path).unwrap();
    let now = now_ns();
    // 10 days of events, one every 10 minutes... as 2,400 events ending now
    let n = 2400;
    let step = 10 * DAY_NS / n as u64;
    let events = synth(n, now - 10 * DAY_NS, step);
    store.insert_batch(&items(&events)).unwrap();
    let text_before = text_rows(&path);
    let r = Retention {
        max_age: Some(Duration::from_secs(3 * 86_400)),
        max_bytes: None,
    };
    let run = store
        .enforce_retention(&r, now, Duration::from_secs(30))
        .unwrap();
    assert!(run.done);
    let cutoff = now - 3 * DAY_NS;
    let kept = events
        .iter()
        .filter(|e| e.wall_ns().unwrap() >= cutoff)
        .count();
    assert_eq!(run.deleted as usize, n - kept);
    assert_eq!(store.count().unwrap() as usize, kept);
    let oldest = store.events(&Query::default(), None).unwrap()[0]
        .event()
        .unwrap();
    assert!(oldest.wall_ns().unwrap() >= cutoff);
    // the deleted events' text left the full-text index with them
    let text_after = text_rows(&path);
    assert!(text_after < text_before, "{text_after} vs {text_before}");
    let with_text = events
        .iter()
        .filter(|e| e.wall_ns().unwrap() >= cutoff)
        .filter(|e| !oisp_store::searchable_text(e).is_empty())
        .count() as i64;
    assert_eq!(text_after, with_text);
    // a second run has nothing to do
    let again = store
        .enforce_retention(&r, now, Duration::from_secs(30))
        .unwrap();
    assert_eq!(again.deleted, 0);
}

#[test]
fn size_retention_keeps_the_newest_under_the_limit_and_shrinks_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("size.db");
    let mut store = Store::open(&path).unwrap();
    let now = now_ns();
    let events = synth(6_000, now - DAY_NS, 1_000_000);
    for chunk in events.chunks(2000) {
        store.insert_batch(&items(chunk)).unwrap();
    }
    store.checkpoint().unwrap();
    let before = file_len(&path);
    let limit: u64 = 2 * 1024 * 1024;
    assert!(before > 3 * limit, "test data too small: {before}");
    let r = Retention {
        max_age: None,
        max_bytes: Some(limit),
    };
    // Runs until the limit is met (the sink runs it every minute; a few runs here).
    let mut runs = 0;
    while store.used_bytes().unwrap() > limit {
        store
            .enforce_retention(&r, now, Duration::from_secs(30))
            .unwrap();
        runs += 1;
        assert!(runs <= 5, "size retention does not converge");
    }
    store.checkpoint().unwrap();
    let after = file_len(&path);
    assert!(after <= limit, "file {after} bytes > limit {limit}");
    assert!(after < before / 2);
    // what is left is the newest events, none of the oldest
    let left = store.count().unwrap() as usize;
    eprintln!(
        "size retention: {before} -> {after} bytes, {left} of {} events left, {runs} runs",
        events.len()
    );
    // about 90% of the limit stays (rows are alike in size): not more deleted than needed
    let per_event = before as f64 / events.len() as f64;
    assert!(
        left as f64 * per_event > 0.75 * limit as f64,
        "deleted too much: {left} left"
    );
    let kept = store.events(&Query::default(), None).unwrap();
    let last = kept.last().unwrap().event().unwrap();
    assert_eq!(last.event_id, events.last().unwrap().event_id);
    let first = kept[0].event().unwrap();
    assert_eq!(first.event_id, events[events.len() - left].event_id);
}

#[test]
fn a_small_budget_stops_early_and_later_runs_finish() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("b.db")).unwrap();
    let now = now_ns();
    store
        .insert_batch(&items(&synth(5000, now - 10 * DAY_NS, 1_000_000)))
        .unwrap();
    let r = Retention {
        max_age: Some(Duration::from_secs(86_400)),
        max_bytes: None,
    };
    let first = store.enforce_retention(&r, now, Duration::ZERO).unwrap();
    assert!(!first.done);
    let mut runs = 0;
    loop {
        runs += 1;
        let run = store
            .enforce_retention(&r, now, Duration::from_millis(1))
            .unwrap();
        if run.done {
            break;
        }
        assert!(runs < 1000);
    }
    assert_eq!(store.count().unwrap(), 0);
}

#[test]
fn retention_config_is_checked() {
    use oisp_store::StoreConfig;
    let cfg = |retention: Option<&str>, max: Option<u64>| StoreConfig {
        retention: retention.map(str::to_string),
        max_size_mb: max,
        ..StoreConfig::default()
    };
    let r = Retention::from_config(&cfg(Some("30d"), Some(512))).unwrap();
    assert_eq!(r.max_age, Some(Duration::from_secs(30 * 86_400)));
    assert_eq!(r.max_bytes, Some(512 * 1024 * 1024));
    assert!(Retention::from_config(&cfg(None, None))
        .unwrap()
        .is_unlimited());
    let e = Retention::from_config(&cfg(Some("30 days"), None)).unwrap_err();
    assert!(e.contains("retention") && e.contains("30 days"), "{e}");
    assert!(Retention::from_config(&cfg(Some("0d"), None)).is_err());
    assert!(Retention::from_config(&cfg(None, Some(0))).is_err());
}
