//! `show --trace`: one agent session as a tree, rebuilt from the events' `trace_context`
//! (`span_id`, `parent_span_id`): the session, its AI calls, the tool calls each response made,
//! the commands, file changes and connections linked to each tool call (with the link's basis
//! and confidence when inferred), the tool's result; activity not linked to a tool call sits
//! under the session. Opens, reads, forks and exits are counted, not listed, unless linked to
//! a tool call.

use crate::style::Style;
use crate::timeline::{excerpt, fmt_usd, truncate};
use oisp_event::{Content, Event, EventData, OpenFlag, Relationship};
use std::collections::HashMap;

/// A span of the trace: the events that carry its id, in time order (the first opened it).
struct Span<'a> {
    events: Vec<&'a Event>,
    children: Vec<String>,
}

fn span_ids(ev: &Event) -> Option<(&str, Option<&str>)> {
    let tc = ev.trace_context.as_ref()?;
    Some((tc.span_id.as_deref()?, tc.parent_span_id.as_deref()))
}

/// Renders the events of one trace (any order) as tree lines.
pub fn render(events: &[Event], s: &Style) -> Vec<String> {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by(|a, b| (a.ts_mono, &a.ts).cmp(&(b.ts_mono, &b.ts)));
    let mut spans: HashMap<&str, Span> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    let mut parent_of: HashMap<&str, &str> = HashMap::new();
    for ev in &sorted {
        let Some((id, parent)) = span_ids(ev) else {
            continue;
        };
        let span = spans.entry(id).or_insert_with(|| {
            order.push(id);
            Span {
                events: Vec::new(),
                children: Vec::new(),
            }
        });
        span.events.push(ev);
        if let Some(p) = parent {
            parent_of.entry(id).or_insert(p);
        }
    }
    let mut roots = Vec::new();
    for id in &order {
        match parent_of.get(id).filter(|p| spans.contains_key(**p)) {
            Some(p) => {
                let p = p.to_string();
                if let Some(parent) = spans.get_mut(p.as_str()) {
                    parent.children.push(id.to_string());
                }
            }
            None => roots.push(id.to_string()),
        }
    }
    let mut out = Vec::new();
    for r in &roots {
        walk(&spans, r, "", true, true, s, &mut out);
    }
    out
}

/// Whether a span is worth a line of its own: commands, changes and connections; opens and
/// reads only when a tool call's arguments named the file (a read tool's work).
fn listed(span: &Span) -> bool {
    let first = span.events[0];
    let named_by_args = || {
        first
            .related_events
            .iter()
            .any(|r| r.basis.as_deref() == Some("arguments"))
    };
    let special = |p: &str| p.starts_with("/dev/") || p.starts_with("/proc/");
    match &first.data {
        EventData::ProcessFork(_) | EventData::ProcessExit(_) => false,
        EventData::FileOpen(f) if special(&f.path) => false,
        EventData::FileWrite(f) if special(&f.path) => false,
        EventData::FileRead(_) => named_by_args(),
        EventData::FileOpen(f) => f.flags.contains(&OpenFlag::Create) || named_by_args(),
        _ => true,
    }
}

/// Lines of consecutive siblings that say the same thing (a file written in many pieces)
/// become one line with a count.
fn collapse(lines: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let mut out: Vec<(Vec<String>, usize, String)> = Vec::new();
    for l in lines {
        // the part after the time stamp decides sameness
        let key = l
            .first()
            .map(|f| f.get(13..).unwrap_or(f).to_string())
            .unwrap_or_default();
        match out.last_mut() {
            Some((_, n, k)) if *k == key && l.len() == 1 => *n += 1,
            _ => out.push((l, 1, key)),
        }
    }
    out.into_iter()
        .map(|(mut l, n, _)| {
            if n > 1 {
                if let Some(f) = l.first_mut() {
                    f.push_str(&format!(" ×{n}"));
                }
            }
            l
        })
        .collect()
}

fn walk(
    spans: &HashMap<&str, Span>,
    id: &str,
    prefix: &str,
    last: bool,
    root: bool,
    s: &Style,
    out: &mut Vec<String>,
) {
    let Some(span) = spans.get(id) else { return };
    let (branch, next_prefix) = if root {
        (String::new(), String::new())
    } else if last {
        (format!("{prefix}└─ "), format!("{prefix}   "))
    } else {
        (format!("{prefix}├─ "), format!("{prefix}│  "))
    };
    for (i, line) in describe(span, s).into_iter().enumerate() {
        if i == 0 {
            out.push(format!("{branch}{line}"));
        } else {
            out.push(format!("{next_prefix}{line}"));
        }
    }
    let shown: Vec<&String> = span
        .children
        .iter()
        .filter(|c| spans.get(c.as_str()).is_some_and(listed))
        .collect();
    let hidden = span.children.len() - shown.len();
    // A tool's result closes its span: show it after the children.
    let result = span
        .events
        .iter()
        .find(|e| matches!(e.data, EventData::AgentToolResult(_)));
    let session_end = span.events.iter().find(|e| {
        matches!(&e.data, EventData::AgentSession(x) if x.action == oisp_event::SessionAction::End)
    });
    let tail = usize::from(result.is_some() || session_end.is_some() || hidden > 0);
    // Runs of leaf children (no children of their own) are described together, so that lines
    // saying the same thing collapse into one.
    let mut groups: Vec<(bool, Vec<&String>)> = Vec::new();
    for c in &shown {
        let leaf = spans.get(c.as_str()).is_some_and(|x| x.children.is_empty());
        match groups.last_mut() {
            Some((true, g)) if leaf => g.push(c),
            _ => groups.push((leaf, vec![c])),
        }
    }
    let n_groups = groups.len();
    for (gi, (leaf, group)) in groups.iter().enumerate() {
        let last_group = gi + 1 == n_groups && tail == 0;
        if !leaf {
            walk(spans, group[0], &next_prefix, last_group, false, s, out);
            continue;
        }
        let described: Vec<Vec<String>> = group
            .iter()
            .filter_map(|c| spans.get(c.as_str()).map(|x| describe(x, s)))
            .collect();
        let lines = collapse(described);
        let n = lines.len();
        for (i, l) in lines.into_iter().enumerate() {
            let last = last_group && i + 1 == n;
            let glyph = if last { "└─ " } else { "├─ " };
            for (j, line) in l.into_iter().enumerate() {
                if j == 0 {
                    out.push(format!("{next_prefix}{glyph}{line}"));
                } else {
                    let cont = if last { "   " } else { "│  " };
                    out.push(format!("{next_prefix}{cont}{line}"));
                }
            }
        }
    }
    let mut tails: Vec<String> = Vec::new();
    if hidden > 0 {
        tails.push(s.dim(&format!(
            "(+{hidden} more: file opens and reads, forks, exits)"
        )));
    }
    if let Some(r) = result {
        tails.push(result_line(r, s));
    }
    if let Some(e) = session_end {
        tails.push(end_line(e, s));
    }
    for (i, t) in tails.iter().enumerate() {
        let glyph = if i + 1 == tails.len() {
            "└─ "
        } else {
            "├─ "
        };
        out.push(format!("{next_prefix}{glyph}{t}"));
    }
}

fn time(ev: &Event) -> String {
    ev.ts.get(11..23).unwrap_or(&ev.ts).to_string()
}

fn pid(ev: &Event) -> String {
    ev.process
        .as_ref()
        .and_then(|p| p.pid)
        .map(|p| format!("pid {p}"))
        .unwrap_or_default()
}

/// ` [basis, confidence]` of an inferred link to a tool call.
fn link_note(ev: &Event, s: &Style) -> String {
    ev.related_events
        .iter()
        .find(|r| r.relationship == Relationship::CausedBy && r.basis.is_some())
        .map(|r| {
            s.dim(&format!(
                " [{}, {}]",
                r.basis.as_deref().unwrap_or("?"),
                r.confidence.map(|c| c.as_str()).unwrap_or("?")
            ))
        })
        .unwrap_or_default()
}

fn describe(span: &Span, s: &Style) -> Vec<String> {
    let first = span.events[0];
    let t = s.dim(&time(first));
    match &first.data {
        EventData::AgentSession(x) => {
            let agent = x.agent.as_ref();
            let name = agent.and_then(|a| a.name.clone()).unwrap_or_default();
            let mut lines = vec![format!(
                "{} {} {} {}",
                s.bold("agent"),
                s.cyan(&name),
                s.dim(x.session_id.as_deref().unwrap_or("")),
                s.dim(&format!(
                    "{} {}",
                    pid(first),
                    x.extra
                        .get("root_exe")
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                )),
            )];
            lines.push(format!(
                "{} started{}",
                t,
                x.extra
                    .get("cwd")
                    .and_then(|v| v.as_str())
                    .map(|c| format!(" in {c}"))
                    .unwrap_or_default()
            ));
            if let Some(task) = &x.task_description {
                lines.push(format!("task: {}", excerpt(task)));
            }
            lines
        }
        EventData::AiRequest(req) => {
            let resp = span.events.iter().find_map(|e| match &e.data {
                EventData::AiResponse(r) => Some(r),
                _ => None,
            });
            let model = resp
                .and_then(|r| r.model.as_ref())
                .or(req.model.as_ref())
                .and_then(|m| m.id.clone())
                .unwrap_or_else(|| "?".into());
            let mut line = format!("{t} {} {}", s.magenta("AI call"), s.bold(&model));
            if let Some(prompt) = req
                .messages
                .as_deref()
                .and_then(oisp_event::Message::last_user_text)
            {
                let prompt = oisp_decode::engine::user_text(&prompt);
                line.push_str(&format!(" \"{}\"", truncate(&excerpt(&prompt), 60)));
            }
            match resp {
                Some(r) => {
                    let ok = r.success != Some(false);
                    let status = r.status_code.map(|c| c.to_string()).unwrap_or_default();
                    line.push_str(&format!(
                        " → {}",
                        if ok { s.green(&status) } else { s.red(&status) }
                    ));
                    if let Some(l) = r.latency_ms {
                        line.push_str(&format!(" {l} ms"));
                    }
                    if let Some(u) = &r.usage {
                        line.push_str(&format!(
                            ", {}→{} tokens",
                            u.prompt_tokens.unwrap_or(0),
                            u.completion_tokens.unwrap_or(0)
                        ));
                        if let Some(c) = u.total_cost_usd {
                            line.push_str(&format!(", ${}", fmt_usd(c)));
                        }
                    }
                    let text: Vec<String> = r
                        .choices
                        .iter()
                        .flatten()
                        .filter_map(|c| match c.message.as_ref()?.content.as_ref()? {
                            Content::Text(t) if !t.trim().is_empty() => Some(t.clone()),
                            _ => None,
                        })
                        .collect();
                    if !text.is_empty() {
                        line.push_str(&format!(" \"{}\"", truncate(&excerpt(&text.join(" ")), 60)));
                    }
                }
                None => line.push_str(&s.dim(" (no response)")),
            }
            vec![line]
        }
        EventData::AiResponse(r) => vec![format!(
            "{t} {} (request not captured) {}",
            s.magenta("AI response"),
            r.model
                .as_ref()
                .and_then(|m| m.id.clone())
                .unwrap_or_default()
        )],
        EventData::AgentToolCall(c) => {
            let args = c
                .arguments
                .as_ref()
                .map(|a| serde_json::Value::Object(a.clone()).to_string())
                .unwrap_or_default();
            vec![format!(
                "{t} {} {} {}",
                s.yellow("tool"),
                s.bold(c.tool.name.as_deref().unwrap_or("?")),
                truncate(&args, 100)
            )]
        }
        EventData::AgentToolResult(_) => vec![result_line(first, s)],
        EventData::ProcessExec(e) => {
            let cmd = e.args.as_ref().map(|a| a.join(" ")).unwrap_or_default();
            vec![format!(
                "{t} {} {} {}{}",
                s.blue("exec"),
                truncate(&excerpt(&cmd), 110),
                s.dim(&format!("({})", pid(first))),
                link_note(first, s)
            )]
        }
        EventData::FileWrite(f) => vec![format!(
            "{t} {} {}{}{}",
            s.blue("write"),
            f.path,
            f.bytes_written
                .map(|b| s.dim(&format!(" ({b} B)")))
                .unwrap_or_default(),
            link_note(first, s)
        )],
        EventData::FileOpen(f) => vec![format!(
            "{t} {} {}{}",
            s.blue("open"),
            f.path,
            link_note(first, s)
        )],
        EventData::FileRead(f) => vec![format!(
            "{t} {} {}{}",
            s.blue("read"),
            f.path,
            link_note(first, s)
        )],
        EventData::FileDelete(f) => vec![format!(
            "{t} {} {}{}",
            s.blue("delete"),
            f.path,
            link_note(first, s)
        )],
        EventData::FileRename(f) => vec![format!(
            "{t} {} {} → {}{}",
            s.blue("rename"),
            f.old_path,
            f.new_path,
            link_note(first, s)
        )],
        EventData::NetworkConnect(c) => vec![format!(
            "{t} {} {}:{}{}",
            s.blue("connect"),
            c.dest
                .domain
                .as_deref()
                .or(c.dest.ip.as_deref())
                .unwrap_or("?"),
            c.dest.port.unwrap_or(0),
            link_note(first, s)
        )],
        other => vec![format!("{t} {}", other.event_type())],
    }
}

fn result_line(ev: &Event, s: &Style) -> String {
    let EventData::AgentToolResult(r) = &ev.data else {
        return String::new();
    };
    let ok = r.success != Some(false);
    let text = match &r.result {
        Some(oisp_event::ToolResultValue::Text(t)) => t.clone(),
        Some(other) => serde_json::to_string(other).unwrap_or_default(),
        None => String::new(),
    };
    format!(
        "{} {} {}{}{}",
        s.dim(&time(ev)),
        s.yellow("result"),
        if ok { s.green("ok") } else { s.red("error") },
        r.duration_ms
            .map(|d| format!(" after {d} ms"))
            .unwrap_or_default(),
        if text.is_empty() {
            String::new()
        } else {
            format!(" \"{}\"", truncate(&excerpt(&text), 80))
        }
    )
}

fn end_line(ev: &Event, s: &Style) -> String {
    let EventData::AgentSession(x) = &ev.data else {
        return String::new();
    };
    let st = x.stats.clone().unwrap_or_default();
    let n = |k: &str| x.extra.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
    format!(
        "{} {} after {:.1} s ({}): {} AI calls, {} tool calls, {} commands, {} files written, {} tokens, ${}",
        s.dim(&time(ev)),
        s.bold("end"),
        x.duration_ms.unwrap_or(0) as f64 / 1000.0,
        x.extra.get("ended_by").and_then(|v| v.as_str()).unwrap_or("?"),
        st.llm_calls.unwrap_or(0),
        st.tool_calls.unwrap_or(0),
        n("commands_run"),
        st.files_written.unwrap_or(0),
        st.tokens_used.unwrap_or(0),
        fmt_usd(st.estimated_cost_usd.unwrap_or(0.0)),
    )
}
