//! Helpers shared by the decoders: JSON access, headers, errors, stream framing and timing
//! (SSE streams: [`super::sse`]).

use super::call::{AiCall, Params, ToolCall};
use crate::http::Body;
use oisp_capture::Timestamp;
use serde_json::Value;

pub(crate) use super::errors::{error_from_json, http_error};
pub(crate) use super::headers::{auth, query_param, rate_limit, request_id};

/// At most this many warnings are kept per call (the last one says how many were dropped).
const MAX_WARNINGS: usize = 64;
/// Longest error message / raw text snippet copied from a body.
const MAX_SNIPPET: usize = 2048;

pub(crate) fn warn(call: &mut AiCall, msg: String) {
    if call.warnings.len() < MAX_WARNINGS {
        call.warnings.push(msg);
    } else if call.warnings.len() == MAX_WARNINGS {
        call.warnings
            .push("further warnings dropped (limit reached)".to_string());
    }
}

/// Parses JSON silently (used for fingerprints).
pub(crate) fn parse_json_quiet(bytes: &[u8]) -> Option<Value> {
    let t = trim_ascii(bytes);
    if t.first() != Some(&b'{') && t.first() != Some(&b'[') {
        return None;
    }
    serde_json::from_slice(t).ok()
}

/// Parses JSON, recording a warning naming `what` when it is not valid.
pub(crate) fn parse_json(bytes: &[u8], what: &str, call: &mut AiCall) -> Option<Value> {
    let t = trim_ascii(bytes);
    if t.is_empty() {
        return None;
    }
    match serde_json::from_slice(t) {
        Ok(v) => Some(v),
        Err(e) => {
            warn(call, format!("{what}: invalid JSON ({e})"));
            None
        }
    }
}

pub(crate) fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

pub(crate) fn snippet(s: &str) -> String {
    if s.len() <= MAX_SNIPPET {
        return s.to_string();
    }
    let mut end = MAX_SNIPPET;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

pub(crate) fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

pub(crate) fn u(v: &Value, key: &str) -> Option<u64> {
    let x = v.get(key)?;
    x.as_u64()
        .or_else(|| {
            x.as_f64()
                .filter(|f| *f >= 0.0 && f.is_finite())
                .map(|f| f as u64)
        })
        .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
}

pub(crate) fn f(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// A JSON value as a string: strings verbatim, anything else serialised.
pub(crate) fn as_raw_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Common sampling parameters under their OpenAI names (also used by Anthropic/Ollama options).
pub(crate) fn openai_params(b: &Value) -> Params {
    let stop = match b.get("stop").or_else(|| b.get("stop_sequences")) {
        Some(Value::String(x)) => vec![x.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    Params {
        temperature: f(b, "temperature"),
        top_p: f(b, "top_p"),
        top_k: f(b, "top_k"),
        max_tokens: u(b, "max_completion_tokens")
            .or_else(|| u(b, "max_tokens"))
            .or_else(|| u(b, "max_output_tokens"))
            .or_else(|| u(b, "num_predict")),
        frequency_penalty: f(b, "frequency_penalty"),
        presence_penalty: f(b, "presence_penalty"),
        stop,
        seed: b.get("seed").and_then(Value::as_i64),
        n: u(b, "n"),
    }
}

/// Flattens `tool_choice` of any provider to a string.
pub(crate) fn tool_choice(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(x) => Some(x.clone()),
        Value::Object(o) => o
            .get("name")
            .and_then(Value::as_str)
            .or_else(|| {
                o.get("function")
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str)
            })
            .or_else(|| o.get("type").and_then(Value::as_str))
            .map(str::to_string),
        _ => None,
    }
}

/// Time at which byte `offset` of `body` was captured (falls back to `default`).
pub(crate) fn ts_at(body: &Body, offset: usize, default: Timestamp) -> Timestamp {
    let i = body.arrivals.partition_point(|(o, _)| *o <= offset);
    if i == 0 {
        body.arrivals.first().map_or(default, |(_, t)| *t)
    } else {
        body.arrivals[i - 1].1
    }
}

/// Non-empty lines of an NDJSON body as (start, end) byte ranges plus their completion time.
pub(crate) fn ndjson_lines(body: &Body, default: Timestamp) -> Vec<(usize, usize, Timestamp)> {
    let b = &body.bytes;
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let end = b[pos..]
            .iter()
            .position(|c| *c == b'\n')
            .map_or(b.len(), |i| pos + i);
        if !trim_ascii(&b[pos..end]).is_empty() {
            out.push((pos, end, ts_at(body, end.saturating_sub(1), default)));
        }
        pos = end + 1;
    }
    out
}

/// Top-level elements of a JSON array body as byte ranges, scanning strings/escapes and depth.
/// Returns the ranges and whether the array was closed.
pub(crate) fn json_array_elements(b: &[u8]) -> (Vec<(usize, usize)>, bool) {
    let mut out = Vec::new();
    let Some(open) = b.iter().position(|c| !c.is_ascii_whitespace()) else {
        return (out, false);
    };
    if b[open] != b'[' {
        return (out, false);
    }
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    let mut start: Option<usize> = None;
    for (i, &c) in b.iter().enumerate().skip(open + 1) {
        if in_str {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            continue;
        }
        match c {
            b'"' => {
                in_str = true;
                start.get_or_insert(i);
            }
            b'{' | b'[' => {
                depth += 1;
                start.get_or_insert(i);
            }
            b'}' | b']' if depth > 0 => {
                depth -= 1;
            }
            b']' => {
                if let Some(s0) = start.take() {
                    out.push((s0, i));
                }
                return (out, true);
            }
            b',' if depth == 0 => {
                if let Some(s0) = start.take() {
                    out.push((s0, i));
                }
            }
            c if !c.is_ascii_whitespace() => {
                start.get_or_insert(i);
            }
            _ => {}
        }
    }
    if let Some(s0) = start {
        out.push((s0, b.len()));
    }
    (out, false)
}

/// Text of a content value: a string, or an array of parts whose text parts are joined with
/// '\n'. Returns (text, image count).
pub(crate) fn content_text(v: Option<&Value>) -> (Option<String>, u32) {
    match v {
        Some(Value::String(x)) => (Some(x.clone()), 0),
        Some(Value::Array(parts)) => {
            let mut texts: Vec<&str> = Vec::new();
            let mut images = 0u32;
            for p in parts {
                if let Value::String(x) = p {
                    texts.push(x);
                    continue;
                }
                let ty = p.get("type").and_then(Value::as_str).unwrap_or("");
                match ty {
                    "image_url" | "input_image" | "image" => images = images.saturating_add(1),
                    _ => {
                        if let Some(t) = p.get("text").and_then(Value::as_str) {
                            texts.push(t);
                        }
                    }
                }
            }
            ((!texts.is_empty()).then(|| texts.join("\n")), images)
        }
        _ => (None, 0),
    }
}

/// Counts dimensions of an embedding: an array of numbers, or base64 little-endian float32.
pub(crate) fn embedding_dims(v: &Value) -> Option<u32> {
    match v {
        Value::Array(a) => Some(a.len().min(u32::MAX as usize) as u32),
        Value::String(b64) => {
            use base64::Engine;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()?;
            (raw.len() % 4 == 0).then_some((raw.len() / 4).min(u32::MAX as usize) as u32)
        }
        _ => None,
    }
}

/// Accumulates streamed tool calls keyed by (choice, index or id), preserving first-seen order.
#[derive(Default)]
pub(crate) struct ToolAcc {
    pub calls: Vec<(u64, ToolCall)>,
}

impl ToolAcc {
    /// Returns the call for `key`, creating it (in order) when new.
    pub fn entry(&mut self, key: u64) -> &mut ToolCall {
        let i = match self.calls.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.calls.push((
                    key,
                    ToolCall {
                        kind: "function".into(),
                        ..Default::default()
                    },
                ));
                self.calls.len() - 1
            }
        };
        &mut self.calls[i].1
    }

    pub fn into_calls(self) -> Vec<ToolCall> {
        self.calls.into_iter().map(|(_, c)| c).collect()
    }
}

/// Milliseconds between two timestamps (monotonic clock, wall clock when monotonic is absent).
pub(crate) fn ms_between(a: Timestamp, b: Timestamp) -> Option<u64> {
    let (x, y) = if a.mono_ns != 0 || b.mono_ns != 0 {
        (a.mono_ns, b.mono_ns)
    } else {
        (a.wall_ns, b.wall_ns)
    };
    y.checked_sub(x).map(|d| d / 1_000_000)
}
