//! Connection tracking: `RawRecord`s in, `HttpOutput`s (exchanges and warnings) out.
//!
//! `ConnTracker` keeps one entry per live connection: two reassemblers (one per direction), the
//! detected protocol and its decoder. It is pure and deterministic (no clock, I/O, randomness or
//! hash-order dependence): the same record sequence always yields the same outputs. Memory is
//! bounded by `TrackerConfig` (bodies, heads, reorder buffers, detection buffers, connection
//! count). No input can make it panic.

pub mod codes;
mod detect;
mod reasm;
mod state;

use crate::http::{ChunkMeta, ConnInfo, End};
pub use crate::http::{HttpOutput, Limits};
use oisp_capture::{ConnOpen, ConnRole, DataChunk, Direction, RawRecord, Timestamp};
use reasm::{HoldLimits, Reassembler};
use state::ConnState;
use std::collections::{BTreeMap, VecDeque};

/// Tunables; `Default` gives production values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerConfig {
    /// Body and head limits (default 64 MiB bodies, 256 KiB heads).
    pub limits: Limits,
    /// Out-of-order bytes held per direction before the hole is declared a gap (default 4 MiB).
    pub max_reorder_bytes: usize,
    /// Out-of-order chunks held per direction before the hole is declared a gap (default 256).
    pub max_reorder_chunks: usize,
    /// Bytes queued while the protocol is undetermined before giving up (default 64 KiB).
    pub max_detect_bytes: usize,
    /// Live connections tracked; beyond it the least recently active one is flushed and
    /// dropped with a `conn_evicted` warning (default 65 536).
    pub max_connections: usize,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            limits: Limits::default(),
            max_reorder_bytes: 4 << 20,
            max_reorder_chunks: 256,
            max_detect_bytes: 64 << 10,
            max_connections: 65_536,
        }
    }
}

/// Counters over the tracker's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrackerStats {
    pub exchanges: u64,
    pub warnings: u64,
    /// Bytes of connections that are not (or no longer) HTTP: not detected, upgraded, abandoned.
    pub ignored_bytes: u64,
    /// Bytes declared lost by reassembly.
    pub gap_bytes: u64,
    /// WebSocket messages (close frames included) decoded after upgrades.
    pub ws_messages: u64,
}

impl std::ops::AddAssign for TrackerStats {
    fn add_assign(&mut self, s: TrackerStats) {
        self.exchanges += s.exchanges;
        self.warnings += s.warnings;
        self.ignored_bytes += s.ignored_bytes;
        self.gap_bytes += s.gap_bytes;
        self.ws_messages += s.ws_messages;
    }
}

/// Snapshot of one live connection (see [`ConnTracker::in_progress`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnProgress {
    pub conn_id: u64,
    /// "detecting", "http/1", "h2", "websocket" or "ignored".
    pub protocol: &'static str,
    /// Exchanges (HTTP/2: streams) started and not yet emitted.
    pub pending_exchanges: usize,
    /// Bytes reassembled so far in each direction (next expected offset).
    pub egress_offset: u64,
    pub ingress_offset: u64,
    pub ignored_bytes: u64,
}

struct Conn {
    reasm: [Reassembler; 2],
    st: ConnState,
    last_active: u64,
}

/// Most recently closed connection ids remembered to recognise late data.
const CLOSED_MEMORY: usize = 4096;

/// Turns capture records into HTTP exchanges, connection by connection.
pub struct ConnTracker {
    cfg: TrackerConfig,
    conns: BTreeMap<u64, Conn>,
    closed: VecDeque<u64>,
    tick: u64,
    stats: TrackerStats,
}

impl Default for ConnTracker {
    fn default() -> Self {
        ConnTracker::new(TrackerConfig::default())
    }
}

impl ConnTracker {
    pub fn new(cfg: TrackerConfig) -> Self {
        ConnTracker {
            cfg,
            conns: BTreeMap::new(),
            closed: VecDeque::new(),
            tick: 0,
            stats: TrackerStats::default(),
        }
    }

    /// Processes one record; returns exchanges completed and warnings raised by it, in order.
    pub fn push(&mut self, rec: &RawRecord) -> Vec<HttpOutput> {
        let mut out = Vec::new();
        self.push_into(rec, &mut out);
        out
    }

    /// Like [`push`](Self::push) but appends to `out` (avoids an allocation per record).
    pub fn push_into(&mut self, rec: &RawRecord, out: &mut Vec<HttpOutput>) {
        let start = out.len();
        self.tick += 1;
        match rec {
            RawRecord::Data(c) => self.on_data(c, out),
            RawRecord::ConnOpen(o) => self.on_open(o, out),
            RawRecord::ConnClose(c) => {
                if let Some(conn) = self.conns.remove(&c.conn_id) {
                    self.end_conn(conn, End::Closed, c.ts, out);
                    self.closed.push_back(c.conn_id);
                    if self.closed.len() > CLOSED_MEMORY {
                        self.closed.pop_front();
                    }
                }
            }
            _ => {}
        }
        self.count(&out[start..]);
    }

    /// End of capture: flushes every connection (in `conn_id` order) as if closed, except that
    /// close-delimited bodies and unfinished exchanges are marked incomplete (`capture_ended`).
    pub fn finish(&mut self) -> Vec<HttpOutput> {
        let mut out = Vec::new();
        let conns = std::mem::take(&mut self.conns);
        for (_, conn) in conns {
            let ts = conn.st.last_ts;
            self.end_conn(conn, End::CaptureEnded, ts, &mut out);
        }
        self.count(&out);
        out
    }

    /// Drops what is held of connection `conn_id` without reporting it (the caller decided the
    /// connection is of no interest). Its later data would start a new, unknown connection:
    /// the caller must keep it away.
    pub fn forget(&mut self, conn_id: u64) {
        self.conns.remove(&conn_id);
    }

    /// Counters so far.
    pub fn stats(&self) -> TrackerStats {
        let live = |f: fn(&ConnState) -> u64| {
            self.conns
                .values()
                .fold(0u64, |acc, c| acc.saturating_add(f(&c.st)))
        };
        TrackerStats {
            ignored_bytes: self.stats.ignored_bytes.saturating_add(live(|s| s.ignored)),
            gap_bytes: self.stats.gap_bytes.saturating_add(live(|s| s.gap_bytes)),
            ..self.stats
        }
    }

    /// State of every live connection, in `conn_id` order. Cost is linear in connections.
    /// Exchanges of connection `conn_id` started and not yet emitted (0 for unknown ones).
    pub fn pending_of(&self, conn_id: u64) -> usize {
        self.conns.get(&conn_id).map_or(0, |c| c.st.pending())
    }

    pub fn in_progress(&self) -> Vec<ConnProgress> {
        self.conns
            .iter()
            .map(|(&conn_id, c)| ConnProgress {
                conn_id,
                protocol: c.st.protocol_name(),
                pending_exchanges: c.st.pending(),
                egress_offset: c.reasm[0].next_offset(),
                ingress_offset: c.reasm[1].next_offset(),
                ignored_bytes: c.st.ignored,
            })
            .collect()
    }

    fn count(&mut self, outs: &[HttpOutput]) {
        for o in outs {
            match o {
                HttpOutput::Exchange(_) => self.stats.exchanges += 1,
                HttpOutput::Warning { .. } => self.stats.warnings += 1,
                HttpOutput::WebSocket(crate::ws::WsOutput::Message(_)) => {
                    self.stats.ws_messages += 1
                }
                HttpOutput::WebSocket(_) => {}
            }
        }
    }

    fn hold_limits(&self) -> HoldLimits {
        HoldLimits {
            bytes: self.cfg.max_reorder_bytes,
            chunks: self.cfg.max_reorder_chunks,
        }
    }

    fn on_open(&mut self, o: &ConnOpen, out: &mut Vec<HttpOutput>) {
        self.closed.retain(|&id| id != o.conn_id);
        let info = ConnInfo {
            conn_id: o.conn_id,
            pid: o.pid,
            tid: o.tid,
            role: Some(o.role),
            source: Some(o.source),
            local: o.local,
            remote: o.remote,
            sni: o.sni.clone(),
            alpn: o.alpn.clone(),
        };
        if let Some(conn) = self.conns.get_mut(&o.conn_id) {
            conn.st.update_info(info, o.role);
            conn.last_active = self.tick;
            return;
        }
        self.make_room(o.ts, out);
        self.insert(ConnState::new(info, o.role, o.ts));
    }

    fn insert(&mut self, st: ConnState) {
        let id = st.info.conn_id;
        self.conns.insert(
            id,
            Conn {
                reasm: Default::default(),
                st,
                last_active: self.tick,
            },
        );
    }

    fn on_data(&mut self, c: &DataChunk, out: &mut Vec<HttpOutput>) {
        if !self.conns.contains_key(&c.conn_id) {
            if let Some(pos) = self.closed.iter().position(|&id| id == c.conn_id) {
                self.closed.remove(pos);
                out.push(HttpOutput::Warning {
                    conn_id: c.conn_id,
                    ts: c.ts,
                    code: codes::DATA_AFTER_CLOSE,
                    message: format!(
                        "{} bytes arrived after the connection closed",
                        c.bytes.len()
                    ),
                    role: None,
                });
                return;
            }
            self.make_room(c.ts, out);
            let info = ConnInfo {
                conn_id: c.conn_id,
                pid: c.pid,
                tid: c.tid,
                source: Some(c.source),
                ..Default::default()
            };
            self.insert(ConnState::new(info, ConnRole::Unknown, c.ts));
        }
        let lim = self.hold_limits();
        let cfg = &self.cfg;
        let Some(conn) = self.conns.get_mut(&c.conn_id) else {
            return;
        };
        conn.last_active = self.tick;
        let meta = ChunkMeta {
            ts: c.ts,
            pid: c.pid,
            tid: c.tid,
        };
        let i = detect::dir_idx(c.direction);
        let Conn { reasm, st, .. } = conn;
        st.last_ts = st.last_ts.max(c.ts);
        let dir = c.direction;
        reasm[i].push(c.seq, &c.bytes, c.truncated_len, meta, lim, &mut |seg| {
            st.on_seg(dir, seg, cfg, out)
        });
    }

    /// Flushes and drops connection `conn` for reason `end`.
    fn end_conn(&mut self, mut conn: Conn, end: End, ts: Timestamp, out: &mut Vec<HttpOutput>) {
        let cfg = &self.cfg;
        let st = &mut conn.st;
        for (i, dir) in [Direction::Egress, Direction::Ingress]
            .into_iter()
            .enumerate()
        {
            conn.reasm[i].flush(&mut |seg| st.on_seg(dir, seg, cfg, out));
        }
        st.end(end, ts, cfg, out);
        self.stats.ignored_bytes = self.stats.ignored_bytes.saturating_add(st.ignored);
        self.stats.gap_bytes = self.stats.gap_bytes.saturating_add(st.gap_bytes);
    }

    /// Evicts the least recently active connection if the table is full.
    fn make_room(&mut self, ts: Timestamp, out: &mut Vec<HttpOutput>) {
        while self.conns.len() >= self.cfg.max_connections.max(1) {
            let Some(victim) = self
                .conns
                .iter()
                .min_by_key(|(id, c)| (c.last_active, **id))
                .map(|(&id, _)| id)
            else {
                return;
            };
            out.push(HttpOutput::Warning {
                conn_id: victim,
                ts,
                code: codes::CONN_EVICTED,
                message: format!(
                    "connection limit {} reached; least recently active connection dropped",
                    self.cfg.max_connections
                ),
                role: self.conns.get(&victim).and_then(|c| c.st.info.role),
            });
            if let Some(conn) = self.conns.remove(&victim) {
                self.end_conn(conn, End::Evicted, ts, out);
            }
        }
    }
}
