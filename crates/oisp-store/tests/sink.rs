//! `StoreSink` as the pipeline drives it, from its `[store]` configuration.

mod common;

use common::{golden_events, items, now_ns, synth, DAY_NS};
use oisp_sinks::Sink;
use oisp_store::StoreConfig;
use oisp_store::{Query, Store, StoreSink};

#[test]
fn sink_stores_batches_once_and_reports_itself() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/events.db");
    let cfg = StoreConfig {
        path: Some(path.clone()),
        ..StoreConfig::default()
    };
    let mut sink = StoreSink::new(&cfg).unwrap();
    assert_eq!(sink.kind(), "store");
    assert_eq!(sink.target(), path.display().to_string());
    let batch = items(&golden_events());
    sink.deliver(&batch).unwrap();
    sink.deliver(&batch[..50]).unwrap(); // redelivery after a presumed failure
    sink.flush().unwrap();
    let store = Store::open_existing(&path).unwrap();
    assert_eq!(store.count().unwrap(), batch.len() as u64);
    let last = store.events(&Query::default(), Some(1)).unwrap();
    assert_eq!(last.len(), 1);
}

#[test]
fn sink_applies_retention_when_it_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let now = now_ns();
    let mut store = Store::open(&path).unwrap();
    store
        .insert_batch(&items(&synth(1000, now - 10 * DAY_NS, DAY_NS / 100)))
        .unwrap();
    drop(store);
    let cfg = StoreConfig {
        path: Some(path.clone()),
        retention: Some("2d".into()),
        ..StoreConfig::default()
    };
    let sink = StoreSink::new(&cfg).unwrap();
    let left = sink.store().count().unwrap();
    assert!(
        (190..=210).contains(&left),
        "{left} events left of 1000 over 10 days"
    );
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = StoreConfig {
        path: Some(dir.path().join("x.db")),
        retention: Some("forever".into()),
        ..StoreConfig::default()
    };
    let e = StoreSink::new(&cfg).err().unwrap();
    assert!(e.contains("retention") && e.contains("forever"), "{e}");
    // a path that is a JSON Lines file, not a store
    let jsonl = dir.path().join("events.jsonl");
    std::fs::write(&jsonl, "{}\n").unwrap();
    let cfg = StoreConfig {
        path: Some(jsonl.clone()),
        ..StoreConfig::default()
    };
    let e = StoreSink::new(&cfg).err().unwrap();
    assert!(
        e.contains(&jsonl.display().to_string()) && e.contains("not an SQLite"),
        "{e}"
    );
}
