//! Provider layer: `HttpExchange` → [`AiCall`].
//!
//! [`decode_exchange`] detects the provider and API shape ([`registry`]), decodes the request and
//! response with the matching decoder, normalises usage, prices the call ([`pricing`]) and derives
//! timing. It is pure and never panics; anything not understood becomes a warning on the call.

pub mod call;
mod common;
mod detect;
mod errors;
mod generic;
mod headers;
pub mod pricing;
pub mod registry;

mod anthropic;
mod gemini;
mod ollama;
mod openai_chat;
mod openai_embeddings;
mod openai_responses;
mod sse;
mod stream;
pub mod ws;

pub use call::*;
pub(crate) use detect::split_target as split_request_target;
pub use pricing::{cost_usd, find_model, Cost, PriceMatch};
pub use registry::{
    bundle, detect, provider_for_host, ApiShape, Detection, DetectionMethod, ProviderId,
};

/// Whether a request path (without query) has the shape of an AI API endpoint, whatever the
/// host: `/chat/completions`, `/v1/messages`, `:generateContent`, `/api/chat`, ...
pub(crate) fn path_has_ai_shape(path: &str) -> bool {
    detect::shape_from_path(path).is_some()
}

use crate::http::HttpExchange;
use common::{ms_between, warn};

/// Decodes one exchange. `None` = not an AI model call (unknown host without an inference
/// fingerprint, or provider traffic such as `GET /v1/models`).
pub fn decode_exchange(ex: &HttpExchange) -> Option<AiCall> {
    let req = &ex.request;
    let body_bytes = common::trim_ascii(&req.body.bytes);
    let parsed: Result<Option<serde_json::Value>, String> = if body_bytes.is_empty() {
        Ok(None)
    } else {
        serde_json::from_slice(body_bytes)
            .map(Some)
            .map_err(|e| e.to_string())
    };
    let body = parsed.as_ref().ok().and_then(Option::as_ref);
    let detection = detect::detect_with_body(ex, body)?;
    let shape = detection.api_shape;
    if shape == ApiShape::NonInference {
        return None;
    }
    let mut call = AiCall {
        detection,
        auth: common::auth(req),
        ..Default::default()
    };
    call.timing.request_start = req.ts_start;
    call.timing.request_end = req.ts_end;
    if let Err(e) = &parsed {
        let json_expected = !matches!(shape, ApiShape::OpenAiAudio | ApiShape::OpenAiImages)
            || req
                .headers
                .get("content-type")
                .is_some_and(|c| c.contains("json"));
        if json_expected {
            warn(&mut call, format!("request body: invalid JSON ({e})"));
        }
    }
    if req.body.incomplete {
        warn(
            &mut call,
            "request body incomplete (bytes missing from capture)".into(),
        );
    }
    if let Some(e) = &req.body.decode_error {
        warn(&mut call, format!("request body could not be decoded: {e}"));
    }

    // Model from the URL: Gemini `models/{m}:…`, Azure `deployments/{d}/…`, Bedrock `model/{m}/…`.
    let path = req.path.as_str();
    call.request.model = match shape {
        ApiShape::GeminiGenerate | ApiShape::GeminiCountTokens | ApiShape::GeminiEmbed => {
            gemini::model_from_path(path)
        }
        _ => generic::model_from_path_segment(path),
    };

    let empty = serde_json::Value::Null;
    let b = body.unwrap_or(&empty);
    match shape {
        ApiShape::OpenAiChat => openai_chat::decode_request(b, &mut call, false),
        ApiShape::OpenAiCompletions => openai_chat::decode_request(b, &mut call, true),
        ApiShape::OpenAiResponses | ApiShape::OpenAiRealtime => {
            openai_responses::decode_request(b, &mut call)
        }
        ApiShape::OpenAiEmbeddings | ApiShape::OllamaEmbed | ApiShape::GeminiEmbed => {
            openai_embeddings::decode_request(b, &mut call)
        }
        ApiShape::AnthropicMessages => anthropic::decode_request(b, &mut call, false),
        ApiShape::AnthropicCountTokens => anthropic::decode_request(b, &mut call, true),
        ApiShape::GeminiGenerate => gemini::decode_request(b, &mut call, path, false),
        ApiShape::GeminiCountTokens => gemini::decode_request(b, &mut call, path, true),
        ApiShape::OllamaChat => ollama::decode_request(b, &mut call, false),
        ApiShape::OllamaGenerate => ollama::decode_request(b, &mut call, true),
        ApiShape::OpenAiImages
        | ApiShape::OpenAiAudio
        | ApiShape::OpenAiModerations
        | ApiShape::UnknownInference => generic::decode_request(b, &mut call),
        ApiShape::NonInference => {}
    }
    if shape == ApiShape::GeminiGenerate && common::query_param(path, "alt") == Some("sse") {
        call.request.streaming = true;
    }

    if let Some(resp) = &ex.response {
        let mut out = AiResponse {
            status: resp.status,
            provider_request_id: common::request_id(&resp.headers),
            rate_limit: common::rate_limit(&resp.headers),
            ..Default::default()
        };
        call.timing.response_start = Some(resp.ts_start);
        call.timing.response_end = Some(resp.ts_end);
        if resp.status >= 400 {
            out.error = Some(common::http_error(resp));
        } else {
            match shape {
                ApiShape::OpenAiChat | ApiShape::OpenAiCompletions => {
                    openai_chat::decode_response(resp, &mut out, &mut call)
                }
                ApiShape::OpenAiResponses | ApiShape::OpenAiRealtime => {
                    openai_responses::decode_response(resp, &mut out, &mut call)
                }
                ApiShape::OpenAiEmbeddings | ApiShape::OllamaEmbed | ApiShape::GeminiEmbed => {
                    openai_embeddings::decode_response(resp, &mut out, &mut call)
                }
                ApiShape::AnthropicMessages | ApiShape::AnthropicCountTokens => {
                    anthropic::decode_response(resp, &mut out, &mut call)
                }
                ApiShape::GeminiGenerate | ApiShape::GeminiCountTokens => {
                    gemini::decode_response(resp, &mut out, &mut call)
                }
                ApiShape::OllamaChat | ApiShape::OllamaGenerate => {
                    ollama::decode_response(resp, &mut out, &mut call)
                }
                _ => generic::decode_response(resp, &mut out, &mut call),
            }
        }
        if resp.body.incomplete {
            warn(
                &mut call,
                "response body incomplete (bytes missing from capture)".into(),
            );
        }
        if let Some(e) = &resp.body.decode_error {
            warn(
                &mut call,
                format!("response body could not be decoded: {e}"),
            );
        }
        finish_response(&mut out);
        call.timing.latency_ms = ms_between(req.ts_start, resp.ts_end);
        call.response = Some(out);
    } else {
        warn(&mut call, "no response captured".into());
    }
    if let Some(ft) = call.timing.first_token {
        call.timing.time_to_first_token_ms = ms_between(req.ts_start, ft);
    }
    if let Some(info) = call.embedding.as_mut() {
        if let Some(us) = call.response.as_ref().and_then(|r| r.usage.as_ref()) {
            info.total_tokens = info.total_tokens.or(us.total_tokens);
        }
    }
    call.cost = price(&call);
    Some(call)
}

fn finish_response(out: &mut AiResponse) {
    out.tool_calls = out
        .choices
        .iter()
        .flat_map(|c| c.tool_calls.iter().cloned())
        .collect();
    if let Some(c) = out.choices.first() {
        out.finish_reason = c.finish_reason;
        out.raw_finish_reason = c.raw_finish_reason.clone();
    }
    if out.error.is_some() && out.finish_reason.is_none() && out.status < 400 {
        out.finish_reason = Some(FinishReason::Error);
    }
    if let Some(us) = out.usage.as_mut() {
        us.fill_total();
    }
    out.success = (200..300).contains(&out.status) && out.error.is_none();
}

/// Prices billable calls (token counting is free) from the returned model, else the requested one.
fn price(call: &AiCall) -> Option<Cost> {
    if matches!(
        call.detection.api_shape,
        ApiShape::AnthropicCountTokens | ApiShape::GeminiCountTokens
    ) {
        return None;
    }
    let resp = call.response.as_ref()?;
    let usage = resp.usage.as_ref()?;
    let provider = call.detection.provider;
    resp.model
        .as_deref()
        .and_then(|m| cost_usd(provider, m, usage))
        .or_else(|| {
            call.request
                .model
                .as_deref()
                .and_then(|m| cost_usd(provider, m, usage))
        })
}

/// Names of the providers this build recognises by endpoint, in a stable order (for `status`):
/// [`ProviderId::ALL`] without `Unknown`.
pub fn supported_provider_names() -> Vec<String> {
    ProviderId::known().map(|p| p.name().to_string()).collect()
}

/// Number of models with prices in the embedded OISP bundle.
pub fn priced_model_count() -> usize {
    bundle()
        .models
        .values()
        .filter(|m| m.input_cost_per_1k.is_some() || m.output_cost_per_1k.is_some())
        .count()
}
