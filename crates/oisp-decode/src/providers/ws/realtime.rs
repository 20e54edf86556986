//! OpenAI Realtime (`/v1/realtime`, GA and beta event names) over WebSocket.
//!
//! The session's configuration (`session.update`: model, instructions, tools, tool choice) and
//! conversation (`conversation.item.create`, plus each response's output items) are kept; a
//! turn starts at the client's `response.create` (or, with server voice activity detection, at
//! the server's `response.created`) and ends at `response.done`. A finished turn is expressed
//! in the Responses API's shapes — request `{model, instructions, tools, input: [items]}`,
//! server events renamed to their Responses equivalents (`response.text.delta` →
//! `response.output_text.delta`, `response.done` → `response.completed`/`failed`/
//! `incomplete`, usage `input_token_details` → `input_tokens_details`) — and decoded by the
//! Responses decoder. Audio is never copied: base64 audio in items and deltas is replaced by its
//! decoded size (counted in [`WsCallInfo`]); transcripts count as text, including the server's
//! transcription of the user's speech (`conversation.item.input_audio_transcription.completed`).

use super::turn::{base64_bytes, Pending, WsCallInfo};
use super::Ctx;
use crate::providers::headers::query_param;
use oisp_capture::Timestamp;
use serde_json::{json, Map, Value};

#[derive(Default)]
pub(crate) struct Realtime {
    model: Option<String>,
    client_model: Option<String>,
    server_model: Option<String>,
    instructions: Option<Value>,
    tools: Option<Value>,
    tool_choice: Option<Value>,
    items: Vec<Value>,
    pending: Option<Pending>,
}

/// Client events understood without contributing content.
const CLIENT_KNOWN: &[&str] = &[
    "response.cancel",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "output_audio_buffer.clear",
    "conversation.item.truncate",
    "conversation.item.delete",
    "conversation.item.retrieve",
    "transcription_session.update",
];

/// Server events that are part of a response stream but carry nothing the decoder needs.
const SERVER_IN_RESPONSE: &[&str] = &[
    "response.content_part.added",
    "response.content_part.done",
    "response.output_text.done",
    "response.text.done",
    "response.output_audio.done",
    "response.audio.done",
    "response.output_audio_transcript.done",
    "response.audio_transcript.done",
];

/// Prefixes of server events about the session, the conversation or the input audio.
const SERVER_SESSION: &[&str] = &[
    "session.",
    "conversation.",
    "input_audio_buffer.",
    "output_audio_buffer.",
    "rate_limits.",
    "transcription_session.",
    "mcp_list_tools.",
    "response.mcp_call",
];

impl Realtime {
    pub fn new(path: &str) -> Self {
        Realtime {
            model: query_param(path, "model").map(str::to_string),
            ..Default::default()
        }
    }

    pub fn client(&mut self, ty: &str, v: Value, ts: Timestamp, ctx: &mut Ctx) {
        match ty {
            "session.update" => {
                let Some(s) = v.get("session") else { return };
                if let Some(m) = s.get("model").and_then(Value::as_str) {
                    self.client_model = Some(m.to_string());
                }
                for (key, slot) in [
                    ("instructions", &mut self.instructions),
                    ("tools", &mut self.tools),
                    ("tool_choice", &mut self.tool_choice),
                ] {
                    if let Some(x) = s.get(key) {
                        *slot = Some(x.clone());
                    }
                }
            }
            "conversation.item.create" => {
                if let Some(item) = v.get("item") {
                    let item = normalise_item(item, &mut ctx.info.audio_in_bytes);
                    self.items.push(item);
                }
            }
            "input_audio_buffer.append" => {
                let n = v.get("audio").and_then(Value::as_str).map_or(0, str::len);
                ctx.info.audio_in_bytes += base64_bytes(n);
            }
            "response.create" => {
                if let Some(p) = self.pending.take() {
                    ctx.warnings
                        .push("realtime: response.create before the previous response.done".into());
                    ctx.finish(p);
                }
                let r = v.get("response").cloned().unwrap_or(Value::Null);
                let body = self.request_body(&r, &mut ctx.info);
                self.pending = Some(Pending {
                    body,
                    req_start: ts,
                    req_end: ts,
                    ..Default::default()
                });
            }
            t if CLIENT_KNOWN.contains(&t) => {}
            t => ctx.unknown(t),
        }
    }

    pub fn server(&mut self, ty: &str, text: String, v: Value, ts: Timestamp, ctx: &mut Ctx) {
        let renamed = match ty {
            "session.created" | "session.updated" => {
                if let Some(m) = v.pointer("/session/model").and_then(Value::as_str) {
                    self.server_model = Some(m.to_string());
                }
                return;
            }
            "response.created" => {
                if self.pending.is_none() {
                    // Server-initiated (voice activity detection): the request is the state now.
                    let body = self.request_body(&Value::Null, &mut ctx.info);
                    self.pending = Some(Pending {
                        body,
                        req_start: ts,
                        req_end: ts,
                        ..Default::default()
                    });
                }
                "response.created"
            }
            "response.output_text.delta"
            | "response.text.delta"
            | "response.output_audio_transcript.delta"
            | "response.audio_transcript.delta" => "response.output_text.delta",
            "response.output_audio.delta" | "response.audio.delta" => {
                let n = v.get("delta").and_then(Value::as_str).map_or(0, str::len);
                ctx.info.audio_out_bytes += base64_bytes(n);
                ctx.info.audio_out_chunks += 1;
                return;
            }
            "response.function_call_arguments.delta"
            | "response.function_call_arguments.done"
            | "response.output_item.added"
            | "response.output_item.done" => ty,
            "response.done" => return self.done(v, ts, ctx),
            "conversation.item.input_audio_transcription.completed" => {
                // Speech the server turned into a user item (server voice activity detection):
                // its transcript is the user's message, unless the client created that item.
                let id = v.get("item_id").and_then(Value::as_str);
                let known = self
                    .items
                    .iter()
                    .any(|i| id.is_some() && i.get("id").and_then(Value::as_str) == id);
                if let (false, Some(t)) = (known, v.get("transcript").and_then(Value::as_str)) {
                    self.items
                        .push(json!({"type": "message", "role": "user", "id": id,
                        "content": [{"type": "input_audio", "text": t}]}));
                }
                return;
            }
            "error" => {
                if self.pending.is_none() {
                    let msg = v
                        .pointer("/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or("?");
                    ctx.warnings
                        .push(format!("realtime: server error outside a response: {msg}"));
                    return;
                }
                "error"
            }
            t if SERVER_IN_RESPONSE.contains(&t) => return,
            t if SERVER_SESSION.iter().any(|p| t.starts_with(p)) => return,
            t => return ctx.unknown(t),
        };
        match self.pending.as_mut() {
            Some(p) => {
                let data = if renamed == ty {
                    text
                } else {
                    let mut v = v;
                    v["type"] = Value::String(renamed.into());
                    v.to_string()
                };
                p.push_event(renamed, data, ts);
                if renamed == "error" {
                    if let Some(p) = self.pending.take() {
                        ctx.finish(p);
                    }
                }
            }
            None => ctx
                .warnings
                .push(format!("realtime: `{ty}` outside a response")),
        }
    }

    /// The connection ended: an unfinished turn is reported as it is.
    pub fn end(&mut self, ctx: &mut Ctx) {
        if let Some(p) = self.pending.take() {
            ctx.finish(p);
        }
    }

    fn done(&mut self, v: Value, ts: Timestamp, ctx: &mut Ctx) {
        let mut r = v.get("response").cloned().unwrap_or(Value::Null);
        if let Some(Value::Array(out)) = r.get("output") {
            for it in out {
                let it = normalise_item(it, &mut 0);
                self.items.push(it);
            }
        }
        let status = r.get("status").and_then(Value::as_str).unwrap_or("");
        let name = match status {
            "failed" => "response.failed",
            "incomplete" | "cancelled" => "response.incomplete",
            _ => "response.completed",
        };
        if let Some(us) = r.get_mut("usage").and_then(Value::as_object_mut) {
            for (from, to) in [
                ("input_token_details", "input_tokens_details"),
                ("output_token_details", "output_tokens_details"),
            ] {
                if let Some(d) = us.remove(from) {
                    us.entry(to).or_insert(d);
                }
            }
        }
        let ev = json!({"type": name, "response": r}).to_string();
        let mut p = self.pending.take().unwrap_or_else(|| Pending {
            body: self.request_body(&Value::Null, &mut WsCallInfo::default()),
            req_start: ts,
            req_end: ts,
            ..Default::default()
        });
        p.push_event(name, ev, ts);
        ctx.finish(p);
    }

    /// The turn's request in the Responses API's shape, `overrides` being `response.create`'s
    /// `response` object.
    fn request_body(&self, overrides: &Value, info: &mut WsCallInfo) -> Vec<u8> {
        let mut b = Map::new();
        let model = self
            .client_model
            .clone()
            .or_else(|| self.model.clone())
            .or_else(|| self.server_model.clone());
        if let Some(m) = model {
            b.insert("model".into(), Value::String(m));
        }
        b.insert("stream".into(), Value::Bool(true));
        for (key, base) in [
            ("instructions", &self.instructions),
            ("tools", &self.tools),
            ("tool_choice", &self.tool_choice),
        ] {
            if let Some(x) = overrides.get(key).or(base.as_ref()) {
                b.insert(key.into(), x.clone());
            }
        }
        let input: Vec<Value> = match overrides.get("input") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| normalise_item(i, &mut info.audio_in_bytes))
                .collect(),
            _ => self.items.clone(),
        };
        b.insert("input".into(), Value::Array(input));
        Value::Object(b).to_string().into_bytes()
    }
}

/// A Realtime conversation item in the Responses input shape: audio parts become text parts
/// holding their transcript (if any), their base64 audio counted into `audio_bytes` and dropped.
fn normalise_item(item: &Value, audio_bytes: &mut u64) -> Value {
    let mut item = item.clone();
    if let Some(Value::Array(parts)) = item.get_mut("content") {
        for p in parts.iter_mut() {
            let ty = p.get("type").and_then(Value::as_str).unwrap_or("");
            if ty.contains("audio") {
                let n = p.get("audio").and_then(Value::as_str).map_or(0, str::len);
                *audio_bytes += base64_bytes(n);
                let mut np = json!({"type": ty, "audio_bytes": base64_bytes(n)});
                if let Some(t) = p.get("transcript").filter(|t| t.is_string()) {
                    np["text"] = t.clone();
                }
                *p = np;
            }
        }
    }
    item
}
