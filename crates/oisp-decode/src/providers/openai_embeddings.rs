//! Embeddings: OpenAI `/v1/embeddings` (and compatibles), Ollama `/api/embed` +
//! `/api/embeddings`, Gemini `:embedContent` / `:batchEmbedContents`.
//!
//! The text sent to be embedded is what left the machine, so it is carried like a prompt: the
//! OISP v0.1 `ai.request` schema has no input field for embeddings, so each input becomes one
//! `user` message of the request, in order (and goes through redaction like any prompt). An
//! input given as token ids (an array of integers) is described — `[N token ids]` — not dumped;
//! an input that is neither text nor token ids (an image, say) is described by its JSON type.

use super::call::{AiCall, AiResponse, EmbeddingInfo, Message, RequestType, Role, Usage};
use super::common::{embedding_dims, error_from_json, parse_json, s, u, warn};
use crate::http::HttpResponse;
use serde_json::Value;

/// One embedding input as message text (see the module doc).
fn input_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) if a.iter().all(Value::is_number) => {
            let n = a.len();
            format!("[{n} token id{}]", if n == 1 { "" } else { "s" })
        }
        // Compatible APIs taking objects (`{"text": ...}`), Gemini `content` (`{"parts": [...]}`).
        Value::Object(_) => match v.get("text").and_then(Value::as_str) {
            Some(t) => t.to_string(),
            None => gemini_text(v).unwrap_or_else(|| "[non-text input: object]".into()),
        },
        Value::Null => "[non-text input: null]".into(),
        Value::Bool(_) => "[non-text input: boolean]".into(),
        Value::Number(_) => "[non-text input: number]".into(),
        Value::Array(_) => "[non-text input: array]".into(),
    }
}

/// The text parts of a Gemini `content` (`{"parts": [{"text": ...}, ...]}`), joined with '\n'.
fn gemini_text(content: &Value) -> Option<String> {
    let parts = content.get("parts")?.as_array()?;
    let t: Vec<&str> = parts
        .iter()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect();
    (!t.is_empty()).then(|| t.join("\n"))
}

/// The inputs of an embeddings request body, one text each (see the module doc).
fn inputs(b: &Value) -> Vec<String> {
    if let Some(Value::Array(reqs)) = b.get("requests") {
        // Gemini batchEmbedContents: one content per request.
        return reqs
            .iter()
            .map(|r| match r.get("content") {
                Some(c) => input_text(c),
                None => "[non-text input: no content]".into(),
            })
            .collect();
    }
    if let Some(c) = b.get("content") {
        return vec![input_text(c)];
    }
    match b.get("input").or_else(|| b.get("prompt")) {
        None | Some(Value::Null) => Vec::new(),
        // A flat array of token ids is a single input.
        Some(v @ Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_number) => {
            vec![input_text(v)]
        }
        Some(Value::Array(a)) => a.iter().map(input_text).collect(),
        Some(v) => vec![input_text(v)],
    }
}

pub(crate) fn decode_request(b: &Value, call: &mut AiCall) {
    let r = &mut call.request;
    r.request_type = RequestType::Embedding;
    if r.model.is_none() {
        r.model = s(b, "model").map(|m| m.trim_start_matches("models/").to_string());
    }
    r.messages = inputs(b)
        .into_iter()
        .map(|text| Message {
            role: Role::User,
            content: Some(text),
            ..Default::default()
        })
        .collect();
    let input_count = r.messages.len().min(u32::MAX as usize) as u32;
    call.embedding = Some(EmbeddingInfo {
        input_count,
        encoding_format: s(b, "encoding_format"),
        ..Default::default()
    });
}

pub(crate) fn decode_response(resp: &HttpResponse, out: &mut AiResponse, call: &mut AiCall) {
    let Some(v) = parse_json(&resp.body.bytes, "response body", call) else {
        return;
    };
    if let Some(e) = error_from_json(&v) {
        out.error = Some(e);
        return;
    }
    out.model = s(&v, "model");
    let vectors: Vec<&Value> = if let Some(Value::Array(data)) = v.get("data") {
        data.iter().filter_map(|d| d.get("embedding")).collect()
    } else if let Some(Value::Array(embs)) = v.get("embeddings") {
        embs.iter().map(|e| e.get("values").unwrap_or(e)).collect()
    } else if let Some(e) = v.get("embedding") {
        vec![e.get("values").unwrap_or(e)]
    } else {
        warn(call, "response: no embedding vectors found".into());
        Vec::new()
    };
    let info = call.embedding.get_or_insert_with(EmbeddingInfo::default);
    info.vector_count = vectors.len().min(u32::MAX as usize) as u32;
    info.dimensions = vectors.first().and_then(|x| embedding_dims(x));
    let mut bad_base64 = false;
    if info.dimensions.is_none() {
        bad_base64 = vectors.first().is_some_and(|x| x.is_string());
    }
    let mut usage = Usage::default();
    if let Some(us) = v.get("usage") {
        usage.prompt_tokens = u(us, "prompt_tokens");
        usage.total_tokens = u(us, "total_tokens");
    } else if let Some(n) = u(&v, "prompt_eval_count") {
        usage.prompt_tokens = Some(n);
        usage.total_tokens = Some(n);
    }
    usage.fill_total();
    info.total_tokens = usage.total_tokens;
    if !usage.is_empty() {
        out.usage = Some(usage);
    }
    if bad_base64 {
        warn(
            call,
            "response: embedding is a string but not base64 float32".into(),
        );
    }
}
