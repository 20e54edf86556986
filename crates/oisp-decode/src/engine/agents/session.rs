//! One agent session: its identity, trace ids, open tool calls and running totals.

use super::correlate::OpenCall;
use super::recognize::AgentIdentity;
use oisp_event::{
    AgentInfo, AgentSession, ConfidenceLevel, SessionAction, SessionStats, SideEffect, Timestamp,
};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

/// Most tool calls, chat spans, linked effects and distinct file paths a session remembers
/// (each; beyond it the oldest half is forgotten — totals keep counting).
pub const MAX_REMEMBERED: usize = 4096;
/// Most events a tool result lists as `related_events` (children) of its call.
pub const MAX_RELATED_EFFECTS: usize = 32;
/// Most linked events remembered per tool call.
pub const MAX_EFFECTS: usize = 256;
/// Most distinct `side_effects` a tool result lists.
pub const MAX_SIDE_EFFECTS: usize = 64;

fn rank(c: ConfidenceLevel) -> u8 {
    match c {
        ConfidenceLevel::High => 0,
        ConfidenceLevel::Medium => 1,
        _ => 2,
    }
}

impl ToolSpan {
    /// What a tool's result names: the linked events, surest links first (at most
    /// [`MAX_RELATED_EFFECTS`]), and their distinct side effects in the same order (at most
    /// [`MAX_SIDE_EFFECTS`]; device and /proc files left out).
    pub fn summary(&self) -> (Vec<String>, Vec<SideEffect>) {
        let mut sorted: Vec<&(String, Option<SideEffect>, ConfidenceLevel)> =
            self.effects.iter().collect();
        sorted.sort_by_key(|(_, _, c)| rank(*c));
        let children = sorted
            .iter()
            .take(MAX_RELATED_EFFECTS)
            .map(|(id, _, _)| id.clone())
            .collect();
        let mut effects: Vec<SideEffect> = Vec::new();
        for e in sorted.iter().filter_map(|(_, e, _)| e.as_ref()) {
            let target = e.target.as_deref().unwrap_or("");
            if target.starts_with("/dev/") || target.starts_with("/proc/") {
                continue;
            }
            if effects.len() < MAX_SIDE_EFFECTS && !effects.contains(e) {
                effects.push(e.clone());
            }
        }
        (children, effects)
    }
}

/// A tool call of the session and what was linked to it.
#[derive(Debug, Clone)]
pub struct ToolSpan {
    pub span: String,
    /// The chat span of the response that made the call.
    pub parent: String,
    /// Linked events: (event id, side effect, how sure the link is), in order.
    pub effects: Vec<(String, Option<SideEffect>, ConfidenceLevel)>,
}

/// Running totals of a session.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub llm_calls: u64,
    pub tool_calls: u64,
    pub tokens: u64,
    pub cost_usd: f64,
    pub commands: u64,
    pub connects: u64,
    pub files_read: HashSet<String>,
    pub files_written: HashSet<String>,
    pub files_deleted: u64,
    pub models: Vec<String>,
}

#[derive(Debug)]
pub struct Session {
    pub id: String,
    pub trace_id: String,
    pub root_span: String,
    pub start_event_id: String,
    pub identity: AgentIdentity,
    pub framework: Option<String>,
    pub root: u32,
    pub started: Timestamp,
    /// Processes that made the session's AI calls (and the root).
    pub own_pids: HashSet<u32>,
    /// `request_id` → the chat span of that AI call.
    pub chat_by_request: HashMap<String, String>,
    /// `ai.response` event id → the chat span it closed.
    pub chat_by_response: HashMap<String, String>,
    /// `agent.tool_call` event id → its span and linked events.
    pub tools: HashMap<String, ToolSpan>,
    /// Tool calls whose result has not been sent back, in issue order.
    pub open: Vec<OpenCall>,
    /// Process → the tool call its exec was linked to, and how sure that link was.
    pub lineage: HashMap<u32, (String, ConfidenceLevel)>,
    pub totals: Totals,
    pub task: Option<String>,
    pub exe: Option<String>,
    pub cwd: Option<String>,
}

fn trim_map<K: Clone + Eq + std::hash::Hash, V>(m: &mut HashMap<K, V>) {
    if m.len() >= MAX_REMEMBERED {
        let keys: Vec<K> = m.keys().take(MAX_REMEMBERED / 2).cloned().collect();
        for k in keys {
            m.remove(&k);
        }
    }
}

impl Session {
    pub fn remember_chat(&mut self, request_id: Option<&str>, span: &str) {
        if let Some(r) = request_id {
            trim_map(&mut self.chat_by_request);
            self.chat_by_request.insert(r.to_string(), span.to_string());
        }
    }

    pub fn remember_response(&mut self, event_id: &str, span: &str) {
        trim_map(&mut self.chat_by_response);
        self.chat_by_response
            .insert(event_id.to_string(), span.to_string());
    }

    pub fn open_tool(&mut self, call: OpenCall, span: ToolSpan) {
        trim_map(&mut self.tools);
        if self.open.len() >= MAX_REMEMBERED {
            self.open.drain(..MAX_REMEMBERED / 2);
        }
        self.tools.insert(call.event_id.clone(), span);
        self.open.push(call);
    }

    /// The result of tool call `event_id` was sent back: it is no longer open.
    pub fn close_tool(&mut self, event_id: &str) -> Option<&ToolSpan> {
        self.open.retain(|c| c.event_id != event_id);
        self.tools.get(event_id)
    }

    /// Records that `event_id` (with `effect`, if it changed something) was linked to tool
    /// call `tool`. Only events that changed something or ran a command are kept, at most
    /// [`MAX_EFFECTS`] per call; when full, a surer link replaces the last less sure one.
    pub fn add_effect(
        &mut self,
        tool: &str,
        event_id: &str,
        effect: Option<SideEffect>,
        confidence: ConfidenceLevel,
    ) {
        let Some(t) = self.tools.get_mut(tool) else {
            return;
        };
        if effect.is_none() {
            return;
        }
        let entry = (event_id.to_string(), effect, confidence);
        if t.effects.len() < MAX_EFFECTS {
            t.effects.push(entry);
        } else if let Some(i) = t
            .effects
            .iter()
            .rposition(|(_, _, c)| rank(*c) > rank(confidence))
        {
            t.effects[i] = entry;
        }
    }

    pub fn note_file(set: &mut HashSet<String>, path: &str) {
        if set.len() < MAX_REMEMBERED {
            set.insert(path.to_string());
        }
    }

    /// `agent` for this session's events.
    pub fn agent_info(&self) -> AgentInfo {
        AgentInfo {
            name: Some(self.identity.name.clone()),
            kind: Some(self.identity.kind),
            framework: self.framework.clone(),
            session_id: Some(self.id.clone()),
            ..Default::default()
        }
    }

    fn common_extra(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("root_pid".into(), json!(self.root));
        if let Some(e) = &self.exe {
            m.insert("root_exe".into(), json!(e));
        }
        if let Some(c) = &self.cwd {
            m.insert("cwd".into(), json!(c));
        }
        m.insert("known_agent".into(), json!(self.identity.known));
        m
    }

    /// The `agent.session` start payload.
    pub fn start_data(&self) -> AgentSession {
        let mut d = AgentSession::new(SessionAction::Start);
        d.agent = Some(self.agent_info());
        d.session_id = Some(self.id.clone());
        d.task_description = self.task.clone();
        d.extra = self.common_extra();
        d
    }

    /// The `agent.session` end payload at `end`; `ended_by` says why (`process_exit`,
    /// `capture_end`, `evicted`).
    pub fn end_data(&self, end: Timestamp, ended_by: &str) -> AgentSession {
        let t = &self.totals;
        let mut d = AgentSession::new(SessionAction::End);
        d.agent = Some(self.agent_info());
        d.session_id = Some(self.id.clone());
        d.task_description = self.task.clone();
        d.duration_ms = Some(end.mono_ns.saturating_sub(self.started.mono_ns) / 1_000_000);
        d.stats = Some(SessionStats {
            llm_calls: Some(t.llm_calls),
            tool_calls: Some(t.tool_calls),
            files_read: Some(t.files_read.len() as u64),
            files_written: Some(t.files_written.len() as u64),
            tokens_used: Some(t.tokens),
            estimated_cost_usd: Some(t.cost_usd),
        });
        let mut extra = self.common_extra();
        extra.insert("ended_by".into(), json!(ended_by));
        extra.insert("commands_run".into(), json!(t.commands));
        extra.insert("connections".into(), json!(t.connects));
        extra.insert("files_deleted".into(), json!(t.files_deleted));
        extra.insert("tools_open_at_end".into(), json!(self.open.len()));
        if !t.models.is_empty() {
            extra.insert("models".into(), json!(t.models));
        }
        d.extra = extra;
        d
    }
}
