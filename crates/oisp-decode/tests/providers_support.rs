//! Shared builders for the provider tests (included by each `providers_*.rs` via `#[path]`).
#![allow(dead_code)]

use oisp_capture::Timestamp;
use oisp_decode::http::{
    Body, ConnInfo, Headers, HttpExchange, HttpRequest, HttpResponse, HttpVersion, SseEvent,
};
use serde_json::Value;
use std::sync::OnceLock;

pub fn ts(ms: u64) -> Timestamp {
    Timestamp {
        wall_ns: 1_700_000_000_000_000_000 + ms * 1_000_000,
        mono_ns: 5_000_000_000 + ms * 1_000_000,
    }
}

fn headers(h: &[(&str, &str)]) -> Headers {
    Headers(
        h.iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect(),
    )
}

fn body(bytes: &[u8], at: u64) -> Body {
    Body {
        bytes: bytes.to_vec(),
        incomplete: false,
        decode_error: None,
        arrivals: if bytes.is_empty() {
            Vec::new()
        } else {
            vec![(0, ts(at))]
        },
    }
}

pub fn req(method: &str, authority: &str, path: &str, h: &[(&str, &str)], b: &str) -> HttpRequest {
    HttpRequest {
        method: method.into(),
        path: path.into(),
        authority: (!authority.is_empty()).then(|| authority.to_string()),
        headers: headers(h),
        body: body(b.as_bytes(), 0),
        ts_start: ts(0),
        ts_end: ts(5),
    }
}

pub fn post(authority: &str, path: &str, h: &[(&str, &str)], b: &str) -> HttpRequest {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(h);
    req("POST", authority, path, &all, b)
}

/// A complete JSON response arriving at 300 ms, ending at 310 ms.
pub fn json_resp(status: u16, h: &[(&str, &str)], b: &str) -> HttpResponse {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(h);
    HttpResponse {
        status,
        headers: headers(&all),
        body: body(b.as_bytes(), 300),
        sse: None,
        ts_start: ts(300),
        ts_end: ts(310),
    }
}

/// An SSE response: `events` are (event name, data, arrival ms). The body holds the wire form.
pub fn sse_resp(h: &[(&str, &str)], events: &[(Option<&str>, &str, u64)]) -> HttpResponse {
    let mut wire = String::new();
    let mut arrivals = Vec::new();
    let mut sse = Vec::new();
    for (name, data, at) in events {
        arrivals.push((wire.len(), ts(*at)));
        if let Some(n) = name {
            wire.push_str(&format!("event: {n}\n"));
        }
        for line in data.split('\n') {
            wire.push_str(&format!("data: {line}\n"));
        }
        wire.push('\n');
        sse.push(SseEvent {
            event: name.map(str::to_string),
            data: data.to_string(),
            id: None,
            ts: ts(*at),
        });
    }
    let mut all = vec![("content-type", "text/event-stream")];
    all.extend_from_slice(h);
    let last = events.last().map_or(100, |e| e.2);
    HttpResponse {
        status: 200,
        headers: headers(&all),
        body: Body {
            bytes: wire.into_bytes(),
            incomplete: false,
            decode_error: None,
            arrivals,
        },
        sse: Some(sse),
        ts_start: ts(100),
        ts_end: ts(last + 1),
    }
}

/// A streamed non-SSE body (NDJSON / JSON array): `chunks` are (bytes, arrival ms).
pub fn chunked_resp(content_type: &str, chunks: &[(&str, u64)]) -> HttpResponse {
    let mut bytes = Vec::new();
    let mut arrivals = Vec::new();
    for (c, at) in chunks {
        arrivals.push((bytes.len(), ts(*at)));
        bytes.extend_from_slice(c.as_bytes());
    }
    let last = chunks.last().map_or(100, |c| c.1);
    HttpResponse {
        status: 200,
        headers: headers(&[("content-type", content_type)]),
        body: Body {
            bytes,
            incomplete: false,
            decode_error: None,
            arrivals,
        },
        sse: None,
        ts_start: ts(100),
        ts_end: ts(last + 1),
    }
}

pub fn exchange(request: HttpRequest, response: Option<HttpResponse>) -> HttpExchange {
    let host = request
        .authority
        .clone()
        .unwrap_or_default()
        .split(':')
        .next()
        .unwrap_or("")
        .to_string();
    let local = host == "localhost" || host == "127.0.0.1" || host.is_empty();
    HttpExchange {
        conn: ConnInfo {
            conn_id: 1,
            pid: 42,
            sni: (!local).then_some(host),
            ..Default::default()
        },
        version: HttpVersion::Http11,
        stream_id: None,
        index: 0,
        request,
        response,
        upgrade: None,
        warnings: Vec::new(),
    }
}

fn bundle() -> &'static Value {
    static B: OnceLock<Value> = OnceLock::new();
    B.get_or_init(|| {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../vendor/oisp-spec/spec/v0.1/bundle.json"
        ))
        .expect("bundle");
        serde_json::from_str(&text).expect("bundle json")
    })
}

/// (input, output, cache read) USD per 1k tokens of bundle model `key`.
pub fn price(key: &str) -> (f64, f64, Option<f64>) {
    let m = &bundle()["models"][key];
    (
        m["input_cost_per_1k"].as_f64().expect("input price"),
        m["output_cost_per_1k"].as_f64().expect("output price"),
        m["cache_read_cost_per_1k"].as_f64(),
    )
}

pub fn price_field(key: &str, field: &str) -> Option<f64> {
    bundle()["models"][key][field].as_f64()
}

pub fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12_f64.max(b.abs() * 1e-9)
}
