//! `WsConn`: both directions of one upgraded connection, turning reader events into outputs.

use super::deflate::Inflater;
use super::reader::{ReadEvent, Reader};
use super::{WsHandshake, WsKind, WsMessage, WsOutput, WsStats};
use crate::conn::codes;
use crate::http::{ChunkMeta, Emit, End, HttpOutput, Side};
use oisp_capture::Timestamp;
use std::sync::Arc;

/// WebSocket decoder of one connection.
pub(crate) struct WsConn {
    hs: Arc<WsHandshake>,
    readers: [Reader; 2],
    /// A direction that stopped (protocol error, gap): its bytes are only counted.
    stopped: [bool; 2],
    next_index: [u64; 2],
    stats: WsStats,
}

impl WsConn {
    pub fn new(hs: WsHandshake) -> Self {
        let inflater = |no_takeover: bool| hs.deflate.map(|_| Inflater::new(no_takeover));
        let (c, s) = hs
            .deflate
            .map(|d| (d.client_no_context_takeover, d.server_no_context_takeover))
            .unwrap_or_default();
        WsConn {
            readers: [
                Reader::new(true, inflater(c)),
                Reader::new(false, inflater(s)),
            ],
            hs: Arc::new(hs),
            stopped: [false; 2],
            next_index: [0; 2],
            stats: WsStats::default(),
        }
    }

    /// In-order bytes of `side`; returns how many were ignored (direction stopped).
    pub fn data(&mut self, side: Side, data: &[u8], meta: ChunkMeta, em: &mut Emit) -> u64 {
        let i = side.idx();
        if self.stopped[i] {
            self.stats.ignored_bytes = self.stats.ignored_bytes.saturating_add(data.len() as u64);
            return data.len() as u64;
        }
        let max = em.limits.max_body;
        let mut events = Vec::new();
        let res = self.readers[i].feed(data, meta.ts, max, &mut |e| events.push(e));
        self.stats.frames[i] = self.readers[i].frames;
        for e in events {
            self.on_event(side, e, meta.ts, em);
        }
        match res {
            Ok(()) => 0,
            Err((e, unread)) => {
                self.stop(side, meta.ts, em, codes::WS_PROTOCOL_ERROR, e);
                self.stats.ignored_bytes = self.stats.ignored_bytes.saturating_add(unread as u64);
                unread as u64
            }
        }
    }

    /// `len` bytes of `side` were lost: the frame boundaries (and any compression window) of
    /// that direction are lost with them.
    pub fn gap(&mut self, side: Side, len: u64, ts: Timestamp, em: &mut Emit) {
        if !self.stopped[side.idx()] {
            let why = format!("{len} bytes lost; the rest of the direction cannot be framed");
            self.stop(side, ts, em, codes::DECODE_ABANDONED, why);
        }
    }

    /// The connection ended: reports unfinished frames/messages, then `WsOutput::End`.
    pub fn end(&mut self, end: End, ts: Timestamp, em: &mut Emit) {
        for side in [Side::Request, Side::Response] {
            let i = side.idx();
            if self.stopped[i] {
                continue;
            }
            if let Some(w) = self.readers[i].unfinished() {
                let what = match end {
                    End::Closed => "connection closed",
                    End::CaptureEnded => "capture ended",
                    End::Abandoned => "decoding abandoned",
                    End::Evicted => "connection evicted",
                };
                em.warn(
                    ts,
                    codes::WS_TRUNCATED,
                    format!("WebSocket {} {what} {w}", side_name(side)),
                );
            }
        }
        em.out.push(HttpOutput::WebSocket(WsOutput::End {
            handshake: self.hs.clone(),
            ts,
            stats: self.stats,
        }));
    }

    fn stop(&mut self, side: Side, ts: Timestamp, em: &mut Emit, code: &'static str, why: String) {
        self.stopped[side.idx()] = true;
        em.warn(
            ts,
            code,
            format!(
                "WebSocket {}: {why}; its later bytes are ignored",
                side_name(side)
            ),
        );
    }

    fn on_event(&mut self, side: Side, e: ReadEvent, ts: Timestamp, em: &mut Emit) {
        let i = side.idx();
        let m = match e {
            ReadEvent::Ping => {
                self.stats.pings += 1;
                return;
            }
            ReadEvent::Pong => {
                self.stats.pongs += 1;
                return;
            }
            ReadEvent::Message(m) => m,
        };
        let close = matches!(m.kind, WsKind::Close { .. });
        if close {
            self.stats.closes += 1;
        } else {
            self.stats.messages[i] += 1;
            self.stats.compressed[i] += m.compressed as u64;
        }
        if m.truncated {
            em.warn(
                ts,
                codes::WS_MESSAGE_TOO_LARGE,
                format!(
                    "WebSocket {} message {} exceeds {} bytes; kept its first bytes",
                    side_name(side),
                    self.next_index[i],
                    em.limits.max_body
                ),
            );
        }
        let index = self.next_index[i];
        self.next_index[i] += 1;
        em.out
            .push(HttpOutput::WebSocket(WsOutput::Message(WsMessage {
                handshake: self.hs.clone(),
                side,
                index,
                kind: m.kind,
                payload: m.payload,
                compressed: m.compressed,
                wire_bytes: m.wire_bytes,
                frames: m.frames,
                truncated: m.truncated,
                ts_start: if close { ts } else { m.ts_start },
                ts_end: ts,
            })));
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Request => "client → server",
        Side::Response => "server → client",
    }
}
