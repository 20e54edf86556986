//! Error bodies of every provider, and HTTP status fallbacks.

use super::call::AiError;
use super::common::{as_raw_string, parse_json_quiet, s, snippet, trim_ascii};
use crate::http::HttpResponse;
use serde_json::Value;

/// Reads an error object in any provider's shape:
/// OpenAI/Azure/Groq `{"error":{"message","type","param","code"}}`, Anthropic
/// `{"type":"error","error":{"type","message"}}`, Gemini `{"error":{"code","message","status"}}`,
/// Ollama `{"error":"..."}`, vLLM `{"object":"error","message","type","code"}`, FastAPI
/// `{"detail": ...}`; a JSON array (Gemini stream) is searched element by element.
pub(crate) fn error_from_json(v: &Value) -> Option<AiError> {
    if let Value::Array(a) = v {
        return a.iter().take(16).find_map(error_from_json);
    }
    let code_str = |x: Option<&Value>| x.filter(|c| !c.is_null()).map(as_raw_string);
    if let Some(e) = v.get("error") {
        return match e {
            Value::String(m) => Some(AiError {
                message: Some(m.clone()),
                kind: s(v, "type").filter(|t| t != "error"),
                ..Default::default()
            }),
            Value::Object(_) => Some(AiError {
                kind: s(e, "type").or_else(|| s(e, "status")),
                message: s(e, "message"),
                code: code_str(e.get("code")),
                param: e.get("param").filter(|p| !p.is_null()).map(as_raw_string),
            }),
            _ => None,
        };
    }
    if v.get("object").and_then(Value::as_str) == Some("error") {
        return Some(AiError {
            kind: s(v, "type"),
            message: s(v, "message"),
            code: code_str(v.get("code")),
            param: v.get("param").filter(|p| !p.is_null()).map(as_raw_string),
        });
    }
    if let Some(d) = v.get("detail") {
        return Some(AiError {
            message: Some(snippet(&as_raw_string(d))),
            ..Default::default()
        });
    }
    if let (Some(m), true) = (
        v.get("message").and_then(Value::as_str),
        v.get("choices").is_none(),
    ) {
        return Some(AiError {
            message: Some(m.to_string()),
            kind: s(v, "type"),
            code: code_str(v.get("code")),
            ..Default::default()
        });
    }
    None
}

/// Error for a response with status ≥ 400 (body in any shape, or plain text).
pub(crate) fn http_error(resp: &HttpResponse) -> AiError {
    let body = trim_ascii(&resp.body.bytes);
    let mut e = parse_json_quiet(body)
        .as_ref()
        .and_then(error_from_json)
        .unwrap_or_else(|| AiError {
            message: (!body.is_empty()).then(|| snippet(&String::from_utf8_lossy(body))),
            ..Default::default()
        });
    if e.code.is_none() {
        e.code = Some(resp.status.to_string());
    }
    if e.kind.is_none() {
        e.kind = Some(
            match resp.status {
                400 => "invalid_request_error",
                401 => "authentication_error",
                403 => "permission_error",
                404 => "not_found_error",
                408 => "timeout_error",
                413 => "request_too_large",
                429 => "rate_limit_error",
                500..=599 => "server_error",
                _ => "http_error",
            }
            .to_string(),
        );
    }
    e
}
