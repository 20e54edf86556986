//! DNS answers a process read become `network.dns` events, and name the addresses they gave: a
//! connect to such an address with no TLS server name carries the DNS name.

use oisp_capture::*;
use oisp_decode::Decoder;
use oisp_event::{Event, EventData};

fn ts(ms: u64) -> Timestamp {
    Timestamp {
        wall_ns: 1_800_000_000_000_000_000 + ms * 1_000_000,
        mono_ns: ms * 1_000_000,
    }
}

/// A response to an A query for `name` answering `addr`.
fn answer(name: &str, addr: [u8; 4]) -> Vec<u8> {
    let mut m = vec![0xab, 0xcd, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    for l in name.split('.') {
        m.push(l.len() as u8);
        m.extend(l.as_bytes());
    }
    m.extend([0, 0, 1, 0, 1]);
    m.extend([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
    m.extend(addr);
    m
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
fn an_answer_is_an_event_and_names_the_address_connected_to() {
    let out = run(&[
        RawRecord::DnsMessage(DnsMessage {
            ts: ts(1),
            pid: 9,
            tid: 9,
            server: Some("127.0.0.53:53".parse().unwrap()),
            bytes: answer("api.anthropic.com", [160, 79, 104, 10]),
        }),
        // a query read back, and garbage: nothing
        RawRecord::DnsMessage(DnsMessage {
            ts: ts(2),
            pid: 9,
            tid: 9,
            server: None,
            bytes: vec![0xab, 0xcd, 0x01, 0x00, 0, 1],
        }),
        RawRecord::NetConnect(NetConnect {
            ts: ts(3),
            pid: 9,
            tid: 9,
            fd: Some(4),
            transport: Transport::Tcp,
            local: None,
            remote: "160.79.104.10:443".parse().unwrap(),
            result: Some(-115),
        }),
    ]);
    let dns: Vec<_> = out
        .iter()
        .filter_map(|e| match &e.data {
            EventData::NetworkDns(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(dns.len(), 1, "{out:#?}");
    assert_eq!(dns[0].query_name, "api.anthropic.com");
    let a = &dns[0].answers.as_ref().unwrap()[0];
    assert_eq!(
        (a.kind.as_deref(), a.value.as_deref()),
        (Some("A"), Some("160.79.104.10"))
    );
    assert_eq!(dns[0].resolver.as_deref(), Some("127.0.0.53"));
    let connect = out
        .iter()
        .find(|e| matches!(e.data, EventData::NetworkConnect(_)))
        .unwrap();
    let EventData::NetworkConnect(c) = &connect.data else {
        unreachable!()
    };
    assert_eq!(c.dest.domain.as_deref(), Some("api.anthropic.com"));
    let attrs = connect.attrs.as_ref().unwrap();
    assert_eq!(attrs["domain_from"], "dns");
    assert_eq!(attrs["provider_name"], "anthropic");
}
