//! One timeline row of the web UI: the facts of an event plus one line of text saying what
//! happened. Whole events (prompts can be megabytes) are fetched only when a row is opened.

use oisp_event::{Event, EventData, Message, ToolResultValue};
use oisp_store::{Facts, StoredEvent};
use serde::Serialize;

/// Longest text of a row, in characters.
const TEXT_MAX: usize = 240;

/// A timeline row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The store's row id (`/api/events/{id}` gives the whole event).
    pub id: i64,
    pub event_id: String,
    pub ts: String,
    pub ts_ns: Option<i64>,
    #[serde(rename = "type")]
    pub event_type: String,
    pub pid: Option<i64>,
    pub process: Option<String>,
    pub container: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub request_id: Option<String>,
    pub trace_id: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub latency_ms: Option<i64>,
    pub success: Option<bool>,
    /// What happened, in one line.
    pub text: String,
}

impl Row {
    /// The row of a stored event; an unreadable one becomes a row saying so.
    pub fn of(stored: &StoredEvent) -> Row {
        match stored.event() {
            Ok(ev) => Row::of_event(stored.id, &ev),
            Err(e) => Row {
                id: stored.id,
                event_id: String::new(),
                ts: String::new(),
                ts_ns: None,
                event_type: "unreadable".into(),
                pid: None,
                process: None,
                container: None,
                provider: None,
                model: None,
                request_id: None,
                trace_id: None,
                prompt_tokens: None,
                completion_tokens: None,
                cost_usd: None,
                latency_ms: None,
                success: None,
                text: e.to_string(),
            },
        }
    }

    fn of_event(id: i64, ev: &Event) -> Row {
        let f = Facts::of(ev);
        Row {
            id,
            event_id: ev.event_id.to_string(),
            text: clip(&describe(ev)),
            provider: f.provider_label().map(str::to_string),
            ts: f.ts,
            ts_ns: f.ts_ns,
            event_type: f.event_type,
            pid: f.pid,
            process: f.process_name,
            container: f.container,
            model: f.model,
            request_id: f.request_id,
            trace_id: f.trace_id,
            prompt_tokens: f.prompt_tokens,
            completion_tokens: f.completion_tokens,
            cost_usd: f.cost_usd,
            latency_ms: f.latency_ms,
            success: f.success,
        }
    }
}

fn clip(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match one_line.char_indices().nth(TEXT_MAX) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

fn json_args(v: Option<&serde_json::Map<String, serde_json::Value>>) -> String {
    v.map(|a| serde_json::Value::Object(a.clone()).to_string())
        .unwrap_or_default()
}

/// One line saying what `ev` is about.
fn describe(ev: &Event) -> String {
    match &ev.data {
        EventData::AiRequest(d) => {
            let user = d
                .messages
                .as_deref()
                .and_then(Message::last_user_text)
                .map(|t| oisp_event::user_text(&t));
            user.unwrap_or_else(|| format!("{} messages", d.messages_count.unwrap_or(0)))
        }
        EventData::AiResponse(d) => {
            let choice = d.choices.iter().flatten().next();
            let content = choice
                .and_then(|c| c.message.as_ref())
                .and_then(Message::text)
                .filter(|t| !t.trim().is_empty());
            let tools: Vec<String> = d
                .tool_calls
                .iter()
                .flatten()
                .filter_map(|t| t.name.clone())
                .collect();
            match (content, tools.is_empty()) {
                (Some(c), true) => c,
                (Some(c), false) => format!("{c} [tools: {}]", tools.join(", ")),
                (None, false) => format!("tool calls: {}", tools.join(", ")),
                (None, true) => match (d.success, d.status_code) {
                    (Some(false), Some(code)) => format!("failed: HTTP {code}"),
                    _ => String::new(),
                },
            }
        }
        EventData::AgentToolCall(d) => format!(
            "{}({})",
            d.tool.name.as_deref().unwrap_or("?"),
            json_args(d.arguments.as_ref())
        ),
        EventData::AgentToolResult(d) => {
            let name = d
                .tool
                .as_ref()
                .and_then(|t| t.name.clone())
                .unwrap_or_else(|| d.call_id.clone());
            let result = match &d.result {
                Some(ToolResultValue::Text(t)) => t.clone(),
                Some(other) => serde_json::to_string(other).unwrap_or_default(),
                None => String::new(),
            };
            let mark = if d.success == Some(false) {
                "failed"
            } else {
                "→"
            };
            format!("{name} {mark} {result}")
        }
        EventData::AgentSession(d) => format!(
            "{} {}{}",
            d.agent
                .as_ref()
                .and_then(|a| a.name.as_deref())
                .unwrap_or("agent"),
            d.action.as_str(),
            d.task_description
                .as_deref()
                .map(|t| format!(": {t}"))
                .unwrap_or_default()
        ),
        EventData::ProcessExec(d) => d
            .args
            .as_ref()
            .map(|a| a.join(" "))
            .unwrap_or_else(|| d.exe.clone()),
        EventData::ProcessExit(d) => format!("exit {}", d.exit_code),
        EventData::ProcessFork(d) => format!("child {}", d.child_pid),
        EventData::FileOpen(d) => d.path.clone(),
        EventData::FileRead(d) => format!("{} ({} bytes)", d.path, d.bytes_read.unwrap_or(0)),
        EventData::FileWrite(d) => format!("{} ({} bytes)", d.path, d.bytes_written.unwrap_or(0)),
        EventData::FileDelete(d) => d.path.clone(),
        EventData::FileRename(d) => format!("{} → {}", d.old_path, d.new_path),
        EventData::NetworkConnect(d) => endpoint(&d.dest),
        EventData::NetworkFlow(d) => match oisp_store::flow_estimate(ev) {
            Some(e) => format!(
                "estimated {}: {} calls ~{}→{} tokens (metadata only) {}",
                e.provider_name.as_deref().unwrap_or(&e.provider),
                e.calls,
                e.input_tokens,
                e.output_tokens,
                endpoint(&d.dest)
            ),
            None => endpoint(&d.dest),
        },
        EventData::NetworkDns(d) => format!("{} {}", d.query_name, d.query_type),
        EventData::AiEmbedding(d) => format!("{} inputs", d.input_count.unwrap_or(0)),
        EventData::SensorWarning(w) => format!("{}: {}", w.code, w.message),
        _ => String::new(),
    }
}

fn endpoint(e: &oisp_event::Endpoint) -> String {
    format!(
        "{}:{}{}",
        e.ip.as_deref().unwrap_or("?"),
        e.port.unwrap_or(0),
        e.domain
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default()
    )
}
