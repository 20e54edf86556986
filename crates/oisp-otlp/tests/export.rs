//! OtlpSink against a real OTLP receiver (tools/otlp-receiver: the official protos, decoded by
//! the official Python classes), over gRPC and over HTTP/protobuf, with events decoded from the
//! captures of real clients (`fixtures/captures/*.oraw`).

mod support;

use oisp_event::Event;
use oisp_otlp::OtlpSink;
use oisp_otlp::{OtlpCompression, OtlpConfig, OtlpProtocol};
use oisp_sinks::{DeliveryError, Sink};
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn events_of(names: &[&str]) -> Vec<Event> {
    names.iter().flat_map(|n| fixture_events(n)).collect()
}

fn headers_of(received: &[Value]) -> Vec<&serde_json::Map<String, Value>> {
    received
        .iter()
        .map(|r| r["headers"].as_object().unwrap())
        .collect()
}

#[test]
fn grpc_export_of_real_captures() {
    let rx = Receiver::start(&[]);
    let events = events_of(&["openai-python", "anthropic-python", "gemini-curl"]);
    let cfg = OtlpConfig {
        endpoint: Some(rx.grpc_url()),
        protocol: Some(OtlpProtocol::Grpc),
        headers: [("X-Api-Key".to_string(), "cfg-secret".to_string())].into(),
        service_name: Some("sensor-under-test".into()),
        timeout: Some("5s".into()),
        unfinished_after: Some("0s".into()),
        ..OtlpConfig::default()
    };
    let e = env(&[(
        "OTEL_EXPORTER_OTLP_HEADERS",
        "x-env=from%20env,x-api-key=env-loses",
    )]);
    let mut sink = OtlpSink::with_env(&cfg, &e).unwrap();
    assert_eq!(sink.target(), format!("grpc {}", rx.grpc_url()));
    let t = Instant::now();
    let counts = sink.deliver_counted(&items(&events)).unwrap();
    assert_eq!(counts.log_records, events.len());
    // Tool calls without a result wait; the flush (unfinished_after = 0s) sends them.
    sink.flush().unwrap();
    assert_eq!(sink.pending_spans(), 0);
    eprintln!("exported {} events in {:?}", events.len(), t.elapsed());
    let received = rx.received();
    assert!(received.iter().all(|r| r["transport"] == "grpc"));
    check_export(&received, &events, "sensor-under-test");
    for h in headers_of(&received) {
        assert_eq!(h["x-api-key"], "cfg-secret", "config beats env per header");
        assert_eq!(h["x-env"], "from env", "env headers are URL-decoded");
    }
    assert!(!sink.target().contains("secret"));
}

#[test]
fn http_protobuf_export_with_gzip_and_env_endpoint() {
    let rx = Receiver::start(&[]);
    let events = events_of(&["openai-node", "ollama-curl", "curl-h2"]);
    let cfg = OtlpConfig {
        compression: Some(OtlpCompression::Gzip),
        unfinished_after: Some("0s".into()),
        ..OtlpConfig::default()
    };
    let e = env(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &rx.http_url()),
        ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20t0k"),
        ("OTEL_SERVICE_NAME", "svc-from-env"),
    ]);
    let mut sink = OtlpSink::with_env(&cfg, &e).unwrap();
    assert_eq!(
        sink.target(),
        format!(
            "http/protobuf logs={0}/v1/logs traces={0}/v1/traces",
            rx.http_url()
        )
    );
    sink.deliver(&items(&events)).unwrap();
    sink.flush().unwrap();
    let received = rx.received();
    assert!(received.iter().all(|r| r["transport"] == "http"));
    assert!(received.iter().any(|r| r["path"] == "/v1/logs"));
    assert!(received.iter().any(|r| r["path"] == "/v1/traces"));
    check_export(&received, &events, "svc-from-env");
    for h in headers_of(&received) {
        assert_eq!(h["authorization"], "Bearer t0k");
        assert_eq!(h["content-encoding"], "gzip");
        assert_eq!(h["content-type"], "application/x-protobuf");
    }
}

#[test]
fn per_signal_env_endpoints_are_used_as_is() {
    let rx = Receiver::start(&[]);
    let events = events_of(&["curl-h1"]);
    let e = env(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
        (
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            &format!("{}/v1/logs", rx.http_url()),
        ),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            &format!("{}/v1/traces", rx.http_url()),
        ),
    ]);
    let mut sink = OtlpSink::with_env(&OtlpConfig::default(), &e).unwrap();
    sink.deliver(&items(&events)).unwrap();
    let received = rx.received();
    assert_eq!(log_records(&received).len(), events.len());
    assert_eq!(call_spans(&received).len(), 7);
}

#[test]
fn unavailable_receivers_are_retryable_and_bad_requests_rejected() {
    let events = events_of(&["curl-h1"]);
    let batch = items(&events);
    let sink_for = |protocol, url: String| {
        let cfg = OtlpConfig {
            endpoint: Some(url),
            protocol: Some(protocol),
            timeout: Some("2s".into()),
            ..OtlpConfig::default()
        };
        OtlpSink::with_env(&cfg, &HashMap::new()).unwrap()
    };
    let down = Receiver::start(&["--fail", "unavailable"]);
    for (p, url) in [
        (OtlpProtocol::Grpc, down.grpc_url()),
        (OtlpProtocol::HttpProtobuf, down.http_url()),
    ] {
        let mut sink = sink_for(p, url);
        match sink.deliver(&batch) {
            Err(DeliveryError::Retryable(m)) => {
                assert!(m.contains("Unavailable") || m.contains("503"), "{m}")
            }
            other => panic!("{p:?}: expected Retryable, got {other:?}"),
        }
        // Nothing committed: the retried batch pairs the same calls again.
        assert_eq!(sink.pending_spans(), 0);
    }
    assert!(down.received().is_empty());

    let invalid = Receiver::start(&["--fail", "invalid"]);
    for (p, url) in [
        (OtlpProtocol::Grpc, invalid.grpc_url()),
        (OtlpProtocol::HttpProtobuf, invalid.http_url()),
    ] {
        match sink_for(p, url).deliver(&batch) {
            Err(DeliveryError::Rejected(_)) => {}
            other => panic!("{p:?}: expected Rejected, got {other:?}"),
        }
    }

    // Nobody listening: connection refused is retryable, quickly.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for p in [OtlpProtocol::Grpc, OtlpProtocol::HttpProtobuf] {
        for scheme in ["http", "https"] {
            let t = Instant::now();
            let r = sink_for(p, format!("{scheme}://127.0.0.1:{port}")).deliver(&batch);
            assert!(
                matches!(r, Err(DeliveryError::Retryable(_))),
                "{p:?} {scheme}: {r:?}"
            );
            assert!(t.elapsed() < Duration::from_secs(3));
        }
    }
    // TLS to a plain-text receiver fails the handshake: an error, never a panic.
    let plain = Receiver::start(&[]);
    for (p, port) in [
        (OtlpProtocol::Grpc, plain.grpc_port),
        (OtlpProtocol::HttpProtobuf, plain.http_port),
    ] {
        let r = sink_for(p, format!("https://127.0.0.1:{port}")).deliver(&batch);
        assert!(r.is_err(), "{p:?}: {r:?}");
        eprintln!("{p:?} TLS to plain text: {r:?}");
    }
    assert!(plain.received().is_empty());
}

/// OTLP/HTTP: a 503 with `Retry-After` hands the wait to the worker (which holds the next
/// attempt back, see oisp-webhook's `retry_after_is_honoured`), once per failure; gRPC answers
/// carry none.
#[test]
fn http_retry_after_reaches_the_worker() {
    let rx = Receiver::start(&["--fail", "unavailable", "--retry-after", "7"]);
    let batch = items(&events_of(&["openai-python"]));
    for (protocol, url, want) in [
        (
            OtlpProtocol::HttpProtobuf,
            rx.http_url(),
            Some(Duration::from_secs(7)),
        ),
        (OtlpProtocol::Grpc, rx.grpc_url(), None),
    ] {
        let cfg = OtlpConfig {
            endpoint: Some(url),
            protocol: Some(protocol),
            ..OtlpConfig::default()
        };
        let mut sink = OtlpSink::with_env(&cfg, &HashMap::new()).unwrap();
        assert!(matches!(
            sink.deliver(&batch),
            Err(DeliveryError::Retryable(_))
        ));
        assert_eq!(sink.retry_after(), want, "{protocol:?}");
        assert_eq!(sink.retry_after(), None, "asked once per failure");
    }
}

#[test]
fn a_batch_retried_after_an_outage_is_exported_once_with_the_same_pairing() {
    // The worker retries the same batch after `Retryable`: the sink must not have consumed the
    // requests of the failed attempt (the retry pairs them again) nor send anything twice.
    let dir = tempfile::tempdir().unwrap();
    let outage = dir.path().join("outage");
    std::fs::write(&outage, b"").unwrap();
    let rx = Receiver::start(&["--fail-while", outage.to_str().unwrap()]);
    let events = events_of(&["openai-python"]);
    let batch = items(&events);
    for protocol in [OtlpProtocol::Grpc, OtlpProtocol::HttpProtobuf] {
        std::fs::write(&outage, b"").unwrap();
        let url = match protocol {
            OtlpProtocol::Grpc => rx.grpc_url(),
            OtlpProtocol::HttpProtobuf => rx.http_url(),
        };
        let cfg = OtlpConfig {
            endpoint: Some(url),
            protocol: Some(protocol),
            unfinished_after: Some("0s".into()),
            ..OtlpConfig::default()
        };
        let mut sink = OtlpSink::with_env(&cfg, &HashMap::new()).unwrap();
        for _ in 0..2 {
            assert!(matches!(
                sink.deliver(&batch),
                Err(DeliveryError::Retryable(_))
            ));
            assert!(
                matches!(sink.flush(), Ok(())),
                "nothing pending after failed attempts"
            );
        }
        std::fs::remove_file(&outage).unwrap();
        sink.deliver(&batch).unwrap();
        sink.flush().unwrap();
    }
    let received = rx.received();
    let (grpc, http): (Vec<Value>, Vec<Value>) =
        received.into_iter().partition(|r| r["transport"] == "grpc");
    check_export(&grpc, &events, "oisp-sensor");
    check_export(&http, &events, "oisp-sensor");
    // Deterministic ids: both transports exported the very same trace tree.
    let ids = |r: &[Value]| {
        let mut v: Vec<String> = spans(r).iter().map(|(_, s)| hex_id(&s["spanId"])).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&grpc), ids(&http));
}

#[test]
fn partial_success_is_reported_with_the_rejected_count() {
    let rx = Receiver::start(&["--partial", "2"]);
    let events = events_of(&["curl-h1"]);
    let cfg = OtlpConfig {
        endpoint: Some(rx.grpc_url()),
        ..OtlpConfig::default()
    };
    let mut sink = OtlpSink::with_env(&cfg, &HashMap::new()).unwrap();
    match sink.deliver(&items(&events)) {
        Err(DeliveryError::Rejected(m)) => {
            assert!(
                m.contains(&format!("rejected 2 of {} log records", events.len())),
                "{m}"
            );
            // 7 AI-call and tool spans, the curl sessions' invoke_agent spans and their connects
            assert!(m.contains("rejected 2 of 14 spans"), "{m}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[test]
fn requests_without_response_are_exported_unfinished_on_flush() {
    let rx = Receiver::start(&[]);
    let events: Vec<Event> = events_of(&["curl-h1"])
        .into_iter()
        .filter(|e| e.event_type() != "ai.response")
        .collect();
    let cfg = OtlpConfig {
        endpoint: Some(rx.grpc_url()),
        unfinished_after: Some("1s".into()),
        ..OtlpConfig::default()
    };
    let mut sink = OtlpSink::with_env(&cfg, &HashMap::new()).unwrap();
    sink.deliver(&items(&events)).unwrap();
    assert_eq!(sink.pending_spans(), 7);
    sink.flush().unwrap();
    assert_eq!(sink.pending_spans(), 7, "not yet waited long enough");
    std::thread::sleep(Duration::from_millis(1100));
    sink.flush().unwrap();
    assert_eq!(sink.pending_spans(), 0);
    let spans = call_spans(&rx.received());
    assert_eq!(spans.len(), 7);
    for (_, s) in &spans {
        assert_eq!(
            attr(&s["attributes"], "oisp.span.unfinished").unwrap()["boolValue"],
            true
        );
        assert_eq!(s["startTimeUnixNano"], s["endTimeUnixNano"]);
    }
}

#[test]
fn large_events_are_split_over_requests_and_oversized_bodies_cut() {
    // grpcio, like the Collector, refuses gRPC messages over 4 MiB by default.
    let rx = Receiver::start(&[]);
    let mut events = events_of(&["curl-h1"]);
    // Two events of 2.2 MB (sent whole, each in its own request) and one of 3 MB (cut).
    for (i, size) in [2_200_000usize, 2_200_000, 3 << 20].into_iter().enumerate() {
        let warning = oisp_event::SensorWarning::new("test_blob", "a very large event")
            .with_detail("blob", "x".repeat(size));
        events.push(Event::new(
            warning,
            oisp_event::Timestamp::new(1_766_434_505_000_000_000 + i as u64, 0),
            format!("01KBIGWARNING000000000000{i}"),
        ));
    }
    let cfg = OtlpConfig {
        endpoint: Some(rx.grpc_url()),
        ..OtlpConfig::default()
    };
    let mut sink = OtlpSink::with_env(&cfg, &HashMap::new()).unwrap();
    let counts = sink.deliver_counted(&items(&events)).unwrap();
    assert_eq!(counts.log_records, events.len());
    let received = rx.received();
    let logs_requests = received.iter().filter(|r| r["signal"] == "logs").count();
    assert!(logs_requests >= 3, "{logs_requests} logs requests");
    let logs = log_records(&received);
    assert_eq!(logs.len(), events.len());
    // grouped by process: find each record's event by its id
    let by_id: HashMap<&str, &Event> = events.iter().map(|e| (e.event_id.as_str(), e)).collect();
    for (_, rec) in &logs {
        let id = attr_str(&rec["attributes"], "oisp.event_id").unwrap();
        let ev = by_id[id.as_str()];
        let body = rec["body"]["stringValue"].as_str().unwrap();
        let json = serde_json::to_string(ev).unwrap();
        if json.len() > oisp_otlp::logs::MAX_BODY_BYTES {
            assert_eq!(ev.event_type(), "sensor.warning");
            assert_eq!(body.len(), oisp_otlp::logs::MAX_BODY_BYTES);
            assert!(json.starts_with(body));
            let a = &rec["attributes"];
            assert_eq!(attr(a, "oisp.body.truncated").unwrap()["boolValue"], true);
            assert_eq!(
                attr_int(a, "oisp.body.original_bytes"),
                Some(json.len() as i64)
            );
        } else {
            assert_eq!(body, json);
        }
    }
    assert!(logs
        .iter()
        .any(|(_, r)| r["body"]["stringValue"].as_str().unwrap().len() > 2_000_000));
}

#[test]
fn through_the_sink_worker_an_outage_loses_nothing() {
    // The real delivery path: SinkWorker (disk queue, retries with backoff) driving OtlpSink.
    let dir = tempfile::tempdir().unwrap();
    let outage = dir.path().join("outage");
    std::fs::write(&outage, b"").unwrap();
    let rx = Receiver::start(&["--fail-while", outage.to_str().unwrap()]);
    let events = events_of(&["openai-python", "anthropic-python"]);
    let cfg = OtlpConfig {
        endpoint: Some(rx.grpc_url()),
        ..OtlpConfig::default()
    };
    let sink = OtlpSink::with_env(&cfg, &HashMap::new()).unwrap();
    let queue = oisp_sinks::DiskQueue::open(
        &dir.path().join("otlp.queue"),
        oisp_sinks::QueueLimits {
            max_events: 10_000,
            max_bytes: 64 << 20,
        },
    )
    .unwrap();
    let retry = oisp_sinks::RetryPolicy {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(100),
    };
    let worker = oisp_sinks::SinkWorker::spawn("otlp", Box::new(sink), queue, retry);
    for item in items(&events) {
        worker.send(&item);
    }
    assert!(
        !worker.flush(Duration::from_millis(500)),
        "nothing passes during the outage"
    );
    let h = worker.health();
    assert_eq!(h.state, oisp_sinks::SinkState::Retrying);
    assert!(h.failures > 0 && h.delivered == 0, "{h:?}");
    std::fs::remove_file(&outage).unwrap();
    assert!(worker.flush(Duration::from_secs(10)));
    // Tool calls without a result wait for it; shutdown exports them unfinished.
    let h = worker.shutdown(Duration::from_secs(5));
    assert_eq!((h.delivered, h.dropped), (events.len() as u64, 0), "{h:?}");
    check_export(&rx.received(), &events, "oisp-sensor");
}
