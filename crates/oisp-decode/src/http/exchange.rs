//! `HttpExchange`: the seam between the HTTP layer (HTTP/1.1, HTTP/2, SSE) and the provider
//! decoders. One value is one request and (if any) its response on one connection/stream, with
//! bodies already de-chunked and decompressed.

use oisp_capture::{ConnRole, DataSource, Timestamp};
use std::net::SocketAddr;

/// HTTP protocol version an exchange travelled over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpVersion {
    Http10,
    Http11,
    Http2,
}

impl HttpVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersion::Http10 => "HTTP/1.0",
            HttpVersion::Http11 => "HTTP/1.1",
            HttpVersion::Http2 => "HTTP/2",
        }
    }
}

/// What is known about the connection an exchange was seen on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnInfo {
    pub conn_id: u64,
    pub pid: u32,
    pub tid: u32,
    pub role: Option<ConnRole>,
    pub source: Option<DataSource>,
    pub local: Option<SocketAddr>,
    pub remote: Option<SocketAddr>,
    pub sni: Option<String>,
    pub alpn: Option<String>,
}

/// Header list in wire order. Names are stored lower-cased (HTTP/2 requires it; HTTP/1.1 names
/// are case-insensitive), values as received (lossy UTF-8).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// First value of header `name` (give it lower-case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All values of header `name` (give it lower-case).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A decoded body and how complete it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Body {
    /// The body after transfer decoding (chunked) and content decoding (gzip, deflate, br, zstd).
    pub bytes: Vec<u8>,
    /// Bytes that were expected but not seen (gap, connection closed early, capture truncation).
    pub incomplete: bool,
    /// Why the body could not be fully decoded, if it could not (e.g. "gzip: invalid header").
    pub decode_error: Option<String>,
    /// Arrival times of body data: (offset in `bytes`, time the chunk carrying it was captured).
    /// Offsets are exact for identity encoding; for compressed bodies each entry marks the
    /// decoded length known after that chunk arrived. Always sorted, first entry offset 0.
    pub arrivals: Vec<(usize, Timestamp)>,
}

/// One Server-Sent Event, reassembled from a `text/event-stream` body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SseEvent {
    /// The `event:` field, if present.
    pub event: Option<String>,
    /// The `data:` lines joined with '\n'.
    pub data: String,
    pub id: Option<String>,
    /// When the bytes completing this event were captured.
    pub ts: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    /// Path including the query string, e.g. "/v1/chat/completions?x=1".
    pub path: String,
    /// `:authority` (HTTP/2) or `Host` (HTTP/1.1).
    pub authority: Option<String>,
    pub headers: Headers,
    pub body: Body,
    /// First byte of the request seen.
    pub ts_start: Timestamp,
    /// Last byte of the request seen.
    pub ts_end: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Headers,
    pub body: Body,
    /// Parsed SSE events when the response is `text/event-stream`, in order.
    pub sse: Option<Vec<SseEvent>>,
    /// First byte of the response (status line / HEADERS frame) seen.
    pub ts_start: Timestamp,
    /// Last byte of the response seen.
    pub ts_end: Timestamp,
}

/// One HTTP request/response pair.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpExchange {
    pub conn: ConnInfo,
    pub version: HttpVersion,
    /// HTTP/2 stream id; `None` for HTTP/1.x.
    pub stream_id: Option<u32>,
    /// Index of this exchange on its connection (0, 1, 2 ... in request order).
    pub index: u32,
    pub request: HttpRequest,
    /// `None` when the connection ended (or capture stopped) before a response head arrived.
    pub response: Option<HttpResponse>,
    /// Protocol upgrade accepted by this exchange (e.g. "websocket"); the connection's later
    /// bytes are not HTTP.
    pub upgrade: Option<String>,
    /// Non-fatal problems met while decoding this exchange, each a human-readable sentence.
    pub warnings: Vec<String>,
}
