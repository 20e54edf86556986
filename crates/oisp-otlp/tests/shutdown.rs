//! Dropping the sink (sensor shutdown) exports the spans still waiting, as unfinished — unless
//! the last export failed, in which case the drop does not wait on the receiver.

mod support;

use oisp_event::Event;
use oisp_otlp::OtlpConfig;
use oisp_otlp::OtlpSink;
use oisp_sinks::Sink;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::*;

fn requests_only() -> Vec<Event> {
    fixture_events("curl-h1")
        .into_iter()
        .filter(|e| e.event_type() != "ai.response")
        .collect()
}

#[test]
fn drop_exports_pending_spans_unfinished() {
    let rx = Receiver::start(&[]);
    let cfg = OtlpConfig {
        endpoint: Some(rx.grpc_url()),
        ..OtlpConfig::default()
    };
    let mut sink = OtlpSink::with_env(&cfg, &HashMap::new()).unwrap();
    sink.deliver(&items(&requests_only())).unwrap();
    assert!(
        call_spans(&rx.received()).is_empty(),
        "requests wait for responses"
    );
    drop(sink);
    let spans = call_spans(&rx.received());
    assert_eq!(spans.len(), 7);
    assert!(spans
        .iter()
        .all(|(_, s)| attr(&s["attributes"], "oisp.span.unfinished").is_some()));
}

#[test]
fn drop_skips_the_export_when_the_receiver_was_failing() {
    let dir = tempfile::tempdir().unwrap();
    let outage = dir.path().join("outage");
    let rx = Receiver::start(&["--fail-while", outage.to_str().unwrap()]);
    let cfg = OtlpConfig {
        endpoint: Some(rx.grpc_url()),
        ..OtlpConfig::default()
    };
    let mut sink = OtlpSink::with_env(&cfg, &HashMap::new()).unwrap();
    let events = requests_only();
    sink.deliver(&items(&events)).unwrap();
    // The receiver starts failing: the next delivery fails, the sink notes it.
    std::fs::write(&outage, b"").unwrap();
    assert!(sink.deliver(&items(&events[..1])).is_err());
    // The receiver would accept again, but the sink does not know: the drop does not try (a
    // shutdown must not wait on a collector that was down).
    std::fs::remove_file(&outage).unwrap();
    let t = Instant::now();
    drop(sink);
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );
    assert!(call_spans(&rx.received()).is_empty());
    assert_eq!(log_records(&rx.received()).len(), events.len());
}
