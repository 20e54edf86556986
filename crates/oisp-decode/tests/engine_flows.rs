//! Metadata-only connections (known from their ClientHello, their reads and writes followed
//! without content): one `network.flow` with AI estimates per connection to an AI provider, low
//! confidence, never an `ai.*` event; connections to other servers handed back to the capture at
//! once; connections a hooked stack reads dropped; nothing for a ClientHello with no activity.

use oisp_capture::*;
use oisp_decode::Decoder;
use oisp_event::{Event, EventData};

const MS: u64 = 1_000_000;

fn ts(ms: u64) -> Timestamp {
    Timestamp {
        wall_ns: 1_800_000_000_000_000_000 + ms * MS,
        mono_ns: ms * MS,
    }
}

fn hello(conn_id: u64, sni: &str, local_port: u16) -> RawRecord {
    RawRecord::ConnOpen(ConnOpen {
        conn_id,
        ts: ts(0),
        pid: 7,
        tid: 7,
        role: ConnRole::Client,
        source: DataSource::ClientHello,
        local: Some(format!("10.0.0.2:{local_port}").parse().unwrap()),
        remote: Some("203.0.113.5:443".parse().unwrap()),
        sni: Some(sni.into()),
        alpn: Some("h2,http/1.1".into()),
    })
}

fn io(conn_id: u64, ms: u64, egress: bool, bytes: u64) -> RawRecord {
    RawRecord::FlowActivity(FlowActivity {
        conn_id,
        ts: ts(ms),
        pid: 7,
        direction: if egress {
            Direction::Egress
        } else {
            Direction::Ingress
        },
        bytes,
    })
}

fn close(conn_id: u64, ms: u64) -> RawRecord {
    RawRecord::ConnClose(ConnClose {
        conn_id,
        ts: ts(ms),
        pid: 7,
    })
}

/// A TLS 1.3 handshake and two calls, the second streamed.
fn activity(conn_id: u64) -> Vec<RawRecord> {
    let mut r = vec![
        io(conn_id, 1, true, 517),
        io(conn_id, 2, false, 5),
        io(conn_id, 2, false, 3000),
        io(conn_id, 3, true, 80),
        io(conn_id, 10, true, 4200),
        io(conn_id, 300, false, 1900),
        io(conn_id, 400, true, 2200),
    ];
    for i in 0..12 {
        r.push(io(conn_id, 500 + 15 * i, false, 280));
    }
    r
}

fn run(records: &[RawRecord]) -> (Vec<Event>, Vec<u64>, Decoder) {
    let mut dec = Decoder::default();
    let mut out = Vec::new();
    let mut ignorable = Vec::new();
    for r in records {
        dec.push(r, &mut out);
        dec.drain_ignorable(&mut ignorable);
    }
    dec.finish(&mut out);
    for ev in &out {
        oisp_event::schema::validate_event(ev).unwrap();
    }
    (out, ignorable, dec)
}

fn flows(events: &[Event]) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| matches!(e.data, EventData::NetworkFlow(_)))
        .collect()
}

#[test]
fn a_provider_connection_gives_one_flow_with_estimates() {
    let mut recs = vec![hello(1, "api.anthropic.com", 40000)];
    recs.extend(activity(1));
    recs.push(close(1, 800));
    let (out, ignorable, dec) = run(&recs);
    assert!(ignorable.is_empty());
    assert!(out.iter().all(|e| !e.event_type().starts_with("ai.")));
    let f = flows(&out);
    assert_eq!(f.len(), 1, "{out:#?}");
    let EventData::NetworkFlow(d) = &f[0].data else {
        unreachable!()
    };
    assert_eq!(d.dest.domain.as_deref(), Some("api.anthropic.com"));
    assert_eq!(d.bytes_sent, Some(517 + 80 + 4200 + 2200));
    assert_eq!(d.bytes_received, Some(5 + 3000 + 1900 + 12 * 280));
    assert_eq!(d.duration_ms, Some(800 - 1));
    let c = &f[0].confidence;
    assert_eq!(c.level, oisp_event::ConfidenceLevel::Low);
    assert_eq!(c.completeness, oisp_event::Completeness::MetadataOnly);
    let est = &f[0].attrs.as_ref().unwrap()["ai_estimate"];
    assert_eq!(est["provider"], "anthropic");
    assert_eq!(est["calls"], 2);
    assert_eq!(est["streaming_calls"], 1);
    assert_eq!(est["capture_method"], "metadata");
    assert_eq!(dec.stats().metadata_flows, 1);
    assert_eq!(dec.ai_processes()[0].estimated_calls, 2);
    // the same, decoded twice: byte-identical
    let (again, _, _) = run(&recs);
    assert_eq!(
        serde_json::to_string(&out).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
}

#[test]
fn other_servers_are_handed_back_and_read_connections_dropped() {
    let mut recs = vec![
        hello(1, "example.org", 40000),
        hello(2, "api.openai.com", 40001),
    ];
    recs.extend(activity(1));
    recs.extend(activity(2));
    // a hooked stack reads connection 2 (same process and addresses): its calls are decoded
    recs.push(RawRecord::ConnOpen(ConnOpen {
        conn_id: 3,
        source: DataSource::OpenSsl,
        ts: ts(5),
        ..match hello(2, "api.openai.com", 40001) {
            RawRecord::ConnOpen(o) => o,
            _ => unreachable!(),
        }
    }));
    // one whose reading stack never showed its socket: matched by process and server name
    recs.push(hello(5, "api.groq.com", 40003));
    recs.extend(activity(5));
    recs.push(RawRecord::ConnOpen(ConnOpen {
        conn_id: 6,
        source: DataSource::OpenSsl,
        ts: ts(6),
        local: None,
        remote: None,
        ..match hello(5, "api.groq.com", 40003) {
            RawRecord::ConnOpen(o) => o,
            _ => unreachable!(),
        }
    }));
    recs.push(close(1, 900));
    recs.push(close(2, 900));
    recs.push(close(5, 900));
    // a ClientHello with no activity followed (an older capture): no flow
    recs.push(hello(4, "api.openai.com", 40002));
    let (out, ignorable, dec) = run(&recs);
    assert_eq!(ignorable, vec![1]);
    assert!(flows(&out).is_empty(), "{:#?}", flows(&out));
    assert_eq!(dec.stats().metadata_flows_covered, 2);
}

#[test]
fn a_flow_still_open_at_the_end_is_reported() {
    let mut recs = vec![hello(1, "api.openai.com", 40000)];
    recs.extend(activity(1));
    let (out, _, _) = run(&recs);
    let f = flows(&out);
    assert_eq!(f.len(), 1);
    let EventData::NetworkFlow(d) = &f[0].data else {
        unreachable!()
    };
    // up to the last activity seen
    assert_eq!(d.duration_ms, Some(500 + 15 * 11 - 1));
}
