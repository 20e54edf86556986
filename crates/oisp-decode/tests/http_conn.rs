//! Connection tracking: reassembly, gaps, interleaving, close/finish, robustness.

mod http_support;

use http_support::*;
use oisp_capture::{ConnRole, DataChunk, DataSource, RawRecord};
use oisp_decode::conn::{codes, ConnTracker, HttpOutput, TrackerConfig};

fn script() -> Vec<(oisp_capture::Direction, Vec<u8>)> {
    vec![
        (E, post("/one", "{\"n\":1}")),
        (I, ok("first")),
        (E, post("/two", "{\"n\":2}")),
        (I, ok("second")),
    ]
}

/// Splits the script into small chunks with proper offsets, per direction.
fn chunks(script: &[(oisp_capture::Direction, Vec<u8>)], size: usize) -> Vec<RawRecord> {
    let mut seq = [0u64; 2];
    let mut t = 10;
    let mut recs = Vec::new();
    for (dir, bytes) in script {
        let i = usize::from(*dir == I);
        for piece in bytes.chunks(size) {
            t += 1;
            recs.push(data_rec(1, *dir, seq[i], t, piece));
            seq[i] += piece.len() as u64;
        }
    }
    recs
}

fn run(recs: &[RawRecord]) -> Vec<HttpOutput> {
    let mut t = ConnTracker::default();
    let mut out = t.push(&open_rec(1, ConnRole::Client, None, 1));
    for r in recs {
        out.extend(t.push(r));
    }
    out.extend(t.push(&close_rec(1, 1000)));
    out.extend(t.finish());
    out
}

fn bodies(out: &[HttpOutput]) -> Vec<Vec<u8>> {
    exchanges(out)
        .iter()
        .map(|x| x.response.as_ref().unwrap().body.bytes.clone())
        .collect()
}

#[test]
fn out_of_order_and_duplicate_chunks() {
    let base = chunks(&script(), 7);
    let expected = run(&base);
    assert_eq!(
        bodies(&expected),
        vec![b"first".to_vec(), b"second".to_vec()]
    );
    // Swap neighbours within each direction run and duplicate some chunks.
    let mut shuffled = base.clone();
    for i in (0..shuffled.len() - 1).step_by(3) {
        shuffled.swap(i, i + 1);
    }
    let mut with_dups = Vec::new();
    for (i, r) in shuffled.iter().enumerate() {
        with_dups.push(r.clone());
        if i % 4 == 0 {
            with_dups.push(r.clone());
        }
    }
    let out = run(&with_dups);
    assert_eq!(bodies(&out), bodies(&expected));
    assert!(codes(&out).is_empty(), "{:?}", codes(&out));
}

#[test]
fn overlapping_chunk_is_trimmed() {
    let req = post("/o", "abc");
    let mut t = ConnTracker::default();
    t.push(&open_rec(1, ConnRole::Client, None, 1));
    t.push(&data_rec(1, E, 0, 2, &req[..20]));
    // Retransmission-like overlap: starts inside what was already delivered.
    t.push(&data_rec(1, E, 10, 3, &req[10..]));
    let out = t.push(&data_rec(1, I, 0, 4, &ok("z")));
    let xs = exchanges(&out);
    assert_eq!(xs[0].request.body.bytes, b"abc");
    assert!(codes(&out).is_empty());
}

#[test]
fn gap_inside_body_resynchronises() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.send(1, E, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
    s.send(1, I, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01");
    // Skip 5 bytes of the body (offsets advance without data).
    let key = (1, false);
    *s.seq.get_mut(&key).unwrap() += 5;
    s.send(1, I, b"789");
    s.send(1, E, b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    s.send(1, I, &ok("next"));
    // The hole is only declared once the reorder buffer gives up or the connection closes.
    s.close(1);
    let xs = s.exchanges();
    assert_eq!(xs.len(), 2, "{:?}", s.out);
    let b = &xs[0].response.as_ref().unwrap().body;
    assert!(b.incomplete);
    assert_eq!(b.bytes, b"01789");
    assert_eq!(xs[1].response.as_ref().unwrap().body.bytes, b"next");
    assert!(!xs[1].response.as_ref().unwrap().body.incomplete);
    assert_eq!(s.codes(), vec![codes::STREAM_GAP]);
}

#[test]
fn gap_declared_when_reorder_buffer_overflows() {
    let cfg = TrackerConfig {
        max_reorder_chunks: 2,
        ..Default::default()
    };
    let mut s = Sim::new(cfg);
    s.open(1, ConnRole::Client, None);
    s.send(1, E, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    s.send(1, I, b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n");
    *s.seq.get_mut(&(1, false)).unwrap() += 1;
    s.send(1, I, b"b");
    s.send(1, I, b"c");
    assert!(s.codes().is_empty());
    let out = s.send(1, I, b"def"); // third held chunk: hole declared, exchange completes
    assert_eq!(codes(&out), vec![codes::STREAM_GAP]);
    assert_eq!(exchanges(&out).len(), 1);
}

#[test]
fn gap_in_head_abandons_with_warnings() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.send(1, E, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
    s.send(1, I, b"HTTP/1.1 200 O");
    *s.seq.get_mut(&(1, false)).unwrap() += 10;
    s.send(1, I, b"garbage after the hole\r\n\r\n");
    s.close(1);
    let xs = s.exchanges();
    assert_eq!(xs.len(), 1);
    assert!(xs[0].response.is_none());
    let c = s.codes();
    assert!(c.contains(&codes::STREAM_GAP));
    assert!(c.contains(&codes::DECODE_ABANDONED));
}

#[test]
fn truncated_capture_is_a_gap() {
    let mut t = ConnTracker::default();
    t.push(&open_rec(1, ConnRole::Client, None, 1));
    t.push(&data_rec(1, E, 0, 2, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nab";
    let mut rec = DataChunk {
        conn_id: 1,
        direction: I,
        seq: 0,
        ts: ts(3),
        pid: 1,
        tid: 1,
        source: DataSource::OpenSsl,
        truncated_len: 4,
        bytes: head.to_vec(),
    };
    let out = t.push(&RawRecord::Data(rec.clone()));
    assert_eq!(
        codes(&out),
        vec![codes::STREAM_GAP],
        "gap reported immediately"
    );
    rec.seq = head.len() as u64 + 4;
    rec.truncated_len = 0;
    rec.bytes = b"gh".to_vec();
    let out = t.push(&RawRecord::Data(rec));
    let xs = exchanges(&out);
    assert_eq!(xs[0].response.as_ref().unwrap().body.bytes, b"abgh");
    assert!(xs[0].response.as_ref().unwrap().body.incomplete);
}

#[test]
fn two_interleaved_connections() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.open(2, ConnRole::Client, None);
    let r1 = post("/one", "1111");
    let r2 = post("/two", "22");
    for i in 0..r1.len().max(r2.len()) {
        if let Some(b) = r1.get(i) {
            s.send(1, E, &[*b]);
        }
        if let Some(b) = r2.get(i) {
            s.send(2, E, &[*b]);
        }
    }
    s.send(2, I, &ok("B"));
    s.send(1, I, &ok("A"));
    let xs = s.exchanges();
    assert_eq!(xs.len(), 2);
    assert_eq!(
        (xs[0].conn.conn_id, xs[0].request.path.as_str()),
        (2, "/two")
    );
    assert_eq!(
        (xs[1].conn.conn_id, xs[1].request.path.as_str()),
        (1, "/one")
    );
    assert_eq!(xs[1].response.as_ref().unwrap().body.bytes, b"A");
}

#[test]
fn truncated_stream_at_close() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.send(1, E, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    s.send(
        1,
        I,
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial",
    );
    s.send(1, E, b"GET /never HTTP/1.1\r\nHost: h\r\n\r\n");
    s.close(1);
    let xs = s.exchanges();
    assert_eq!(xs.len(), 2);
    let b = &xs[0].response.as_ref().unwrap().body;
    assert!(b.incomplete);
    assert_eq!(b.bytes, b"partial");
    assert!(xs[0].warnings[0].starts_with("closed_mid_response"));
    assert!(xs[1].response.is_none());
    assert_eq!(
        s.codes(),
        vec![codes::CLOSED_MID_RESPONSE, codes::NO_RESPONSE]
    );
}

#[test]
fn garbage_is_not_http_once() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.send(1, E, b"\x16\x03\x01\x02\x00garbage");
    s.send(1, E, b"more garbage");
    s.send(1, I, b"HTTP/1.1 200 OK\r\n\r\n");
    s.close(1);
    assert_eq!(s.codes(), vec![codes::NOT_HTTP]);
    assert!(s.exchanges().is_empty());
    assert_eq!(s.tracker.stats().ignored_bytes, 12 + 12 + 19);
}

#[test]
fn data_after_close_and_finish_flushes() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.send(1, E, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    s.close(1);
    s.send(1, I, &ok("late"));
    s.open(2, ConnRole::Client, None);
    s.send(2, E, b"GET /pending HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(s.tracker.in_progress().len(), 1);
    assert_eq!(s.tracker.in_progress()[0].pending_exchanges, 1);
    s.finish();
    assert_eq!(
        s.codes(),
        vec![
            codes::NO_RESPONSE,
            codes::DATA_AFTER_CLOSE,
            codes::CAPTURE_ENDED
        ]
    );
    assert_eq!(s.exchanges().len(), 2);
    assert!(s.tracker.in_progress().is_empty());
}

#[test]
fn connection_limit_evicts_least_recent() {
    let cfg = TrackerConfig {
        max_connections: 2,
        ..Default::default()
    };
    let mut s = Sim::new(cfg);
    for c in 1..=3 {
        s.send(c, E, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    }
    assert_eq!(s.tracker.in_progress().len(), 2);
    assert_eq!(s.codes()[0], codes::CONN_EVICTED);
    assert_eq!(s.exchanges()[0].conn.conn_id, 1);
}

/// Random records over a few connections: never panics, always deterministic.
#[test]
fn random_soup_never_panics() {
    let seeds: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"\x00\x00\x05\x01\x04\x00\x00\x00\x01\x82\x86\x84\x41\x8a",
        b"HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n\r\n",
        b"data: x\r\n\r\n",
        b"5\r\nhello\r\n0\r\n\r\n",
    ];
    for round in 0..300u64 {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (round + 1));
        let run_once = |rng: &mut Rng| {
            let mut t = ConnTracker::new(TrackerConfig {
                max_reorder_chunks: 4,
                max_connections: 3,
                ..Default::default()
            });
            let mut seq = [[0u64; 2]; 4];
            let mut out = Vec::new();
            for step in 0..60u64 {
                let conn = rng.below(4);
                let rec = match rng.below(10) {
                    0 => {
                        let role = [ConnRole::Client, ConnRole::Server, ConnRole::Unknown]
                            [rng.below(3) as usize];
                        let alpn = [None, Some("h2"), Some("http/1.1")][rng.below(3) as usize];
                        open_rec(conn, role, alpn, step)
                    }
                    1 => close_rec(conn, step),
                    _ => {
                        let dir = if rng.below(2) == 0 { E } else { I };
                        let mut bytes: Vec<u8> = if rng.below(3) == 0 {
                            seeds[rng.below(seeds.len() as u64) as usize].to_vec()
                        } else {
                            (0..rng.below(40)).map(|_| rng.next() as u8).collect()
                        };
                        if rng.below(4) == 0 && !bytes.is_empty() {
                            let i = rng.below(bytes.len() as u64) as usize;
                            bytes[i] = rng.next() as u8;
                        }
                        let d = usize::from(dir == I);
                        let c = conn as usize;
                        let mut s = seq[c][d];
                        match rng.below(8) {
                            0 => s = s.saturating_sub(rng.below(10)),
                            1 => s = s.saturating_add(rng.below(20)),
                            2 => s = u64::MAX - rng.below(3),
                            _ => {}
                        }
                        seq[c][d] = s.saturating_add(bytes.len() as u64);
                        RawRecord::Data(DataChunk {
                            conn_id: conn,
                            direction: dir,
                            seq: s,
                            ts: ts(step),
                            pid: 1,
                            tid: 1,
                            source: DataSource::Unknown,
                            truncated_len: if rng.below(10) == 0 {
                                rng.below(100) as u32
                            } else {
                                0
                            },
                            bytes,
                        })
                    }
                };
                out.extend(t.push(&rec));
            }
            out.extend(t.finish());
            out
        };
        let mut rng2 = Rng(rng.0);
        let a = run_once(&mut rng);
        let b = run_once(&mut rng2);
        assert_eq!(a, b, "deterministic for round {round}");
    }
}
