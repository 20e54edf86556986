//! Agent sessions as the decoder reported them (`agent.session` start/end events), for
//! `show --sessions`, `show --trace` and `analyze --report sessions`.

use oisp_event::{AgentSession, Event, EventData, SessionAction};

/// One agent session: what its start and end events say.
#[derive(Debug, Clone, Default)]
pub struct SessionInfo {
    pub session_id: String,
    pub trace_id: Option<String>,
    pub agent: String,
    pub framework: Option<String>,
    pub root_pid: Option<u64>,
    pub exe: Option<String>,
    pub cwd: Option<String>,
    pub task: Option<String>,
    pub started: String,
    /// `None` while the session is open (no end event yet).
    pub ended: Option<String>,
    pub ended_by: Option<String>,
    pub duration_ms: Option<u64>,
    pub llm_calls: u64,
    pub tool_calls: u64,
    pub commands: u64,
    pub files_written: u64,
    pub tokens: u64,
    pub cost_usd: f64,
}

fn session_of(ev: &Event) -> Option<&AgentSession> {
    match &ev.data {
        EventData::AgentSession(s) => Some(s),
        _ => None,
    }
}

/// The sessions the `agent.session` events among `events` describe, in start order.
pub fn sessions(events: &[Event]) -> Vec<SessionInfo> {
    let mut out: Vec<SessionInfo> = Vec::new();
    for ev in events {
        let Some(s) = session_of(ev) else { continue };
        let Some(id) = s.session_id.clone() else {
            continue;
        };
        let i = match out.iter().position(|x| x.session_id == id) {
            Some(i) => i,
            None => {
                out.push(SessionInfo {
                    session_id: id,
                    started: ev.ts.clone(),
                    ..Default::default()
                });
                out.len() - 1
            }
        };
        let info = &mut out[i];
        info.trace_id = info
            .trace_id
            .take()
            .or_else(|| ev.trace_context.as_ref().and_then(|t| t.trace_id.clone()));
        if let Some(a) = &s.agent {
            info.agent = a.name.clone().unwrap_or_default();
            info.framework = a.framework.clone();
        }
        let extra_str = |k: &str| s.extra.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let extra_u64 = |k: &str| s.extra.get(k).and_then(|v| v.as_u64());
        info.root_pid = extra_u64("root_pid").or(info.root_pid);
        info.exe = extra_str("root_exe").or(info.exe.take());
        info.cwd = extra_str("cwd").or(info.cwd.take());
        info.task = s.task_description.clone().or(info.task.take());
        match s.action {
            SessionAction::Start => info.started = ev.ts.clone(),
            SessionAction::End => {
                info.ended = Some(ev.ts.clone());
                info.ended_by = extra_str("ended_by");
                info.duration_ms = s.duration_ms;
                info.commands = extra_u64("commands_run").unwrap_or(0);
                if let Some(st) = &s.stats {
                    info.llm_calls = st.llm_calls.unwrap_or(0);
                    info.tool_calls = st.tool_calls.unwrap_or(0);
                    info.files_written = st.files_written.unwrap_or(0);
                    info.tokens = st.tokens_used.unwrap_or(0);
                    info.cost_usd = st.estimated_cost_usd.unwrap_or(0.0);
                }
            }
            _ => {}
        }
    }
    out
}

/// The session `id` names: a session id, a trace id, or a unique prefix of either (`ses_`
/// optional); the most recent session when `id` is empty. Errors say what matched.
pub fn find<'a>(list: &'a [SessionInfo], id: &str) -> Result<&'a SessionInfo, String> {
    if id.is_empty() {
        return list
            .iter()
            .max_by(|a, b| a.started.cmp(&b.started))
            .ok_or_else(|| "no agent sessions recorded".to_string());
    }
    let lower = id.to_ascii_lowercase();
    let hits: Vec<&SessionInfo> = list
        .iter()
        .filter(|s| {
            let sid = s.session_id.to_ascii_lowercase();
            sid.starts_with(&lower)
                || sid.trim_start_matches("ses_").starts_with(&lower)
                || s.trace_id.as_deref().is_some_and(|t| t.starts_with(&lower))
        })
        .collect();
    match hits.as_slice() {
        [one] => Ok(one),
        [] => Err(format!("no agent session matches {id:?}")),
        many => Err(format!(
            "{id:?} matches {} sessions: {}",
            many.len(),
            many.iter()
                .map(|s| s.session_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Totals of one trace counted from the events' facts (for sessions still open, whose end
/// event with the totals has not come yet).
pub fn add_live_totals(list: &mut [SessionInfo], facts: &[oisp_store::Facts]) {
    for info in list.iter_mut().filter(|i| i.ended.is_none()) {
        let Some(trace) = info.trace_id.as_deref() else {
            continue;
        };
        for f in facts
            .iter()
            .filter(|f| f.trace_id.as_deref() == Some(trace))
        {
            match f.event_type.as_str() {
                "ai.request" => info.llm_calls += 1,
                "agent.tool_call" => info.tool_calls += 1,
                "process.exec" => info.commands += 1,
                "file.write" => info.files_written += 1,
                "ai.response" => {
                    let n = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
                    info.tokens += n(f.prompt_tokens) + n(f.completion_tokens);
                    info.cost_usd += f.cost_usd.unwrap_or(0.0);
                }
                _ => {}
            }
        }
    }
}

/// The sessions as a table (`show --sessions`, `analyze --report sessions`).
pub fn table(list: &[SessionInfo]) -> crate::report::Table {
    use crate::report::Cell;
    let rows = list
        .iter()
        .map(|s| {
            vec![
                Cell::Text(s.session_id.clone()),
                Cell::Text(s.agent.clone()),
                s.root_pid.map(Cell::Int).unwrap_or(Cell::Empty),
                Cell::Text(s.started.clone()),
                match s.duration_ms {
                    Some(d) => Cell::Float(d as f64 / 1000.0),
                    None => Cell::Text("open".into()),
                },
                Cell::Int(s.llm_calls),
                Cell::Int(s.tool_calls),
                Cell::Int(s.commands),
                Cell::Int(s.files_written),
                Cell::Int(s.tokens),
                Cell::Usd(s.cost_usd),
                Cell::Text(
                    s.task
                        .as_deref()
                        .map(|t| crate::timeline::truncate(&crate::timeline::excerpt(t), 60))
                        .unwrap_or_default(),
                ),
            ]
        })
        .collect();
    crate::report::Table {
        title: "Agent sessions".into(),
        columns: vec![
            "session",
            "agent",
            "pid",
            "started",
            "seconds",
            "ai calls",
            "tool calls",
            "commands",
            "files written",
            "tokens",
            "cost usd",
            "task",
        ],
        rows,
        totals: None,
    }
}
