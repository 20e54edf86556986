//! `network.connect` events carry the destination domain when a TLS session on the same
//! connection names its server (SNI) soon after, and are never lost when none does.

use oisp_capture::*;
use oisp_decode::{Decoder, CONNECT_DOMAIN_WAIT_NS};
use oisp_event::{Event, EventData};

fn ts(ms: u64) -> Timestamp {
    Timestamp {
        wall_ns: 1_800_000_000_000_000_000 + ms * 1_000_000,
        mono_ns: ms * 1_000_000,
    }
}

fn connect(ms: u64, pid: u32, remote: &str, result: i32) -> RawRecord {
    RawRecord::NetConnect(NetConnect {
        ts: ts(ms),
        pid,
        tid: pid,
        fd: Some(5),
        transport: Transport::Tcp,
        local: None,
        remote: remote.parse().unwrap(),
        result: Some(result),
    })
}

fn open(ms: u64, pid: u32, remote: &str, sni: Option<&str>) -> RawRecord {
    RawRecord::ConnOpen(ConnOpen {
        conn_id: 1,
        ts: ts(ms),
        pid,
        tid: pid,
        role: ConnRole::Client,
        source: DataSource::OpenSsl,
        local: None,
        remote: Some(remote.parse().unwrap()),
        sni: sni.map(str::to_string),
        alpn: None,
    })
}

fn connects(events: &[Event]) -> Vec<(Option<String>, Option<bool>)> {
    events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::NetworkConnect(c) => Some((c.dest.domain.clone(), c.success)),
            _ => None,
        })
        .collect()
}

fn run(records: &[RawRecord]) -> Vec<Event> {
    let mut dec = Decoder::default();
    let mut out = Vec::new();
    for r in records {
        dec.push(r, &mut out);
    }
    dec.finish(&mut out);
    for ev in &out {
        oisp_event::schema::validate_event(ev).unwrap();
    }
    out
}

#[test]
fn sni_of_the_session_names_the_destination() {
    let out = run(&[
        connect(0, 7, "203.0.113.5:443", -115),
        open(20, 7, "203.0.113.5:443", Some("api.openai.com")),
    ]);
    assert_eq!(
        connects(&out),
        [(Some("api.openai.com".into()), Some(true))]
    );
}

#[test]
fn connects_without_a_session_are_reported_after_the_wait_or_at_the_end() {
    let later = CONNECT_DOMAIN_WAIT_NS / 1_000_000 + 1;
    let mut dec = Decoder::default();
    let mut out = Vec::new();
    dec.push(&connect(0, 7, "198.51.100.1:80", 0), &mut out);
    assert!(
        connects(&out).is_empty(),
        "held back while a session may name it"
    );
    dec.push(&open(later, 9, "192.0.2.1:443", None), &mut out);
    assert_eq!(
        connects(&out),
        [(None, Some(true))],
        "released once the wait is over"
    );

    let out = run(&[connect(0, 7, "198.51.100.1:80", 0)]);
    assert_eq!(
        connects(&out),
        [(None, Some(true))],
        "released at end of capture"
    );
}

#[test]
fn failed_connects_are_reported_at_once_and_other_processes_do_not_match() {
    let mut dec = Decoder::default();
    let mut out = Vec::new();
    dec.push(&connect(0, 7, "198.51.100.1:443", -111), &mut out);
    assert_eq!(connects(&out), [(None, Some(false))]);
    let out = run(&[
        connect(0, 7, "203.0.113.5:443", 0),
        open(10, 8, "203.0.113.5:443", Some("api.anthropic.com")),
    ]);
    assert_eq!(connects(&out), [(None, Some(true))]);
}
