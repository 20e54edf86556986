//! Fuzz harness shared by the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, where this file is
//! the `oisp_fuzz` library) and the stable corpus replay test
//! (`crates/oisp-decode/tests/fuzz_corpus.rs`, which includes it with `#[path]`), so live
//! fuzzing and CI run exactly the same code.
//!
//! Every entry point takes arbitrary bytes and must never panic, loop forever or allocate
//! without bound. Inputs are decoded with a tiny hand-written byte cursor (not `arbitrary`) so
//! the stable test needs no extra dependency, and so seeds can be written by [`encode_http_stream`]
//! and [`encode_providers`] from real fixture traffic.

#![allow(dead_code)]

use oisp_capture::{
    read_all, ConnClose, ConnOpen, ConnRole, DataChunk, DataSource, Direction, RawRecord,
    RawWriter, Timestamp,
};
use oisp_decode::conn::{ConnTracker, HttpOutput, Limits, TrackerConfig};
use oisp_decode::http::{
    Body, ConnInfo, Headers, HttpExchange, HttpRequest, HttpResponse, HttpVersion, SseParser,
    PREFACE,
};
use oisp_decode::providers::decode_exchange;
use oisp_decode::{Decoder, DecoderConfig};

/// Names of the targets, in the order the replay test reports them.
pub const TARGETS: [&str; 4] = ["rawfile", "http_stream", "providers", "decoder"];

/// Runs target `name` on `data`; `false` if the name is unknown.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "rawfile" => rawfile(data),
        "http_stream" => http_stream(data),
        "providers" => providers(data),
        "decoder" => decoder(data),
        _ => return false,
    }
    true
}

// ---------------------------------------------------------------------------------------------
// rawfile: bytes → read_all; every record read must survive RawWriter → read_all unchanged.

pub fn rawfile(data: &[u8]) {
    let (records, _err) = read_all(data);
    let mut w = RawWriter::new(Vec::new(), "{}").expect("writing to a Vec cannot fail");
    for r in &records {
        w.write(r).expect("writing to a Vec cannot fail");
    }
    assert_eq!(w.records_written(), records.len() as u64);
    let bytes = w.into_inner().expect("writing to a Vec cannot fail");
    let (back, err) = read_all(&bytes);
    assert!(err.is_none(), "re-encoded capture fails to read: {err:?}");
    assert_eq!(back, records, "records changed across write/read");
}

// ---------------------------------------------------------------------------------------------
// Small deterministic helpers.

/// xorshift32; never zero.
struct Rng(u32);

impl Rng {
    fn new(seed: u32) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9) | 1)
    }
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u32) -> u32 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// Reads fields off the front of a fuzz input; missing bytes read as zero.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
    fn rest(&mut self) -> &'a [u8] {
        self.take(usize::MAX)
    }
}

fn ts(n: u64) -> Timestamp {
    Timestamp {
        wall_ns: 1_700_000_000_000_000_000 + n * 1_000_000,
        mono_ns: 5_000_000_000 + n * 1_000_000,
    }
}

// ---------------------------------------------------------------------------------------------
// http_stream: a script of records on two connections → ConnTracker → provider decoders.
//
// Input: flags u8, seed u16, client_len u32, client bytes, server bytes (the rest).
// Connection 1 carries the bytes as they are (HTTP/1.1 for text traffic); connection 2 carries
// the same bytes with the HTTP/2 preface put in front of the client side when flag 0 is set
// (and it is not already there) and ALPN "h2", so text traffic also hits the HTTP/2 decoder.

/// Emit ConnOpen records before the data.
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

pub fn http_stream(data: &[u8]) {
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

/// Documented invariants of every exchange, then the provider decoders on it.
fn check_outputs(outs: &[HttpOutput], max_body: usize) {
    for o in outs {
        let HttpOutput::Exchange(ex) = o else {
            continue;
        };
        check_body(&ex.request.body, max_body);
        if let Some(r) = &ex.response {
            check_body(&r.body, max_body);
        }
        let _ = decode_exchange(ex);
    }
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

// ---------------------------------------------------------------------------------------------
// providers: (shape selector, flags, status, request body, response body) → HttpExchange →
// decode_exchange.
//
// Input: selector u8, flags u8, status selector u8, request_len u16, request body, response
// body (the rest).

/// Response is `text/event-stream`, parsed into SSE events.
pub const PV_SSE: u8 = 1 << 0;
/// Response is NDJSON (`application/x-ndjson`) rather than JSON (ignored with `PV_SSE`).
pub const PV_NDJSON: u8 = 1 << 1;
/// No response captured.
pub const PV_NO_RESPONSE: u8 = 1 << 2;
/// Request body incomplete.
pub const PV_REQ_INCOMPLETE: u8 = 1 << 3;
/// Response body incomplete.
pub const PV_RESP_INCOMPLETE: u8 = 1 << 4;
/// Bodies carry a content-decoding error.
pub const PV_DECODE_ERROR: u8 = 1 << 5;
/// HTTP/2 stream instead of HTTP/1.1.
pub const PV_H2: u8 = 1 << 6;
/// SDK, auth, request-id and rate-limit headers.
pub const PV_EXTRA_HEADERS: u8 = 1 << 7;

/// (authority, path) per API shape; the selector picks one modulo the length.
pub const SHAPES: &[(&str, &str)] = &[
    ("api.openai.com", "/v1/chat/completions"),
    ("api.openai.com", "/v1/responses"),
    ("api.openai.com", "/v1/embeddings"),
    ("api.openai.com", "/v1/completions"),
    ("api.anthropic.com", "/v1/messages"),
    ("api.anthropic.com", "/v1/messages/count_tokens"),
    (
        "generativelanguage.googleapis.com",
        "/v1beta/models/gemini-2.0-flash:generateContent",
    ),
    (
        "generativelanguage.googleapis.com",
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
    ),
    (
        "generativelanguage.googleapis.com",
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
    ),
    ("localhost:11434", "/api/chat"),
    ("localhost:11434", "/api/generate"),
    ("localhost:11434", "/api/embed"),
    (
        "myres.openai.azure.com",
        "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
    ),
    (
        "bedrock-runtime.us-east-1.amazonaws.com",
        "/model/anthropic.claude-3-5-sonnet-20240620-v1:0/invoke",
    ),
    ("llm.internal.example:8080", "/v1/chat/completions"),
    ("api.groq.com", "/openai/v1/chat/completions"),
];

const STATUSES: [u16; 16] = [
    200, 200, 200, 200, 201, 204, 400, 401, 404, 429, 500, 503, 529, 100, 299, 999,
];

/// Builds a `providers` input (used to write seeds from fixtures).
pub fn encode_providers(sel: u8, flags: u8, status_sel: u8, req: &[u8], resp: &[u8]) -> Vec<u8> {
    let mut v = vec![sel, flags, status_sel];
    let req = &req[..req.len().min(usize::from(u16::MAX))];
    v.extend_from_slice(&(req.len() as u16).to_le_bytes());
    v.extend_from_slice(req);
    v.extend_from_slice(resp);
    v
}

/// Index into [`STATUSES`] of `status`, if listed.
pub fn status_selector(status: u16) -> Option<u8> {
    STATUSES.iter().position(|&s| s == status).map(|i| i as u8)
}

fn body(bytes: &[u8], incomplete: bool, decode_error: bool, n0: u64) -> Body {
    // Arrival marks every 64 bytes, as if the body came in several chunks.
    let arrivals = (0..bytes.len().max(1))
        .step_by(64)
        .enumerate()
        .map(|(k, off)| (off, ts(n0 + k as u64)))
        .collect();
    Body {
        bytes: bytes.to_vec(),
        incomplete,
        decode_error: decode_error.then(|| "gzip: invalid header".to_string()),
        arrivals,
    }
}

pub fn build_exchange(data: &[u8]) -> HttpExchange {
    let mut c = Cursor(data);
    let sel = c.u8();
    let flags = c.u8();
    let status = STATUSES[usize::from(c.u8() & 15)];
    let req_len = usize::from(c.u16());
    let req_body = c.take(req_len);
    let resp_body = c.rest();

    let (authority, path) = SHAPES[usize::from(sel) % SHAPES.len()];
    let mut req_headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("content-length".to_string(), req_body.len().to_string()),
    ];
    if flags & PV_EXTRA_HEADERS != 0 {
        for (k, v) in [
            ("authorization", "Bearer sk-proj-abcdefghijklmnopqrstuvwx"),
            ("x-api-key", "sk-ant-api03-abcdefghijklmnop"),
            ("x-goog-api-key", "AIzaSyAbcdefghijklmnopqrstuvwxyz"),
            ("anthropic-version", "2023-06-01"),
            ("x-stainless-lang", "python"),
            ("x-stainless-package-version", "1.54.0"),
            ("user-agent", "OpenAI/Python 1.54.0"),
        ] {
            req_headers.push((k.into(), v.into()));
        }
    }
    let sse = flags & PV_SSE != 0;
    let content_type = if sse {
        "text/event-stream; charset=utf-8"
    } else if flags & PV_NDJSON != 0 {
        "application/x-ndjson"
    } else {
        "application/json"
    };
    let mut resp_headers = vec![("content-type".to_string(), content_type.to_string())];
    if flags & PV_EXTRA_HEADERS != 0 {
        for (k, v) in [
            ("x-request-id", "req_0123456789abcdef"),
            ("request-id", "req_011CQyafATj24wa3KwsIElmv"),
            ("x-ratelimit-limit-requests", "10000"),
            ("x-ratelimit-remaining-requests", "9999"),
            ("x-ratelimit-reset-requests", "6ms"),
            ("x-ratelimit-remaining-tokens", "abc"),
            ("anthropic-ratelimit-tokens-reset", "2024-01-01T00:00:00Z"),
            ("retry-after", "20"),
        ] {
            resp_headers.push((k.into(), v.into()));
        }
    }
    let h2 = flags & PV_H2 != 0;
    let decode_error = flags & PV_DECODE_ERROR != 0;
    let response = (flags & PV_NO_RESPONSE == 0).then(|| {
        let sse_events = sse.then(|| {
            let mut p = SseParser::new();
            // Feed in pieces so events carry different timestamps.
            for (k, piece) in resp_body.chunks(97).enumerate() {
                p.push(piece, ts(20 + k as u64));
            }
            p.finish()
        });
        HttpResponse {
            status,
            headers: Headers(resp_headers),
            body: body(resp_body, flags & PV_RESP_INCOMPLETE != 0, decode_error, 20),
            sse: sse_events,
            ts_start: ts(15),
            ts_end: ts(20 + resp_body.len() as u64 / 97),
        }
    });
    HttpExchange {
        conn: ConnInfo {
            conn_id: 7,
            pid: 100,
            tid: 100,
            role: Some(ConnRole::Client),
            source: Some(DataSource::OpenSsl),
            local: None,
            remote: None,
            sni: Some(authority.split(':').next().unwrap_or_default().to_string()),
            alpn: Some(if h2 { "h2" } else { "http/1.1" }.into()),
        },
        version: if h2 {
            HttpVersion::Http2
        } else {
            HttpVersion::Http11
        },
        stream_id: h2.then_some(1),
        index: 0,
        request: HttpRequest {
            method: "POST".into(),
            path: path.into(),
            authority: Some(authority.into()),
            headers: Headers(req_headers),
            body: body(req_body, flags & PV_REQ_INCOMPLETE != 0, decode_error, 1),
            ts_start: ts(1),
            ts_end: ts(2),
        },
        response,
        upgrade: None,
        warnings: Vec::new(),
    }
}

pub fn providers(data: &[u8]) {
    let ex = build_exchange(data);
    if let Some(call) = decode_exchange(&ex) {
        // The call must be serialisable the way the engine uses it (Debug at least).
        let _ = format!("{call:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// decoder: bytes → read_all → the full Decoder.

pub fn decoder(data: &[u8]) {
    let (records, _err) = read_all(data);
    let mut dec = Decoder::new(DecoderConfig {
        tracker: TrackerConfig {
            limits: Limits {
                max_body: 1 << 20,
                max_head: 64 << 10,
            },
            ..TrackerConfig::default()
        },
        // Fixtures are client views; server-side decoding doubles the paths exercised.
        include_server_side: records.len() % 2 == 1,
        ..DecoderConfig::default()
    });
    let mut out = Vec::new();
    for r in &records {
        dec.push(r, &mut out);
    }
    dec.finish(&mut out);
    let _ = dec.stats();
    let _ = dec.connections();
}
