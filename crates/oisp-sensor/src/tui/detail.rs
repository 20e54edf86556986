//! The detail pane's text. For an AI call: the conversation (each message with its role; the
//! system prompt on one line), the tools offered (names), the whole response with its tool
//! calls, then tokens, cost, latency and time to first token; redaction markers shown as
//! `[redacted …]`. For any other event: its time, process, trace and every field of its data.

use crate::timeline::{fmt_usd, truncate};
use oisp_event::{Content, Event, EventData, Message, Role, ToolArguments};
use serde_json::Value;

/// Widest line of a collapsed system prompt.
const SYSTEM_LINE: usize = 120;

/// The lines of the detail of an entry: `main` is the request of a call (or the event),
/// `response` its response when captured.
pub fn lines(main: &Event, response: Option<&Event>) -> Vec<String> {
    let mut out = header(main);
    match (&main.data, response) {
        (EventData::AiRequest(_), _) | (EventData::AiResponse(_), None) => {
            request_part(main, &mut out);
            match response.or(matches!(main.data, EventData::AiResponse(_)).then_some(main)) {
                Some(r) => response_part(r, &mut out),
                None => out.push("── response: none captured".into()),
            }
        }
        _ => {
            out.push("── data".into());
            let data = serde_json::to_value(main)
                .ok()
                .and_then(|v| v.get("data").cloned())
                .unwrap_or(Value::Null);
            fields(&data, "", &mut out);
        }
    }
    out
}

fn header(ev: &Event) -> Vec<String> {
    let mut out = vec![format!("{}  {}", ev.event_type(), ev.ts)];
    if let Some(p) = &ev.process {
        let num = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "?".into());
        out.push(format!(
            "process {}[{}]  parent {}  {}",
            p.name.as_deref().unwrap_or("?"),
            num(p.pid),
            num(p.ppid),
            p.exe.as_deref().unwrap_or("")
        ));
    }
    if let Some(t) = &ev.trace_context {
        out.push(format!(
            "trace {}  span {}",
            t.trace_id.as_deref().unwrap_or("-"),
            t.span_id.as_deref().unwrap_or("-")
        ));
    }
    out
}

/// Text of a message content, a redaction marker as `[redacted N chars: reason]`.
fn content_text(c: &Content) -> String {
    match c {
        Content::Text(t) => t.clone(),
        Content::Redacted(r) => format!(
            "[redacted {} chars: {}]",
            r.redacted.original_length.unwrap_or(0),
            r.redacted.reason
        ),
    }
}

fn message_lines(m: &Message, out: &mut Vec<String>) {
    let text = m.content.as_ref().map(content_text).unwrap_or_default();
    let mut role = m.role.as_str().to_string();
    if let Some(id) = &m.tool_call_id {
        role.push_str(&format!(" (result of {id})"));
    }
    if m.role == Role::System {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push(format!(
            "[system] {} ({} chars)",
            truncate(&flat, SYSTEM_LINE),
            text.chars().count()
        ));
        return;
    }
    out.push(format!("[{role}]"));
    out.extend(text.lines().map(|l| format!("  {l}")));
}

fn request_part(ev: &Event, out: &mut Vec<String>) {
    let EventData::AiRequest(req) = &ev.data else {
        return;
    };
    let model = req.model.as_ref().and_then(|m| m.id.as_deref());
    out.push(format!(
        "model {}{}",
        model.unwrap_or("?"),
        if req.streaming == Some(true) {
            "  (streamed)"
        } else {
            ""
        }
    ));
    if let Some(tools) = req.tools.as_deref().filter(|t| !t.is_empty()) {
        let names: Vec<&str> = tools.iter().filter_map(|t| t.name.as_deref()).collect();
        out.push(format!("tools ({}): {}", tools.len(), names.join(", ")));
    }
    out.push("── conversation".into());
    for m in req.messages.iter().flatten() {
        message_lines(m, out);
    }
}

fn arguments_text(a: &ToolArguments) -> String {
    match a {
        ToolArguments::Text(t) => t.clone(),
        ToolArguments::Object(o) => Value::Object(o.clone()).to_string(),
        ToolArguments::Redacted(r) => format!("[redacted: {}]", r.redacted.reason),
    }
}

fn response_part(ev: &Event, out: &mut Vec<String>) {
    let EventData::AiResponse(resp) = &ev.data else {
        return;
    };
    out.push(format!("── response  {}", ev.ts));
    if resp.success == Some(false) || resp.status_code.is_some_and(|c| c >= 400) {
        let e = resp.error.as_ref();
        out.push(format!(
            "error: HTTP {} {}",
            resp.status_code.unwrap_or(0),
            e.and_then(|e| e.message.clone().or(e.kind.clone()))
                .unwrap_or_default()
        ));
    }
    for c in resp.choices.iter().flatten() {
        if let Some(m) = &c.message {
            message_lines(m, out);
        }
    }
    for t in resp.tool_calls.iter().flatten() {
        out.push(format!(
            "tool call {} {}({})",
            t.id.as_deref().unwrap_or("-"),
            t.name.as_deref().unwrap_or("?"),
            t.arguments.as_ref().map(arguments_text).unwrap_or_default()
        ));
    }
    let mut facts = Vec::new();
    if let Some(u) = &resp.usage {
        let n = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "?".into());
        facts.push(format!(
            "tokens {} in → {} out",
            n(u.prompt_tokens),
            n(u.completion_tokens)
        ));
        if let Some(c) = u.cached_tokens {
            facts.push(format!("{c} cached"));
        }
        facts.push(match u.total_cost_usd {
            Some(c) => format!("cost ${}", fmt_usd(c)),
            None => "cost unknown".into(),
        });
    }
    if let Some(l) = resp.latency_ms {
        facts.push(format!("latency {l} ms"));
    }
    if let Some(t) = resp.time_to_first_token_ms {
        facts.push(format!("ttft {t} ms"));
    }
    out.push("── ".to_string() + &facts.join(" · "));
}

/// `lines` cut to `width` characters — at a space when there is one, else mid-word —
/// continuations indented two more than their line (a long message stays readable).
pub fn wrap(lines: Vec<String>, width: usize) -> Vec<String> {
    let width = width.max(20);
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        if line.chars().count() <= width {
            out.push(line);
            continue;
        }
        let lead = line.chars().take_while(|c| *c == ' ').count();
        let indent = " ".repeat(lead + 2);
        let mut rest: Vec<char> = line.chars().collect();
        let mut prefix = "";
        loop {
            let room = width.saturating_sub(prefix.len()).max(10);
            if rest.len() <= room {
                out.push(prefix.to_string() + &rest.iter().collect::<String>());
                break;
            }
            let cut = rest[..room]
                .iter()
                .rposition(|c| *c == ' ')
                .filter(|&i| i > lead)
                .unwrap_or(room);
            out.push(prefix.to_string() + &rest[..cut].iter().collect::<String>());
            let skip = rest[cut..].iter().take_while(|c| **c == ' ').count();
            rest.drain(..cut + skip);
            prefix = &indent;
        }
    }
    out
}

/// `key: value` lines of a JSON value, nested objects indented.
fn fields(v: &Value, indent: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                match val {
                    Value::Object(_) => {
                        out.push(format!("{indent}{k}:"));
                        fields(val, &format!("{indent}  "), out);
                    }
                    _ => out.push(format!("{indent}{k}: {}", scalar(val))),
                }
            }
        }
        other => out.push(format!("{indent}{}", scalar(other))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oisp_event::{AiRequest, AiResponse, Choice, Timestamp, Usage};

    fn msg(role: Role, text: &str) -> Message {
        Message {
            content: Some(Content::Text(text.into())),
            ..Message::new(role)
        }
    }

    #[test]
    fn a_call_shows_the_conversation_the_response_and_its_figures() {
        let req = AiRequest {
            messages: Some(vec![
                msg(Role::System, "You are\nhelpful."),
                msg(Role::User, "What is 2+2?"),
            ]),
            ..AiRequest::default()
        };
        let resp = AiResponse {
            choices: Some(vec![Choice {
                message: Some(msg(Role::Assistant, "4\nsurely")),
                ..Choice::default()
            }]),
            usage: Some(Usage {
                prompt_tokens: Some(10),
                completion_tokens: Some(2),
                total_cost_usd: Some(0.25),
                ..Usage::default()
            }),
            latency_ms: Some(300),
            time_to_first_token_ms: Some(120),
            ..AiResponse::default()
        };
        let a = Event::new(req, Timestamp::default(), "a");
        let b = Event::new(resp, Timestamp::default(), "b");
        let text = lines(&a, Some(&b)).join("\n");
        assert!(
            text.contains("[system] You are helpful. (16 chars)"),
            "{text}"
        );
        assert!(text.contains("[user]\n  What is 2+2?"), "{text}");
        assert!(text.contains("[assistant]\n  4\n  surely"), "{text}");
        assert!(
            text.contains("tokens 10 in → 2 out · cost $0.2500 · latency 300 ms · ttft 120 ms"),
            "{text}"
        );
    }

    #[test]
    fn long_lines_wrap_with_their_indent() {
        let w = wrap(vec!["  ".to_string() + &"x".repeat(45), "short".into()], 20);
        assert_eq!(w[0], format!("  {}", "x".repeat(18)));
        assert_eq!(w[1], format!("    {}", "x".repeat(16)));
        assert_eq!(w[2], format!("    {}", "x".repeat(11)));
        assert_eq!(w[3], "short");
        let w = wrap(vec![format!("  {}", "word ".repeat(8))], 20);
        assert_eq!(w[0], "  word word word");
        assert_eq!(w[1], "    word word word");
        assert_eq!(w[2], "    word word ");
    }

    #[test]
    fn other_events_list_their_fields() {
        let w = Event::new(
            oisp_event::SensorWarning::new("code_x", "message y"),
            Timestamp::default(),
            "w",
        );
        let text = lines(&w, None).join("\n");
        assert!(text.contains("code: code_x"), "{text}");
        assert!(text.contains("message: message y"), "{text}");
    }
}
