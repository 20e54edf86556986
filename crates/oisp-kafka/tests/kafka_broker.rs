//! KafkaSink against a real broker (tansu, in memory) read back by an independent consumer
//! (confluent-kafka / librdkafka): the events of real fixture captures, every compression codec, both key
//! modes, both formats, and a broker killed and restarted mid-test.

mod support;

use oisp_kafka::key::partition_for;
use oisp_kafka::KafkaSink;
use oisp_kafka::{KafkaCompression, KafkaConfig, KafkaKey, MessageFormat};
use oisp_sinks::{DeliveryError, Item, Sink};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::{
    consume, fixture_items, hostname, produce_keys_with_librdkafka, protoc_decode, Broker, Consumed,
};

const PARTITIONS: u32 = 3;

fn config(broker: &Broker, topic: &str) -> KafkaConfig {
    KafkaConfig {
        brokers: broker.addr(),
        topic: topic.into(),
        // Generous: debug-build compression of a 1 MiB event on a busy 2-core machine.
        timeout: Some("15s".into()),
        partitions: Some(PARTITIONS),
        ..Default::default()
    }
}

/// Two real captures: OpenAI (Python SDK, tools, streaming) and Anthropic.
fn items() -> Vec<Item> {
    let mut items = fixture_items("openai-python");
    items.extend(fixture_items("anthropic-python"));
    items
}

/// Delivers `items` in batches of `n` (as the worker would), each batch one attempt.
fn deliver_all(sink: &mut KafkaSink, items: &[Item], n: usize) {
    for batch in items.chunks(n) {
        sink.deliver(batch)
            .unwrap_or_else(|e| panic!("deliver to {}: {e}", sink.target()));
    }
}

/// The key the docs promise for `key = "session"`, computed from the JSON.
fn session_key(json: &[u8], host: &str) -> String {
    let v: Value = serde_json::from_slice(json).unwrap();
    let d = &v["data"];
    let id = d["conversation_id"]
        .as_str()
        .or(d["session_id"].as_str())
        .or(d["agent"]["session_id"].as_str());
    if let Some(c) = id {
        return c.to_owned();
    }
    match v["process"]["pid"].as_u64() {
        Some(pid) => format!("{host}:{pid}"),
        None => host.to_owned(),
    }
}

/// Checks `got` holds exactly `items` (content, headers), keyed by `key_of`, each key on its
/// murmur2 partition and in delivery order within it.
fn assert_round_trip(
    got: &[Consumed],
    items: &[Item],
    key_of: &dyn Fn(&Item) -> String,
    value_of: &dyn Fn(&Consumed, &Item),
) {
    assert_eq!(got.len(), items.len(), "message count");
    let mut expected: BTreeMap<String, Vec<&Item>> = BTreeMap::new();
    for it in items {
        expected.entry(key_of(it)).or_default().push(it);
    }
    let mut seen: BTreeMap<String, Vec<&Consumed>> = BTreeMap::new();
    for m in got {
        let key = String::from_utf8(m.key.clone().expect("every message has a key")).unwrap();
        seen.entry(key).or_default().push(m);
    }
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "keys"
    );
    for (key, want) in &expected {
        let msgs = &seen[key];
        assert_eq!(msgs.len(), want.len(), "count for key {key}");
        let part = partition_for(key.as_bytes(), PARTITIONS as usize) as i32;
        for (m, it) in msgs.iter().zip(want) {
            assert_eq!(m.partition, part, "key {key} on its murmur2 partition");
            assert_eq!(
                m.headers["oisp-event-id"], it.event.event_id,
                "order for {key}"
            );
            assert_eq!(m.headers["oisp-event-type"], it.event.event_type());
            assert_eq!(m.headers["oisp-version"], "0.1");
            value_of(m, it);
        }
        // Offsets within the partition strictly increase for the key (consumption order).
        assert!(msgs.windows(2).all(|w| w[0].offset < w[1].offset));
    }
}

fn json_value_equal(m: &Consumed, it: &Item) {
    assert_eq!(m.headers["content-type"], "application/json");
    assert!(
        m.value == *it.json,
        "value of {} is not the item's JSON",
        it.event.event_id
    );
}

#[test]
fn json_round_trips_with_every_codec_keyed_by_session() {
    let broker = Broker::start();
    let items = items();
    let host = hostname();
    for (codec, name) in [
        (KafkaCompression::None, "none"),
        (KafkaCompression::Gzip, "gzip"),
        (KafkaCompression::Snappy, "snappy"),
        (KafkaCompression::Lz4, "lz4"),
        (KafkaCompression::Zstd, "zstd"),
    ] {
        let topic = format!("oisp-json-{name}");
        let mut cfg = config(&broker, &topic);
        cfg.compression = codec;
        cfg.key = KafkaKey::Session;
        let mut sink = KafkaSink::new(&cfg).unwrap();
        assert_eq!(sink.kind(), "kafka");
        assert_eq!(sink.target(), format!("{}/{topic}", broker.addr()));
        let t = Instant::now();
        deliver_all(&mut sink, &items, 40);
        eprintln!(
            "{name}: {} events delivered in {:?}",
            items.len(),
            t.elapsed()
        );
        let got = consume(&broker.addr(), &topic, items.len());
        assert_round_trip(
            &got,
            &items,
            &|it| session_key(&it.json, &host),
            &json_value_equal,
        );
        if codec == KafkaCompression::None {
            same_partitions_as_librdkafka(&broker, &topic, &got);
        }
    }
}

/// librdkafka's murmur2 partitioner puts every key of `ours` on the partition we chose.
fn same_partitions_as_librdkafka(broker: &Broker, topic: &str, ours: &[Consumed]) {
    let mut chosen: BTreeMap<Vec<u8>, i32> = BTreeMap::new();
    for m in ours {
        chosen.insert(m.key.clone().unwrap(), m.partition);
    }
    let keys: Vec<String> = chosen
        .keys()
        .map(|k| String::from_utf8(k.clone()).unwrap())
        .collect();
    assert!(keys.len() > 3, "too few keys to compare: {keys:?}");
    produce_keys_with_librdkafka(&broker.addr(), topic, &keys);
    let all = consume(&broker.addr(), topic, ours.len() + keys.len());
    let theirs: Vec<&Consumed> = all
        .iter()
        .filter(|m| m.value == b"librdkafka-murmur2")
        .collect();
    assert_eq!(theirs.len(), keys.len());
    for m in theirs {
        let key = m.key.clone().unwrap();
        assert_eq!(
            m.partition,
            chosen[&key],
            "key {}",
            String::from_utf8_lossy(&key)
        );
    }
}

#[test]
fn key_host_puts_a_host_on_one_partition_in_order() {
    let broker = Broker::start();
    let items = items();
    let host = hostname();
    let topic = "oisp-host";
    let mut sink = KafkaSink::new(&config(&broker, topic)).unwrap();
    deliver_all(&mut sink, &items, 512);
    let got = consume(&broker.addr(), topic, items.len());
    assert_round_trip(&got, &items, &|_| host.clone(), &json_value_equal);
}

#[test]
fn protobuf_messages_decode_with_protoc() {
    let broker = Broker::start();
    let items = items();
    let host = hostname();
    let topic = "oisp-proto";
    let mut cfg = config(&broker, topic);
    cfg.format = MessageFormat::Protobuf;
    cfg.compression = KafkaCompression::Zstd;
    cfg.key = KafkaKey::Session;
    let mut sink = KafkaSink::new(&cfg).unwrap();
    deliver_all(&mut sink, &items, 100);
    let got = consume(&broker.addr(), topic, items.len());
    assert_round_trip(
        &got,
        &items,
        &|it| session_key(&it.json, &host),
        &|m, it| {
            assert_eq!(
                m.headers["content-type"],
                "application/x-protobuf; messageType=oisp.v1.Event"
            );
            let text = protoc_decode(&m.value);
            let ev = &it.event;
            assert!(
                text.contains(&format!("event_id: \"{}\"", ev.event_id)),
                "{text}"
            );
            assert!(text.contains(&format!("event_type: \"{}\"", ev.event_type())));
            let member = format!("\n{} {{", ev.event_type().replace('.', "_"));
            assert!(
                text.contains(&member),
                "{}: no `{member}` in\n{text}",
                ev.event_id
            );
            let v: Value = serde_json::from_slice(&it.json).unwrap();
            if let Some(model) = v["data"]["model"]["id"].as_str() {
                assert!(text.contains(&format!("id: \"{model}\"")), "{text}");
            }
            if let Some(conv) = v["data"]["conversation_id"].as_str() {
                // No conversation_id in the proto: kept under ext["oisp_sensor.unmapped"].
                assert!(text.contains("oisp_sensor.unmapped"), "{text}");
                assert!(text.contains(conv), "{text}");
            }
        },
    );
}

#[test]
fn broker_down_is_retryable_within_the_timeout_then_recovers() {
    let mut broker = Broker::start();
    let items = items();
    let topic = "oisp-restart";
    let mut cfg = config(&broker, topic);
    cfg.timeout = Some("2s".into());
    let mut sink = KafkaSink::new(&cfg).unwrap();
    let (first, rest) = items.split_at(10);
    sink.deliver(first).unwrap();

    broker.kill();
    let t = Instant::now();
    let err = sink.deliver(&rest[..10]).unwrap_err();
    let took = t.elapsed();
    assert!(matches!(err, DeliveryError::Retryable(_)), "{err:?}");
    assert!(took < Duration::from_millis(2500), "took {took:?}: {err}");
    eprintln!("broker down: {err} after {took:?}");

    broker.restart();
    sink.deliver(&rest[..10])
        .unwrap_or_else(|e| panic!("after restart: {e}\n{}", broker.log_text()));
    // The restarted broker is empty (in-memory storage): it holds exactly the retried batch.
    let got = consume(&broker.addr(), topic, 10);
    let ids: Vec<&str> = got
        .iter()
        .map(|m| m.headers["oisp-event-id"].as_str())
        .collect();
    let want: Vec<&str> = rest[..10]
        .iter()
        .map(|i| i.event.event_id.as_str())
        .collect();
    assert_eq!(ids, want);
}

#[test]
fn unreachable_broker_is_retryable_and_bad_config_is_an_error() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = KafkaConfig {
        brokers: format!("127.0.0.1:{port}"),
        topic: "t".into(),
        timeout: Some("1s".into()),
        ..Default::default()
    };
    let mut sink = KafkaSink::new(&cfg).unwrap();
    let items = fixture_items("curl-h1");
    let t = Instant::now();
    let err = sink.deliver(&items).unwrap_err();
    assert!(matches!(err, DeliveryError::Retryable(_)), "{err:?}");
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );

    let bad = KafkaConfig {
        brokers: "localhost".into(),
        topic: "t".into(),
        ..Default::default()
    };
    let e = KafkaSink::new(&bad).err().unwrap();
    assert!(e.contains("kafka.brokers"), "{e}");
}

#[test]
fn large_events_and_linger() {
    let broker = Broker::start();
    // A 1 MiB prompt: one event over the 900 KiB request budget goes in a request of its own.
    let mut items = fixture_items("large-prompt");
    items.extend(fixture_items("curl-h1"));
    let big = items.iter().map(|i| i.json.len()).max().unwrap();
    assert!(big > 1 << 20, "fixture event only {big} bytes");
    let topic = "oisp-large";
    let mut cfg = config(&broker, topic);
    cfg.linger = Some("300ms".into());
    // zstd is C compiled with optimisation even in debug builds (gzip here is not: seconds).
    cfg.compression = KafkaCompression::Zstd;
    let mut sink = KafkaSink::new(&cfg).unwrap();
    let t = Instant::now();
    sink.deliver(&items).unwrap();
    eprintln!(
        "{} events ({big} bytes max) in {:?}",
        items.len(),
        t.elapsed()
    );
    // linger: a second, non-full batch right after waits out the rest of the 300 ms.
    let t = Instant::now();
    sink.deliver(&items[..1]).unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
    let got = consume(&broker.addr(), topic, items.len() + 1);
    assert_eq!(got.len(), items.len() + 1);
    for (m, it) in got.iter().zip(items.iter().chain(&items[..1])) {
        assert!(m.value == *it.json, "{}", it.event.event_id);
    }
}
