//! KafkaSink behind the real disk queue and worker (as the sensor runs it): events sent while the
//! broker is down wait on disk, health says retrying, and once the broker is back every event is
//! produced exactly in order per key.

mod support;

use oisp_kafka::KafkaSink;
use oisp_kafka::{KafkaConfig, KafkaKey};
use oisp_sinks::{DiskQueue, QueueLimits, RetryPolicy, SinkState, SinkWorker};
use std::time::{Duration, Instant};
use support::{consume, fixture_items, Broker};

#[test]
fn events_sent_during_an_outage_are_produced_when_the_broker_returns() {
    let mut broker = Broker::start();
    let topic = "oisp-outage";
    let cfg = KafkaConfig {
        brokers: broker.addr(),
        topic: topic.into(),
        key: KafkaKey::Session,
        timeout: Some("1s".into()),
        partitions: Some(2),
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let queue = DiskQueue::open(
        &dir.path().join("kafka.db"),
        QueueLimits {
            max_events: 100_000,
            max_bytes: 256 << 20,
        },
    )
    .unwrap();
    let retry = RetryPolicy {
        initial: Duration::from_millis(100),
        max: Duration::from_millis(500),
    };
    let worker = SinkWorker::spawn(
        "kafka",
        Box::new(KafkaSink::new(&cfg).unwrap()),
        queue,
        retry,
    );

    broker.kill();
    let items = fixture_items("openai-python");
    for it in &items {
        worker.send(it);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let h = worker.health();
        if h.state == SinkState::Retrying && h.failures > 0 {
            assert_eq!(h.delivered, 0);
            assert_eq!(h.queued, items.len() as u64, "{h:?}");
            assert!(h.last_error.is_some());
            break;
        }
        assert!(Instant::now() < deadline, "never retrying: {h:?}");
        std::thread::sleep(Duration::from_millis(50));
    }

    broker.restart();
    assert!(
        worker.flush(Duration::from_secs(30)),
        "not delivered after restart: {:?}\n{}",
        worker.health(),
        broker.log_text()
    );
    let h = worker.shutdown(Duration::from_secs(5));
    assert_eq!(h.delivered, items.len() as u64, "{h:?}");
    assert_eq!(h.dropped, 0, "{h:?}");

    let got = consume(&broker.addr(), topic, items.len());
    assert_eq!(got.len(), items.len());
    // Every event once; within each key, in send order.
    let mut want: std::collections::BTreeMap<Vec<u8>, Vec<&str>> = Default::default();
    let mut seen: std::collections::BTreeMap<Vec<u8>, Vec<&str>> = Default::default();
    for m in &got {
        seen.entry(m.key.clone().unwrap())
            .or_default()
            .push(m.headers["oisp-event-id"].as_str());
    }
    let ids: std::collections::BTreeSet<&str> = got
        .iter()
        .map(|m| m.headers["oisp-event-id"].as_str())
        .collect();
    assert_eq!(ids.len(), items.len(), "duplicates or losses");
    for it in &items {
        let key = seen
            .iter()
            .find(|(_, v)| v.contains(&it.event.event_id.as_str()))
            .map(|(k, _)| k.clone())
            .expect("event consumed");
        want.entry(key)
            .or_default()
            .push(it.event.event_id.as_str());
    }
    assert_eq!(seen, want);
}
