//! OISP AI and agent fields → OpenTelemetry GenAI semantic-convention attributes.
//!
//! Standard keys (`gen_ai.*`, `server.*`, `error.type`, `http.response.status_code`) carry what
//! the conventions define; what they do not (cost, OISP ids, cached flags) goes under `oisp.*`.

use crate::attrs::Attrs;
use oisp_event::{
    AgentToolCall, AgentToolResult, AiEmbedding, AiRequest, AiResponse, ProviderInfo, ProviderName,
    RequestType,
};

/// `gen_ai.operation.name` of an `ai.request`: `chat`, `text_completion`, `embeddings`, or the
/// OISP request type for kinds the conventions do not name (`image`, `audio`, `moderation`);
/// `generate_content` when the request type is unknown.
pub fn operation_name(req: Option<&AiRequest>) -> &'static str {
    match req.and_then(|r| r.request_type) {
        Some(RequestType::Chat) => "chat",
        Some(RequestType::Completion) => "text_completion",
        Some(RequestType::Embedding) => "embeddings",
        Some(RequestType::Image) => "image",
        Some(RequestType::Audio) => "audio",
        Some(RequestType::Moderation) => "moderation",
        Some(RequestType::Other) | None => "generate_content",
    }
}

/// `gen_ai.provider.name`: the conventions' well-known value where one exists, else the OISP
/// provider name (`ollama`, `vllm`, `together`, `other`, ...).
pub fn provider_name(p: &ProviderInfo) -> Option<String> {
    let name = p.name?;
    let vertex = p
        .endpoint
        .as_deref()
        .is_some_and(|e| e.contains("aiplatform.googleapis.com"));
    Some(
        match name {
            ProviderName::Google if vertex => "gcp.vertex_ai",
            ProviderName::Google => "gcp.gemini",
            ProviderName::AzureOpenai => "azure.ai.openai",
            ProviderName::AwsBedrock => "aws.bedrock",
            ProviderName::Mistral => "mistral_ai",
            other => other.as_str(),
        }
        .to_owned(),
    )
}

/// `(server.address, server.port)` from a provider endpoint URL; the port defaults by scheme.
pub fn server_of(endpoint: &str) -> Option<(String, u16)> {
    let (scheme, rest) = endpoint.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let default_port = if scheme.eq_ignore_ascii_case("http") {
        80
    } else {
        443
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        (h.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p.parse().ok()?)),
            None => (authority.to_owned(), None),
        }
    };
    if host.is_empty() {
        return None;
    }
    Some((host, port.unwrap_or(default_port)))
}

fn provider_attrs(a: &mut Attrs, p: Option<&ProviderInfo>) {
    let Some(p) = p else { return };
    a.str("gen_ai.provider.name", provider_name(p));
    a.str("oisp.provider.name", p.name.map(|n| n.as_str()));
    if let Some((host, port)) = p.endpoint.as_deref().and_then(server_of) {
        a.str("server.address", Some(host));
        a.int("server.port", Some(port));
    }
}

/// Attributes known from the request alone.
pub fn request_attrs(req: &AiRequest) -> Attrs {
    let mut a = Attrs::new();
    a.str("gen_ai.operation.name", Some(operation_name(Some(req))));
    provider_attrs(&mut a, req.provider.as_ref());
    a.str(
        "gen_ai.request.model",
        req.model.as_ref().and_then(|m| m.id.as_deref()),
    );
    a.str("gen_ai.conversation.id", req.conversation_id.as_deref());
    if let Some(p) = &req.parameters {
        a.double("gen_ai.request.temperature", p.temperature)
            .double("gen_ai.request.top_p", p.top_p)
            .int("gen_ai.request.max_tokens", p.max_tokens)
            .double("gen_ai.request.frequency_penalty", p.frequency_penalty)
            .double("gen_ai.request.presence_penalty", p.presence_penalty)
            .strs(
                "gen_ai.request.stop_sequences",
                p.stop.clone().unwrap_or_default(),
            );
    }
    a.str("oisp.request_id", req.request_id.as_deref())
        .bool("oisp.request.streaming", req.streaming)
        .int("oisp.request.messages_count", req.messages_count)
        .int("oisp.request.tools_count", req.tools_count);
    a
}

/// Attributes known from the response. `with_provider` adds provider/server keys (for a
/// response whose request is unknown).
pub fn response_attrs(resp: &AiResponse, with_provider: bool) -> Attrs {
    let mut a = Attrs::new();
    if with_provider {
        provider_attrs(&mut a, resp.provider.as_ref());
        a.str("gen_ai.conversation.id", resp.conversation_id.as_deref());
        a.str("oisp.request_id", resp.request_id.as_deref());
    }
    a.str(
        "gen_ai.response.model",
        resp.model.as_ref().and_then(|m| m.id.as_deref()),
    )
    .str("gen_ai.response.id", resp.provider_request_id.as_deref());
    let mut reasons: Vec<String> = resp
        .choices
        .iter()
        .flatten()
        .filter_map(|c| c.finish_reason.map(|f| f.as_str().to_owned()))
        .collect();
    if reasons.is_empty() {
        reasons.extend(resp.finish_reason.map(|f| f.as_str().to_owned()));
    }
    a.strs("gen_ai.response.finish_reasons", reasons);
    if let Some(u) = &resp.usage {
        a.int("gen_ai.usage.input_tokens", u.prompt_tokens)
            .int("gen_ai.usage.output_tokens", u.completion_tokens)
            .int("gen_ai.usage.cache_read.input_tokens", u.cached_tokens)
            .int("oisp.usage.total_tokens", u.total_tokens)
            .int("oisp.usage.reasoning_tokens", u.reasoning_tokens)
            .double("oisp.cost_usd", u.total_cost_usd)
            .double("oisp.cost.input_usd", u.input_cost_usd)
            .double("oisp.cost.output_usd", u.output_cost_usd);
    }
    a.int("http.response.status_code", resp.status_code)
        .int("oisp.latency_ms", resp.latency_ms)
        .int("oisp.time_to_first_token_ms", resp.time_to_first_token_ms)
        .int("oisp.response.tool_calls_count", resp.tool_calls_count)
        .bool("oisp.response.cached", resp.was_cached);
    a.str("error.type", error_type(resp));
    a
}

/// `error.type` of a failed response: the provider's error type, else the HTTP status code,
/// else `_OTHER`. `None` for a successful response.
pub fn error_type(resp: &AiResponse) -> Option<String> {
    let failed = resp.success == Some(false)
        || resp.error.is_some()
        || resp.status_code.is_some_and(|s| s >= 400);
    if !failed {
        return None;
    }
    Some(
        resp.error
            .as_ref()
            .and_then(|e| e.kind.clone().or_else(|| e.code.clone()))
            .or_else(|| resp.status_code.map(|s| s.to_string()))
            .unwrap_or_else(|| "_OTHER".to_owned()),
    )
}

/// Human-readable error of a failed response (span status message).
pub fn error_message(resp: &AiResponse) -> String {
    resp.error
        .as_ref()
        .and_then(|e| e.message.clone())
        .unwrap_or_else(|| error_type(resp).unwrap_or_default())
}

/// Attributes of an `agent.tool_call` (operation `execute_tool`).
pub fn tool_call_attrs(call: &AgentToolCall) -> Attrs {
    let mut a = Attrs::new();
    a.str("gen_ai.operation.name", Some("execute_tool"))
        .str("gen_ai.tool.name", call.tool.name.as_deref())
        .str("gen_ai.tool.call.id", call.call_id.as_deref())
        .str("gen_ai.tool.description", call.tool.description.as_deref())
        .str("oisp.tool.type", call.tool.kind.map(|k| k.as_str()))
        .str("oisp.tool.provider", call.tool.provider.as_deref());
    a
}

/// Attributes of an `agent.tool_result`.
pub fn tool_result_attrs(res: &AgentToolResult, with_call: bool) -> Attrs {
    let mut a = Attrs::new();
    if with_call {
        a.str("gen_ai.operation.name", Some("execute_tool"))
            .str(
                "gen_ai.tool.name",
                res.tool.as_ref().and_then(|t| t.name.as_deref()),
            )
            .str("gen_ai.tool.call.id", Some(&res.call_id));
    }
    a.bool("oisp.tool.success", res.success)
        .int("oisp.tool.duration_ms", res.duration_ms)
        .int("oisp.tool.result_size_bytes", res.result_size_bytes);
    if res.success == Some(false) || res.error.is_some() {
        let kind = res.error.as_ref().and_then(|e| e.kind.clone());
        a.str("error.type", Some(kind.unwrap_or_else(|| "_OTHER".into())));
    }
    a
}

/// Attributes of an `ai.embedding` event.
pub fn embedding_attrs(e: &AiEmbedding) -> Attrs {
    let mut a = Attrs::new();
    a.str("gen_ai.operation.name", Some("embeddings"));
    provider_attrs(&mut a, e.provider.as_ref());
    a.str(
        "gen_ai.request.model",
        e.model.as_ref().and_then(|m| m.id.as_deref()),
    )
    .int("gen_ai.embeddings.dimension.count", e.dimensions)
    .int("gen_ai.usage.input_tokens", e.total_tokens)
    .int("oisp.embedding.input_count", e.input_count);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_from_endpoints() {
        assert_eq!(
            server_of("https://api.openai.com/v1/chat/completions"),
            Some(("api.openai.com".into(), 443))
        );
        assert_eq!(
            server_of("http://localhost:11434/api/chat"),
            Some(("localhost".into(), 11434))
        );
        assert_eq!(server_of("http://[::1]:8080/x"), Some(("::1".into(), 8080)));
        assert_eq!(server_of("http://u:p@h/x"), Some(("h".into(), 80)));
        assert_eq!(server_of("not a url"), None);
        assert_eq!(server_of("https://h:port/x"), None);
    }

    #[test]
    fn provider_names_follow_the_conventions() {
        let p = |n, e: &str| ProviderInfo {
            name: Some(n),
            endpoint: Some(e.into()),
            ..Default::default()
        };
        let name = |n, e| provider_name(&p(n, e)).unwrap();
        assert_eq!(
            name(ProviderName::Openai, "https://api.openai.com"),
            "openai"
        );
        assert_eq!(
            name(
                ProviderName::Google,
                "https://generativelanguage.googleapis.com"
            ),
            "gcp.gemini"
        );
        assert_eq!(
            name(ProviderName::Google, "https://us-aiplatform.googleapis.com"),
            "gcp.vertex_ai"
        );
        assert_eq!(name(ProviderName::AwsBedrock, ""), "aws.bedrock");
        assert_eq!(name(ProviderName::Ollama, ""), "ollama");
    }
}
