//! Readers query while a writer inserts continuously: WAL keeps them apart, and no
//! `database is locked` error reaches anyone.

mod common;

use common::{items, now_ns, synth};
use oisp_store::{Query, Retention, Store};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn readers_and_a_writer_with_retention_never_see_lock_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let now = now_ns();
    let events = synth(8_000, now - 3_600_000_000_000, 450_000_000); // the last hour
    let mut writer = Store::open(&path).unwrap();
    writer.insert_batch(&items(&events[..2000])).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer_thread = {
        let events = events.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let r = Retention {
                max_age: Some(Duration::from_secs(1800)),
                max_bytes: None,
            };
            let mut written = 2000;
            for chunk in events[2000..].chunks(200) {
                writer.insert_batch(&items(chunk)).unwrap();
                written += chunk.len();
                // retention deletes concurrently with the readers too
                writer
                    .enforce_retention(&r, now, Duration::from_millis(5))
                    .unwrap();
            }
            stop.store(true, Ordering::SeqCst);
            written
        })
    };
    let readers: Vec<_> = (0..3)
        .map(|k| {
            let path = path.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let store = Store::open_existing(&path).unwrap();
                let mut queries = 0u64;
                let mut last_max = 0;
                let start = Instant::now();
                while !stop.load(Ordering::SeqCst) {
                    let q = match k {
                        0 => Query::default(),
                        1 => Query {
                            grep: Some("mock reply".into()),
                            ..Query::default()
                        },
                        _ => Query {
                            types: vec!["ai".into()],
                            ..Query::default()
                        },
                    };
                    let recent = store.events(&q, Some(20)).unwrap();
                    assert!(recent.len() <= 20);
                    for r in &recent {
                        r.event().unwrap();
                    }
                    store.facts(&q).unwrap();
                    let max = store.max_id().unwrap();
                    assert!(max >= last_max, "row ids went backwards");
                    last_max = max;
                    queries += 1;
                    assert!(start.elapsed() < Duration::from_secs(120));
                }
                queries
            })
        })
        .collect();
    let written = writer_thread.join().unwrap();
    assert_eq!(written, events.len());
    for r in readers {
        let q = r.join().unwrap();
        assert!(q > 0);
    }
    // Everything younger than the retention age is there, exactly once.
    let store = Store::open_existing(&path).unwrap();
    let cutoff = now - 1_800_000_000_000;
    let young = events
        .iter()
        .filter(|e| e.wall_ns().unwrap() >= cutoff)
        .count() as u64;
    assert_eq!(store.count().unwrap(), young);
}

/// The reader half of the cross-process test: does nothing unless run as that test's child.
#[test]
fn child_reader() {
    let Some(path) = std::env::var_os("OISP_STORE_CHILD_READER") else {
        return;
    };
    let store = Store::open_existing(std::path::Path::new(&path)).unwrap();
    let mut last = 0;
    for _ in 0..200 {
        let n = store.count().unwrap();
        assert!(n >= last);
        last = n;
        store.events(&Query::default(), Some(20)).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    println!("CHILD-READER-OK {last}");
}

#[test]
fn a_second_process_reads_while_this_one_writes() {
    // The same check across processes (locks are per process): this test binary runs itself
    // again as a reader while this process writes.
    if std::env::var_os("OISP_STORE_CHILD_READER").is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let mut writer = Store::open(&path).unwrap();
    let events = synth(8_000, now_ns() - 3_600_000_000_000, 100_000);
    writer.insert_batch(&items(&events[..100])).unwrap();
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_reader", "--nocapture", "--test-threads=1"])
        .env("OISP_STORE_CHILD_READER", &path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut chunks = events[100..].chunks(100);
    let mut child = child;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        match chunks.next() {
            Some(c) => {
                writer.insert_batch(&items(c)).unwrap();
            }
            None => break child.wait().unwrap(),
        }
    };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(status.success(), "reader failed: {stdout}\n{stderr}");
    assert!(stdout.contains("CHILD-READER-OK"), "{stdout}");
    assert!(!stdout.contains("locked") && !stderr.contains("locked"));
}

/// Two sensors started together (`demo` beside `record`, or parallel tests) open the same new
/// store at the same instant: every one of them must get it, none may see `database is locked`.
/// Separate processes, not threads: SQLite's locks between processes are what went wrong (the
/// switch to WAL does not wait on a busy database). Each child is this test binary re-run with
/// `OISP_RACE_STORE` set.
#[test]
fn processes_creating_one_store_at_once_all_succeed() {
    const PER_CHILD: usize = 20;
    const BATCH: usize = 5;
    if let Ok(path) = std::env::var("OISP_RACE_STORE") {
        // Child 0 keeps one connection and writes small batches (as `record` does); the others
        // open, write one batch and close, again and again, so that opens meet another
        // process's writes and commits as well as the file's creation.
        let k: usize = std::env::var("OISP_RACE_CHILD").unwrap().parse().unwrap();
        let path = std::path::Path::new(&path);
        let open = |again: usize| {
            Store::open(path).unwrap_or_else(|e| panic!("opener {k}, open {again}: {e}"))
        };
        let batch = |again: usize| {
            let mut events = synth(BATCH, now_ns(), 1_000);
            for ev in &mut events {
                ev.event_id.push_str(&format!("-{k}-{again}"));
            }
            items(&events)
        };
        let mut kept = (k == 0).then(|| open(0));
        for again in 0..PER_CHILD {
            match kept.as_mut() {
                Some(store) => store.insert_batch(&batch(again)).unwrap(),
                None => open(again).insert_batch(&batch(again)).unwrap(),
            };
        }
        return;
    }
    let me = std::env::current_exe().unwrap();
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("race-{round}.db"));
        let children: Vec<_> = (0..6)
            .map(|k| {
                std::process::Command::new(&me)
                    .args([
                        "--exact",
                        "processes_creating_one_store_at_once_all_succeed",
                        "--nocapture",
                    ])
                    .env("OISP_RACE_STORE", &path)
                    .env("OISP_RACE_CHILD", k.to_string())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let store = Store::open_existing(&path).unwrap();
        assert_eq!(
            store.count().unwrap(),
            (6 * PER_CHILD * BATCH) as u64,
            "round {round}"
        );
    }
}
