//! Shared helpers for the HTTP decoding tests: hand-built `RawRecord`s and a small driver.
#![allow(dead_code)]

use oisp_capture::{
    ConnClose, ConnOpen, ConnRole, DataChunk, DataSource, Direction, RawRecord, Timestamp,
};
use oisp_decode::conn::{ConnTracker, HttpOutput, TrackerConfig};
use oisp_decode::http::HttpExchange;
use std::collections::BTreeMap;

pub const E: Direction = Direction::Egress;
pub const I: Direction = Direction::Ingress;

pub fn ts(n: u64) -> Timestamp {
    Timestamp {
        wall_ns: 1_700_000_000_000_000_000 + n,
        mono_ns: n,
    }
}

pub fn open_rec(conn: u64, role: ConnRole, alpn: Option<&str>, t: u64) -> RawRecord {
    RawRecord::ConnOpen(ConnOpen {
        conn_id: conn,
        ts: ts(t),
        pid: 100,
        tid: 101,
        role,
        source: DataSource::OpenSsl,
        local: None,
        remote: None,
        sni: Some("api.example.com".into()),
        alpn: alpn.map(Into::into),
    })
}

pub fn data_rec(conn: u64, dir: Direction, seq: u64, t: u64, bytes: &[u8]) -> RawRecord {
    RawRecord::Data(DataChunk {
        conn_id: conn,
        direction: dir,
        seq,
        ts: ts(t),
        pid: 100,
        tid: 101,
        source: DataSource::OpenSsl,
        truncated_len: 0,
        bytes: bytes.to_vec(),
    })
}

pub fn close_rec(conn: u64, t: u64) -> RawRecord {
    RawRecord::ConnClose(ConnClose {
        conn_id: conn,
        ts: ts(t),
        pid: 100,
    })
}

/// Drives a tracker, numbering sequence offsets and timestamps automatically.
pub struct Sim {
    pub tracker: ConnTracker,
    pub seq: BTreeMap<(u64, bool), u64>,
    pub t: u64,
    pub out: Vec<HttpOutput>,
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new(TrackerConfig::default())
    }
}

impl Sim {
    pub fn new(cfg: TrackerConfig) -> Self {
        Sim {
            tracker: ConnTracker::new(cfg),
            seq: BTreeMap::new(),
            t: 0,
            out: Vec::new(),
        }
    }

    pub fn push(&mut self, rec: RawRecord) -> Vec<HttpOutput> {
        let o = self.tracker.push(&rec);
        self.out.extend(o.clone());
        o
    }

    pub fn open(&mut self, conn: u64, role: ConnRole, alpn: Option<&str>) {
        self.t += 1;
        self.push(open_rec(conn, role, alpn, self.t));
    }

    /// Sends `bytes` as one chunk at the next offset of (conn, dir); returns its outputs.
    pub fn send(&mut self, conn: u64, dir: Direction, bytes: &[u8]) -> Vec<HttpOutput> {
        self.t += 1;
        let key = (conn, dir == E);
        let seq = *self.seq.get(&key).unwrap_or(&0);
        self.seq.insert(key, seq + bytes.len() as u64);
        self.push(data_rec(conn, dir, seq, self.t, bytes))
    }

    pub fn close(&mut self, conn: u64) -> Vec<HttpOutput> {
        self.t += 1;
        self.push(close_rec(conn, self.t))
    }

    pub fn finish(&mut self) -> Vec<HttpOutput> {
        let o = self.tracker.finish();
        self.out.extend(o.clone());
        o
    }

    pub fn exchanges(&self) -> Vec<HttpExchange> {
        exchanges(&self.out)
    }

    pub fn codes(&self) -> Vec<&'static str> {
        codes(&self.out)
    }
}

pub fn exchanges(out: &[HttpOutput]) -> Vec<HttpExchange> {
    out.iter()
        .filter_map(|o| match o {
            HttpOutput::Exchange(x) => Some(x.clone()),
            _ => None,
        })
        .collect()
}

pub fn codes(out: &[HttpOutput]) -> Vec<&'static str> {
    out.iter()
        .filter_map(|o| match o {
            HttpOutput::Warning { code, .. } => Some(*code),
            _ => None,
        })
        .collect()
}

/// A minimal HTTP/1.1 request with a Content-Length body.
pub fn post(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A minimal HTTP/1.1 200 response with a Content-Length body.
pub fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Deterministic xorshift PRNG for fuzz-style loops.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}
