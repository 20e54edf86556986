//! `http_stream`: a script of records on two connections → `ConnTracker` → provider decoders.
//!
//! Input: flags u8, seed u16, client_len u32, client bytes, server bytes (the rest).
//! Connection 1 carries the bytes as they are (HTTP/1.1 for text traffic); connection 2 carries
//! the same bytes with the HTTP/2 preface put in front of the client side when
//! [`HS_H2_PREFACE`] is set (and it is not already there) and ALPN "h2", so text traffic also
//! hits the HTTP/2 decoder.

use super::input::{ts, Cursor, Rng};
use oisp_capture::{ConnClose, ConnOpen, ConnRole, DataChunk, DataSource, Direction, RawRecord};
use oisp_decode::conn::{ConnTracker, HttpOutput, Limits, TrackerConfig};
use oisp_decode::http::{Body, PREFACE};
use oisp_decode::providers::decode_exchange;
use oisp_decode::providers::ws::{decode_ws_turn, WsCalls};
use oisp_decode::ws::WsOutput;

pub const HS_OPEN: u8 = 1 << 0;
/// ConnClose at the end (otherwise only `finish`).
pub const HS_CLOSE: u8 = 1 << 1;
/// Tiny limits (bodies, heads, reorder and detection buffers) to exercise every cap.
pub const HS_SMALL_LIMITS: u8 = 1 << 2;
/// Perturb sequence numbers: gaps, overlaps, duplicates, reordering.
pub const HS_PERTURB: u8 = 1 << 3;
/// The observed process is the server (egress = response bytes).
pub const HS_SERVER_ROLE: u8 = 1 << 4;
/// Mark some chunks truncated by the capture source.
pub const HS_TRUNCATE: u8 = 1 << 5;
/// Interleave client and server chunks at random instead of in proportion.
pub const HS_RANDOM_ORDER: u8 = 1 << 6;
/// Prefix the HTTP/2 preface on connection 2's client side.
pub const HS_H2_PREFACE: u8 = 1 << 7;

/// Builds an `http_stream` input (used to write seeds from fixtures).
pub fn encode_http_stream(flags: u8, seed: u16, client: &[u8], server: &[u8]) -> Vec<u8> {
    let mut v = vec![flags];
    v.extend_from_slice(&seed.to_le_bytes());
    v.extend_from_slice(&(client.len() as u32).to_le_bytes());
    v.extend_from_slice(client);
    v.extend_from_slice(server);
    v
}

/// One side of one connection, cut into chunks.
struct Side {
    conn_id: u64,
    dir: Direction,
    bytes: Vec<u8>,
    pos: usize,
    seq_shift: u64,
}

fn limits_of(flags: u8, seed: u16) -> TrackerConfig {
    if flags & HS_SMALL_LIMITS != 0 {
        TrackerConfig {
            limits: Limits {
                max_body: 4096,
                max_head: 512,
            },
            max_reorder_bytes: 2048,
            max_reorder_chunks: 4,
            max_detect_bytes: 256,
            max_connections: 1 + usize::from(seed >> 15),
        }
    } else {
        TrackerConfig {
            // Production values except a smaller body cap to keep memory per input modest.
            limits: Limits {
                max_body: 1 << 20,
                max_head: 64 << 10,
            },
            ..TrackerConfig::default()
        }
    }
}

/// Runs one input; panics when an exchange breaks a documented invariant (see [`check_outputs`]).
pub fn run(data: &[u8]) {
    let mut c = Cursor(data);
    let flags = c.u8();
    let seed = c.u16();
    let clen = c.u32() as usize;
    let client = c.take(clen);
    let server = c.rest();

    let cfg = limits_of(flags, seed);
    let max_body = cfg.limits.max_body;
    let mut tracker = ConnTracker::new(cfg);
    let mut rng = Rng::new(u32::from(seed) << 8 | u32::from(flags));
    let max_chunk = [1usize, 3, 16, 100, 700, 4096, 16384, 1 << 20][usize::from(seed & 7)];

    let server_role = flags & HS_SERVER_ROLE != 0;
    let (client_dir, server_dir) = if server_role {
        (Direction::Ingress, Direction::Egress)
    } else {
        (Direction::Egress, Direction::Ingress)
    };
    let mut c2 = Vec::with_capacity(client.len() + PREFACE.len());
    if flags & HS_H2_PREFACE != 0 && !client.starts_with(PREFACE) {
        c2.extend_from_slice(PREFACE);
    }
    c2.extend_from_slice(client);
    let mut sides = [
        Side {
            conn_id: 1,
            dir: client_dir,
            bytes: client.to_vec(),
            pos: 0,
            seq_shift: 0,
        },
        Side {
            conn_id: 1,
            dir: server_dir,
            bytes: server.to_vec(),
            pos: 0,
            seq_shift: 0,
        },
        Side {
            conn_id: 2,
            dir: client_dir,
            bytes: c2,
            pos: 0,
            seq_shift: 0,
        },
        Side {
            conn_id: 2,
            dir: server_dir,
            bytes: server.to_vec(),
            pos: 0,
            seq_shift: 0,
        },
    ];

    let mut out = Vec::new();
    let mut n = 0u64;
    if flags & HS_OPEN != 0 {
        for (id, alpn) in [(1u64, "http/1.1"), (2, "h2")] {
            n += 1;
            tracker.push_into(
                &RawRecord::ConnOpen(ConnOpen {
                    conn_id: id,
                    ts: ts(n),
                    pid: 100,
                    tid: 100,
                    role: if server_role {
                        ConnRole::Server
                    } else {
                        ConnRole::Client
                    },
                    source: DataSource::OpenSsl,
                    local: None,
                    remote: Some("93.184.216.34:443".parse().unwrap()),
                    sni: Some("api.openai.com".into()),
                    alpn: Some(alpn.into()),
                }),
                &mut out,
            );
        }
    }

    // A delayed chunk (for reordering): (side index, seq, bytes).
    let mut held: Option<(usize, u64, Vec<u8>)> = None;
    loop {
        let live: Vec<usize> = (0..4)
            .filter(|&i| sides[i].pos < sides[i].bytes.len())
            .collect();
        if live.is_empty() {
            break;
        }
        let i = if flags & HS_RANDOM_ORDER != 0 {
            live[rng.below(live.len() as u32) as usize]
        } else {
            // Client before server in proportion: pick the side least far along (by fraction),
            // the client side winning ties, the connection chosen at random.
            let conn = live[rng.below(live.len() as u32) as usize] / 2;
            let (a, b) = (conn * 2, conn * 2 + 1);
            let frac = |s: &Side| {
                if s.pos >= s.bytes.len() {
                    u64::MAX
                } else {
                    (s.pos as u64 * 1024) / s.bytes.len() as u64
                }
            };
            if frac(&sides[a]) <= frac(&sides[b]) {
                a
            } else {
                b
            }
        };
        let s = &mut sides[i];
        let len = (1 + rng.below(max_chunk as u32) as usize).min(s.bytes.len() - s.pos);
        let chunk = s.bytes[s.pos..s.pos + len].to_vec();
        let mut seq = (s.pos as u64).wrapping_add(s.seq_shift);
        s.pos += len;
        let mut truncated_len = 0;
        if flags & HS_PERTURB != 0 {
            match rng.below(16) {
                // A gap: later bytes move up (they were "lost").
                0 => {
                    let gap = 1 + u64::from(rng.below(64));
                    s.seq_shift = s.seq_shift.wrapping_add(gap);
                    seq = seq.wrapping_add(gap);
                }
                // Overlap: this chunk restarts a little earlier.
                1 => seq = seq.saturating_sub(u64::from(rng.below(8))),
                // A huge seq jump.
                2 if rng.below(8) == 0 => {
                    s.seq_shift = s.seq_shift.wrapping_add(u64::MAX / 2);
                }
                _ => {}
            }
        }
        if flags & HS_TRUNCATE != 0 && rng.below(8) == 0 {
            truncated_len = rng.below(100);
            s.seq_shift = s.seq_shift.wrapping_add(u64::from(truncated_len));
        }
        let rec = |seq: u64, bytes: Vec<u8>, n: u64| {
            RawRecord::Data(DataChunk {
                conn_id: sides[i].conn_id,
                direction: sides[i].dir,
                seq,
                ts: ts(n),
                pid: 100,
                tid: 101,
                source: DataSource::OpenSsl,
                truncated_len,
                bytes,
            })
        };
        n += 1;
        if flags & HS_PERTURB != 0 && held.is_none() && rng.below(8) == 0 {
            held = Some((i, seq, chunk));
            continue;
        }
        let r = rec(seq, chunk, n);
        tracker.push_into(&r, &mut out);
        if flags & HS_PERTURB != 0 && rng.below(16) == 0 {
            // Duplicate delivery.
            tracker.push_into(&r, &mut out);
        }
        if let Some((hi, hseq, hbytes)) = held.take_if(|(hi, _, _)| *hi == i) {
            let r = RawRecord::Data(DataChunk {
                conn_id: sides[hi].conn_id,
                direction: sides[hi].dir,
                seq: hseq,
                ts: ts(n),
                pid: 100,
                tid: 101,
                source: DataSource::OpenSsl,
                truncated_len: 0,
                bytes: hbytes,
            });
            tracker.push_into(&r, &mut out);
        }
        check_outputs(&out, max_body);
        out.clear();
    }
    if let Some((hi, hseq, hbytes)) = held.take() {
        n += 1;
        let r = RawRecord::Data(DataChunk {
            conn_id: sides[hi].conn_id,
            direction: sides[hi].dir,
            seq: hseq,
            ts: ts(n),
            pid: 100,
            tid: 101,
            source: DataSource::OpenSsl,
            truncated_len: 0,
            bytes: hbytes,
        });
        tracker.push_into(&r, &mut out);
    }
    if flags & HS_CLOSE != 0 {
        for id in [1u64, 2] {
            n += 1;
            tracker.push_into(
                &RawRecord::ConnClose(ConnClose {
                    conn_id: id,
                    ts: ts(n),
                    pid: 100,
                }),
                &mut out,
            );
        }
    }
    out.extend(tracker.finish());
    check_outputs(&out, max_body);
    let _ = tracker.stats();
    let _ = tracker.in_progress();
}

/// Documented invariants of every exchange, then the provider decoders on it; WebSocket
/// messages (payload within `max_body`) go through the WebSocket call grouping and each turn
/// through the provider decoders.
fn check_outputs(outs: &[HttpOutput], max_body: usize) {
    let mut ws = WsCalls::default();
    let mut turns = Vec::new();
    for o in outs {
        let ex = match o {
            HttpOutput::Exchange(ex) => ex,
            HttpOutput::WebSocket(w) => {
                if let WsOutput::Message(m) = w {
                    assert!(
                        m.payload.len() <= max_body,
                        "WebSocket message over the limit"
                    );
                }
                ws.push(w.clone(), &mut turns);
                continue;
            }
            HttpOutput::Warning { .. } => continue,
        };
        check_body(&ex.request.body, max_body);
        if let Some(r) = &ex.response {
            check_body(&r.body, max_body);
        }
        let _ = decode_exchange(ex);
    }
    for t in &turns {
        let _ = decode_ws_turn(t);
    }
    let _ = ws.unmatched();
}

fn check_body(b: &Body, max_body: usize) {
    assert!(
        b.bytes.len() <= max_body,
        "body of {} bytes exceeds the {max_body}-byte limit",
        b.bytes.len()
    );
    if let Some(first) = b.arrivals.first() {
        assert_eq!(first.0, 0, "first arrival offset is not 0");
    }
    assert!(
        b.arrivals.windows(2).all(|w| w[0].0 <= w[1].0),
        "arrivals not sorted: {:?}",
        b.arrivals
    );
}
