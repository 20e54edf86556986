//! End to end outage: events stream through `SinkWorker` + `DiskQueue` + `WebhookSink` into the
//! real receiver, which is killed (SIGKILL) mid-stream and restarted after an outage. Nothing
//! may be lost: every event id arrives at least once, the batch the kill cut after it was stored
//! arrives again (a duplicate, as at-least-once allows), and health shows
//! `Retrying` with a growing queue during the outage and `Ok` with an empty queue after.
//!
//! The outage lasts `OISP_OUTAGE_SECS` seconds (default 3, so CI stays fast);
//! `OISP_OUTAGE_SECS=600 cargo test -p oisp-webhook --test outage -- --nocapture` runs the
//! 10-minute version. Figures are printed with `--nocapture`.

mod support;

use oisp_sinks::{DiskQueue, Item, QueueLimits, RetryPolicy, SinkHealth, SinkState, SinkWorker};
use oisp_webhook::WebhookConfig;
use oisp_webhook::WebhookSink;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::{items, Receiver, ReceiverOpts};

const BEFORE: usize = 1000;
const AFTER: usize = 1000;

/// Sends `items` spread evenly over `over` (in bursts at least 10 ms apart).
fn stream(w: &SinkWorker, items: &[Item], over: Duration) {
    let start = Instant::now();
    let ticks = (over.as_millis() / 10).max(1) as usize;
    let per_tick = items.len().div_ceil(ticks).max(1);
    let bursts = items.len().div_ceil(per_tick).max(1);
    for (n, chunk) in items.chunks(per_tick).enumerate() {
        for item in chunk {
            w.send(item);
        }
        let due = start + over.mul_f64((n + 1) as f64 / bursts as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
}

#[test]
fn receiver_killed_mid_stream_loses_nothing() {
    let outage = Duration::from_secs(
        std::env::var("OISP_OUTAGE_SECS")
            .ok()
            .map(|v| v.parse().expect("OISP_OUTAGE_SECS: whole seconds"))
            .unwrap_or(3),
    );
    // During the outage events keep coming: at least 1000, 10 per second for long outages.
    let during = (outage.as_secs() as usize * 10).max(1000);
    let total = BEFORE + during + AFTER;
    let all = items(total);
    let dir = tempfile::tempdir().unwrap();
    let secret = "outage-secret";
    let mut rx = Receiver::start(
        dir.path(),
        ReceiverOpts {
            secret: Some(secret.into()),
            // Each batch is stored 200 ms before it is acknowledged: the kill below lands in
            // that window, so the batch it cuts is delivered again (duplicates, counted).
            reply_delay_ms: Some(200),
            ..Default::default()
        },
    );
    let sink = WebhookSink::new(&WebhookConfig {
        url: rx.url.clone(),
        secret: Some(secret.into()),
        timeout: Some("5s".into()),
        ..Default::default()
    })
    .unwrap();
    let queue = DiskQueue::open(
        &dir.path().join("queue.db"),
        QueueLimits {
            max_events: 1_000_000,
            max_bytes: 1 << 30,
        },
    )
    .unwrap();
    let retry = RetryPolicy {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(2),
    };
    let w = SinkWorker::spawn("webhook", Box::new(sink), queue, retry);
    let t0 = Instant::now();

    // 1. Flowing: the first half of BEFORE is delivered; then, while the rest streams, the
    //    receiver is SIGKILLed just after it stored a batch and before it acknowledged it.
    stream(&w, &all[..BEFORE / 2], Duration::from_millis(500));
    assert!(w.flush(Duration::from_secs(30)), "{:?}", w.health());
    let stored = rx.stored_bytes();
    stream(&w, &all[BEFORE / 2..BEFORE], Duration::from_millis(100));
    let wait = Instant::now();
    while rx.stored_bytes() == stored {
        assert!(
            wait.elapsed() < Duration::from_secs(10),
            "no batch after the first half"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    rx.kill();
    let killed_at = Instant::now();

    // 2. Outage: events keep coming while health is sampled.
    let mut samples: Vec<(Duration, SinkHealth)> = Vec::new();
    std::thread::scope(|s| {
        let producer = s.spawn(|| stream(&w, &all[BEFORE..BEFORE + during], outage));
        let step = (outage / 20).clamp(Duration::from_millis(100), Duration::from_secs(5));
        while !producer.is_finished() {
            std::thread::sleep(step);
            samples.push((killed_at.elapsed(), w.health()));
        }
        producer.join().unwrap();
    });
    let during_outage = w.health();

    // 3. Back: restart on the same port, send the rest, everything drains.
    rx.restart_with(ReceiverOpts {
        secret: Some(secret.into()),
        ..Default::default()
    });
    let restarted_at = Instant::now();
    stream(&w, &all[BEFORE + during..], Duration::from_millis(500));
    let drained = w.flush(Duration::from_secs(60) + retry.max * 2);
    let drain_time = restarted_at.elapsed();
    let after = w.health();
    let h = w.shutdown(Duration::from_secs(2));
    assert!(drained, "queue did not drain after the restart: {after:?}");

    // Health during the outage: Retrying, queue growing; after: Ok, queue 0, nothing dropped.
    let late: Vec<&(Duration, SinkHealth)> = samples
        .iter()
        .filter(|(at, _)| *at >= Duration::from_millis(1500))
        .collect();
    assert!(late.len() >= 2, "too few samples: {samples:?}");
    for (at, s) in &late {
        assert_eq!(s.state, SinkState::Retrying, "at {at:?}: {s:?}");
        assert!(s.last_error.is_some(), "at {at:?}: {s:?}");
    }
    for pair in late.windows(2) {
        assert!(pair[1].1.queued >= pair[0].1.queued, "{pair:?}");
    }
    let (first, last) = (&late[0].1, &late[late.len() - 1].1);
    assert!(
        last.queued > first.queued,
        "queue did not grow: {first:?} → {last:?}"
    );
    assert!(
        last.lag_ms > first.lag_ms,
        "lag did not grow: {first:?} → {last:?}"
    );
    assert_eq!(during_outage.state, SinkState::Retrying);
    assert_eq!(after.state, SinkState::Ok, "{after:?}");
    assert_eq!((after.queued, after.dropped), (0, 0), "{after:?}");
    assert!(h.delivered >= total as u64, "{h:?}");

    // Every id arrived at least once.
    let got = rx.received_ids();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &got {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    let lost: Vec<&str> = all
        .iter()
        .map(|i| i.event.event_id.as_str())
        .filter(|id| !counts.contains_key(id))
        .collect();
    let duplicates = got.len() - counts.len();
    println!(
        "outage {:?}: {total} events sent, {} received, {} unique, {duplicates} duplicates, \
         {} lost; queue held {} events (lag {} ms) at the end of the outage, {} failed attempts; drained {:?} \
         after restart; whole run {:?}",
        outage,
        got.len(),
        counts.len(),
        lost.len(),
        during_outage.queued,
        during_outage.lag_ms,
        h.failures,
        drain_time,
        t0.elapsed()
    );
    assert!(
        lost.is_empty(),
        "{} events lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    assert_eq!(counts.len(), total, "receiver stored ids we never sent");
    assert!(
        duplicates > 0,
        "the batch cut by the kill was not delivered again"
    );
}
