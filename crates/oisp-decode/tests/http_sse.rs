//! Server-Sent Events parsing (WHATWG rules), standalone and inside HTTP/1.1 responses.

mod http_support;

use http_support::*;
use oisp_capture::ConnRole;
use oisp_decode::http::{SseEvent, SseParser};

fn parse_all(stream: &[u8]) -> Vec<SseEvent> {
    let mut p = SseParser::new();
    p.push(stream, ts(1));
    p.finish()
}

fn summary(evs: &[SseEvent]) -> Vec<(Option<String>, String, Option<String>)> {
    evs.iter()
        .map(|e| (e.event.clone(), e.data.clone(), e.id.clone()))
        .collect()
}

const STREAM: &[u8] = b"\xEF\xBB\xBF: comment\r\nevent: start\r\ndata: line one\r\ndata:line two\r\nid: 7\r\nretry: 3000\r\n\r\n\
data: {\"x\":1}\r\rdata\n\nevent: ignored-no-data\n\nunknown: field\ndata:  two spaces\n\n: trailing\ndata: unterminated";

fn expected() -> Vec<(Option<String>, String, Option<String>)> {
    vec![
        (
            Some("start".into()),
            "line one\nline two".into(),
            Some("7".into()),
        ),
        (None, "{\"x\":1}".into(), Some("7".into())),
        (None, "".into(), Some("7".into())),
        (None, " two spaces".into(), Some("7".into())),
    ]
}

#[test]
fn whatwg_rules() {
    let mut p = SseParser::new();
    p.push(STREAM, ts(1));
    assert_eq!(p.retry(), Some(3000));
    assert_eq!(summary(&p.finish()), expected());
}

#[test]
fn split_at_every_position_gives_same_events() {
    for cut in 0..=STREAM.len() {
        for cut2 in cut..=(cut + 3).min(STREAM.len()) {
            let mut p = SseParser::new();
            p.push(&STREAM[..cut], ts(1));
            p.push(&STREAM[cut..cut2], ts(2));
            p.push(&STREAM[cut2..], ts(3));
            assert_eq!(summary(&p.finish()), expected(), "cut {cut}/{cut2}");
        }
    }
}

#[test]
fn lone_cr_line_endings_and_timestamps() {
    let mut p = SseParser::new();
    p.push(b"data: a\r", ts(1));
    p.push(b"\r", ts(2)); // CR CR: blank line completes the event now
    p.push(b"\ndata: b\n", ts(3)); // this LF completes the CRLF, not a new line
    p.push(b"\n", ts(4));
    let evs = p.finish();
    assert_eq!(evs.len(), 2);
    assert_eq!((evs[0].data.as_str(), evs[0].ts), ("a", ts(2)));
    assert_eq!((evs[1].data.as_str(), evs[1].ts), ("b", ts(4)));
}

#[test]
fn bom_only_stripped_at_start() {
    let evs = parse_all(b"data: x\n\n\xEF\xBB\xBFdata: y\n\n");
    assert_eq!(
        evs.len(),
        1,
        "a BOM later in the stream makes an unknown field"
    );
    let evs = parse_all(b"\xEF\xBB\xBFdata: y\n\n");
    assert_eq!(evs[0].data, "y");
}

#[test]
fn sse_in_chunked_http1_response() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.send(1, E, &post("/v1/chat/completions", "{\"stream\":true}"));
    s.send(
        1,
        I,
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    let events = [
        "data: {\"delta\":\"Hel\"}\r\n\r\n",
        "data: {\"delta\":\"lo\"}\r\n\r\n",
        "data: [DONE]\r\n\r\n",
    ];
    let wire: String = events
        .iter()
        .map(|e| format!("{:x}\r\n{e}\r\n", e.len()))
        .collect::<String>()
        + "0\r\n\r\n";
    // Split mid-event so each event completes in a later chunk.
    let wire = wire.as_bytes();
    let cuts = [0, 20, 45, 70, wire.len()];
    let mut chunk_ts = Vec::new();
    for w in cuts.windows(2) {
        s.send(1, I, &wire[w[0]..w[1]]);
        chunk_ts.push(ts(s.t));
    }
    let xs = s.exchanges();
    assert_eq!(xs.len(), 1);
    let r = xs[0].response.as_ref().unwrap();
    let sse = r.sse.as_ref().unwrap();
    assert_eq!(
        sse.iter().map(|e| e.data.as_str()).collect::<Vec<_>>(),
        vec!["{\"delta\":\"Hel\"}", "{\"delta\":\"lo\"}", "[DONE]"]
    );
    // Each event carries the capture time of the chunk that completed it.
    for e in sse {
        assert!(chunk_ts.contains(&e.ts));
    }
    assert!(sse.windows(2).all(|w| w[0].ts <= w[1].ts));
    assert_eq!(sse[0].ts, chunk_ts[1]);
    assert_eq!(r.body.arrivals.first().map(|a| a.0), Some(0));
    assert!(r.body.bytes.starts_with(b"data: {"));
}
