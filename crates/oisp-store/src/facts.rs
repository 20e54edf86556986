//! What the store indexes about one event, derived from the event alone.
//!
//! The same derivation serves the store (columns written at insert) and the CLI's JSON Lines
//! path (filters and reports computed from events read from a file), so both inputs answer a
//! question the same way.

use oisp_event::{Content, Event, EventData, Message, ToolArguments, ToolResultValue};

/// The indexed and aggregated fields of one event. Absent fields are `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub event_type: String,
    /// `ts` as written.
    pub ts: String,
    /// `ts` in nanoseconds since the epoch; `None` when `ts` is not RFC 3339 (such an event is
    /// kept, but no time window selects it).
    pub ts_ns: Option<i64>,
    pub pid: Option<i64>,
    pub process_name: Option<String>,
    pub process_exe: Option<String>,
    /// OISP provider name of an AI event (`openai`, `anthropic`, ..., `other`), or of a
    /// metadata-only flow with AI estimates ([`crate::flow_estimate`]).
    pub provider: Option<String>,
    /// The specific provider the sensor recognised (`attrs.provider_name`, e.g. `deepseek`),
    /// unless it was `unknown`.
    pub provider_name: Option<String>,
    /// Model id of an AI event (the response's model on `ai.response`).
    pub model: Option<String>,
    pub request_id: Option<String>,
    pub conversation_id: Option<String>,
    /// Tool name of `agent.tool_call` / `agent.tool_result`.
    pub tool_name: Option<String>,
    /// `success` of `ai.response` / `agent.tool_result`.
    pub success: Option<bool>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub cached_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub latency_ms: Option<i64>,
    pub ttft_ms: Option<i64>,
    /// `agent.tool_result.duration_ms`.
    pub duration_ms: Option<i64>,
    /// `trace_context.trace_id` (an agent session's trace).
    pub trace_id: Option<String>,
    /// `process.ppid`.
    pub ppid: Option<i64>,
    /// The container the process runs in: `host.container.name`, else its id, else
    /// `process.container_id` (first 12 characters of an id).
    pub container: Option<String>,
    /// `auth.key_prefix` of an `ai.request` (never a whole key).
    pub key_prefix: Option<String>,
    /// `auth.key_hash` of an `ai.request` (a hash of the key, never the key).
    pub key_hash: Option<String>,
}

fn int(v: Option<u64>) -> Option<i64> {
    v.and_then(|v| i64::try_from(v).ok())
}

impl Facts {
    /// Derives the facts of `ev`. Never fails: what cannot be read is `None`.
    pub fn of(ev: &Event) -> Facts {
        let mut f = Facts {
            event_type: ev.event_type().to_string(),
            ts: ev.ts.clone(),
            ts_ns: ev.wall_ns().ok().and_then(|n| i64::try_from(n).ok()),
            trace_id: ev.trace_context.as_ref().and_then(|t| t.trace_id.clone()),
            ..Facts::default()
        };
        if let Some(p) = &ev.process {
            f.pid = int(p.pid);
            f.process_name = p.name.clone();
            f.process_exe = p.exe.clone();
            f.ppid = int(p.ppid);
        }
        f.container = container_of(ev);
        let (provider, model) = match &ev.data {
            EventData::AiRequest(d) => {
                f.request_id = d.request_id.clone();
                f.conversation_id = d.conversation_id.clone();
                if let Some(a) = &d.auth {
                    f.key_prefix = a.key_prefix.clone();
                    f.key_hash = a.key_hash.clone();
                }
                (Some(&d.provider), d.model.as_ref())
            }
            EventData::AiResponse(d) => {
                f.request_id = d.request_id.clone();
                f.conversation_id = d.conversation_id.clone();
                f.success = d.success;
                if let Some(u) = &d.usage {
                    f.prompt_tokens = int(u.prompt_tokens);
                    f.completion_tokens = int(u.completion_tokens);
                    f.cached_tokens = int(u.cached_tokens);
                    f.cost_usd = u.total_cost_usd;
                }
                f.latency_ms = int(d.latency_ms);
                f.ttft_ms = int(d.time_to_first_token_ms);
                (Some(&d.provider), d.model.as_ref())
            }
            EventData::AiEmbedding(d) => {
                f.latency_ms = int(d.latency_ms);
                (Some(&d.provider), d.model.as_ref())
            }
            EventData::AgentToolCall(d) => {
                f.tool_name = d.tool.name.clone();
                (None, None)
            }
            EventData::AgentToolResult(d) => {
                f.tool_name = d.tool.as_ref().and_then(|t| t.name.clone());
                f.success = d.success;
                f.duration_ms = int(d.duration_ms);
                (None, None)
            }
            _ => (None, None),
        };
        if let Some(info) = provider {
            f.provider = Some(
                info.as_ref()
                    .and_then(|i| i.name)
                    .map(|n| n.as_str().to_string())
                    .unwrap_or_else(|| "other".into()),
            );
            f.provider_name = ev
                .attrs
                .as_ref()
                .and_then(|a| a.get("provider_name"))
                .and_then(|v| v.as_str())
                .filter(|s| *s != "unknown")
                .map(str::to_string);
        }
        if let Some(e) = crate::flow_estimate(ev) {
            // selectable by provider; its estimated tokens stay out of the usage columns
            f.provider = Some(e.provider);
            f.provider_name = e.provider_name;
        }
        f.model = model.and_then(|m| m.id.clone());
        f
    }

    /// The provider to show: the specific name when known, else the OISP name.
    pub fn provider_label(&self) -> Option<&str> {
        self.provider_name.as_deref().or(self.provider.as_deref())
    }
}

/// The container of `ev`'s process, named as a reader would look for it.
fn container_of(ev: &Event) -> Option<String> {
    let short = |id: &str| id.chars().take(12).collect::<String>();
    let host = ev.host.as_ref();
    if let Some(c) = host.and_then(|h| h.container.as_ref()) {
        if let Some(n) = c.name.as_deref().filter(|n| !n.is_empty()) {
            return Some(n.to_string());
        }
        if let Some(id) = c.id.as_deref().filter(|n| !n.is_empty()) {
            return Some(short(id));
        }
    }
    let id = ev.process.as_ref()?.container_id.as_deref()?;
    (!id.is_empty()).then(|| short(id))
}

/// The searchable text of an event, one piece per line: message contents of `ai.request`,
/// choice contents and tool calls (name and arguments) of `ai.response`, tool name and
/// arguments of `agent.tool_call`, tool name and result of `agent.tool_result`. Redacted
/// content contributes nothing. Empty for other events.
pub fn searchable_text(ev: &Event) -> String {
    let mut parts: Vec<String> = Vec::new();
    let message = |m: &Message, parts: &mut Vec<String>| {
        if let Some(Content::Text(t)) = &m.content {
            parts.push(t.clone());
        }
    };
    match &ev.data {
        EventData::AiRequest(d) => {
            for m in d.messages.iter().flatten() {
                message(m, &mut parts);
            }
        }
        EventData::AiResponse(d) => {
            for c in d.choices.iter().flatten() {
                if let Some(m) = &c.message {
                    message(m, &mut parts);
                }
            }
            for t in d.tool_calls.iter().flatten() {
                parts.extend(t.name.clone());
                match &t.arguments {
                    Some(ToolArguments::Text(s)) => parts.push(s.clone()),
                    Some(ToolArguments::Object(o)) => {
                        parts.push(serde_json::Value::Object(o.clone()).to_string())
                    }
                    _ => {}
                }
            }
        }
        EventData::AgentToolCall(d) => {
            parts.extend(d.tool.name.clone());
            if let Some(a) = &d.arguments {
                parts.push(serde_json::Value::Object(a.clone()).to_string());
            }
        }
        EventData::AgentToolResult(d) => {
            parts.extend(d.tool.as_ref().and_then(|t| t.name.clone()));
            match &d.result {
                Some(ToolResultValue::Text(s)) => parts.push(s.clone()),
                Some(ToolResultValue::Object(o)) => {
                    parts.push(serde_json::Value::Object(o.clone()).to_string())
                }
                Some(ToolResultValue::Array(a)) => {
                    parts.push(serde_json::Value::Array(a.clone()).to_string())
                }
                _ => {}
            }
        }
        _ => {}
    }
    parts.join("\n")
}

/// Case-insensitive substring test of `needle` in the searchable text of `ev` (the `--grep`
/// semantics for JSON Lines input; the store's trigram index answers the same question).
pub fn text_contains(ev: &Event, needle: &str) -> bool {
    contains_ci(&searchable_text(ev), needle)
}

/// Case-insensitive (Unicode lowercase) substring test.
pub fn contains_ci(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}
