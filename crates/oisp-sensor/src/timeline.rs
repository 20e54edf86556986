//! Renders events as a readable, coloured timeline (one entry per AI call or event).

use crate::style::Style;
use oisp_event::{Event, EventData, Message};

/// Width of prompt/response excerpts.
const EXCERPT: usize = 72;

/// One thing on the timeline: an AI call (request with its response, when seen) or an event.
pub enum Item<'a> {
    /// A request and its response; `response: None` means none was captured.
    Call {
        request: &'a Event,
        response: Option<&'a Event>,
    },
    /// A request on its own, response not awaited (used by `show --follow`).
    Request(&'a Event),
    /// A response whose request is not at hand.
    Orphan(&'a Event),
    Single(&'a Event),
}

/// Pairs `ai.request`s with their `ai.response`s (by `request_id`), keeping time order of the
/// requests. Responses whose request is absent are shown alone.
pub fn items(events: &[Event]) -> Vec<Item<'_>> {
    use std::collections::HashMap;
    let mut responses: HashMap<&str, &Event> = HashMap::new();
    for ev in events {
        if let EventData::AiResponse(r) = &ev.data {
            if let Some(id) = r.request_id.as_deref() {
                responses.insert(id, ev);
            }
        }
    }
    let mut paired: std::collections::HashSet<&str> = Default::default();
    let mut out = Vec::new();
    for ev in events {
        match &ev.data {
            EventData::AiRequest(r) => {
                let resp = r
                    .request_id
                    .as_deref()
                    .and_then(|id| responses.get(id).copied());
                if let Some(id) = r.request_id.as_deref().filter(|_| resp.is_some()) {
                    paired.insert(id);
                }
                out.push(Item::Call {
                    request: ev,
                    response: resp,
                });
            }
            EventData::AiResponse(r) => {
                if !r
                    .request_id
                    .as_deref()
                    .is_some_and(|id| paired.contains(id))
                {
                    out.push(Item::Orphan(ev));
                }
            }
            _ => out.push(Item::Single(ev)),
        }
    }
    out
}

/// Renders one item as one or two lines; an event of a process in a container ends its first
/// line with the container's name (or short id).
pub fn render(item: &Item<'_>, s: &Style) -> String {
    match item {
        Item::Call { request, response } => {
            let mut line = request_line(request, s);
            line.push_str(&container_note(request, s));
            let indent = " ".repeat(32);
            match response {
                Some(r) => line.push_str(&format!("\n{indent}{}", response_line(r, s))),
                None => line.push_str(&format!(
                    "\n{indent}{}",
                    s.yellow("‹ (no response captured)")
                )),
            }
            line
        }
        Item::Request(ev) => request_line(ev, s) + &container_note(ev, s),
        Item::Orphan(ev) => format!(
            "{} {}{}",
            head(ev, s),
            response_line(ev, s),
            container_note(ev, s)
        ),
        Item::Single(ev) => render_single(ev, s) + &container_note(ev, s),
    }
}

/// `  [container NAME]` for an event whose `host.container` is known, else nothing.
fn container_note(ev: &Event, s: &Style) -> String {
    let Some(c) = ev.host.as_ref().and_then(|h| h.container.as_ref()) else {
        return String::new();
    };
    let name = c
        .name
        .clone()
        .or_else(|| c.id.as_ref().map(|id| id.chars().take(12).collect()));
    match name {
        Some(n) => format!("  {}", s.dim(&format!("[container {n}]"))),
        None => String::new(),
    }
}

fn time_of(ev: &Event) -> &str {
    // "2026-11-25T11:04:27.641876Z" → "11:04:27.641"
    ev.ts.get(11..23).unwrap_or(&ev.ts)
}

fn who(ev: &Event) -> String {
    match &ev.process {
        Some(p) => format!(
            "{}[{}]",
            p.name.as_deref().unwrap_or("?"),
            p.pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into())
        ),
        None => "-".into(),
    }
}

fn head(ev: &Event, s: &Style) -> String {
    format!("{} {:<18}", s.dim(time_of(ev)), truncate(&who(ev), 18))
}

fn request_line(req_ev: &Event, s: &Style) -> String {
    let EventData::AiRequest(req) = &req_ev.data else {
        return render_single(req_ev, s);
    };
    let provider = provider_label(req_ev);
    let model = req
        .model
        .as_ref()
        .and_then(|m| m.id.clone())
        .unwrap_or_else(|| "?".into());
    let stream = if req.streaming == Some(true) {
        " stream"
    } else {
        ""
    };
    let prompt = req
        .messages
        .as_deref()
        .and_then(Message::last_user_text)
        .unwrap_or_default();
    format!(
        "{} {} {}{} {} {}",
        head(req_ev, s),
        s.magenta(&provider),
        s.bold(&model),
        s.dim(stream),
        s.cyan("›"),
        excerpt(&prompt)
    )
}

/// The provider's specific name (`openai`, `deepseek`, ...); for an OpenAI-compatible endpoint
/// the sensor could not name, the host it was called on (`localhost:8080`).
fn provider_label(ev: &Event) -> String {
    match oisp_store::provider_of(ev) {
        Some((_, Some(specific))) => specific,
        Some((oisp, None)) => ev
            .attrs
            .as_ref()
            .and_then(|a| a.get("http"))
            .and_then(|h| h.get("host"))
            .and_then(|h| h.as_str())
            .map(|h| format!("{oisp}@{h}"))
            .unwrap_or(oisp),
        None => "?".into(),
    }
}

/// `‹ response excerpt  tokens · cost · latency` for an `ai.response`.
fn response_line(resp_ev: &Event, s: &Style) -> String {
    let EventData::AiResponse(resp) = &resp_ev.data else {
        return render_single(resp_ev, s);
    };
    let mut facts = Vec::new();
    if let Some(u) = &resp.usage {
        if let (Some(p), Some(c)) = (u.prompt_tokens, u.completion_tokens) {
            facts.push(format!("{p}→{c} tok"));
        } else if let Some(t) = u.total_tokens {
            facts.push(format!("{t} tok"));
        }
        if let Some(cost) = u.total_cost_usd {
            facts.push(format!("${}", fmt_usd(cost)));
        }
    }
    if let Some(l) = resp.latency_ms {
        facts.push(format!("{l} ms"));
    }
    if let Some(t) = resp.time_to_first_token_ms {
        facts.push(format!("ttft {t} ms"));
    }
    let body = if resp.success == Some(false) || resp.status_code.is_some_and(|c| c >= 400) {
        let e = resp.error.as_ref();
        s.red(&format!(
            "HTTP {} {}",
            resp.status_code.unwrap_or(0),
            excerpt(
                &e.and_then(|e| e.message.clone().or(e.kind.clone()))
                    .unwrap_or_default()
            )
        ))
    } else {
        let text = resp
            .choices
            .as_deref()
            .and_then(|c| c.first())
            .and_then(|c| c.message.as_ref())
            .and_then(Message::text)
            .unwrap_or_default();
        let tools: Vec<String> = resp
            .tool_calls
            .iter()
            .flatten()
            .map(|t| t.name.clone().unwrap_or_else(|| "?".into()))
            .collect();
        let mut b = excerpt(&text);
        if !tools.is_empty() {
            if !b.is_empty() {
                b.push(' ');
            }
            b.push_str(&s.yellow(&format!("⚙ {}", tools.join(", "))));
        }
        b
    };
    format!("{} {}  {}", s.green("‹"), body, s.dim(&facts.join(" · ")))
}

fn render_single(ev: &Event, s: &Style) -> String {
    let t = ev.event_type();
    let detail = match &ev.data {
        EventData::ProcessExec(d) => d
            .args
            .as_ref()
            .map(|a| a.join(" "))
            .unwrap_or_else(|| d.exe.clone()),
        EventData::ProcessExit(d) => format!(
            "exit {}{}",
            d.exit_code,
            d.runtime_ms
                .map(|r| format!(" after {r} ms"))
                .unwrap_or_default()
        ),
        EventData::ProcessFork(d) => format!("child {}", d.child_pid),
        EventData::FileOpen(d) => d.path.clone(),
        EventData::FileRead(d) => format!("{} ({} bytes)", d.path, d.bytes_read.unwrap_or(0)),
        EventData::FileWrite(d) => format!("{} ({} bytes)", d.path, d.bytes_written.unwrap_or(0)),
        EventData::FileDelete(d) => d.path.clone(),
        EventData::FileRename(d) => format!("{} → {}", d.old_path, d.new_path),
        EventData::NetworkConnect(d) => format!(
            "{}:{}{}",
            d.dest.ip.as_deref().unwrap_or("?"),
            d.dest.port.unwrap_or(0),
            d.dest
                .domain
                .as_deref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default()
        ),
        EventData::NetworkDns(d) => format!(
            "{} {} → {}",
            d.query_name,
            d.query_type,
            d.answers
                .iter()
                .flatten()
                .filter_map(|a| a.value.as_deref())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        EventData::NetworkFlow(d) => {
            let flow = format!(
                "{}:{}{} {}↑ {}↓ {} ms",
                d.dest.ip.as_deref().unwrap_or("?"),
                d.dest.port.unwrap_or(0),
                d.dest
                    .domain
                    .as_deref()
                    .map(|x| format!(" ({x})"))
                    .unwrap_or_default(),
                fmt_bytes(d.bytes_sent.unwrap_or(0)),
                fmt_bytes(d.bytes_received.unwrap_or(0)),
                d.duration_ms.unwrap_or(0)
            );
            match oisp_store::flow_estimate(ev) {
                // metadata only: estimates, never shown like a decoded call
                Some(e) => format!(
                    "{} {}: {} call{}{} ~{}→{} tok (metadata only)  {}",
                    s.yellow("estimated"),
                    s.magenta(e.provider_name.as_deref().unwrap_or(&e.provider)),
                    e.calls,
                    if e.calls == 1 { "" } else { "s" },
                    if e.streaming_calls > 0 {
                        format!(" ({} streamed)", e.streaming_calls)
                    } else {
                        String::new()
                    },
                    e.input_tokens,
                    e.output_tokens,
                    s.dim(&flow)
                ),
                None => flow,
            }
        }
        EventData::AgentToolCall(d) => format!(
            "{}({})",
            s.yellow(d.tool.name.as_deref().unwrap_or("?")),
            excerpt(
                &d.arguments
                    .as_ref()
                    .map(|a| serde_json::Value::Object(a.clone()).to_string())
                    .unwrap_or_default()
            )
        ),
        EventData::AgentToolResult(d) => format!(
            "{} {} {}",
            d.tool
                .as_ref()
                .and_then(|t| t.name.clone())
                .unwrap_or_else(|| d.call_id.clone()),
            if d.success == Some(false) {
                s.red("failed")
            } else {
                s.green("→")
            },
            excerpt(&match &d.result {
                Some(oisp_event::ToolResultValue::Text(t)) => t.clone(),
                Some(other) => serde_json::to_string(other).unwrap_or_default(),
                None => String::new(),
            })
        ),
        EventData::AiEmbedding(d) => format!(
            "{} inputs, {} dims",
            d.input_count.unwrap_or(0),
            d.dimensions
                .map(|x| x.to_string())
                .unwrap_or_else(|| "?".into())
        ),
        EventData::SensorWarning(w) => s.yellow(&format!("{}: {}", w.code, w.message)),
        _ => String::new(),
    };
    let kind = match t.split('.').next() {
        Some("agent") => s.yellow(t),
        Some("sensor") => s.red(t),
        Some("ai") => s.magenta(t),
        _ => s.blue(t),
    };
    format!("{} {} {}", head(ev, s), kind, truncate(&detail, 160))
}

/// Single-line excerpt: whitespace collapsed, cut at [`EXCERPT`] chars with `…`.
pub fn excerpt(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(&flat, EXCERPT)
}

pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A byte count with a binary unit (`812 B`, `14.2 KiB`, `3.1 MiB`).
fn fmt_bytes(n: u64) -> String {
    match n {
        0..=1023 => format!("{n} B"),
        1024..=1_048_575 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

/// USD with enough precision for sub-cent costs.
pub fn fmt_usd(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.2}")
    } else if v >= 0.01 {
        format!("{v:.4}")
    } else if v >= 0.0001 || v == 0.0 {
        format!("{v:.6}")
    } else {
        format!("{v:.8}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oisp_event::{Container, Host, SensorWarning, Timestamp};

    #[test]
    fn a_container_is_named_at_the_end_of_the_line() {
        let s = Style::stdout();
        let plain = Event::new(SensorWarning::new("x", "y"), Timestamp::default(), "a");
        assert!(!render(&Item::Single(&plain), &s).contains("container"));
        let in_ctr = plain.clone().with_host(Host {
            container: Some(Container {
                id: Some("c2b9d1e3bcc3".repeat(5) + "abcd"),
                name: None,
                ..Default::default()
            }),
            ..Default::default()
        });
        let line = render(&Item::Single(&in_ctr), &s);
        assert!(line.ends_with("[container c2b9d1e3bcc3]"), "{line}");
    }
}
