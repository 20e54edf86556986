//! Plumbing shared by the HTTP/1 and HTTP/2 decoders: sides, chunk metadata, limits, the output
//! sink and the leftover-buffer helper.

use super::exchange::{ConnInfo, HttpExchange};
use oisp_capture::{ConnRole, Timestamp};

/// The two halves of an HTTP connection, independent of which process was observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Client → server bytes (requests, HTTP/2 client preface).
    Request,
    /// Server → client bytes (responses).
    Response,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Request => Side::Response,
            Side::Response => Side::Request,
        }
    }

    pub(crate) fn idx(self) -> usize {
        match self {
            Side::Request => 0,
            Side::Response => 1,
        }
    }
}

/// Facts about the capture chunk bytes arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkMeta {
    pub ts: Timestamp,
    pub pid: u32,
    pub tid: u32,
}

/// Resource limits for decoding; every buffer the decoders keep is bounded by one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum stored bytes of one body (raw and decoded, each). Beyond it the body is cut and
    /// marked incomplete.
    pub max_body: usize,
    /// Maximum size of an HTTP/1 head (request/status line plus headers), of a chunk-size or
    /// trailer section, and of an HTTP/2 header block.
    pub max_head: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 64 << 20,
            max_head: 256 << 10,
        }
    }
}

/// Most exchanges (HTTP/1 pipeline entries, HTTP/2 open streams) held per connection; beyond
/// it decoding of the connection is abandoned (e.g. a capture that never sees responses).
pub(crate) const MAX_PENDING: usize = 1024;

/// A problem attached to one exchange: (warning code, message).
pub(crate) type Note = (&'static str, String);

/// What a decoder produces.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // exchanges are the common case; boxing buys nothing
pub enum HttpOutput {
    /// A finished request/response pair.
    Exchange(HttpExchange),
    /// A WebSocket message, or the end of a WebSocket connection (after a 101 upgrade).
    WebSocket(crate::ws::WsOutput),
    /// A problem; `code` is one of the constants in [`crate::conn::codes`].
    Warning {
        conn_id: u64,
        ts: Timestamp,
        code: &'static str,
        message: String,
        /// The connection's role as known when the warning was raised (from its `ConnOpen`, or
        /// inferred from the direction of its first request); `None` when the connection is
        /// unknown (data after close).
        role: Option<ConnRole>,
    },
}

/// Where decoders send their results.
pub(crate) struct Emit<'a> {
    pub info: &'a ConnInfo,
    pub limits: &'a Limits,
    pub out: &'a mut Vec<HttpOutput>,
}

impl Emit<'_> {
    pub fn warn(&mut self, ts: Timestamp, code: &'static str, message: String) {
        self.out.push(HttpOutput::Warning {
            conn_id: self.info.conn_id,
            ts,
            code,
            message,
            role: self.info.role,
        });
    }

    /// Emits `ex`; each note becomes a `Warning` output (just before the exchange) and a
    /// "code: message" line in `ex.warnings`.
    pub fn exchange(&mut self, mut ex: HttpExchange, notes: Vec<Note>, ts: Timestamp) {
        for (code, msg) in notes {
            ex.warnings.push(format!("{code}: {msg}"));
            self.warn(ts, code, msg);
        }
        self.out.push(HttpOutput::Exchange(ex));
    }
}

/// Bytes not yet consumable by a parser, plus the capture time of their first byte.
#[derive(Debug, Default)]
pub(crate) struct Leftover {
    pub buf: Vec<u8>,
    pub first_ts: Timestamp,
}

impl Leftover {
    /// Runs `f(input, first_byte_ts)` over the leftover followed by `data` (zero-copy when there
    /// is no leftover); `f` returns how many bytes it consumed and the rest is kept.
    pub fn feed(&mut self, data: &[u8], ts: Timestamp, f: impl FnOnce(&[u8], Timestamp) -> usize) {
        if self.buf.is_empty() {
            let n = f(data, ts).min(data.len());
            if let Some(rest) = data.get(n..) {
                self.buf.extend_from_slice(rest);
            }
            self.first_ts = ts;
        } else {
            let old = self.buf.len();
            let mut buf = std::mem::take(&mut self.buf);
            buf.extend_from_slice(data);
            let n = f(&buf, self.first_ts).min(buf.len());
            buf.drain(..n);
            if n >= old {
                self.first_ts = ts;
            }
            self.buf = buf;
        }
    }
}

/// Why a connection's remaining exchanges are being flushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The connection closed.
    Closed,
    /// The capture ended (`ConnTracker::finish`) with the connection still open.
    CaptureEnded,
    /// Decoding gave up on the connection (unrecoverable gap or protocol error).
    Abandoned,
    /// The tracker dropped the connection to stay within its connection limit.
    Evicted,
}

/// Which part of an exchange an `End` interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Request,
    NoResponse,
    Response,
}

impl End {
    /// The note recording that `phase` was cut short by this end.
    pub fn note(self, phase: Phase) -> Note {
        use crate::conn::codes;
        let (code, what) = match (self, phase) {
            (End::Closed, Phase::Request) => (codes::CLOSED_MID_REQUEST, "connection closed"),
            (End::Closed, Phase::NoResponse) => (codes::NO_RESPONSE, "connection closed"),
            (End::Closed, Phase::Response) => (codes::CLOSED_MID_RESPONSE, "connection closed"),
            (End::CaptureEnded, _) => (codes::CAPTURE_ENDED, "capture ended"),
            (End::Abandoned, _) => (codes::DECODE_ABANDONED, "decoding abandoned"),
            (End::Evicted, _) => (codes::CONN_EVICTED, "connection evicted"),
        };
        let msg = match phase {
            Phase::Request => format!("{what} before the request was complete"),
            Phase::NoResponse => format!("{what} before a response arrived"),
            Phase::Response => format!("{what} before the response was complete"),
        };
        (code, msg)
    }
}
