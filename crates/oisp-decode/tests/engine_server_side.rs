//! A server's view of a connection (`ConnOpen.role == Server`, e.g. a local HTTPS mock or model
//! server on the same machine) is not reported: neither its AI calls nor its decoder warnings
//! (`closed_mid_request`, `no_response`, ...), which would otherwise surface as client-side
//! problems attributed to the server's pid. They are counted in `DecodeStats`. The same records
//! seen from the client side warn as before.

use oisp_capture::*;
use oisp_decode::{decode_records_with, DecodeStats, DecoderConfig};
use oisp_event::{Event, EventData};

const PID: u32 = 4242;

fn ts(ms: u64) -> Timestamp {
    Timestamp {
        wall_ns: 1_800_000_000_000_000_000 + ms * 1_000_000,
        mono_ns: ms * 1_000_000,
    }
}

const BODY: &str = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;

fn request_head() -> String {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: api.openai.com\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        BODY.len()
    )
}

/// Records of one connection seen by `PID` as `role` (`open`: whether a `ConnOpen` says so):
/// the request (`whole`: all of it, else its head and half its body) travels in the request
/// direction, then the connection closes with no response.
fn records(role: ConnRole, open: bool, whole: bool) -> Vec<RawRecord> {
    let req_dir = if role == ConnRole::Server {
        Direction::Ingress
    } else {
        Direction::Egress
    };
    let mut req = request_head();
    req.push_str(if whole { BODY } else { &BODY[..BODY.len() / 2] });
    let mut out = Vec::new();
    if open {
        out.push(RawRecord::ConnOpen(ConnOpen {
            conn_id: 7,
            ts: ts(1),
            pid: PID,
            tid: PID,
            role,
            source: DataSource::OpenSsl,
            local: Some("127.0.0.1:8443".parse().unwrap()),
            remote: Some("127.0.0.1:50000".parse().unwrap()),
            sni: None,
            alpn: None,
        }));
    }
    out.push(RawRecord::Data(DataChunk {
        conn_id: 7,
        direction: req_dir,
        seq: 0,
        ts: ts(2),
        pid: PID,
        tid: PID,
        source: DataSource::OpenSsl,
        truncated_len: 0,
        bytes: req.into_bytes(),
    }));
    out.push(RawRecord::ConnClose(ConnClose {
        conn_id: 7,
        ts: ts(3),
        pid: PID,
    }));
    out
}

fn decode(recs: &[RawRecord], include_server_side: bool) -> (Vec<Event>, DecodeStats) {
    let cfg = DecoderConfig {
        include_server_side,
        ..Default::default()
    };
    let (events, stats) = decode_records_with(cfg, recs);
    for ev in &events {
        if let Err(e) = oisp_event::schema::validate_event(ev) {
            panic!("{} invalid: {e:#?}", ev.event_type());
        }
    }
    (events, stats)
}

/// What the client side is told of a connection closed mid-request: the request was cut, and no
/// response came.
fn mid_request() -> Vec<(String, Option<u64>)> {
    ["closed_mid_request", "no_response"]
        .map(|c| (c.to_string(), Some(u64::from(PID))))
        .to_vec()
}

/// (code, pid) of every `sensor.warning`.
fn warnings(events: &[Event]) -> Vec<(String, Option<u64>)> {
    events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::SensorWarning(w) => {
                Some((w.code.clone(), e.process.as_ref().and_then(|p| p.pid)))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_server_closed_mid_request_warns_nothing_but_is_counted() {
    let (events, stats) = decode(&records(ConnRole::Server, true, false), false);
    assert_eq!(warnings(&events), vec![], "{events:#?}");
    assert!(events.is_empty(), "{events:#?}");
    assert_eq!(stats.server_side_warnings, 2, "{stats:?}");
    assert_eq!(stats.warnings, 0);
    assert_eq!(stats.server_side_exchanges, 1);
    // The tracker still saw them: nothing is lost silently.
    assert_eq!(stats.tracker.warnings, 2);
}

#[test]
fn the_same_connection_as_a_client_warns_as_before() {
    let (events, stats) = decode(&records(ConnRole::Client, true, false), false);
    assert_eq!(warnings(&events), mid_request());
    assert_eq!(stats.warnings, 2);
    assert_eq!(stats.server_side_warnings, 0);
    // The cut request itself is still reported.
    assert!(events
        .iter()
        .any(|e| matches!(e.data, EventData::AiRequest(_))));
}

#[test]
fn a_server_that_never_answered_warns_nothing() {
    let (events, stats) = decode(&records(ConnRole::Server, true, true), false);
    assert_eq!(warnings(&events), vec![]);
    assert_eq!(stats.server_side_warnings, 1);
    // A client whose request got no response is told so.
    let (events, _) = decode(&records(ConnRole::Client, true, true), false);
    assert_eq!(
        warnings(&events),
        vec![("no_response".to_string(), Some(u64::from(PID)))]
    );
}

#[test]
fn a_role_inferred_from_the_request_direction_counts_too() {
    // No ConnOpen, or one that does not know the role: requests arriving (ingress) make it a
    // server's view, as for exchanges.
    for open in [false, true] {
        let mut recs = records(ConnRole::Server, open, false);
        if let Some(RawRecord::ConnOpen(o)) = recs.first_mut() {
            o.role = ConnRole::Unknown;
        }
        let (events, stats) = decode(&recs, false);
        assert_eq!(warnings(&events), vec![], "open={open}");
        assert_eq!(stats.server_side_warnings, 2, "open={open}");
    }
}

#[test]
fn server_sides_asked_for_are_reported_with_their_warnings() {
    let (events, stats) = decode(&records(ConnRole::Server, true, false), true);
    assert_eq!(warnings(&events), mid_request());
    assert_eq!(stats.server_side_warnings, 0);
    assert_eq!(stats.ai_calls, 1);
}
