//! OpenAI Chat Completions (and legacy Completions) — also every OpenAI-compatible server:
//! Azure, Groq, Mistral, DeepSeek, Together, Fireworks, OpenRouter, xAI, Perplexity, vLLM,
//! LM Studio and Ollama's `/v1/chat/completions`.

use super::call::{AiCall, AiResponse, Message, RequestType, Role, ToolCall, ToolDef, ToolKind};
use super::call::{ToolResult, Usage};
use super::common::{
    as_raw_string, content_text, error_from_json, openai_params, parse_json, s, tool_choice, u,
    warn,
};
use super::sse::{is_sse, DoneMarker, SseJson};
use super::stream::{mark_first_token, ChoicesAcc};
use crate::http::HttpResponse;
use serde_json::Value;

/// Tool call objects of a (non-streamed) message.
fn tool_calls(v: Option<&Value>) -> Vec<ToolCall> {
    let Some(Value::Array(a)) = v else {
        return Vec::new();
    };
    a.iter()
        .map(|tc| {
            let f = tc.get("function");
            ToolCall {
                id: s(tc, "id"),
                name: f.and_then(|f| s(f, "name")),
                kind: s(tc, "type").unwrap_or_else(|| "function".into()),
                arguments: f
                    .and_then(|f| f.get("arguments"))
                    .map(as_raw_string)
                    .unwrap_or_default(),
            }
        })
        .collect()
}

pub(crate) fn parse_tools(b: &Value) -> Vec<ToolDef> {
    let mut out = Vec::new();
    if let Some(Value::Array(tools)) = b.get("tools") {
        for t in tools {
            let ty = s(t, "type");
            let f = t.get("function").unwrap_or(t);
            let kind = match ty.as_deref() {
                None | Some("function") => ToolKind::Function,
                Some("code_interpreter") => ToolKind::CodeInterpreter,
                Some("file_search") => ToolKind::FileSearch,
                Some(x) if x.starts_with("computer") => ToolKind::ComputerUse,
                Some(_) => ToolKind::Other,
            };
            out.push(ToolDef {
                name: s(f, "name"),
                kind,
                raw_type: ty,
                description: s(f, "description"),
            });
        }
    }
    if let Some(Value::Array(fns)) = b.get("functions") {
        for f in fns {
            out.push(ToolDef {
                name: s(f, "name"),
                kind: ToolKind::Function,
                raw_type: Some("function".into()),
                description: s(f, "description"),
            });
        }
    }
    out
}

/// Decodes a chat or legacy completions request body.
pub(crate) fn decode_request(b: &Value, call: &mut AiCall, completions: bool) {
    let r = &mut call.request;
    r.model = s(b, "model").or(r.model.take());
    r.streaming = b.get("stream").and_then(Value::as_bool).unwrap_or(false);
    r.params = openai_params(b);
    r.tools = parse_tools(b);
    r.tool_choice = tool_choice(b.get("tool_choice").or_else(|| b.get("function_call")));
    if completions {
        r.request_type = RequestType::Completion;
        let prompt = match b.get("prompt") {
            Some(Value::String(p)) => Some(p.clone()),
            Some(Value::Array(a)) => {
                let parts: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                (!parts.is_empty()).then(|| parts.join("\n"))
            }
            _ => None,
        };
        if let Some(p) = &prompt {
            r.messages.push(Message {
                role: Role::User,
                content: Some(p.clone()),
                ..Default::default()
            });
        }
        r.prompt = prompt;
        return;
    }
    r.request_type = RequestType::Chat;
    let Some(Value::Array(msgs)) = b.get("messages") else {
        warn(call, "request: chat body has no `messages` array".into());
        return;
    };
    let mut results = Vec::new();
    let mut messages = Vec::with_capacity(msgs.len());
    for m in msgs {
        let role = Role::parse(m.get("role").and_then(Value::as_str).unwrap_or("user"));
        let (content, images) = content_text(m.get("content"));
        let mut calls = tool_calls(m.get("tool_calls"));
        if let Some(fc) = m.get("function_call") {
            calls.push(ToolCall {
                id: None,
                name: s(fc, "name"),
                kind: "function".into(),
                arguments: fc.get("arguments").map(as_raw_string).unwrap_or_default(),
            });
        }
        let tool_call_id = s(m, "tool_call_id");
        if role == Role::Tool {
            if let Some(id) = &tool_call_id {
                results.push(ToolResult {
                    call_id: id.clone(),
                    content: content.clone().unwrap_or_default(),
                    is_error: None,
                });
            }
        }
        messages.push(Message {
            role,
            content,
            name: s(m, "name"),
            tool_call_id,
            tool_calls: calls,
            has_images: images > 0,
            image_count: images,
        });
    }
    let r = &mut call.request;
    r.has_system_prompt = messages.iter().any(|m| m.role == Role::System);
    r.messages = messages;
    call.tool_results.extend(results);
}

/// Usage object of Chat Completions (with DeepSeek / Groq variants).
pub(crate) fn usage(v: &Value) -> Option<Usage> {
    if !v.is_object() {
        return None;
    }
    let mut us = Usage {
        prompt_tokens: u(v, "prompt_tokens"),
        completion_tokens: u(v, "completion_tokens"),
        total_tokens: u(v, "total_tokens"),
        cached_tokens: v
            .get("prompt_tokens_details")
            .and_then(|d| u(d, "cached_tokens"))
            .or_else(|| u(v, "prompt_cache_hit_tokens")),
        cache_creation_tokens: None,
        reasoning_tokens: v
            .get("completion_tokens_details")
            .and_then(|d| u(d, "reasoning_tokens")),
    };
    us.fill_total();
    (!us.is_empty()).then_some(us)
}

fn message_reasoning(m: &Value) -> Option<String> {
    s(m, "reasoning_content").or_else(|| s(m, "reasoning"))
}

/// Decodes a chat/completions response (JSON or SSE stream).
pub(crate) fn decode_response(resp: &HttpResponse, out: &mut AiResponse, call: &mut AiCall) {
    if is_sse(resp) {
        return decode_stream(resp, out, call);
    }
    let Some(v) = parse_json(&resp.body.bytes, "response body", call) else {
        return;
    };
    if let Some(e) = error_from_json(&v) {
        out.error = Some(e);
    }
    out.model = s(&v, "model");
    out.response_id = s(&v, "id");
    out.usage = v.get("usage").and_then(usage);
    let Some(Value::Array(choices)) = v.get("choices") else {
        if out.error.is_none() {
            warn(call, "response: no `choices` array".into());
        }
        return;
    };
    for (i, c) in choices.iter().enumerate() {
        let index = u(c, "index").unwrap_or(i as u64).min(u32::MAX as u64) as u32;
        let raw = s(c, "finish_reason");
        let (text, role, reasoning, calls) = match c.get("message") {
            Some(m) => {
                let mut calls = tool_calls(m.get("tool_calls"));
                if let Some(fc) = m.get("function_call").filter(|f| f.is_object()) {
                    calls.push(ToolCall {
                        id: None,
                        name: s(fc, "name"),
                        kind: "function".into(),
                        arguments: fc.get("arguments").map(as_raw_string).unwrap_or_default(),
                    });
                }
                let text = content_text(m.get("content")).0.or_else(|| s(m, "refusal"));
                let role = m.get("role").and_then(Value::as_str).map(Role::parse);
                (text, role, message_reasoning(m), calls)
            }
            None => (s(c, "text"), None, None, Vec::new()),
        };
        out.choices.push(super::call::Choice {
            index,
            role,
            text,
            reasoning,
            tool_calls: calls,
            finish_reason: raw.as_deref().map(super::call::FinishReason::from_provider),
            raw_finish_reason: raw,
        });
    }
}

fn decode_stream(resp: &HttpResponse, out: &mut AiResponse, call: &mut AiCall) {
    let events = SseJson::new(resp, DoneMarker::Used);
    out.chunk_count = out.chunk_count.saturating_add(events.chunk_count());
    let mut acc = ChoicesAcc::default();
    for ev in events.iter() {
        let (v, ts) = match ev {
            Ok(ev) => (ev.value, ev.ts),
            Err(e) => {
                warn(call, e.to_string());
                continue;
            }
        };
        if let Some(e) = error_from_json(&v) {
            out.error = Some(e);
            continue;
        }
        if out.model.is_none() {
            out.model = s(&v, "model");
        }
        if out.response_id.is_none() {
            out.response_id = s(&v, "id");
        }
        if let Some(us) = v
            .get("usage")
            .and_then(usage)
            .or_else(|| v.get("x_groq").and_then(|x| x.get("usage")).and_then(usage))
        {
            out.usage = Some(us);
        }
        let Some(Value::Array(choices)) = v.get("choices") else {
            continue;
        };
        for (i, c) in choices.iter().enumerate() {
            let ch = acc.get(u(c, "index").unwrap_or(i as u64));
            let mut carried = false;
            if let Some(d) = c.get("delta") {
                if let Some(r) = d.get("role").and_then(Value::as_str) {
                    ch.role = Some(Role::parse(r));
                }
                if let Some(t) = d.get("content").and_then(Value::as_str) {
                    if !t.is_empty() {
                        carried = true;
                    }
                    ch.push_text(t);
                }
                if let Some(t) = message_reasoning(d) {
                    carried |= !t.is_empty();
                    ch.push_reasoning(&t);
                }
                if let Some(Value::Array(tcs)) = d.get("tool_calls") {
                    for tc in tcs {
                        carried = true;
                        let id = s(tc, "id");
                        let tcall = ch.tool(u(tc, "index"), id.as_deref());
                        if tcall.id.is_none() {
                            tcall.id = id;
                        }
                        if let Some(t) = s(tc, "type") {
                            tcall.kind = t;
                        }
                        if let Some(f) = tc.get("function") {
                            if let Some(nm) = s(f, "name").filter(|n| !n.is_empty()) {
                                tcall.name.get_or_insert(nm);
                            }
                            if let Some(a) = f.get("arguments") {
                                tcall.arguments.push_str(&as_raw_string(a));
                            }
                        }
                    }
                }
                if let Some(fc) = d.get("function_call") {
                    carried = true;
                    let tcall = ch.tool(Some(0), None);
                    if let Some(nm) = s(fc, "name") {
                        tcall.name = Some(nm);
                    }
                    if let Some(a) = fc.get("arguments") {
                        tcall.arguments.push_str(&as_raw_string(a));
                    }
                }
            } else if let Some(t) = c.get("text").and_then(Value::as_str) {
                carried = !t.is_empty();
                ch.push_text(t);
            }
            if let Some(fr) = s(c, "finish_reason") {
                ch.finish_raw = Some(fr);
            }
            if carried {
                mark_first_token(call, ts);
            }
        }
    }
    if !events.saw_done() && !acc.any_finished() && out.error.is_none() {
        warn(
            call,
            format!(
                "stream truncated: {} events, no [DONE] and no finish_reason",
                events.event_count()
            ),
        );
    }
    out.choices = acc.into_choices();
}
