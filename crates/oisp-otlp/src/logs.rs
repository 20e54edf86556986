//! One OTLP LogRecord per OISP event, of every type.
//!
//! - `time_unix_nano` and `observed_time_unix_nano`: the event's `ts` (capture time).
//! - `event_name` (LogRecord field) and the `event.name` attribute: the OISP `event_type`.
//! - severity INFO, WARN for `sensor.warning`.
//! - body: the OISP event JSON, as one string — exactly the line the JSONL sink writes, so a
//!   backend can store or re-parse it losslessly (structured `AnyValue` maps would lose the
//!   distinction between integers and floats of the original JSON and double the size). A JSON
//!   longer than [`MAX_BODY_BYTES`] is cut there (at a character boundary) and the record says
//!   so: `oisp.body.truncated = true`, `oisp.body.original_bytes`.
//! - attributes: `oisp.event_id`, `event.name`, and on AI and agent events the GenAI keys also
//!   set on spans (`gen_ai.operation.name`, `gen_ai.provider.name`, `gen_ai.request.model`,
//!   token usage, `gen_ai.tool.name`, ...); `oisp.warning.code` on warnings.
//! - `trace_id` / `span_id`: the span of the AI call or tool call the event belongs to, so a
//!   backend links the records of a call to its span.

use crate::attrs::{string_value, Attrs};
use crate::genai;
use crate::spans::Link;
use oisp_event::{Event, EventData};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, SeverityNumber};

/// Longest body sent (2.5 MiB): with its attributes a record still fits a 4 MiB gRPC message.
pub const MAX_BODY_BYTES: usize = 5 << 19;

/// The log record of `ev`, whose JSON form is `json`.
pub fn log_record(ev: &Event, json: &[u8], link: Option<Link>) -> LogRecord {
    let time = ev.wall_ns().unwrap_or(0);
    let (severity, text) = match ev.data {
        EventData::SensorWarning(_) => (SeverityNumber::Warn, "WARN"),
        _ => (SeverityNumber::Info, "INFO"),
    };
    let mut a = Attrs::new();
    a.str("event.name", Some(ev.event_type()))
        .str("oisp.event_id", Some(&ev.event_id));
    match &ev.data {
        EventData::AiRequest(r) => {
            a.extend(genai::request_attrs(r));
        }
        EventData::AiResponse(r) => {
            a.extend(genai::response_attrs(r, true));
        }
        EventData::AgentToolCall(c) => {
            a.extend(genai::tool_call_attrs(c));
        }
        EventData::AgentToolResult(r) => {
            a.extend(genai::tool_result_attrs(r, true));
        }
        EventData::AiEmbedding(e) => {
            a.extend(genai::embedding_attrs(e));
        }
        EventData::SensorWarning(w) => {
            a.str("oisp.warning.code", Some(&w.code));
        }
        _ => {}
    }
    let mut body = String::from_utf8_lossy(json).into_owned();
    if body.len() > MAX_BODY_BYTES {
        let original = body.len();
        let mut cut = MAX_BODY_BYTES;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
        a.bool("oisp.body.truncated", Some(true))
            .int("oisp.body.original_bytes", Some(original));
    }
    let (trace_id, span_id) = match link {
        Some((t, s)) => (t.to_vec(), s.to_vec()),
        None => (Vec::new(), Vec::new()),
    };
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time,
        severity_number: severity as i32,
        severity_text: text.to_owned(),
        event_name: ev.event_type().to_owned(),
        body: Some(string_value(body)),
        attributes: a.into_vec(),
        trace_id,
        span_id,
        ..Default::default()
    }
}
