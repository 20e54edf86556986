//! Opening, schema, file modes and writes on real SQLite files.

mod common;

use common::{golden_events, items};
use oisp_store::{Query, Store, StoreError};
use rusqlite::Connection;
use std::os::unix::fs::PermissionsExt;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn open_creates_private_files_with_wal_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/events.db");
    let mut store = Store::open(&path).unwrap();
    store.insert_batch(&items(&golden_events()[..10])).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.path().join("a/b")), 0o700);
    for side in ["events.db-wal", "events.db-shm"] {
        let p = dir.path().join("a/b").join(side);
        assert!(p.exists(), "{side} missing");
        assert_eq!(mode(&p), 0o600, "{side}");
    }
    let c = Connection::open(&path).unwrap();
    let pragma = |q: &str| -> String {
        c.query_row(q, [], |r| r.get::<_, rusqlite::types::Value>(0))
            .map(|v| format!("{v:?}"))
            .unwrap()
    };
    assert_eq!(pragma("PRAGMA journal_mode"), "Text(\"wal\")");
    assert_eq!(pragma("PRAGMA auto_vacuum"), "Integer(2)"); // incremental
    assert_eq!(
        pragma("PRAGMA user_version"),
        format!("Integer({})", oisp_store::SCHEMA_VERSION)
    );
    assert_eq!(
        pragma("PRAGMA application_id"),
        format!("Integer({})", oisp_store::APPLICATION_ID)
    );
    // FTS5 is compiled into the bundled SQLite.
    let fts5: i64 = c
        .query_row("SELECT sqlite_compileoption_used('ENABLE_FTS5')", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fts5, 1);
    // Opening again (a second run) keeps the data and migrates nothing.
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.count().unwrap(), 10);
}

#[test]
fn batch_is_stored_exactly_and_redelivery_never_doubles() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let mut store = Store::open(&path).unwrap();
    let events = golden_events();
    let batch = items(&events);
    assert_eq!(store.insert_batch(&batch).unwrap(), events.len());
    // at-least-once: the same batch again, and an overlapping one
    assert_eq!(store.insert_batch(&batch).unwrap(), 0);
    assert_eq!(store.insert_batch(&batch[100..]).unwrap(), 0);
    assert_eq!(store.count().unwrap(), events.len() as u64);
    // every stored JSON is byte-for-byte the line the sink was given
    let stored = store.events_by_id(&Query::default()).unwrap();
    assert_eq!(stored.len(), batch.len());
    for (s, item) in stored.iter().zip(&batch) {
        assert_eq!(s.json.as_bytes(), &item.json[..]);
        assert_eq!(s.event().unwrap(), *item.event);
    }
}

#[test]
fn foreign_files_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    // a JSON Lines file
    let jsonl = dir.path().join("events.jsonl");
    std::fs::write(&jsonl, "{\"a\":1}\n").unwrap();
    for r in [Store::open(&jsonl), Store::open_existing(&jsonl)] {
        let e = r.err().unwrap().to_string();
        assert!(e.contains("not an SQLite database"), "{e}");
    }
    assert_eq!(std::fs::read_to_string(&jsonl).unwrap(), "{\"a\":1}\n");
    // an SQLite database of something else
    let other = dir.path().join("other.db");
    Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    for r in [Store::open(&other), Store::open_existing(&other)] {
        assert!(matches!(r, Err(StoreError::NotAStore(_))));
    }
    // a store from a newer release
    let newer = dir.path().join("newer.db");
    drop(Store::open(&newer).unwrap());
    Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 999")
        .unwrap();
    let e = Store::open_existing(&newer).err().unwrap().to_string();
    assert!(
        e.contains("schema version 999") && e.contains("upgrade"),
        "{e}"
    );
    // nothing there
    let missing = dir.path().join("missing.db");
    assert!(matches!(
        Store::open_existing(&missing),
        Err(StoreError::Missing(_))
    ));
    assert!(!missing.exists());
}

#[test]
fn sqlite_header_detection() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    drop(Store::open(&db).unwrap());
    assert!(oisp_store::is_sqlite_file(&db).unwrap());
    let short = dir.path().join("short");
    std::fs::write(&short, "SQLite").unwrap();
    assert!(!oisp_store::is_sqlite_file(&short).unwrap());
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "").unwrap();
    assert!(!oisp_store::is_sqlite_file(&empty).unwrap());
}
