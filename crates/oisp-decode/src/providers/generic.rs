//! Calls to known AI providers on endpoints without a dedicated decoder (images, audio,
//! moderations, Bedrock Converse, ...): model, request type, text messages when present, usage
//! under the common field names, and errors.

use super::call::{AiCall, AiResponse, Message, RequestType, Role, Usage};
use super::common::{content_text, error_from_json, openai_params, parse_json_quiet, s, u};
use super::registry::ApiShape;
use crate::http::HttpResponse;
use serde_json::Value;

/// Model named by a URL segment: Azure `/deployments/{d}/…`, Bedrock `/model/{m}/invoke…`.
pub(crate) fn model_from_path_segment(path: &str) -> Option<String> {
    let p = path.split('?').next().unwrap_or(path);
    let mut segs = p.split('/');
    while let Some(seg) = segs.next() {
        if seg == "deployments" || seg == "model" {
            let m = segs.next()?;
            let m = m
                .replace("%3A", ":")
                .replace("%3a", ":")
                .replace("%2F", "/");
            return (!m.is_empty()).then_some(m);
        }
    }
    None
}

pub(crate) fn decode_request(b: &Value, call: &mut AiCall) {
    let r = &mut call.request;
    r.request_type = match call.detection.api_shape {
        ApiShape::OpenAiImages => RequestType::Image,
        ApiShape::OpenAiAudio => RequestType::Audio,
        ApiShape::OpenAiModerations => RequestType::Moderation,
        _ if b.get("messages").is_some() => RequestType::Chat,
        _ => RequestType::Other,
    };
    if let Some(m) = s(b, "model").or_else(|| s(b, "modelId")) {
        r.model = Some(m);
    }
    r.streaming = b.get("stream").and_then(Value::as_bool).unwrap_or(false)
        || call.detection.endpoint.ends_with("-stream")
        || call.detection.endpoint.ends_with("/converse-stream");
    r.params = openai_params(b.get("inferenceConfig").unwrap_or(b));
    if let Some(Value::Array(msgs)) = b.get("messages") {
        for m in msgs {
            let (content, images) = content_text(m.get("content"));
            r.messages.push(Message {
                role: Role::parse(m.get("role").and_then(Value::as_str).unwrap_or("user")),
                content,
                has_images: images > 0,
                image_count: images,
                ..Default::default()
            });
        }
    }
    if let (Some(t), _) = content_text(b.get("system")) {
        r.messages.insert(
            0,
            Message {
                role: Role::System,
                content: Some(t),
                ..Default::default()
            },
        );
    }
    r.has_system_prompt = r.messages.iter().any(|m| m.role == Role::System);
    if r.messages.is_empty() {
        if let Some(p) = s(b, "prompt").or_else(|| s(b, "input")) {
            r.prompt = Some(p.clone());
            r.messages.push(Message {
                content: Some(p),
                ..Default::default()
            });
        }
    }
}

pub(crate) fn decode_response(resp: &HttpResponse, out: &mut AiResponse, _call: &mut AiCall) {
    let Some(v) = parse_json_quiet(&resp.body.bytes) else {
        return;
    };
    if let Some(e) = error_from_json(&v).filter(|_| v.get("output").is_none()) {
        out.error = Some(e);
        return;
    }
    out.model = s(&v, "model");
    out.response_id = s(&v, "id");
    if let Some(uv) = v.get("usage") {
        let mut us = Usage {
            prompt_tokens: u(uv, "prompt_tokens")
                .or_else(|| u(uv, "input_tokens"))
                .or_else(|| u(uv, "inputTokens")),
            completion_tokens: u(uv, "completion_tokens")
                .or_else(|| u(uv, "output_tokens"))
                .or_else(|| u(uv, "outputTokens")),
            total_tokens: u(uv, "total_tokens").or_else(|| u(uv, "totalTokens")),
            cached_tokens: u(uv, "cacheReadInputTokens"),
            cache_creation_tokens: u(uv, "cacheWriteInputTokens"),
            reasoning_tokens: None,
        };
        us.fill_total();
        out.usage = (!us.is_empty()).then_some(us);
    }
}
