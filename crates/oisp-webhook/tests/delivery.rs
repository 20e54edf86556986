//! The webhook sink against the real receiver (tools/webhook-receiver/receiver.py): payload,
//! headers, signature checking, and how each kind of failure is classified and handled by the
//! worker.

mod support;

use oisp_sinks::{DeliveryError, DiskQueue, QueueLimits, RetryPolicy, Sink, SinkState, SinkWorker};
use oisp_webhook::WebhookConfig;
use oisp_webhook::{batch_id, WebhookSink};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::{items, Receiver, ReceiverOpts};

fn config(url: &str, secret: Option<&str>) -> WebhookConfig {
    WebhookConfig {
        url: url.to_string(),
        secret: secret.map(str::to_string),
        timeout: Some("5s".into()),
        ..Default::default()
    }
}

fn worker(dir: &std::path::Path, sink: WebhookSink) -> SinkWorker {
    let queue = DiskQueue::open(
        &dir.join("queue.db"),
        QueueLimits {
            max_events: 100_000,
            max_bytes: 1 << 30,
        },
    )
    .unwrap();
    SinkWorker::spawn(
        "webhook",
        Box::new(sink),
        queue,
        RetryPolicy {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(200),
        },
    )
}

#[test]
fn signed_batches_arrive_whole_with_their_headers() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start(
        dir.path(),
        ReceiverOpts {
            secret: Some("s3cret".into()),
            ..Default::default()
        },
    );
    let mut cfg = config(&rx.url, Some("s3cret"));
    cfg.batch_size = Some(50);
    cfg.headers = BTreeMap::from([("Authorization".into(), "Bearer tok".into())]);
    let mut sink = WebhookSink::new(&cfg).unwrap();
    assert_eq!(sink.max_batch(), 50);
    let batch = items(120);
    sink.deliver(&batch).unwrap();

    // Every event, in order, byte for byte the same JSON value.
    let got = support::read_jsonl(&rx.out);
    assert_eq!(got.len(), 120);
    for (g, item) in got.iter().zip(&batch) {
        let want: serde_json::Value = serde_json::from_slice(&item.json).unwrap();
        assert_eq!(*g, want);
    }
    // Three POSTs of 50, 50, 20 with our headers.
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 3);
    for (req, chunk) in reqs.iter().zip(batch.chunks(50)) {
        let h = &req["headers"];
        assert_eq!(req["status"], 200, "{req}");
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(
            h["user-agent"],
            format!("oisp-sensor/{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(h["x-oisp-batch-id"], batch_id(chunk));
        assert_eq!(h["x-oisp-event-count"], chunk.len().to_string());
        assert_eq!(h["authorization"], "Bearer tok");
        assert!(h["x-oisp-signature"]
            .as_str()
            .unwrap()
            .starts_with("sha256="));
        assert!(h["x-oisp-timestamp"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok());
    }
}

#[test]
fn the_receiver_checks_the_signature() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start(
        dir.path(),
        ReceiverOpts {
            secret: Some("right".into()),
            ..Default::default()
        },
    );
    let batch = items(5);
    let mut wrong = WebhookSink::new(&config(&rx.url, Some("wrong"))).unwrap();
    match wrong.deliver(&batch) {
        Err(DeliveryError::Rejected(m)) => {
            assert!(m.contains("401") && m.contains("bad signature"), "{m}")
        }
        other => panic!("wrong secret: {other:?}"),
    }
    let mut unsigned = WebhookSink::new(&config(&rx.url, None)).unwrap();
    match unsigned.deliver(&batch) {
        Err(DeliveryError::Rejected(m)) => {
            assert!(m.contains("401") && m.contains("missing"), "{m}")
        }
        other => panic!("unsigned: {other:?}"),
    }
    assert!(
        rx.received_ids().is_empty(),
        "nothing stored from unauthentic requests"
    );
    let mut right = WebhookSink::new(&config(&rx.url, Some("right"))).unwrap();
    right.deliver(&batch).unwrap();
    assert_eq!(rx.received_ids().len(), 5);
}

#[test]
fn a_4xx_is_rejected_and_counted_as_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start(
        dir.path(),
        ReceiverOpts {
            fail_status: Some(400),
            fail_count: -1,
            ..Default::default()
        },
    );
    let mut sink = WebhookSink::new(&config(&rx.url, None)).unwrap();
    match sink.deliver(&items(3)) {
        Err(DeliveryError::Rejected(m)) => assert!(m.contains("HTTP 400"), "{m}"),
        other => panic!("{other:?}"),
    }
    let w = worker(
        dir.path(),
        WebhookSink::new(&config(&rx.url, None)).unwrap(),
    );
    for item in items(250) {
        w.send(&item);
    }
    assert!(w.flush(Duration::from_secs(20)));
    let h = w.shutdown(Duration::from_secs(1));
    assert_eq!((h.delivered, h.dropped, h.queued), (0, 250, 0), "{h:?}");
    // Batches are cut as the queue fills: at least three POSTs (of at most 100) were refused.
    assert!(h.failures >= 3, "{h:?}");
    assert!(h.last_error.unwrap().contains("HTTP 400"));
}

#[test]
fn a_503_then_200_delivers_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start(
        dir.path(),
        ReceiverOpts {
            fail_status: Some(503),
            fail_count: 3,
            ..Default::default()
        },
    );
    let w = worker(
        dir.path(),
        WebhookSink::new(&config(&rx.url, None)).unwrap(),
    );
    let batch = items(300);
    for item in &batch {
        w.send(item);
    }
    assert!(w.flush(Duration::from_secs(30)));
    let h = w.shutdown(Duration::from_secs(1));
    assert_eq!((h.delivered, h.dropped, h.queued), (300, 0, 0), "{h:?}");
    assert_eq!(h.failures, 3);
    assert_eq!(h.state, SinkState::Stopped);
    let want: Vec<String> = batch.iter().map(|i| i.event.event_id.clone()).collect();
    assert_eq!(
        rx.received_ids(),
        want,
        "a 503 stores nothing, so no duplicates"
    );
    let statuses: Vec<i64> = rx
        .requests()
        .iter()
        .map(|r| r["status"].as_i64().unwrap())
        .collect();
    assert_eq!(&statuses[..3], &[503, 503, 503]);
    assert!(statuses[3..].iter().all(|&s| s == 200));
}

/// A 429 or 503 with `Retry-After` holds the next attempt back at least that long (the worker's
/// own backoff here is 50–200 ms); the wait shows in the error `status` reports.
#[test]
fn retry_after_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start(
        dir.path(),
        ReceiverOpts {
            fail_status: Some(429),
            fail_count: 1,
            retry_after: Some("2".into()),
            ..Default::default()
        },
    );
    let w = worker(
        dir.path(),
        WebhookSink::new(&config(&rx.url, None)).unwrap(),
    );
    for item in &items(10) {
        w.send(item);
    }
    let mut saw_wait = false;
    let deadline = Instant::now() + Duration::from_secs(30);
    while rx.received_ids().len() < 10 && Instant::now() < deadline {
        let h = w.health();
        saw_wait |= h
            .last_error
            .is_some_and(|e| e.contains("HTTP 429") && e.contains("asked to retry after 2 s"));
        std::thread::sleep(Duration::from_millis(20));
    }
    let h = w.shutdown(Duration::from_secs(1));
    assert_eq!((h.delivered, h.failures), (10, 1), "{h:?}");
    assert!(saw_wait, "status never showed the requested wait");
    let reqs = rx.requests();
    let t = |i: usize| reqs[i]["t"].as_f64().unwrap();
    assert_eq!(reqs[0]["status"], 429);
    assert_eq!(reqs[1]["status"], 200);
    let gap = t(1) - t(0);
    assert!(gap >= 1.9, "retried after {gap:.2} s, Retry-After said 2");
}

#[test]
fn throttling_and_request_timeouts_are_retryable() {
    for status in [429u16, 408, 500] {
        let dir = tempfile::tempdir().unwrap();
        let rx = Receiver::start(
            dir.path(),
            ReceiverOpts {
                fail_status: Some(status),
                fail_count: 1,
                ..Default::default()
            },
        );
        let mut sink = WebhookSink::new(&config(&rx.url, None)).unwrap();
        let batch = items(2);
        match sink.deliver(&batch) {
            Err(DeliveryError::Retryable(m)) => {
                assert!(m.contains(&format!("HTTP {status}")), "{m}")
            }
            other => panic!("{status}: {other:?}"),
        }
        sink.deliver(&batch).unwrap();
        assert_eq!(rx.received_ids().len(), 2);
    }
}

/// `count` events whose JSON is about `kb` KiB each.
fn padded(count: usize, kb: usize) -> Vec<oisp_sinks::Item> {
    items(count)
        .into_iter()
        .map(|i| {
            let mut ev = (*i.event).clone();
            let pad = "x".repeat(kb * 1024);
            ev.attrs = Some(serde_json::Map::from_iter([(
                "pad".to_string(),
                pad.into(),
            )]));
            oisp_sinks::Item::new(ev).unwrap()
        })
        .collect()
}

/// A receiver with a 1 MiB body limit (nginx's default): a 413 splits the POST until the
/// parts fit; an event too large on its own is refused without holding back the others.
#[test]
fn payload_too_large_splits_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start(
        dir.path(),
        ReceiverOpts {
            max_body: Some(1 << 20),
            ..Default::default()
        },
    );
    let mut sink = WebhookSink::new(&config(&rx.url, None)).unwrap();
    let mut batch = padded(10, 300); // ~3 MB in one POST, then halves, then quarters
    sink.deliver(&batch).unwrap();
    let want: Vec<String> = batch.iter().map(|i| i.event.event_id.clone()).collect();
    assert_eq!(rx.received_ids(), want);
    let statuses: Vec<i64> = rx
        .requests()
        .iter()
        .map(|r| r["status"].as_i64().unwrap())
        .collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 413).count(),
        3,
        "{statuses:?}"
    );

    // One 2 MB event between small ones: it alone is refused, the rest delivered in order.
    batch = items(4);
    batch.insert(2, padded(1, 2048).remove(0));
    match sink.deliver(&batch) {
        Err(DeliveryError::Rejected(m)) => {
            assert!(
                m.starts_with("1 of 5 events refused") && m.contains("413"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
    let mut want2: Vec<String> = batch.iter().map(|i| i.event.event_id.clone()).collect();
    want2.remove(2);
    assert_eq!(rx.received_ids()[10..], want2[..]);
}

#[test]
fn connection_refused_is_retryable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut sink = WebhookSink::new(&config(&format!("http://127.0.0.1:{port}/x"), None)).unwrap();
    match sink.deliver(&items(1)) {
        Err(DeliveryError::Retryable(m)) => {
            assert!(m.contains(&format!("127.0.0.1:{port}/x")), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

/// A server that accepts and never answers: the request ends at the configured timeout.
#[test]
fn a_silent_server_times_out_as_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(3));
        drop(conn);
    });
    let mut cfg = config(&format!("http://127.0.0.1:{port}/x"), None);
    cfg.timeout = Some("700ms".into());
    let mut sink = WebhookSink::new(&cfg).unwrap();
    let t = Instant::now();
    match sink.deliver(&items(1)) {
        Err(DeliveryError::Retryable(m)) => assert!(
            m.to_lowercase().contains("timeout") || m.contains("timed out"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(2),
        "{took:?}"
    );
    hold.join().unwrap();
}
