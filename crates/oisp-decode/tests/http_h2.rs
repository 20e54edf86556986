//! HTTP/2 decoding through `ConnTracker`, with header blocks encoded by loona-hpack.

mod http_support;

use http_support::*;
use loona_hpack::Encoder;
use oisp_capture::ConnRole;
use oisp_decode::conn::codes;
use oisp_decode::http::{HttpVersion, PREFACE};
use std::io::Write;

const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST: u8 = 3;
const SETTINGS: u8 = 4;
const PUSH: u8 = 5;
const PING: u8 = 6;
const WINDOW: u8 = 8;
const CONT: u8 = 9;
const END_STREAM: u8 = 1;
const END_HEADERS: u8 = 4;
const PADDED: u8 = 8;
const PRIORITY: u8 = 0x20;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn block(enc: &mut Encoder<'_>, fields: &[(&str, &str)]) -> Vec<u8> {
    enc.encode(fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
}

fn req_fields(path: &str) -> Vec<(&'static str, String)> {
    vec![
        (":method", "POST".into()),
        (":scheme", "https".into()),
        (":authority", "api.example.com".into()),
        (":path", path.into()),
        ("content-type", "application/json".into()),
        ("authorization", "Bearer sk-test".into()),
    ]
}

fn enc_owned(enc: &mut Encoder<'_>, fields: &[(&'static str, String)]) -> Vec<u8> {
    let v: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    block(enc, &v)
}

/// Client and server byte streams for three concurrent, interleaved streams plus noise frames.
fn conversation() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut ce = Encoder::new();
    let mut se = Encoder::new();
    let mut c = vec![
        PREFACE.to_vec(),
        frame(SETTINGS, 0, 0, &[0, 1, 0, 0, 0x10, 0, 0, 4, 0, 1, 0, 0]),
    ];
    let mut s = vec![
        frame(SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]),
        frame(SETTINGS, 1, 0, &[]),
    ];
    // Stream 1: plain HEADERS then DATA in two frames.
    c.push(frame(
        HEADERS,
        END_HEADERS,
        1,
        &enc_owned(&mut ce, &req_fields("/v1/a")),
    ));
    // Stream 3: header block split over HEADERS + CONTINUATION, with priority.
    let b3 = enc_owned(&mut ce, &req_fields("/v1/b"));
    let mut p3 = vec![0, 0, 0, 1, 16];
    p3.extend_from_slice(&b3[..5]);
    c.push(frame(HEADERS, PRIORITY, 3, &p3));
    c.push(frame(WINDOW, 0, 0, &[0, 0, 1, 0]));
    c.push(frame(CONT, END_HEADERS, 3, &b3[5..]));
    // Stream 5: padded HEADERS, padded DATA.
    let b5 = enc_owned(&mut ce, &req_fields("/v1/c"));
    let mut p5 = vec![3];
    p5.extend_from_slice(&b5);
    p5.extend_from_slice(&[0, 0, 0]);
    c.push(frame(HEADERS, END_HEADERS | PADDED, 5, &p5));
    c.push(frame(DATA, 0, 1, b"{\"a\":"));
    c.push(frame(DATA, PADDED | END_STREAM, 5, &[2, b'{', b'}', 0, 0]));
    c.push(frame(PING, 0, 0, &[0; 8]));
    c.push(frame(DATA, END_STREAM, 1, b"1}"));
    c.push(frame(DATA, END_STREAM, 3, b"{\"b\":2}"));
    // Server: a push promise on stream 1 (decoded for HPACK state, then ignored).
    let pp = block(
        &mut se,
        &[
            (":method", "GET"),
            (":path", "/pushed"),
            (":authority", "x"),
            (":scheme", "https"),
        ],
    );
    let mut ppp = vec![0, 0, 0, 2];
    ppp.extend_from_slice(&pp);
    s.push(frame(PUSH, END_HEADERS, 1, &ppp));
    let resp = |status: &str| {
        vec![
            (":status", status.to_string()),
            ("content-type", "application/json".into()),
            ("x-request-id", "r1".into()),
        ]
    };
    s.push(frame(
        HEADERS,
        END_HEADERS,
        5,
        &enc_owned(&mut se, &resp("200")),
    ));
    s.push(frame(
        HEADERS,
        END_HEADERS,
        3,
        &enc_owned(&mut se, &resp("201")),
    ));
    s.push(frame(
        HEADERS,
        END_HEADERS,
        2,
        &enc_owned(&mut se, &resp("200")),
    ));
    s.push(frame(DATA, END_STREAM, 2, b"pushed body"));
    s.push(frame(
        HEADERS,
        END_HEADERS,
        1,
        &enc_owned(&mut se, &resp("202")),
    ));
    s.push(frame(DATA, 0, 3, b"three-"));
    s.push(frame(DATA, 0, 1, b"one-"));
    s.push(frame(DATA, END_STREAM, 5, b"five"));
    s.push(frame(DATA, 0, 3, b"done"));
    s.push(frame(DATA, END_STREAM, 1, b"done"));
    // Trailers end stream 3.
    s.push(frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        3,
        &block(&mut se, &[("grpc-status", "0")]),
    ));
    (c, s)
}

fn check(xs: &[oisp_decode::http::HttpExchange]) {
    assert_eq!(xs.len(), 3);
    let by_id = |id: u32| xs.iter().find(|x| x.stream_id == Some(id)).unwrap();
    for (id, path, req, status, resp) in [
        (1, "/v1/a", "{\"a\":1}", 202, "one-done"),
        (3, "/v1/b", "{\"b\":2}", 201, "three-done"),
        (5, "/v1/c", "{}", 200, "five"),
    ] {
        let x = by_id(id);
        assert_eq!(x.version, HttpVersion::Http2);
        assert_eq!(x.request.method, "POST");
        assert_eq!(x.request.path, path);
        assert_eq!(x.request.authority.as_deref(), Some("api.example.com"));
        assert_eq!(
            x.request.headers.get("authorization"),
            Some("Bearer sk-test")
        );
        assert!(x.request.headers.get(":path").is_none());
        assert_eq!(x.request.body.bytes, req.as_bytes(), "stream {id}");
        let r = x.response.as_ref().unwrap();
        assert_eq!(r.status, status);
        assert_eq!(r.body.bytes, resp.as_bytes(), "stream {id}");
        assert_eq!(r.headers.get("x-request-id"), Some("r1"));
        assert!(!r.body.incomplete);
        assert!(x.warnings.is_empty(), "{:?}", x.warnings);
    }
    assert_eq!(
        by_id(3)
            .response
            .as_ref()
            .unwrap()
            .headers
            .get("grpc-status"),
        Some("0")
    );
    let mut idx: Vec<u32> = xs.iter().map(|x| x.index).collect();
    idx.sort();
    assert_eq!(idx, vec![0, 1, 2]);
}

#[test]
fn three_concurrent_streams() {
    let (c, s) = conversation();
    let mut sim = Sim::default();
    sim.open(1, ConnRole::Client, Some("h2"));
    for f in &c {
        sim.send(1, E, f);
    }
    let mut order = Vec::new();
    for f in &s {
        for x in exchanges(&sim.send(1, I, f)) {
            order.push(x.stream_id.unwrap());
        }
    }
    // Emitted as each stream completes, not at close.
    assert_eq!(order, vec![5, 1, 3]);
    check(&sim.exchanges());
    sim.close(1);
    assert!(sim.codes().is_empty(), "{:?}", sim.out);
}

#[test]
fn byte_by_byte_and_unknown_role() {
    let (c, s) = conversation();
    let c: Vec<u8> = c.concat();
    let s: Vec<u8> = s.concat();
    let mut sim = Sim::default();
    sim.open(1, ConnRole::Unknown, None);
    let (mut i, mut j) = (0, 0);
    while i < c.len() || j < s.len() {
        if i < c.len() {
            sim.send(1, E, &c[i..i + 1]);
            i += 1;
        }
        // The server lags the client so requests precede responses.
        if j < s.len() && i > c.len() / 2 {
            sim.send(1, I, &s[j..j + 1]);
            j += 1;
        }
    }
    check(&sim.exchanges());
    assert!(sim.codes().is_empty(), "{:?}", sim.codes());
}

#[test]
fn rst_stream_emits_with_warning() {
    let mut ce = Encoder::new();
    let mut se = Encoder::new();
    let mut sim = Sim::default();
    sim.open(1, ConnRole::Client, None);
    sim.send(1, E, PREFACE);
    sim.send(
        1,
        E,
        &frame(
            HEADERS,
            END_HEADERS,
            1,
            &enc_owned(&mut ce, &req_fields("/x")),
        ),
    );
    sim.send(1, E, &frame(DATA, 0, 1, b"partial"));
    sim.send(
        1,
        I,
        &frame(
            HEADERS,
            END_HEADERS,
            1,
            &block(&mut se, &[(":status", "200")]),
        ),
    );
    sim.send(1, I, &frame(DATA, 0, 1, b"some"));
    let out = sim.send(1, E, &frame(RST, 0, 1, &8u32.to_be_bytes()));
    let xs = exchanges(&out);
    assert_eq!(xs.len(), 1);
    assert!(xs[0].response.as_ref().unwrap().body.incomplete);
    assert!(xs[0].warnings[0].contains("CANCEL"), "{:?}", xs[0].warnings);
    assert_eq!(codes(&out), vec![codes::H2_STREAM_RESET]);
    // Late frames for the reset stream are ignored.
    sim.send(1, I, &frame(DATA, END_STREAM, 1, b"late"));
    sim.close(1);
    assert_eq!(sim.exchanges().len(), 1);
}

#[test]
fn h2_sse_and_gzip() {
    let mut ce = Encoder::new();
    let mut se = Encoder::new();
    let mut sim = Sim::default();
    sim.open(1, ConnRole::Client, Some("h2"));
    sim.send(1, E, PREFACE);
    let h = enc_owned(&mut ce, &req_fields("/v1/stream"));
    sim.send(1, E, &frame(HEADERS, END_HEADERS | END_STREAM, 1, &h));
    let h = enc_owned(&mut ce, &req_fields("/v1/gz"));
    sim.send(1, E, &frame(HEADERS, END_HEADERS | END_STREAM, 3, &h));
    sim.send(
        1,
        I,
        &frame(
            HEADERS,
            END_HEADERS,
            1,
            &block(
                &mut se,
                &[
                    (":status", "200"),
                    ("content-type", "text/event-stream; charset=utf-8"),
                ],
            ),
        ),
    );
    sim.send(1, I, &frame(DATA, 0, 1, b"data: {\"t\":\"He"));
    let t_first = sim.t + 1;
    sim.send(1, I, &frame(DATA, 0, 1, b"llo\"}\n\ndata: [DONE]\n"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"compressed over h2").unwrap();
    let gz = gz.finish().unwrap();
    sim.send(
        1,
        I,
        &frame(
            HEADERS,
            END_HEADERS,
            3,
            &block(&mut se, &[(":status", "200"), ("content-encoding", "gzip")]),
        ),
    );
    sim.send(1, I, &frame(DATA, END_STREAM, 3, &gz));
    let t_done = sim.t + 1;
    sim.send(1, I, &frame(DATA, END_STREAM, 1, b"\n"));
    let xs = sim.exchanges();
    assert_eq!(xs.len(), 2);
    assert_eq!(xs[0].stream_id, Some(3));
    assert_eq!(
        xs[0].response.as_ref().unwrap().body.bytes,
        b"compressed over h2"
    );
    let sse = xs[1].response.as_ref().unwrap().sse.clone().unwrap();
    assert_eq!(sse.len(), 2);
    assert_eq!(sse[0].data, "{\"t\":\"Hello\"}");
    assert_eq!(sse[0].ts, ts(t_first));
    assert_eq!(sse[1].data, "[DONE]");
    assert_eq!(sse[1].ts, ts(t_done));
    assert!(sim.codes().is_empty());
}

#[test]
fn alpn_h2_without_preface_warns_and_decodes() {
    let mut ce = Encoder::new();
    let mut se = Encoder::new();
    let mut sim = Sim::default();
    sim.open(1, ConnRole::Client, Some("h2"));
    sim.send(
        1,
        E,
        &frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            1,
            &block(
                &mut ce,
                &[(":method", "GET"), (":path", "/"), (":authority", "a")],
            ),
        ),
    );
    sim.send(
        1,
        I,
        &frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            1,
            &block(&mut se, &[(":status", "204")]),
        ),
    );
    assert_eq!(sim.codes(), vec![codes::H2_PREFACE_MISSING]);
    assert_eq!(sim.exchanges().len(), 1);
}

#[test]
fn hpack_garbage_abandons_connection() {
    let mut sim = Sim::default();
    sim.open(1, ConnRole::Client, None);
    sim.send(1, E, PREFACE);
    sim.send(
        1,
        E,
        &frame(
            HEADERS,
            END_HEADERS,
            1,
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
    );
    sim.send(1, E, &frame(DATA, END_STREAM, 1, b"x"));
    sim.close(1);
    let c = sim.codes();
    assert_eq!(c, vec![codes::H2_HPACK_ERROR, codes::DECODE_ABANDONED]);
}

#[test]
fn gap_inside_data_keeps_stream() {
    let mut ce = Encoder::new();
    let mut se = Encoder::new();
    let mut sim = Sim::default();
    sim.open(1, ConnRole::Client, None);
    sim.send(1, E, PREFACE);
    sim.send(
        1,
        E,
        &frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            1,
            &block(&mut ce, &[(":method", "GET"), (":path", "/")]),
        ),
    );
    sim.send(
        1,
        I,
        &frame(
            HEADERS,
            END_HEADERS,
            1,
            &block(&mut se, &[(":status", "200")]),
        ),
    );
    let f = frame(DATA, END_STREAM, 1, b"0123456789");
    sim.send(1, I, &f[..12]);
    *sim.seq.get_mut(&(1, false)).unwrap() += 4;
    sim.send(1, I, &f[16..]);
    sim.close(1);
    let xs = sim.exchanges();
    assert_eq!(xs.len(), 1);
    let b = &xs[0].response.as_ref().unwrap().body;
    assert_eq!(b.bytes, b"012789");
    assert!(b.incomplete);
    assert_eq!(sim.codes(), vec![codes::STREAM_GAP]);
}
