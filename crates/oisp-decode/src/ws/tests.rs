//! Frame layer through the connection tracker: handshake, masking, lengths, fragmentation,
//! control frames, permessage-deflate, tiny reads, truncation and garbage.

use super::{WsKind, WsOutput};
use crate::conn::{codes, ConnTracker, HttpOutput};
use crate::http::Side;
use flate2::{Compress, Compression, FlushCompress};
use oisp_capture::{ConnClose, ConnOpen, ConnRole, DataChunk, DataSource, Direction, RawRecord};
use oisp_capture::{RawRecord as R, Timestamp};

const KEY: [u8; 4] = [0x11, 0x22, 0x33, 0x44];

fn ts(n: u64) -> Timestamp {
    Timestamp {
        wall_ns: 1_700_000_000_000_000_000 + n,
        mono_ns: n,
    }
}

/// A frame: `b0` (FIN/RSV/opcode), payload, masked with KEY when `mask`.
fn frame(b0: u8, payload: &[u8], mask: bool) -> Vec<u8> {
    let mut f = vec![b0];
    let m = if mask { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(m | n as u8),
        n if n <= 0xffff => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if mask {
        f.extend_from_slice(&KEY);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
    } else {
        f.extend_from_slice(payload);
    }
    f
}

fn client(b0: u8, payload: &[u8]) -> Vec<u8> {
    frame(b0, payload, true)
}

fn server(b0: u8, payload: &[u8]) -> Vec<u8> {
    frame(b0, payload, false)
}

/// Raw deflate of `msgs` with one compressor (context takeover unless `reset`), tails removed.
fn deflate(msgs: &[&[u8]], reset: bool) -> Vec<Vec<u8>> {
    let mut c = Compress::new(Compression::default(), false);
    msgs.iter()
        .map(|m| {
            let mut out = Vec::with_capacity(m.len() * 2 + 64);
            c.compress_vec(m, &mut out, FlushCompress::Sync).unwrap();
            out.truncate(out.len() - 4);
            if reset {
                c.reset();
            }
            out
        })
        .collect()
}

struct Conn {
    t: ConnTracker,
    seq: [u64; 2],
    n: u64,
    out: Vec<HttpOutput>,
}

impl Conn {
    /// A tracker with no connection yet (data makes one of unknown role).
    fn raw(t: ConnTracker) -> Conn {
        Conn {
            t,
            seq: [0; 2],
            n: 0,
            out: Vec::new(),
        }
    }

    /// A client connection whose handshake (offering and accepting `extensions`) is done.
    fn new(extensions: Option<&str>) -> Conn {
        let mut c = Conn::raw(ConnTracker::default());
        c.push(R::ConnOpen(ConnOpen {
            conn_id: 1,
            ts: ts(0),
            pid: 7,
            tid: 7,
            role: ConnRole::Client,
            source: DataSource::MockRecorder,
            local: None,
            remote: None,
            sni: Some("api.openai.com".into()),
            alpn: None,
        }));
        let ext = extensions
            .map(|e| format!("Sec-WebSocket-Extensions: {e}\r\n"))
            .unwrap_or_default();
        c.send(
            Direction::Egress,
            format!("GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: api.openai.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n").as_bytes(),
        );
        c.send(
            Direction::Ingress,
            format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{ext}\r\n").as_bytes(),
        );
        c
    }

    fn push(&mut self, r: RawRecord) {
        self.out.extend(self.t.push(&r));
    }

    fn send(&mut self, dir: Direction, bytes: &[u8]) {
        let i = (dir == Direction::Ingress) as usize;
        self.n += 1;
        self.push(R::Data(DataChunk {
            conn_id: 1,
            direction: dir,
            seq: self.seq[i],
            ts: ts(self.n),
            pid: 7,
            tid: 7,
            source: DataSource::MockRecorder,
            truncated_len: 0,
            bytes: bytes.to_vec(),
        }));
        self.seq[i] += bytes.len() as u64;
    }

    fn up(&mut self, bytes: &[u8]) {
        self.send(Direction::Egress, bytes)
    }

    fn down(&mut self, bytes: &[u8]) {
        self.send(Direction::Ingress, bytes)
    }

    fn close(&mut self) {
        self.n += 1;
        self.push(R::ConnClose(ConnClose {
            conn_id: 1,
            ts: ts(self.n),
            pid: 7,
        }));
    }

    /// (side, kind, payload) of every message so far.
    fn messages(&self) -> Vec<(Side, WsKind, Vec<u8>)> {
        self.out
            .iter()
            .filter_map(|o| match o {
                HttpOutput::WebSocket(WsOutput::Message(m)) => {
                    Some((m.side, m.kind.clone(), m.payload.clone()))
                }
                _ => None,
            })
            .collect()
    }

    fn codes(&self) -> Vec<&'static str> {
        self.out
            .iter()
            .filter_map(|o| match o {
                HttpOutput::Warning { code, .. } => Some(*code),
                _ => None,
            })
            .collect()
    }

    fn stats(&self) -> super::WsStats {
        self.out
            .iter()
            .find_map(|o| match o {
                HttpOutput::WebSocket(WsOutput::End { stats, .. }) => Some(*stats),
                _ => None,
            })
            .expect("end output")
    }
}

fn text(side: Side, s: &str) -> (Side, WsKind, Vec<u8>) {
    (side, WsKind::Text, s.as_bytes().to_vec())
}

#[test]
fn handshake_then_masked_and_unmasked_messages() {
    let mut c = Conn::new(None);
    let ex = c.out.iter().find_map(|o| match o {
        HttpOutput::Exchange(x) => Some(x.clone()),
        _ => None,
    });
    assert_eq!(ex.unwrap().upgrade.as_deref(), Some("websocket"));
    c.up(&client(0x81, b"{\"type\":\"response.create\"}"));
    c.down(&server(0x81, b"Hello"));
    c.close();
    assert_eq!(
        c.messages(),
        vec![
            text(Side::Request, "{\"type\":\"response.create\"}"),
            text(Side::Response, "Hello")
        ]
    );
    assert!(c.codes().is_empty(), "{:?}", c.codes());
    assert_eq!(c.t.in_progress().len(), 0);
}

#[test]
fn lengths_16_and_64_bit() {
    let mut c = Conn::new(None);
    let mid = vec![b'm'; 300];
    let big = vec![b'b'; 70_000];
    c.up(&client(0x82, &mid));
    c.down(&server(0x82, &big));
    // A 64-bit length field carrying a small value is legal (non-minimal encoding).
    let mut f = vec![0x81, 127];
    f.extend_from_slice(&3u64.to_be_bytes());
    f.extend_from_slice(b"abc");
    c.down(&f);
    c.close();
    let m = c.messages();
    assert_eq!(m[0], (Side::Request, WsKind::Binary, mid));
    assert_eq!(m[1], (Side::Response, WsKind::Binary, big));
    assert_eq!(m[2], text(Side::Response, "abc"));
}

#[test]
fn fragmentation_with_interleaved_ping_and_close() {
    let mut c = Conn::new(None);
    let mut bytes = client(0x01, b"Hel");
    bytes.extend(client(0x89, b"ping!"));
    bytes.extend(client(0x00, b"lo, "));
    bytes.extend(client(0x80, b"world"));
    bytes.extend(client(0x88, &[0x03, 0xe8, b'b', b'y', b'e']));
    c.up(&bytes);
    c.down(&server(0x8a, b"ping!"));
    c.close();
    let m = c.messages();
    assert_eq!(m[0], text(Side::Request, "Hello, world"));
    assert_eq!(
        m[1].1,
        WsKind::Close {
            code: Some(1000),
            reason: "bye".into()
        }
    );
    let st = c.stats();
    assert_eq!((st.pings, st.pongs, st.closes), (1, 1, 1));
    assert_eq!(st.frames, [5, 1]);
    assert!(c.codes().is_empty());
}

#[test]
fn split_across_many_tiny_reads() {
    let mut c = Conn::new(None);
    let payload = vec![b'x'; 200];
    let mut bytes = client(0x01, &payload[..150]);
    bytes.extend(client(0x80, &payload[150..]));
    for b in &bytes {
        c.up(std::slice::from_ref(b));
    }
    c.close();
    assert_eq!(c.messages(), vec![(Side::Request, WsKind::Text, payload)]);
}

#[test]
fn bytes_in_the_same_read_as_the_101_are_framed() {
    let mut c = Conn::raw(ConnTracker::default());
    let mut req = b"GET /v1/responses HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".to_vec();
    req.extend(client(0x81, b"early"));
    c.up(&req);
    let mut resp =
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
            .to_vec();
    resp.extend(server(0x81, b"first"));
    c.down(&resp);
    c.close();
    assert_eq!(
        c.messages(),
        vec![text(Side::Request, "early"), text(Side::Response, "first")]
    );
}

#[test]
fn permessage_deflate_with_context_takeover() {
    let mut c = Conn::new(Some("permessage-deflate; client_max_window_bits"));
    let msgs: [&[u8]; 3] = [
        b"{\"delta\":\"abc abc abc\"}",
        b"{\"delta\":\"abc abc abc\"}",
        b"x",
    ];
    for (i, w) in deflate(&msgs, false).iter().enumerate() {
        c.down(&server(0xc1, w));
        c.up(&client(0xc1, &deflate(&msgs[i..i + 1], false)[0]));
    }
    // An uncompressed message (RSV1 clear) in between is legal.
    c.down(&server(0x81, b"plain"));
    c.close();
    let got: Vec<_> = c
        .messages()
        .into_iter()
        .filter(|m| m.0 == Side::Response)
        .collect();
    assert_eq!(got.len(), 4);
    for (g, m) in got.iter().zip(msgs) {
        assert_eq!(g.2, m);
    }
    assert_eq!(got[3].2, b"plain");
    assert_eq!(c.stats().compressed, [3, 3]);
    assert!(c.codes().is_empty(), "{:?}", c.codes());
}

#[test]
fn permessage_deflate_without_context_takeover_fragmented() {
    let ext = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    let mut c = Conn::new(Some(ext));
    let msgs: [&[u8]; 2] = [b"same text same text", b"same text same text"];
    for w in deflate(&msgs, true) {
        let (a, b) = w.split_at(w.len() / 2);
        c.up(&client(0x41, a)); // RSV1 on the first frame only
        c.up(&client(0x80, b));
    }
    c.close();
    let got = c.messages();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|m| m.2 == msgs[0]));
    assert!(c.codes().is_empty(), "{:?}", c.codes());
}

#[test]
fn truncated_stream_at_end() {
    let mut c = Conn::new(None);
    let f = server(0x81, b"complete message");
    c.down(&f[..7]);
    c.up(&client(0x01, b"first fragment"));
    c.push(R::ConnClose(ConnClose {
        conn_id: 1,
        ts: ts(99),
        pid: 7,
    }));
    assert!(c.messages().is_empty());
    assert_eq!(c.codes(), vec![codes::WS_TRUNCATED, codes::WS_TRUNCATED]);
    let mut c = Conn::new(None);
    c.down(&[0x81]);
    let out = c.t.finish();
    assert!(out
        .iter()
        .any(|o| matches!(o, HttpOutput::Warning { code, message, .. }
        if *code == codes::WS_TRUNCATED && message.contains("capture ended"))));
}

#[test]
fn garbage_after_upgrade_is_reported_per_direction() {
    let mut c = Conn::new(None);
    c.down(b"\x83garbage garbage");
    c.down(&server(0x81, b"never read"));
    c.up(&client(0x81, b"still read"));
    c.up(&server(0x81, b"unmasked client frame"));
    c.close();
    assert_eq!(c.messages(), vec![text(Side::Request, "still read")]);
    assert_eq!(
        c.codes(),
        vec![codes::WS_PROTOCOL_ERROR, codes::WS_PROTOCOL_ERROR]
    );
    assert!(c.stats().ignored_bytes > 0);
    assert!(c.t.stats().ignored_bytes > 0);
}

#[test]
fn protocol_violations() {
    let cases: Vec<(Option<&str>, Vec<u8>)> = vec![
        (None, client(0xc1, b"rsv1 without deflate")),
        (None, client(0x80, b"continuation first")),
        (None, [client(0x01, b"a"), client(0x81, b"b")].concat()),
        (
            Some("permessage-deflate"),
            client(0xc1, &[0xff, 0xff, 0xff]),
        ),
        (None, client(0x88, &[0x03])),
    ];
    for (ext, bytes) in cases {
        let mut c = Conn::new(ext);
        c.up(&bytes);
        c.close();
        assert_eq!(c.codes(), vec![codes::WS_PROTOCOL_ERROR], "{bytes:x?}");
    }
    let mut c = Conn::new(Some("permessage-deflate; server_max_window_bits=99"));
    c.close();
    assert_eq!(c.codes(), vec![codes::WS_PROTOCOL_ERROR]);
}

#[test]
fn message_size_limit() {
    let mut c = Conn::raw(ConnTracker::new(crate::conn::TrackerConfig {
        limits: crate::conn::Limits {
            max_body: 10,
            ..Default::default()
        },
        ..Default::default()
    }));
    c.up(b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    c.down(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    );
    c.down(&server(0x81, b"0123456789abcdef"));
    c.down(&server(0x81, b"ok"));
    c.close();
    let m = c.messages();
    assert_eq!(m[0].2, b"0123456789");
    assert_eq!(m[1].2, b"ok");
    assert_eq!(c.codes(), vec![codes::WS_MESSAGE_TOO_LARGE]);
}

/// Deterministic xorshift, for the mutation test below.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Valid traffic (fragmented, compressed, control frames) with random byte flips, random cuts
/// and random read sizes: never a panic, every message within the limit, and a clean stream
/// decodes exactly.
#[test]
fn mutated_streams_never_panic() {
    let msgs: [&[u8]; 3] = [b"{\"type\":\"response.create\"}", b"x", &[b'y'; 300]];
    let mut clean = Vec::new();
    for (i, w) in deflate(&msgs, false).iter().enumerate() {
        let (a, b) = w.split_at(w.len() / 2);
        clean.extend(client(0x41, a));
        clean.extend(client(0x89, b"p"));
        clean.extend(client(0x80, b));
        clean.extend(client(0x81, msgs[i]));
    }
    clean.extend(client(0x88, &[0x03, 0xe8]));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..2000 {
        let mut bytes = clean.clone();
        let flips = if round == 0 { 0 } else { 1 + rng.below(4) };
        for _ in 0..flips {
            let i = rng.below(bytes.len());
            bytes[i] ^= 1 << rng.below(8);
        }
        if round % 3 == 1 {
            bytes.truncate(rng.below(bytes.len()));
        }
        let mut c = Conn::new(Some("permessage-deflate"));
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let n = 1 + rng.below(40).min(rest.len() - 1);
            c.up(&rest[..n]);
            rest = &rest[n..];
        }
        c.close();
        let m = c.messages();
        assert!(m.iter().all(|(_, _, p)| p.len() <= 64 << 20));
        if round == 0 {
            assert_eq!(m.len(), 7, "{:?}", c.codes());
            assert!(c.codes().is_empty());
        }
    }
}
