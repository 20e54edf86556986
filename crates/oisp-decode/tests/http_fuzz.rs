//! Deterministic mutation fuzzing of valid HTTP/1.1 and HTTP/2 traffic: no input may panic,
//! and outputs must be a pure function of the records.

mod http_support;

use http_support::*;
use oisp_capture::{ConnRole, Direction, RawRecord};
use oisp_decode::conn::{ConnTracker, HttpOutput, Limits, TrackerConfig};
use oisp_decode::http::PREFACE;
use std::io::Write;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn h1_traffic() -> (Vec<u8>, Vec<u8>) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"data: {\"a\":1}\n\ndata: [DONE]\n\n")
        .unwrap();
    let gz = gz.finish().unwrap();
    let mut c = post("/v1/x", "{\"k\":\"v\"}");
    c.extend_from_slice(b"POST /y HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\nT: 1\r\n\r\n");
    c.extend_from_slice(b"HEAD /z HTTP/1.0\r\n\r\n");
    let mut s = ok("{\"r\":1}");
    s.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
    s.extend_from_slice(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
            gz.len()
        )
        .as_bytes(),
    );
    s.extend_from_slice(&gz);
    s.extend_from_slice(b"\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n");
    (c, s)
}

fn h2_traffic() -> (Vec<u8>, Vec<u8>) {
    let mut ce = loona_hpack::Encoder::new();
    let mut se = loona_hpack::Encoder::new();
    let mut c = PREFACE.to_vec();
    c.extend(frame(4, 0, 0, &[0, 1, 0, 0, 0x20, 0]));
    for id in [1u32, 3] {
        let h = ce.encode([
            (&b":method"[..], &b"POST"[..]),
            (b":path", b"/v1/chat"),
            (b":authority", b"a"),
            (b"content-encoding", b"br"),
        ]);
        c.extend(frame(1, 4, id, &h));
        c.extend(frame(0, 9, id, &[1, b'x', b'y', 0]));
    }
    let mut s = frame(4, 0, 0, &[]);
    for id in [3u32, 1] {
        let h = se.encode([
            (&b":status"[..], &b"200"[..]),
            (b"content-type", b"text/event-stream"),
        ]);
        s.extend(frame(1, 4, id, &h));
        s.extend(frame(0, 0, id, b"data: 1\r\n\r\n"));
        s.extend(frame(0, 1, id, b"data: 2\n\n"));
    }
    s.extend(frame(7, 0, 0, &[0, 0, 0, 3, 0, 0, 0, 2]));
    (c, s)
}

fn mutate(rng: &mut Rng, mut b: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.below(4) {
        if b.is_empty() {
            break;
        }
        let i = rng.below(b.len() as u64) as usize;
        match rng.below(4) {
            0 => b[i] = rng.next() as u8,
            1 => b.insert(i, rng.next() as u8),
            2 => {
                b.remove(i);
            }
            _ => b.truncate(i),
        }
    }
    b
}

fn records(rng: &mut Rng, c: &[u8], s: &[u8], alpn: Option<&str>) -> Vec<RawRecord> {
    let role = [ConnRole::Client, ConnRole::Server, ConnRole::Unknown][rng.below(3) as usize];
    let (req_dir, resp_dir) = match role {
        ConnRole::Server => (Direction::Ingress, Direction::Egress),
        _ => (Direction::Egress, Direction::Ingress),
    };
    let mut recs = vec![open_rec(7, role, alpn, 0)];
    let (mut i, mut j, mut si, mut sj, mut t) = (0usize, 0usize, 0u64, 0u64, 1u64);
    while i < c.len() || j < s.len() {
        t += 1;
        let to_client = j < s.len() && (i >= c.len() || rng.below(3) == 0);
        let (buf, pos, seq, dir) = if to_client {
            (s, &mut j, &mut sj, resp_dir)
        } else {
            (c, &mut i, &mut si, req_dir)
        };
        let n = (1 + rng.below(40) as usize).min(buf.len() - *pos);
        let mut at = *seq;
        if rng.below(25) == 0 {
            at += rng.below(5); // occasional hole
        }
        recs.push(data_rec(7, dir, at, t, &buf[*pos..*pos + n]));
        *pos += n;
        *seq = at + n as u64;
    }
    if rng.below(2) == 0 {
        recs.push(close_rec(7, t + 1));
    }
    // Occasional local reordering.
    for k in 1..recs.len().saturating_sub(1) {
        if rng.below(10) == 0 {
            recs.swap(k, k + 1);
        }
    }
    recs
}

fn run(recs: &[RawRecord]) -> Vec<HttpOutput> {
    let mut t = ConnTracker::new(TrackerConfig {
        limits: Limits {
            max_body: 64,
            max_head: 512,
        },
        max_reorder_chunks: 3,
        ..Default::default()
    });
    let mut out = Vec::new();
    for r in recs {
        t.push_into(r, &mut out);
    }
    out.extend(t.finish());
    out
}

#[test]
fn mutated_traffic_never_panics_and_is_deterministic() {
    let h1 = h1_traffic();
    let h2 = h2_traffic();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for round in 0..1500 {
        let ((c, s), alpn) = if round % 2 == 0 {
            (h1.clone(), None)
        } else {
            (
                h2.clone(),
                if rng.below(2) == 0 { Some("h2") } else { None },
            )
        };
        let c = mutate(&mut rng, c);
        let s = mutate(&mut rng, s);
        let recs = records(&mut rng, &c, &s, alpn);
        let a = run(&recs);
        let b = run(&recs);
        assert_eq!(a, b, "round {round}");
    }
}

#[test]
fn unmutated_traffic_decodes_cleanly() {
    let (c, s) = h1_traffic();
    let mut sim = Sim::default();
    sim.open(1, ConnRole::Client, None);
    sim.send(1, E, &c);
    sim.send(1, I, &s);
    sim.close(1);
    let xs = sim.exchanges();
    assert_eq!(xs.len(), 3);
    let sse = xs[1].response.as_ref().unwrap().sse.clone().unwrap();
    assert_eq!(sse.len(), 2);
    assert_eq!(xs[2].request.method, "HEAD");
    assert!(xs[2].response.as_ref().unwrap().body.bytes.is_empty());

    let (c, s) = h2_traffic();
    let mut sim = Sim::default();
    sim.open(2, ConnRole::Client, Some("h2"));
    sim.send(2, E, &c);
    sim.send(2, I, &s);
    let xs = sim.exchanges();
    assert_eq!(xs.len(), 2);
    assert_eq!(xs[0].stream_id, Some(3));
    // The request body claims br but is not: raw bytes kept, decode error noted.
    assert_eq!(xs[0].request.body.bytes, b"xy");
    assert!(xs[0].request.body.decode_error.is_some());
    assert_eq!(
        xs[0].response.as_ref().unwrap().sse.as_ref().unwrap().len(),
        2
    );
}
