//! Warning codes carried by `HttpOutput::Warning` (and prefixed to `HttpExchange::warnings`
//! lines as "code: message"). Stable strings: consumers may match on them.

/// Bytes of one direction were lost (sequence gap, capture truncation, reorder buffer overflow,
/// or chunks still missing at close). The message gives offset and length.
pub const STREAM_GAP: &str = "stream_gap";
/// The connection does not carry HTTP/1.x or HTTP/2; its bytes are ignored from then on.
pub const NOT_HTTP: &str = "not_http";
/// Decoding of a connection stopped (unrecoverable gap or protocol error); later bytes ignored.
pub const DECODE_ABANDONED: &str = "decode_abandoned";
/// Malformed HTTP/1.x head, chunked framing or length headers.
pub const H1_PARSE_ERROR: &str = "h1_parse_error";
/// HTTP/2 framing violation.
pub const H2_PROTOCOL_ERROR: &str = "h2_protocol_error";
/// HPACK header block could not be decoded (dynamic table state lost).
pub const H2_HPACK_ERROR: &str = "h2_hpack_error";
/// An HTTP/2 stream was reset before completing (or with an error code).
pub const H2_STREAM_RESET: &str = "h2_stream_reset";
/// GOAWAY with an error code, or a stream refused by GOAWAY.
pub const H2_GOAWAY: &str = "h2_goaway";
/// An HTTP/2 connection (known from ALPN) did not start with the client preface.
pub const H2_PREFACE_MISSING: &str = "h2_preface_missing";
/// A body exceeded the configured limit and was cut.
pub const BODY_TRUNCATED: &str = "body_truncated";
/// Content-Encoding decoding failed (or coding unsupported); raw bytes kept.
pub const CONTENT_DECODE_ERROR: &str = "content_decode_error";
/// The connection closed before the request was complete.
pub const CLOSED_MID_REQUEST: &str = "closed_mid_request";
/// The connection closed before the response was complete.
pub const CLOSED_MID_RESPONSE: &str = "closed_mid_response";
/// The connection closed before any response head arrived.
pub const NO_RESPONSE: &str = "no_response";
/// `finish()` was called while the exchange was still in progress.
pub const CAPTURE_ENDED: &str = "capture_ended";
/// Response bytes that no request can be paired with.
pub const UNPAIRED_RESPONSE: &str = "unpaired_response";
/// Data for a connection that had already closed.
pub const DATA_AFTER_CLOSE: &str = "data_after_close";
/// The tracker dropped a connection to respect `max_connections`.
pub const CONN_EVICTED: &str = "conn_evicted";
/// A WebSocket frame broke RFC 6455/7692 (reserved bits or opcodes, unmasked client frame,
/// stray continuation, corrupt compressed data, bad handshake extensions); that direction's
/// later bytes are ignored.
pub const WS_PROTOCOL_ERROR: &str = "ws_protocol_error";
/// The connection ended inside a WebSocket frame or fragmented message (dropped, described).
pub const WS_TRUNCATED: &str = "ws_truncated";
/// A WebSocket message exceeded the size limit (`Limits::max_body`) and was cut.
pub const WS_MESSAGE_TOO_LARGE: &str = "ws_message_too_large";
