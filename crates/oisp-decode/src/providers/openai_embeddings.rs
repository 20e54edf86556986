//! Embeddings: OpenAI `/v1/embeddings` (and compatibles), Ollama `/api/embed` +
//! `/api/embeddings`, Gemini `:embedContent` / `:batchEmbedContents`.

use super::call::{AiCall, AiResponse, EmbeddingInfo, RequestType, Usage};
use super::common::{embedding_dims, error_from_json, parse_json, s, u, warn};
use crate::http::HttpResponse;
use serde_json::Value;

fn count_inputs(v: Option<&Value>) -> u32 {
    match v {
        Some(Value::Array(a)) => {
            // A flat array of token ids is a single input.
            if !a.is_empty() && a.iter().all(Value::is_number) {
                1
            } else {
                a.len().min(u32::MAX as usize) as u32
            }
        }
        Some(Value::Null) | None => 0,
        Some(_) => 1,
    }
}

pub(crate) fn decode_request(b: &Value, call: &mut AiCall) {
    let r = &mut call.request;
    r.request_type = RequestType::Embedding;
    if r.model.is_none() {
        r.model = s(b, "model").map(|m| m.trim_start_matches("models/").to_string());
    }
    let input_count = if let Some(Value::Array(reqs)) = b.get("requests") {
        reqs.len().min(u32::MAX as usize) as u32
    } else if b.get("content").is_some() {
        1
    } else {
        count_inputs(b.get("input").or_else(|| b.get("prompt")))
    };
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
