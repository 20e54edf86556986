//! Google Gemini (`generativelanguage.googleapis.com` and Vertex AI): `:generateContent`,
//! `:streamGenerateContent` (JSON array, possibly streamed, or SSE with `alt=sse`) and
//! `:countTokens`. Both camelCase and snake_case field names are accepted.

use super::call::{AiCall, AiResponse, Message, Params, RequestType, Role, ToolCall, ToolDef};
use super::call::{ToolKind, ToolResult, Usage};
use super::common::{
    as_raw_string, error_from_json, f, json_array_elements, parse_json, s, trim_ascii, ts_at, u,
    warn,
};
use super::sse::{is_sse, DoneMarker, SseJson};
use super::stream::{mark_first_token, ChoicesAcc};
use crate::http::HttpResponse;
use oisp_capture::Timestamp;
use serde_json::Value;

/// Field under its camelCase or snake_case name.
fn g<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel).or_else(|| v.get(snake))
}

/// Model id from `/…/models/{model}:{method}` (also `tunedModels/`).
pub(crate) fn model_from_path(path: &str) -> Option<String> {
    let p = path.split('?').next().unwrap_or(path);
    let i = p.rfind("models/")?;
    let rest = &p[i + "models/".len()..];
    let m = rest.split(':').next().unwrap_or(rest);
    (!m.is_empty()).then(|| m.to_string())
}

fn params(b: &Value) -> Params {
    let Some(gc) = g(b, "generationConfig", "generation_config") else {
        return Params::default();
    };
    let stop = match g(gc, "stopSequences", "stop_sequences") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let fk = |c: &str, sn: &str| f(gc, c).or_else(|| f(gc, sn));
    let uk = |c: &str, sn: &str| u(gc, c).or_else(|| u(gc, sn));
    Params {
        temperature: f(gc, "temperature"),
        top_p: fk("topP", "top_p"),
        top_k: fk("topK", "top_k"),
        max_tokens: uk("maxOutputTokens", "max_output_tokens"),
        frequency_penalty: fk("frequencyPenalty", "frequency_penalty"),
        presence_penalty: fk("presencePenalty", "presence_penalty"),
        stop,
        seed: gc.get("seed").and_then(Value::as_i64),
        n: uk("candidateCount", "candidate_count"),
    }
}

fn tools(b: &Value) -> Vec<ToolDef> {
    let mut out = Vec::new();
    let Some(Value::Array(ts)) = b.get("tools") else {
        return out;
    };
    for t in ts {
        if let Some(Value::Array(decls)) = g(t, "functionDeclarations", "function_declarations") {
            for d in decls {
                out.push(ToolDef {
                    name: s(d, "name"),
                    kind: ToolKind::Function,
                    raw_type: Some("function".into()),
                    description: s(d, "description"),
                });
            }
        }
        if let Value::Object(o) = t {
            for k in o.keys() {
                if k == "functionDeclarations" || k == "function_declarations" {
                    continue;
                }
                out.push(ToolDef {
                    name: Some(k.clone()),
                    kind: if k.starts_with("code") {
                        ToolKind::CodeInterpreter
                    } else {
                        ToolKind::Other
                    },
                    raw_type: Some(k.clone()),
                    description: None,
                });
            }
        }
    }
    out
}

fn function_call(fc: &Value) -> ToolCall {
    ToolCall {
        id: s(fc, "id"),
        name: s(fc, "name"),
        kind: "function".into(),
        arguments: fc.get("args").map(as_raw_string).unwrap_or_default(),
    }
}

pub(crate) fn decode_request(b: &Value, call: &mut AiCall, path: &str, count_tokens: bool) {
    let r = &mut call.request;
    r.request_type = if count_tokens {
        RequestType::Other
    } else {
        RequestType::Chat
    };
    r.streaming = path.contains(":streamGenerateContent");
    if r.model.is_none() {
        r.model = model_from_path(path).or_else(|| s(b, "model"));
    }
    // countTokens may wrap a full request in `generateContentRequest`.
    let b = g(b, "generateContentRequest", "generate_content_request").unwrap_or(b);
    r.params = params(b);
    r.tools = tools(b);
    r.tool_choice = g(b, "toolConfig", "tool_config")
        .and_then(|tc| g(tc, "functionCallingConfig", "function_calling_config"))
        .and_then(|fc| s(fc, "mode"))
        .map(|m| m.to_ascii_lowercase());
    let mut messages = Vec::new();
    let mut results = Vec::new();
    if let Some(si) = g(b, "systemInstruction", "system_instruction") {
        let text = parts_text(si.get("parts"));
        if let Some(t) = text {
            messages.push(Message {
                role: Role::System,
                content: Some(t),
                ..Default::default()
            });
        }
    }
    if let Some(Value::Array(contents)) = b.get("contents") {
        for c in contents {
            let role = Role::parse(c.get("role").and_then(Value::as_str).unwrap_or("user"));
            let mut msg = Message {
                role,
                ..Default::default()
            };
            let mut texts = Vec::new();
            if let Some(Value::Array(parts)) = c.get("parts") {
                for p in parts {
                    if let Some(t) = p.get("text").and_then(Value::as_str) {
                        if p.get("thought").and_then(Value::as_bool) != Some(true) {
                            texts.push(t);
                        }
                    } else if g(p, "inlineData", "inline_data").is_some()
                        || g(p, "fileData", "file_data").is_some()
                    {
                        msg.has_images = true;
                        msg.image_count = msg.image_count.saturating_add(1);
                    } else if let Some(fc) = g(p, "functionCall", "function_call") {
                        msg.tool_calls.push(function_call(fc));
                    } else if let Some(fr) = g(p, "functionResponse", "function_response") {
                        let id = s(fr, "id").or_else(|| s(fr, "name")).unwrap_or_default();
                        let content = fr.get("response").map(as_raw_string).unwrap_or_default();
                        results.push(ToolResult {
                            call_id: id.clone(),
                            content: content.clone(),
                            is_error: None,
                        });
                        messages.push(Message {
                            role: Role::Tool,
                            content: Some(content),
                            name: s(fr, "name"),
                            tool_call_id: Some(id),
                            ..Default::default()
                        });
                    }
                }
            }
            if !texts.is_empty() {
                msg.content = Some(texts.join("\n"));
            }
            if msg.content.is_some() || !msg.tool_calls.is_empty() || msg.has_images {
                messages.push(msg);
            }
        }
    }
    call.request.has_system_prompt = messages.iter().any(|m| m.role == Role::System);
    call.request.messages = messages;
    call.tool_results.extend(results);
}

fn parts_text(parts: Option<&Value>) -> Option<String> {
    let Some(Value::Array(parts)) = parts else {
        return None;
    };
    let t: Vec<&str> = parts
        .iter()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect();
    (!t.is_empty()).then(|| t.join("\n"))
}

fn usage(v: &Value) -> Option<Usage> {
    if !v.is_object() {
        return None;
    }
    let cand = u(v, "candidatesTokenCount");
    let thoughts = u(v, "thoughtsTokenCount");
    let mut us = Usage {
        prompt_tokens: u(v, "promptTokenCount"),
        completion_tokens: match (cand, thoughts) {
            (None, None) => None,
            (c, t) => Some(c.unwrap_or(0).saturating_add(t.unwrap_or(0))),
        },
        total_tokens: u(v, "totalTokenCount"),
        cached_tokens: u(v, "cachedContentTokenCount"),
        cache_creation_tokens: None,
        reasoning_tokens: thoughts,
    };
    us.fill_total();
    (!us.is_empty()).then_some(us)
}

/// Applies one GenerateContentResponse (whole or a stream chunk). Returns true when it carried
/// output (text, thought or function call).
fn apply_chunk(v: &Value, acc: &mut ChoicesAcc, out: &mut AiResponse, tool_seq: &mut u64) -> bool {
    if let Some(m) = s(v, "modelVersion") {
        out.model = Some(m);
    }
    if let Some(id) = s(v, "responseId") {
        out.response_id = Some(id);
    }
    if let Some(us) = v.get("usageMetadata").and_then(usage) {
        out.usage = Some(us);
    }
    if let Some(block) = v.get("promptFeedback").and_then(|p| s(p, "blockReason")) {
        acc.get(0).finish_raw = Some(block);
    }
    let mut carried = false;
    let Some(Value::Array(cands)) = v.get("candidates") else {
        return false;
    };
    for (i, c) in cands.iter().enumerate() {
        let ch = acc.get(u(c, "index").unwrap_or(i as u64));
        ch.role = Some(Role::Assistant);
        if let Some(Value::Array(parts)) = c.get("content").and_then(|x| x.get("parts")) {
            for p in parts {
                if let Some(t) = p.get("text").and_then(Value::as_str) {
                    if p.get("thought").and_then(Value::as_bool) == Some(true) {
                        ch.push_reasoning(t);
                    } else {
                        ch.push_text(t);
                    }
                    carried |= !t.is_empty();
                } else if let Some(fc) = p.get("functionCall") {
                    *tool_seq += 1;
                    *ch.tool(Some(*tool_seq), None) = function_call(fc);
                    carried = true;
                }
            }
        }
        if let Some(fr) = s(c, "finishReason") {
            ch.finish_raw = Some(fr);
        }
    }
    carried
}

fn finish(acc: ChoicesAcc, out: &mut AiResponse) {
    let mut choices = acc.into_choices();
    for c in &mut choices {
        // Gemini says STOP even when it returned function calls.
        if c.raw_finish_reason.as_deref() == Some("STOP") && !c.tool_calls.is_empty() {
            c.finish_reason = Some(super::call::FinishReason::ToolCalls);
        }
    }
    out.choices = choices;
}

pub(crate) fn decode_response(resp: &HttpResponse, out: &mut AiResponse, call: &mut AiCall) {
    let mut acc = ChoicesAcc::default();
    let mut seq = 0u64;
    let count = call.detection.api_shape == super::ApiShape::GeminiCountTokens;
    if is_sse(resp) {
        let events = SseJson::new(resp, DoneMarker::NotUsed);
        out.chunk_count = out.chunk_count.saturating_add(events.chunk_count());
        for ev in events.iter() {
            match ev {
                Ok(ev) => chunk(&ev.value, ev.ts, &mut acc, out, call, &mut seq),
                Err(e) => warn(call, e.to_string()),
            }
        }
        if !acc.any_finished() && out.error.is_none() {
            warn(
                call,
                format!(
                    "stream truncated: {} events, no finishReason",
                    events.event_count()
                ),
            );
        }
        return finish(acc, out);
    }
    let body = trim_ascii(&resp.body.bytes);
    if body.first() == Some(&b'[') {
        let start = resp
            .body
            .bytes
            .iter()
            .take_while(|c| c.is_ascii_whitespace())
            .count();
        let (elems, closed) = json_array_elements(body);
        for (n, (a, b)) in elems.iter().enumerate() {
            out.chunk_count = out.chunk_count.saturating_add(1);
            let ts = ts_at(&resp.body, start + b.saturating_sub(1), resp.ts_end);
            match serde_json::from_slice::<Value>(&body[*a..*b]) {
                Ok(v) => chunk(&v, ts, &mut acc, out, call, &mut seq),
                Err(e) => warn(
                    call,
                    format!("stream array element {n}: invalid JSON ({e})"),
                ),
            }
        }
        if !closed {
            warn(
                call,
                format!(
                    "stream truncated: JSON array not closed after {} elements",
                    elems.len()
                ),
            );
        }
        return finish(acc, out);
    }
    let Some(v) = parse_json(&resp.body.bytes, "response body", call) else {
        return;
    };
    if let Some(e) = error_from_json(&v) {
        out.error = Some(e);
        return;
    }
    if count {
        if let Some(n) = u(&v, "totalTokens") {
            out.usage = Some(Usage {
                prompt_tokens: Some(n),
                cached_tokens: u(&v, "cachedContentTokenCount"),
                ..Default::default()
            });
        }
        return;
    }
    apply_chunk(&v, &mut acc, out, &mut seq);
    finish(acc, out);
}

fn chunk(
    v: &Value,
    ts: Timestamp,
    acc: &mut ChoicesAcc,
    out: &mut AiResponse,
    call: &mut AiCall,
    seq: &mut u64,
) {
    if let Some(e) = error_from_json(v) {
        out.error = Some(e);
        return;
    }
    if apply_chunk(v, acc, out, seq) {
        mark_first_token(call, ts);
    }
}
