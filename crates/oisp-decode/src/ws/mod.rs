//! WebSocket (RFC 6455, with RFC 7692 `permessage-deflate`) on a connection whose HTTP/1.1
//! exchange was answered `101 Switching Protocols` with `Upgrade: websocket`.
//!
//! The connection tracker hands the bytes after the handshake to a [`WsConn`] (one frame
//! [`reader`] per direction); it emits every message as an [`HttpOutput::WebSocket`]
//! ([`WsOutput::Message`]) and, when the connection ends, one [`WsOutput::End`] with counters.
//! Problems become `HttpOutput::Warning`s (`ws_*` codes in [`crate::conn::codes`]); a protocol
//! violation stops reading that direction only (its later bytes are counted as ignored).
//! Providers turn messages into calls in `providers::ws`.
//!
//! [`HttpOutput::WebSocket`]: crate::http::HttpOutput::WebSocket

mod deflate;
mod frame;
mod reader;
mod session;

pub use deflate::{negotiate, DeflateParams};
pub(crate) use session::WsConn;

use crate::http::{ConnInfo, Headers, HttpExchange, Side};
use oisp_capture::Timestamp;
use std::sync::Arc;

/// The opening handshake of a WebSocket connection, shared by all its messages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WsHandshake {
    /// The connection as known at the handshake.
    pub conn: ConnInfo,
    /// Request target of the `GET`, with its query (e.g. `/v1/realtime?model=gpt-realtime`).
    pub path: String,
    pub authority: Option<String>,
    pub request_headers: Headers,
    pub response_headers: Headers,
    /// `permessage-deflate` as accepted by the server, if it was.
    pub deflate: Option<DeflateParams>,
    /// When the 101 response was captured.
    pub ts: Timestamp,
}

impl WsHandshake {
    /// The handshake of `ex` if it is an accepted WebSocket upgrade (status 101, upgrade token
    /// `websocket`). `Err` when it is one but its extensions cannot be honoured.
    pub fn from_exchange(ex: &HttpExchange) -> Option<Result<WsHandshake, String>> {
        let resp = ex.response.as_ref().filter(|r| r.status == 101)?;
        if !ex
            .upgrade
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
        {
            return None;
        }
        let deflate = match negotiate(resp.headers.get_all("sec-websocket-extensions")) {
            Ok(d) => d,
            Err(e) => return Some(Err(e)),
        };
        Some(Ok(WsHandshake {
            conn: ex.conn.clone(),
            path: ex.request.path.clone(),
            authority: ex.request.authority.clone(),
            request_headers: ex.request.headers.clone(),
            response_headers: resp.headers.clone(),
            deflate,
            ts: resp.ts_end,
        }))
    }
}

/// What a message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsKind {
    Text,
    Binary,
    /// A close frame: status code and reason, when given.
    Close {
        code: Option<u16>,
        reason: String,
    },
}

/// One complete WebSocket message.
#[derive(Debug, Clone, PartialEq)]
pub struct WsMessage {
    pub handshake: Arc<WsHandshake>,
    /// `Request`: client → server; `Response`: server → client.
    pub side: Side,
    /// Position among the messages of its direction (0, 1, 2 ...), close frames included.
    pub index: u64,
    pub kind: WsKind,
    /// Unmasked, defragmented, inflated payload (empty for close frames).
    pub payload: Vec<u8>,
    /// Sent with permessage-deflate.
    pub compressed: bool,
    /// Payload bytes on the wire over all frames.
    pub wire_bytes: u64,
    pub frames: u32,
    /// `payload` was cut at the message size limit (`Limits::max_body`).
    pub truncated: bool,
    /// First and last frame captured.
    pub ts_start: Timestamp,
    pub ts_end: Timestamp,
}

/// Counters of one WebSocket connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WsStats {
    /// Frames read, by side (`Side::idx`: request 0, response 1).
    pub frames: [u64; 2],
    /// Data messages emitted, by side.
    pub messages: [u64; 2],
    /// Of them, sent compressed.
    pub compressed: [u64; 2],
    pub pings: u64,
    pub pongs: u64,
    pub closes: u64,
    /// Bytes not read after a direction stopped (protocol error, gap).
    pub ignored_bytes: u64,
}

/// WebSocket outputs of the connection tracker.
#[derive(Debug, Clone, PartialEq)]
pub enum WsOutput {
    Message(WsMessage),
    /// The connection ended (closed, capture ended, abandoned or evicted): no more messages.
    End {
        handshake: Arc<WsHandshake>,
        ts: Timestamp,
        stats: WsStats,
    },
}

impl WsOutput {
    pub fn conn_id(&self) -> u64 {
        match self {
            WsOutput::Message(m) => m.handshake.conn.conn_id,
            WsOutput::End { handshake, .. } => handshake.conn.conn_id,
        }
    }
}

#[cfg(test)]
mod tests;
