//! Ollama native API: `/api/chat` and `/api/generate`, NDJSON streaming (the default) or a single
//! JSON object with `"stream": false`. (`/v1/chat/completions` on Ollama is handled by
//! `openai_chat`.)

use super::call::{AiCall, AiResponse, FinishReason, Message, RequestType, Role, ToolCall};
use super::call::{ToolResult, Usage};
use super::common::{
    as_raw_string, ndjson_lines, openai_params, s, tool_choice, trim_ascii, u, warn,
};
use super::openai_chat::parse_tools;
use super::stream::{mark_first_token, ChoicesAcc};
use crate::http::HttpResponse;
use serde_json::Value;

fn tool_calls(v: Option<&Value>) -> Vec<ToolCall> {
    let Some(Value::Array(a)) = v else {
        return Vec::new();
    };
    a.iter()
        .map(|tc| {
            let f = tc.get("function").unwrap_or(tc);
            ToolCall {
                id: s(tc, "id"),
                name: s(f, "name"),
                kind: "function".into(),
                arguments: f.get("arguments").map(as_raw_string).unwrap_or_default(),
            }
        })
        .collect()
}

pub(crate) fn decode_request(b: &Value, call: &mut AiCall, generate: bool) {
    let r = &mut call.request;
    r.model = s(b, "model").or(r.model.take());
    // Ollama streams unless told otherwise.
    r.streaming = b.get("stream").and_then(Value::as_bool).unwrap_or(true);
    let mut params = b.get("options").map(openai_params).unwrap_or_default();
    if params.max_tokens.is_none() {
        params.max_tokens = u(b, "num_predict");
    }
    r.params = params;
    r.tools = parse_tools(b);
    r.tool_choice = tool_choice(b.get("tool_choice"));
    let mut messages = Vec::new();
    let mut results = Vec::new();
    if generate {
        r.request_type = RequestType::Completion;
        if let Some(sys) = s(b, "system") {
            messages.push(Message {
                role: Role::System,
                content: Some(sys),
                ..Default::default()
            });
        }
        let images = match b.get("images") {
            Some(Value::Array(a)) => a.len().min(u32::MAX as usize) as u32,
            _ => 0,
        };
        let prompt = s(b, "prompt");
        messages.push(Message {
            role: Role::User,
            content: prompt.clone(),
            has_images: images > 0,
            image_count: images,
            ..Default::default()
        });
        call.request.prompt = prompt;
    } else {
        r.request_type = RequestType::Chat;
        if let Some(Value::Array(msgs)) = b.get("messages") {
            for m in msgs {
                let role = Role::parse(m.get("role").and_then(Value::as_str).unwrap_or("user"));
                let images = match m.get("images") {
                    Some(Value::Array(a)) => a.len().min(u32::MAX as usize) as u32,
                    _ => 0,
                };
                let content = s(m, "content");
                let id = s(m, "tool_call_id").or_else(|| s(m, "tool_name"));
                if role == Role::Tool {
                    results.push(ToolResult {
                        call_id: id.clone().unwrap_or_default(),
                        content: content.clone().unwrap_or_default(),
                        is_error: None,
                    });
                }
                messages.push(Message {
                    role,
                    content,
                    name: s(m, "tool_name"),
                    tool_call_id: if role == Role::Tool { id } else { None },
                    tool_calls: tool_calls(m.get("tool_calls")),
                    has_images: images > 0,
                    image_count: images,
                });
            }
        } else {
            warn(call, "request: chat body has no `messages` array".into());
        }
    }
    call.request.has_system_prompt = messages.iter().any(|m| m.role == Role::System);
    call.request.messages = messages;
    call.tool_results.extend(results);
}

/// Applies one response object (a stream line or the whole body). Returns true when it carried
/// output.
fn apply(v: &Value, acc: &mut ChoicesAcc, out: &mut AiResponse, seq: &mut u64) -> bool {
    if let Some(m) = s(v, "model") {
        out.model = Some(m);
    }
    let ch = acc.get(0);
    ch.role = Some(Role::Assistant);
    let mut carried = false;
    if let Some(m) = v.get("message") {
        if let Some(t) = m.get("content").and_then(Value::as_str) {
            carried |= !t.is_empty();
            ch.push_text(t);
        }
        if let Some(t) = m.get("thinking").and_then(Value::as_str) {
            carried |= !t.is_empty();
            ch.push_reasoning(t);
        }
        for tc in tool_calls(m.get("tool_calls")) {
            *seq += 1;
            *ch.tool(Some(*seq), None) = tc;
            carried = true;
        }
    }
    if let Some(t) = v.get("response").and_then(Value::as_str) {
        carried |= !t.is_empty();
        ch.push_text(t);
    }
    if let Some(t) = v.get("thinking").and_then(Value::as_str) {
        carried |= !t.is_empty();
        ch.push_reasoning(t);
    }
    if v.get("done").and_then(Value::as_bool) == Some(true) {
        ch.finish_raw = Some(s(v, "done_reason").unwrap_or_else(|| "stop".into()));
        let mut us = Usage {
            prompt_tokens: u(v, "prompt_eval_count"),
            completion_tokens: u(v, "eval_count"),
            ..Default::default()
        };
        us.fill_total();
        if !us.is_empty() {
            out.usage = Some(us);
        }
    }
    carried
}

pub(crate) fn decode_response(resp: &HttpResponse, out: &mut AiResponse, call: &mut AiCall) {
    let mut acc = ChoicesAcc::default();
    let mut seq = 0u64;
    let lines = ndjson_lines(&resp.body, resp.ts_end);
    let streamed = lines.len() > 1 || call.request.streaming;
    let mut done = false;
    for (n, (a, b, ts)) in lines.iter().enumerate() {
        if streamed {
            out.chunk_count = out.chunk_count.saturating_add(1);
        }
        let line = trim_ascii(&resp.body.bytes[*a..*b]);
        let v: Value = match serde_json::from_slice(line) {
            Ok(v) => v,
            Err(e) => {
                warn(call, format!("stream line {n}: invalid JSON ({e})"));
                continue;
            }
        };
        if let Some(e) = v.get("error") {
            out.error = Some(super::call::AiError {
                message: Some(as_raw_string(e)),
                ..Default::default()
            });
            continue;
        }
        done |= v.get("done").and_then(Value::as_bool) == Some(true);
        if apply(&v, &mut acc, out, &mut seq) && streamed {
            mark_first_token(call, *ts);
        }
    }
    if !done && out.error.is_none() {
        warn(
            call,
            format!("stream truncated: {} lines, no `done: true`", lines.len()),
        );
    }
    let mut choices = acc.into_choices();
    for c in &mut choices {
        if c.raw_finish_reason.as_deref() == Some("stop") && !c.tool_calls.is_empty() {
            c.finish_reason = Some(FinishReason::ToolCalls);
        }
    }
    out.choices = choices;
}
