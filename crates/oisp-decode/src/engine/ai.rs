//! Maps one decoded [`AiCall`] to OISP events: `agent.tool_result` for results the request
//! carries back, `ai.request`, `ai.response` (or `ai.embedding` in addition for embeddings), and
//! one `agent.tool_call` per tool call the model made.

use super::context::EventContext;
use super::hashing::short_hash;
use super::tool_kind::classify_tool;
use super::tools::KnownCall;
use super::Decoder;
use crate::http::HttpExchange;
use crate::providers::{self, AiCall};
use oisp_event::{
    AgentToolCall, AgentToolResult, AiEmbedding, AiError, AiRequest, AiResponse, AuthInfo,
    AuthType, Choice, Content, Event, FinishReason, Message, ModelInfo, ProviderInfo, ProviderName,
    Relationship, RequestParameters, RequestType, Role, ToolArguments, ToolCall, ToolDefinition,
    ToolDefinitionType, ToolInfo, ToolResultValue, TriggeredBy, Usage,
};
use serde_json::{json, Map, Value};

/// At most this many per-chunk arrival offsets are kept on a response.
const MAX_CHUNK_TIMES: usize = 512;

impl Decoder {
    pub(super) fn ai_events(&mut self, ex: &HttpExchange, call: &AiCall, out: &mut Vec<Event>) {
        let ctx = EventContext::for_exchange(self, ex, call);
        let provider = provider_info(call);
        let model_id = call.request.model.clone();

        // Results of earlier tool calls come first: they happened before this request.
        for tr in &call.tool_results {
            if let Some(known) = self.tool_calls.claim_result(ex.conn.pid, &tr.call_id) {
                out.push(self.tool_result_event(&ctx, call, tr, known));
            }
        }

        let req_id = ctx.event_id(self, "request", call.timing.request_start);
        let request_id = format!("req_{req_id}");
        let anchor = conversation_anchor(call);
        let conversation_id =
            self.conversations
                .id_for(ex.conn.pid, &anchor, call.timing.request_start);

        let req = AiRequest {
            request_id: Some(request_id.clone()),
            conversation_id: Some(conversation_id.clone()),
            provider: Some(provider.clone()),
            model: model_id.as_ref().map(|m| model_info(m)),
            auth: call.auth.as_ref().map(auth_info),
            request_type: Some(request_type(call.request.request_type)),
            streaming: Some(call.request.streaming),
            messages: Some(messages(call)),
            messages_count: Some(call.request.messages.len() as u64),
            has_system_prompt: Some(call.request.has_system_prompt),
            system_prompt_hash: system_prompt(call).map(|s| short_hash(s.as_bytes())),
            tools: (!call.request.tools.is_empty()).then(|| tool_definitions(call)),
            tools_count: Some(call.request.tools.len() as u64),
            tool_choice: call.request.tool_choice.clone(),
            parameters: parameters(call),
            has_images: Some(call.request.messages.iter().any(|m| m.has_images)),
            image_count: Some(
                call.request
                    .messages
                    .iter()
                    .map(|m| m.image_count as u64)
                    .sum(),
            ),
            ..Default::default()
        };
        let mut req_ev = ctx
            .event(req, call.timing.request_start, &req_id, "ssl_write")
            .with_attr("provider_name", call.detection.provider.name())
            .with_attr("http", ctx.http_request_attrs(ex));
        if let Some(sdk) = &call.detection.sdk_hint {
            req_ev = req_ev.with_attr("sdk", sdk.clone());
        }
        if let Some(ws) = &call.websocket {
            req_ev = req_ev.with_attr("websocket", json!(ws));
        }
        out.push(req_ev);

        let Some(resp) = &call.response else {
            return;
        };
        let end = call
            .timing
            .response_end
            .or(call.timing.response_start)
            .unwrap_or(call.timing.request_end);
        let resp_id = ctx.event_id(self, "response", end);
        let usage = usage(call);
        let data = AiResponse {
            request_id: Some(request_id.clone()),
            conversation_id: Some(conversation_id),
            provider_request_id: resp.provider_request_id.clone(),
            provider: Some(provider.clone()),
            model: resp
                .model
                .as_ref()
                .filter(|m| !m.is_empty())
                .or(model_id.as_ref())
                .map(|m| model_info(m)),
            status_code: Some(resp.status),
            success: Some(resp.success),
            error: resp.error.as_ref().map(|e| AiError {
                kind: e.kind.clone(),
                message: e.message.clone(),
                code: e.code.clone(),
            }),
            choices: (!resp.choices.is_empty()).then(|| choices(resp)),
            tool_calls: (!resp.tool_calls.is_empty())
                .then(|| resp.tool_calls.iter().map(tool_call).collect::<Vec<_>>()),
            tool_calls_count: Some(resp.tool_calls.len() as u64),
            usage,
            latency_ms: call.timing.latency_ms,
            time_to_first_token_ms: call.timing.time_to_first_token_ms,
            finish_reason: resp.finish_reason.map(finish_reason),
            ..Default::default()
        };
        let mut resp_ev = ctx
            .event(data, end, &resp_id, "ssl_read")
            .with_related(req_id.clone(), Relationship::CausedBy)
            .with_attr("provider_name", call.detection.provider.name())
            .with_attr("http", ctx.http_response_attrs(ex));
        if let Some(stream) = stream_attrs(ex, call) {
            resp_ev = resp_ev.with_attr("stream", stream);
        }
        if let Some(ws) = &call.websocket {
            resp_ev = resp_ev.with_attr("websocket", json!(ws));
        }
        let reasoning: Vec<&str> = resp
            .choices
            .iter()
            .filter_map(|c| c.reasoning.as_deref())
            .collect();
        if !reasoning.is_empty() {
            resp_ev = resp_ev.with_attr("reasoning", reasoning.join("\n"));
        }
        if !resp.rate_limit.is_empty() {
            resp_ev = resp_ev.with_attr("rate_limit", rate_limit_attrs(resp));
        }
        if let Some(cost) = &call.cost {
            resp_ev = resp_ev.with_attr(
                "pricing",
                json!({"model_key": cost.model_key, "match": format!("{:?}", cost.matched).to_lowercase(),
                       "cache_priced_at_input_rate": cost.cache_priced_at_input_rate}),
            );
        }
        out.push(resp_ev);

        if let Some(emb) = &call.embedding {
            let emb_id = ctx.event_id(self, "embedding", end);
            let data = AiEmbedding {
                provider: Some(provider),
                model: model_id.as_ref().map(|m| model_info(m)),
                input_count: Some(emb.input_count as u64),
                total_tokens: emb.total_tokens,
                dimensions: emb.dimensions.map(u64::from),
                latency_ms: call.timing.latency_ms,
                ..Default::default()
            };
            out.push(
                ctx.event(data, end, &emb_id, "ssl_read")
                    .with_related(resp_id.clone(), Relationship::Parent),
            );
        }

        for (i, tc) in resp.tool_calls.iter().enumerate() {
            let id = ctx.event_id(self, &format!("tool_call/{i}"), end);
            let (arguments, parse_note) = arguments_object(&tc.arguments);
            let name = tc.name.clone();
            let data = AgentToolCall {
                tool: ToolInfo {
                    kind: Some(classify_tool(name.as_deref().unwrap_or(""))),
                    name: name.clone(),
                    provider: Some("llm".to_string()),
                    ..Default::default()
                },
                call_id: tc.id.clone(),
                triggered_by: Some(TriggeredBy::LlmDecision),
                arguments: Some(arguments),
                arguments_hash: Some(short_hash(tc.arguments.as_bytes())),
                ..Default::default()
            };
            let mut ev = ctx
                .event(data, end, &id, "ssl_read")
                .with_related(resp_id.clone(), Relationship::Parent);
            if let Some(note) = parse_note {
                ev = ev.with_attr("arguments_note", note);
            }
            // Gemini tool calls carry no id: its results name the function instead.
            if let Some(call_id) = tc.id.as_ref().or(tc.name.as_ref()) {
                self.tool_calls.record_call(
                    ex.conn.pid,
                    call_id,
                    KnownCall {
                        event_id: id.clone(),
                        name,
                        issued: end,
                        result_reported: false,
                    },
                );
            }
            out.push(ev);
        }
    }

    fn tool_result_event(
        &mut self,
        ctx: &EventContext,
        call: &AiCall,
        tr: &providers::ToolResult,
        known: Option<KnownCall>,
    ) -> Event {
        let start = call.timing.request_start;
        let id = ctx.event_id(self, &format!("tool_result/{}", tr.call_id), start);
        let name = known.as_ref().and_then(|k| k.name.clone());
        let data = AgentToolResult {
            tool: name.as_ref().map(|n| ToolInfo {
                name: Some(n.clone()),
                kind: Some(classify_tool(n)),
                ..Default::default()
            }),
            call_id: tr.call_id.clone(),
            success: Some(tr.is_error != Some(true)),
            result: Some(result_value(&tr.content)),
            result_hash: Some(short_hash(tr.content.as_bytes())),
            result_size_bytes: Some(tr.content.len() as u64),
            duration_ms: known
                .as_ref()
                .filter(|k| k.issued.mono_ns > 0 && k.issued.mono_ns <= start.mono_ns)
                .map(|k| (start.mono_ns - k.issued.mono_ns) / 1_000_000),
            ..Default::default()
        };
        let mut ev = ctx.event(data, start, &id, "ssl_write");
        if let Some(k) = known.filter(|k| !k.event_id.is_empty()) {
            ev = ev.with_related(k.event_id, Relationship::CausedBy);
        }
        ev
    }
}

fn provider_info(call: &AiCall) -> ProviderInfo {
    let d = &call.detection;
    ProviderInfo {
        name: ProviderName::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == d.oisp_provider)
            .or(Some(ProviderName::Other)),
        endpoint: Some(d.endpoint.clone()),
        ..Default::default()
    }
}

fn model_info(id: &str) -> ModelInfo {
    ModelInfo {
        id: Some(id.to_string()),
        ..Default::default()
    }
}

fn auth_info(a: &providers::AuthInfo) -> AuthInfo {
    AuthInfo {
        kind: Some(match a.scheme {
            providers::AuthScheme::Bearer
            | providers::AuthScheme::ApiKeyHeader
            | providers::AuthScheme::QueryParam => AuthType::ApiKey,
            providers::AuthScheme::AwsSigV4 => AuthType::ServiceAccount,
            providers::AuthScheme::Basic | providers::AuthScheme::Other => AuthType::Unknown,
        }),
        key_prefix: Some(AuthInfo::key_prefix_of(&a.secret)),
        key_hash: Some(short_hash(a.secret.as_bytes())),
        ..Default::default()
    }
}

fn request_type(t: providers::RequestType) -> RequestType {
    RequestType::ALL
        .iter()
        .copied()
        .find(|r| r.as_str() == t.as_str())
        .unwrap_or(RequestType::Other)
}

fn role(r: providers::Role) -> Role {
    Role::ALL
        .iter()
        .copied()
        .find(|x| x.as_str() == r.as_str())
        .unwrap_or(Role::User)
}

fn finish_reason(f: providers::FinishReason) -> FinishReason {
    FinishReason::ALL
        .iter()
        .copied()
        .find(|x| x.as_str() == f.as_str())
        .unwrap_or(FinishReason::Other)
}

fn messages(call: &AiCall) -> Vec<Message> {
    let mut out: Vec<Message> = call
        .request
        .messages
        .iter()
        .map(|m| Message {
            content: m.content.clone().map(Content::Text),
            content_length: m.content.as_ref().map(|c| c.chars().count() as u64),
            has_images: m.has_images.then_some(true),
            image_count: (m.image_count > 0).then_some(m.image_count as u64),
            tool_call_id: m.tool_call_id.clone(),
            name: m.name.clone(),
            ..Message::new(role(m.role))
        })
        .collect();
    if out.is_empty() {
        if let Some(p) = &call.request.prompt {
            let mut m = Message::new(Role::User);
            m.content_length = Some(p.chars().count() as u64);
            m.content = Some(Content::Text(p.clone()));
            out.push(m);
        }
    }
    out
}

fn system_prompt(call: &AiCall) -> Option<&str> {
    call.request
        .messages
        .iter()
        .find(|m| m.role == providers::Role::System)
        .and_then(|m| m.content.as_deref())
}

/// What identifies a conversation across turns: its system prompt and first user message. An
/// embeddings request's inputs (carried as user messages) are not a conversation's opening: a
/// process's embeddings share one anchor, as they did before their inputs were carried.
fn conversation_anchor(call: &AiCall) -> String {
    let embedding = call.request.request_type == providers::RequestType::Embedding;
    let first_user = call
        .request
        .messages
        .iter()
        .filter(|_| !embedding)
        .find(|m| m.role == providers::Role::User)
        .and_then(|m| m.content.as_deref())
        .or(call.request.prompt.as_deref())
        .unwrap_or("");
    format!(
        "{}\u{0}{}\u{0}{}",
        call.detection.provider.name(),
        system_prompt(call).unwrap_or(""),
        first_user
    )
}

fn tool_definitions(call: &AiCall) -> Vec<ToolDefinition> {
    call.request
        .tools
        .iter()
        .map(|t| ToolDefinition {
            name: t.name.clone(),
            kind: Some(match t.kind {
                providers::ToolKind::Function => ToolDefinitionType::Function,
                providers::ToolKind::CodeInterpreter => ToolDefinitionType::CodeInterpreter,
                providers::ToolKind::FileSearch => ToolDefinitionType::FileSearch,
                providers::ToolKind::ComputerUse => ToolDefinitionType::ComputerUse,
                providers::ToolKind::Other => ToolDefinitionType::Other,
            }),
            description: t.description.clone(),
        })
        .collect()
}

fn parameters(call: &AiCall) -> Option<RequestParameters> {
    let p = &call.request.params;
    let mut extra = Map::new();
    if let Some(k) = p.top_k {
        extra.insert("top_k".into(), json!(k));
    }
    if let Some(s) = p.seed {
        extra.insert("seed".into(), json!(s));
    }
    if let Some(n) = p.n {
        extra.insert("n".into(), json!(n));
    }
    let params = RequestParameters {
        temperature: p.temperature,
        top_p: p.top_p,
        max_tokens: p.max_tokens,
        frequency_penalty: p.frequency_penalty,
        presence_penalty: p.presence_penalty,
        stop: (!p.stop.is_empty()).then(|| p.stop.clone()),
        extra,
    };
    (params != RequestParameters::default()).then_some(params)
}

fn choices(resp: &providers::AiResponse) -> Vec<Choice> {
    resp.choices
        .iter()
        .map(|c| {
            let mut m = Message::new(c.role.map(role).unwrap_or(Role::Assistant));
            m.content_length = c.text.as_ref().map(|t| t.chars().count() as u64);
            m.content = c.text.clone().map(Content::Text);
            Choice {
                index: Some(c.index as u64),
                message: Some(m),
                finish_reason: c.finish_reason.map(finish_reason),
            }
        })
        .collect()
}

fn tool_call(tc: &providers::ToolCall) -> ToolCall {
    ToolCall {
        id: tc.id.clone(),
        name: tc.name.clone(),
        kind: Some(tc.kind.clone()),
        arguments: Some(ToolArguments::Text(tc.arguments.clone())),
        arguments_hash: Some(short_hash(tc.arguments.as_bytes())),
    }
}

/// Tool arguments as a JSON object; anything else is wrapped as `{"raw": ...}` with a note.
fn arguments_object(raw: &str) -> (Map<String, Value>, Option<&'static str>) {
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(m)) => (m, None),
        Ok(other) => {
            let mut m = Map::new();
            m.insert("value".into(), other);
            (m, Some("arguments were valid JSON but not an object"))
        }
        Err(_) => {
            let mut m = Map::new();
            m.insert("raw".into(), Value::String(raw.to_string()));
            (
                m,
                Some("arguments were not valid JSON (possibly truncated)"),
            )
        }
    }
}

fn result_value(content: &str) -> ToolResultValue {
    match serde_json::from_str::<Value>(content) {
        Ok(Value::Object(m)) => ToolResultValue::Object(m),
        Ok(Value::Array(a)) => ToolResultValue::Array(a),
        _ => ToolResultValue::Text(content.to_string()),
    }
}

fn usage(call: &AiCall) -> Option<Usage> {
    let u = call.response.as_ref()?.usage.as_ref()?;
    Some(Usage {
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
        total_tokens: u.total_tokens,
        cached_tokens: u.cached_tokens,
        reasoning_tokens: u.reasoning_tokens,
        input_cost_usd: call.cost.as_ref().map(|c| c.input_usd),
        output_cost_usd: call.cost.as_ref().map(|c| c.output_usd),
        total_cost_usd: call.cost.as_ref().map(|c| c.total_usd),
    })
}

fn stream_attrs(ex: &HttpExchange, call: &AiCall) -> Option<Value> {
    let resp = ex.response.as_ref()?;
    let start = call.timing.request_start.mono_ns;
    let offsets: Vec<u64> = match &resp.sse {
        Some(events) => events
            .iter()
            .map(|e| e.ts.mono_ns.saturating_sub(start) / 1_000_000)
            .collect(),
        None if call.request.streaming => resp
            .body
            .arrivals
            .iter()
            .map(|(_, ts)| ts.mono_ns.saturating_sub(start) / 1_000_000)
            .collect(),
        None => return None,
    };
    let chunks = call.response.as_ref().map(|r| r.chunk_count).unwrap_or(0);
    Some(json!({
        "chunk_count": chunks,
        "events": offsets.len(),
        "arrival_ms": offsets.iter().take(MAX_CHUNK_TIMES).collect::<Vec<_>>(),
        "arrival_ms_truncated": offsets.len() > MAX_CHUNK_TIMES,
    }))
}

fn rate_limit_attrs(resp: &providers::AiResponse) -> Value {
    let r = &resp.rate_limit;
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    put("limit_requests", r.limit_requests.map(|v| json!(v)));
    put("remaining_requests", r.remaining_requests.map(|v| json!(v)));
    put(
        "reset_requests",
        r.reset_requests.clone().map(Value::String),
    );
    put("limit_tokens", r.limit_tokens.map(|v| json!(v)));
    put("remaining_tokens", r.remaining_tokens.map(|v| json!(v)));
    put("reset_tokens", r.reset_tokens.clone().map(Value::String));
    put("retry_after_secs", r.retry_after_secs.map(|v| json!(v)));
    Value::Object(m)
}
