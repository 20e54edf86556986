//! Request/response halves under construction, and their assembly into `HttpExchange`.

use super::body::BodyBuilder;
use super::common::{ChunkMeta, Limits, Note};
use super::exchange::{ConnInfo, Headers, HttpExchange, HttpRequest, HttpResponse, HttpVersion};
use oisp_capture::Timestamp;

/// True when `content-type` names an event stream (parameters and case ignored).
pub(crate) fn is_event_stream(headers: &Headers) -> bool {
    headers.get("content-type").is_some_and(|v| {
        let mime = v.split(';').next().unwrap_or_default().trim();
        mime.eq_ignore_ascii_case("text/event-stream")
    })
}

/// A body builder configured from a message's headers.
pub(crate) fn body_for(headers: &Headers, sse: bool, limits: &Limits) -> BodyBuilder {
    BodyBuilder::new(headers.get("content-encoding"), sse, limits.max_body)
}

/// A request being assembled.
pub(crate) struct ReqPart {
    pub method: String,
    pub path: String,
    pub authority: Option<String>,
    pub headers: Headers,
    pub body: BodyBuilder,
    pub ts_start: Timestamp,
    pub ts_end: Timestamp,
    /// Chunk that carried the first byte of the request (pid/tid of the exchange).
    pub meta: ChunkMeta,
}

impl ReqPart {
    pub fn finish(self, complete: bool, notes: &mut Vec<Note>) -> HttpRequest {
        let (body, _, body_notes) = self.body.finish(complete);
        notes.extend(body_notes);
        HttpRequest {
            method: self.method,
            path: self.path,
            authority: self.authority,
            headers: self.headers,
            body,
            ts_start: self.ts_start,
            ts_end: self.ts_end,
        }
    }
}

/// A response being assembled.
pub(crate) struct RespPart {
    pub status: u16,
    pub headers: Headers,
    pub body: BodyBuilder,
    pub ts_start: Timestamp,
    pub ts_end: Timestamp,
}

impl RespPart {
    pub fn new(status: u16, headers: Headers, ts: Timestamp, limits: &Limits) -> RespPart {
        let body = body_for(&headers, is_event_stream(&headers), limits);
        RespPart {
            status,
            headers,
            body,
            ts_start: ts,
            ts_end: ts,
        }
    }

    pub fn finish(self, complete: bool, notes: &mut Vec<Note>) -> HttpResponse {
        let (body, sse, body_notes) = self.body.finish(complete);
        notes.extend(body_notes);
        HttpResponse {
            status: self.status,
            headers: self.headers,
            body,
            sse,
            ts_start: self.ts_start,
            ts_end: self.ts_end,
        }
    }
}

/// Everything needed to emit one exchange.
pub(crate) struct Assembly {
    pub version: HttpVersion,
    pub stream_id: Option<u32>,
    pub index: u32,
    pub req: ReqPart,
    pub req_complete: bool,
    pub resp: Option<(RespPart, bool)>,
    pub upgrade: Option<String>,
    pub notes: Vec<Note>,
}

impl Assembly {
    /// Builds the exchange (pid/tid taken from the request's first chunk) and its notes.
    pub fn build(self, info: &ConnInfo) -> (HttpExchange, Vec<Note>) {
        let mut notes = self.notes;
        let mut conn = info.clone();
        conn.pid = self.req.meta.pid;
        conn.tid = self.req.meta.tid;
        let request = self.req.finish(self.req_complete, &mut notes);
        let response = self.resp.map(|(r, done)| r.finish(done, &mut notes));
        let ex = HttpExchange {
            conn,
            version: self.version,
            stream_id: self.stream_id,
            index: self.index,
            request,
            response,
            upgrade: self.upgrade,
            warnings: Vec::new(),
        };
        (ex, notes)
    }
}
