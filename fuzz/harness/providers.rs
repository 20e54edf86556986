//! `providers`: (shape selector, flags, status, request body, response body) → `HttpExchange`
//! → `decode_exchange`.
//!
//! Input: selector u8, flags u8, status selector u8, request_len u16, request body, response
//! body (the rest).

use super::input::{ts, Cursor};
use oisp_capture::{ConnRole, DataSource};
use oisp_decode::http::{
    Body, ConnInfo, Headers, HttpExchange, HttpRequest, HttpResponse, HttpVersion, SseParser,
};
use oisp_decode::providers::decode_exchange;

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

/// Runs one input: builds the exchange and decodes it; must never panic.
pub fn run(data: &[u8]) {
    let ex = build_exchange(data);
    if let Some(call) = decode_exchange(&ex) {
        // The call must be serialisable the way the engine uses it (Debug at least).
        let _ = format!("{call:?}");
    }
}
