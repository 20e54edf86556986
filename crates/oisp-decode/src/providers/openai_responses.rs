//! OpenAI Responses API (`POST /v1/responses`), JSON and streamed.

use super::call::{AiCall, AiError, AiResponse, Message, RequestType, Role, ToolCall};
use super::call::{ToolResult, Usage};
use super::common::{
    as_raw_string, content_text, error_from_json, openai_params, parse_json, s, tool_choice, u,
    warn,
};
use super::openai_chat::parse_tools;
use super::sse::{is_sse, DoneMarker, SseJson};
use super::stream::{mark_first_token, ChoiceAcc};
use crate::http::HttpResponse;
use serde_json::Value;

pub(crate) fn decode_request(b: &Value, call: &mut AiCall) {
    let r = &mut call.request;
    r.request_type = RequestType::Chat;
    r.model = s(b, "model").or(r.model.take());
    r.streaming = b.get("stream").and_then(Value::as_bool).unwrap_or(false);
    r.params = openai_params(b);
    r.tools = parse_tools(b);
    r.tool_choice = tool_choice(b.get("tool_choice"));
    let mut messages = Vec::new();
    let mut results = Vec::new();
    if let Some(i) = s(b, "instructions") {
        messages.push(Message {
            role: Role::System,
            content: Some(i),
            ..Default::default()
        });
    }
    match b.get("input") {
        Some(Value::String(t)) => messages.push(Message {
            role: Role::User,
            content: Some(t.clone()),
            ..Default::default()
        }),
        Some(Value::Array(items)) => {
            for it in items {
                let ty = it.get("type").and_then(Value::as_str).unwrap_or("message");
                match ty {
                    "message" => {
                        let (content, images) = content_text(it.get("content"));
                        messages.push(Message {
                            role: Role::parse(
                                it.get("role").and_then(Value::as_str).unwrap_or("user"),
                            ),
                            content,
                            has_images: images > 0,
                            image_count: images,
                            ..Default::default()
                        });
                    }
                    "function_call" | "custom_tool_call" => messages.push(Message {
                        role: Role::Assistant,
                        tool_calls: vec![ToolCall {
                            id: s(it, "call_id").or_else(|| s(it, "id")),
                            name: s(it, "name"),
                            kind: "function".into(),
                            arguments: it
                                .get("arguments")
                                .or_else(|| it.get("input"))
                                .map(as_raw_string)
                                .unwrap_or_default(),
                        }],
                        ..Default::default()
                    }),
                    "function_call_output" | "custom_tool_call_output" => {
                        let call_id = s(it, "call_id").unwrap_or_default();
                        let content = match it.get("output") {
                            Some(Value::Array(_)) => content_text(it.get("output")).0,
                            Some(o) => Some(as_raw_string(o)),
                            None => None,
                        };
                        results.push(ToolResult {
                            call_id: call_id.clone(),
                            content: content.clone().unwrap_or_default(),
                            is_error: None,
                        });
                        messages.push(Message {
                            role: Role::Tool,
                            content,
                            tool_call_id: Some(call_id),
                            ..Default::default()
                        });
                    }
                    // Reasoning items and references carry no conversation text.
                    "reasoning" | "item_reference" => {}
                    other => warn(call, format!("request: unknown input item type `{other}`")),
                }
            }
        }
        _ => {}
    }
    call.request.has_system_prompt = messages.iter().any(|m| m.role == Role::System);
    call.request.messages = messages;
    call.tool_results.extend(results);
}

fn usage(v: &Value) -> Option<Usage> {
    if !v.is_object() {
        return None;
    }
    let mut us = Usage {
        prompt_tokens: u(v, "input_tokens"),
        completion_tokens: u(v, "output_tokens"),
        total_tokens: u(v, "total_tokens"),
        cached_tokens: v
            .get("input_tokens_details")
            .and_then(|d| u(d, "cached_tokens")),
        cache_creation_tokens: None,
        reasoning_tokens: v
            .get("output_tokens_details")
            .and_then(|d| u(d, "reasoning_tokens")),
    };
    us.fill_total();
    (!us.is_empty()).then_some(us)
}

/// Adds the `output` items of a response object to a choice.
fn apply_output(output: &Value, ch: &mut ChoiceAcc) {
    let Value::Array(items) = output else {
        return;
    };
    for (i, it) in items.iter().enumerate() {
        match it.get("type").and_then(Value::as_str).unwrap_or("") {
            "message" => {
                if let Some(Value::Array(parts)) = it.get("content") {
                    for p in parts {
                        if let Some(t) = s(p, "text").or_else(|| s(p, "refusal")) {
                            ch.push_text(&t);
                        }
                    }
                }
            }
            "function_call" | "custom_tool_call" => {
                let tc = ch.tool(Some(i as u64), None);
                tc.id = s(it, "call_id").or_else(|| s(it, "id"));
                tc.name = s(it, "name");
                tc.arguments = it
                    .get("arguments")
                    .or_else(|| it.get("input"))
                    .map(as_raw_string)
                    .unwrap_or_default();
            }
            "reasoning" => {
                for key in ["summary", "content"] {
                    if let Some(Value::Array(parts)) = it.get(key) {
                        for p in parts {
                            if let Some(t) = s(p, "text") {
                                ch.push_reasoning(&t);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Reads status / usage / error / model of a response object into `out`; returns the raw
/// finish reason it implies.
fn apply_response_object(r: &Value, out: &mut AiResponse) -> Option<String> {
    if let Some(m) = s(r, "model") {
        out.model = Some(m);
    }
    if let Some(id) = s(r, "id") {
        out.response_id = Some(id);
    }
    if let Some(us) = r.get("usage").and_then(usage) {
        out.usage = Some(us);
    }
    if let Some(e) = r.get("error").filter(|e| e.is_object()) {
        out.error = Some(AiError {
            kind: s(e, "type"),
            message: s(e, "message"),
            code: e.get("code").filter(|c| !c.is_null()).map(as_raw_string),
            param: None,
        });
    }
    match s(r, "status").as_deref() {
        Some("incomplete") => r
            .get("incomplete_details")
            .and_then(|d| s(d, "reason"))
            .or_else(|| Some("incomplete".into())),
        Some("failed") => Some("failed".into()),
        Some(st) => Some(st.to_string()),
        None => None,
    }
}

fn finish(ch: &mut ChoiceAcc, status: Option<String>) {
    let raw = match status.as_deref() {
        Some("completed") if !ch.tools.calls.is_empty() => Some("tool_calls".into()),
        Some("in_progress" | "queued") => None,
        _ => status,
    };
    ch.finish_raw = raw;
    ch.role = Some(Role::Assistant);
}

pub(crate) fn decode_response(resp: &HttpResponse, out: &mut AiResponse, call: &mut AiCall) {
    if is_sse(resp) {
        return decode_stream(resp, out, call);
    }
    let Some(v) = parse_json(&resp.body.bytes, "response body", call) else {
        return;
    };
    if v.get("object").and_then(Value::as_str) != Some("response") {
        if let Some(e) = error_from_json(&v).filter(|_| v.get("output").is_none()) {
            out.error = Some(e);
            return;
        }
    }
    let mut ch = ChoiceAcc::default();
    let status = apply_response_object(&v, out);
    if let Some(o) = v.get("output") {
        apply_output(o, &mut ch);
    }
    finish(&mut ch, status);
    out.choices = vec![ch.into_choice(0)];
}

/// Event types that carry nothing this decoder needs (hosted tools progress, audio, ...).
fn ignorable(ty: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "response.web_search_call.",
        "response.file_search_call.",
        "response.code_interpreter_call",
        "response.image_generation_call.",
        "response.mcp_",
        "response.audio",
        "response.computer_call",
        "response.custom_tool_call_input.",
        "response.queued",
    ];
    matches!(
        ty,
        "response.content_part.added"
            | "response.content_part.done"
            | "response.output_text.done"
            | "response.output_text.annotation.added"
            | "response.refusal.done"
            | "response.reasoning_summary_part.added"
            | "response.reasoning_summary_part.done"
            | "response.reasoning_summary_text.done"
            | "response.reasoning_text.done"
            | "response.reasoning.done"
            | "response.reasoning_summary.done"
    ) || PREFIXES.iter().any(|p| ty.starts_with(p))
}

fn decode_stream(resp: &HttpResponse, out: &mut AiResponse, call: &mut AiCall) {
    let events = SseJson::new(resp, DoneMarker::Used);
    out.chunk_count = out.chunk_count.saturating_add(events.chunk_count());
    let mut ch = ChoiceAcc::default();
    let mut status: Option<String> = None;
    let mut final_output: Option<Value> = None;
    let mut terminal = false;
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
        let oi = u(&v, "output_index");
        match ty.as_str() {
            "response.created" | "response.in_progress" => {
                if let Some(r) = v.get("response") {
                    apply_response_object(r, out);
                }
            }
            "response.completed" | "response.failed" | "response.incomplete" => {
                terminal = true;
                if let Some(r) = v.get("response") {
                    status = apply_response_object(r, out);
                    final_output = r.get("output").cloned();
                }
            }
            "error" => {
                terminal = true;
                out.error = Some(AiError {
                    kind: s(&v, "code").or_else(|| Some("error".into())),
                    message: s(&v, "message"),
                    code: v.get("code").filter(|c| !c.is_null()).map(as_raw_string),
                    param: v.get("param").filter(|p| !p.is_null()).map(as_raw_string),
                });
                if let Some(e) = v.get("error").filter(|e| e.is_object()) {
                    out.error = error_from_json(&serde_json::json!({ "error": e }));
                }
            }
            "response.output_item.added" | "response.output_item.done" => {
                let Some(item) = v.get("item") else { continue };
                if matches!(
                    s(item, "type").as_deref(),
                    Some("function_call" | "custom_tool_call")
                ) {
                    let done = ty.ends_with(".done");
                    let tc = ch.tool(oi, None);
                    tc.id = s(item, "call_id")
                        .or_else(|| s(item, "id"))
                        .or(tc.id.take());
                    if let Some(nm) = s(item, "name") {
                        tc.name = Some(nm);
                    }
                    let args = item.get("arguments").or_else(|| item.get("input"));
                    if let Some(a) = args.map(as_raw_string).filter(|a| !a.is_empty()) {
                        if done || tc.arguments.is_empty() {
                            tc.arguments = a;
                        }
                    }
                    if !done {
                        mark_first_token(call, ev.ts);
                    }
                }
            }
            "response.output_text.delta" | "response.refusal.delta" => {
                if let Some(d) = s(&v, "delta") {
                    ch.push_text(&d);
                    mark_first_token(call, ev.ts);
                }
            }
            "response.function_call_arguments.delta" => {
                if let Some(d) = s(&v, "delta") {
                    ch.tool(oi, None).arguments.push_str(&d);
                    mark_first_token(call, ev.ts);
                }
            }
            "response.function_call_arguments.done" => {
                if let Some(a) = s(&v, "arguments") {
                    ch.tool(oi, None).arguments = a;
                }
            }
            t if t.starts_with("response.reasoning") && t.ends_with(".delta") => {
                if let Some(d) = s(&v, "delta") {
                    ch.push_reasoning(&d);
                    mark_first_token(call, ev.ts);
                }
            }
            t if ignorable(t) => {}
            t => warn(call, format!("stream event {n}: unknown event type `{t}`")),
        }
    }
    if ch.text.is_none() && ch.tools.calls.is_empty() {
        if let Some(o) = &final_output {
            apply_output(o, &mut ch);
        }
    }
    if !terminal {
        warn(
            call,
            format!(
                "stream truncated: {} events, no response.completed/failed/incomplete",
                events.event_count()
            ),
        );
    }
    if status.as_deref() == Some("failed") && out.error.is_none() {
        out.error = Some(AiError {
            kind: Some("response_failed".into()),
            ..Default::default()
        });
    }
    finish(&mut ch, status);
    out.choices = vec![ch.into_choice(0)];
}
