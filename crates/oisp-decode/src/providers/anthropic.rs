//! Anthropic Messages API (`/v1/messages`, also via Bedrock InvokeModel) and
//! `/v1/messages/count_tokens`.

use super::call::{AiCall, AiError, AiResponse, Message, RequestType, Role, ToolCall, ToolDef};
use super::call::{ToolKind, ToolResult, Usage};
use super::common::{
    as_raw_string, content_text, error_from_json, openai_params, parse_json, s, tool_choice, u,
    warn,
};
use super::sse::{is_sse, DoneMarker, SseJson};
use super::stream::{mark_first_token, ChoiceAcc};
use crate::http::HttpResponse;
use serde_json::Value;

fn tool_defs(b: &Value) -> Vec<ToolDef> {
    let Some(Value::Array(tools)) = b.get("tools") else {
        return Vec::new();
    };
    tools
        .iter()
        .map(|t| {
            let ty = s(t, "type");
            let kind = match ty.as_deref() {
                None | Some("custom") => ToolKind::Function,
                Some(x) if x.starts_with("computer") => ToolKind::ComputerUse,
                Some(x) if x.starts_with("code_execution") => ToolKind::CodeInterpreter,
                Some(_) => ToolKind::Other,
            };
            ToolDef {
                name: s(t, "name"),
                kind,
                raw_type: ty,
                description: s(t, "description"),
            }
        })
        .collect()
}

/// Text of a tool_result `content` (string or blocks).
fn result_text(v: Option<&Value>) -> String {
    content_text(v).0.unwrap_or_default()
}

pub(crate) fn decode_request(b: &Value, call: &mut AiCall, count_tokens: bool) {
    let r = &mut call.request;
    r.request_type = if count_tokens {
        RequestType::Other
    } else {
        RequestType::Chat
    };
    if r.model.is_none() {
        r.model = s(b, "model");
    }
    r.streaming = b.get("stream").and_then(Value::as_bool).unwrap_or(false);
    r.params = openai_params(b);
    r.tools = tool_defs(b);
    r.tool_choice = tool_choice(b.get("tool_choice"));
    let mut messages = Vec::new();
    let mut results = Vec::new();
    if let (Some(text), _) = content_text(b.get("system")) {
        messages.push(Message {
            role: Role::System,
            content: Some(text),
            ..Default::default()
        });
    }
    if let Some(Value::Array(msgs)) = b.get("messages") {
        for m in msgs {
            let role = Role::parse(m.get("role").and_then(Value::as_str).unwrap_or("user"));
            let mut msg = Message {
                role,
                ..Default::default()
            };
            let mut texts: Vec<String> = Vec::new();
            match m.get("content") {
                Some(Value::String(t)) => texts.push(t.clone()),
                Some(Value::Array(blocks)) => {
                    for bl in blocks {
                        match bl.get("type").and_then(Value::as_str).unwrap_or("") {
                            "text" => texts.extend(s(bl, "text")),
                            "image" => {
                                msg.has_images = true;
                                msg.image_count = msg.image_count.saturating_add(1);
                            }
                            "tool_use" | "server_tool_use" => msg.tool_calls.push(ToolCall {
                                id: s(bl, "id"),
                                name: s(bl, "name"),
                                kind: "function".into(),
                                arguments: bl.get("input").map(as_raw_string).unwrap_or_default(),
                            }),
                            "tool_result" => {
                                let id = s(bl, "tool_use_id").unwrap_or_default();
                                let content = result_text(bl.get("content"));
                                let is_error = bl.get("is_error").and_then(Value::as_bool);
                                results.push(ToolResult {
                                    call_id: id.clone(),
                                    content: content.clone(),
                                    is_error,
                                });
                                messages.push(Message {
                                    role: Role::Tool,
                                    content: Some(content),
                                    tool_call_id: Some(id),
                                    ..Default::default()
                                });
                            }
                            // Thinking, documents, search results: no conversation text.
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
            if !texts.is_empty() {
                msg.content = Some(texts.join("\n"));
            }
            if msg.content.is_some() || !msg.tool_calls.is_empty() || msg.has_images {
                messages.push(msg);
            }
        }
    } else if !count_tokens || b.get("messages").is_some() {
        warn(
            call,
            "request: messages body has no `messages` array".into(),
        );
    }
    call.request.has_system_prompt = messages.iter().any(|m| m.role == Role::System);
    call.request.messages = messages;
    call.tool_results.extend(results);
}

/// Normalised usage: prompt tokens = input + cache read + cache creation.
fn apply_usage(v: &Value, us: &mut Usage) {
    let input = u(v, "input_tokens");
    let read = u(v, "cache_read_input_tokens");
    let created = u(v, "cache_creation_input_tokens");
    if input.is_some() || read.is_some() || created.is_some() {
        let total = input
            .unwrap_or(0)
            .saturating_add(read.unwrap_or(0))
            .saturating_add(created.unwrap_or(0));
        us.prompt_tokens = Some(total);
        us.cached_tokens = read.or(us.cached_tokens);
        us.cache_creation_tokens = created.or(us.cache_creation_tokens);
    }
    if let Some(o) = u(v, "output_tokens") {
        us.completion_tokens = Some(o);
    }
    us.total_tokens = None;
    us.fill_total();
}

fn add_block(bl: &Value, key: u64, ch: &mut ChoiceAcc) {
    match bl.get("type").and_then(Value::as_str).unwrap_or("") {
        "text" => {
            if let Some(t) = s(bl, "text") {
                ch.push_text(&t);
            }
        }
        "thinking" => {
            if let Some(t) = s(bl, "thinking") {
                ch.push_reasoning(&t);
            }
        }
        ty @ ("tool_use" | "server_tool_use") => {
            let tc = ch.tool(Some(key), None);
            tc.id = s(bl, "id");
            tc.name = s(bl, "name");
            tc.kind = if ty == "tool_use" { "function" } else { ty }.to_string();
            // Streaming starts with `input: {}` and sends the JSON as deltas.
            tc.arguments = match bl.get("input") {
                Some(Value::Object(o)) if o.is_empty() => String::new(),
                Some(v) => as_raw_string(v),
                None => String::new(),
            };
        }
        _ => {}
    }
}

pub(crate) fn decode_response(resp: &HttpResponse, out: &mut AiResponse, call: &mut AiCall) {
    if is_sse(resp) {
        return decode_stream(resp, out, call);
    }
    let Some(v) = parse_json(&resp.body.bytes, "response body", call) else {
        return;
    };
    if v.get("type").and_then(Value::as_str) == Some("error") || v.get("content").is_none() {
        if let Some(e) = error_from_json(&v) {
            out.error = Some(e);
            return;
        }
    }
    if call.detection.api_shape == super::ApiShape::AnthropicCountTokens {
        if let Some(n) = u(&v, "input_tokens") {
            out.usage = Some(Usage {
                prompt_tokens: Some(n),
                ..Default::default()
            });
        }
        return;
    }
    out.model = s(&v, "model");
    out.response_id = s(&v, "id");
    let mut us = Usage::default();
    if let Some(uv) = v.get("usage") {
        apply_usage(uv, &mut us);
    }
    out.usage = (!us.is_empty()).then_some(us);
    let mut ch = ChoiceAcc {
        role: Some(Role::Assistant),
        finish_raw: s(&v, "stop_reason"),
        ..Default::default()
    };
    match v.get("content") {
        Some(Value::Array(blocks)) => {
            for (i, bl) in blocks.iter().enumerate() {
                add_block(bl, i as u64, &mut ch);
            }
        }
        _ => warn(call, "response: no `content` array".into()),
    }
    out.choices = vec![ch.into_choice(0)];
}

fn decode_stream(resp: &HttpResponse, out: &mut AiResponse, call: &mut AiCall) {
    let events = SseJson::new(resp, DoneMarker::NotUsed);
    out.chunk_count = out.chunk_count.saturating_add(events.chunk_count());
    let mut ch = ChoiceAcc {
        role: Some(Role::Assistant),
        ..Default::default()
    };
    let mut us = Usage::default();
    let mut stopped = false;
    for ev in events.iter() {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                warn(call, e.to_string());
                continue;
            }
        };
        let (n, v) = (ev.n, ev.value);
        let ty = s(&v, "type")
            .or_else(|| ev.name.map(str::to_string))
            .unwrap_or_default();
        let idx = u(&v, "index").unwrap_or(0);
        match ty.as_str() {
            "message_start" => {
                if let Some(m) = v.get("message") {
                    out.model = s(m, "model");
                    out.response_id = s(m, "id");
                    if let Some(uv) = m.get("usage") {
                        apply_usage(uv, &mut us);
                    }
                }
            }
            "content_block_start" => {
                if let Some(bl) = v.get("content_block") {
                    add_block(bl, idx, &mut ch);
                    let ty = bl.get("type").and_then(Value::as_str).unwrap_or("");
                    if ty.contains("tool_use") {
                        mark_first_token(call, ev.ts);
                    }
                }
            }
            "content_block_delta" => {
                let Some(d) = v.get("delta") else { continue };
                match d.get("type").and_then(Value::as_str).unwrap_or("") {
                    "text_delta" => {
                        if let Some(t) = s(d, "text") {
                            ch.push_text(&t);
                            mark_first_token(call, ev.ts);
                        }
                    }
                    "input_json_delta" => {
                        if let Some(t) = s(d, "partial_json") {
                            ch.tool(Some(idx), None).arguments.push_str(&t);
                            mark_first_token(call, ev.ts);
                        }
                    }
                    "thinking_delta" => {
                        if let Some(t) = s(d, "thinking") {
                            ch.push_reasoning(&t);
                            mark_first_token(call, ev.ts);
                        }
                    }
                    "signature_delta" | "citations_delta" => {}
                    other => warn(
                        call,
                        format!("stream event {n}: unknown delta type `{other}`"),
                    ),
                }
            }
            "message_delta" => {
                if let Some(r) = v.get("delta").and_then(|d| s(d, "stop_reason")) {
                    ch.finish_raw = Some(r);
                }
                if let Some(uv) = v.get("usage") {
                    apply_usage(uv, &mut us);
                }
            }
            "message_stop" => stopped = true,
            "content_block_stop" | "ping" => {}
            "error" => {
                let e = v.get("error");
                out.error = Some(AiError {
                    kind: e.and_then(|e| s(e, "type")),
                    message: e.and_then(|e| s(e, "message")),
                    ..Default::default()
                });
            }
            other => warn(
                call,
                format!("stream event {n}: unknown event type `{other}`"),
            ),
        }
    }
    if !stopped && out.error.is_none() {
        warn(
            call,
            format!(
                "stream truncated: {} events, no message_stop",
                events.event_count()
            ),
        );
    }
    out.usage = (!us.is_empty()).then_some(us);
    out.choices = vec![ch.into_choice(0)];
}
