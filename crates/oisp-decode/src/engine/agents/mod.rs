//! Agent sessions and the links between an agent's AI calls, tool calls and what its processes
//! did — the decoder's last stage, over the events the others produced.
//!
//! - **Sessions.** The first AI event of a process outside every open session starts one. Its
//!   root is the topmost running ancestor that is a known agent program
//!   ([`recognize::known_agent`]: Claude Code, Codex, Gemini CLI, aider, …), else the calling
//!   process itself (a script using an SDK is an agent of its own). Every later event of the
//!   root or a descendant belongs to the session. `agent.session` `start` is emitted before the
//!   event that started it (its `ts` is the root's start when known); `end` after the root's
//!   `process.exit` (or at the end of the capture) with the totals.
//! - **Traces.** Each session is one trace ([`oisp_event::trace`]): the session is the root
//!   span; each AI call a span under it (request and response share it); each tool call a span
//!   under the call whose response made it (its result closes it); each exec, file or connect a
//!   span under the tool call it is linked to, else under the root. Every event of a session
//!   carries `trace_context` with `parent_span_id`, and `related_events` naming its parent.
//! - **Tool links** follow [`correlate`]'s rules; a linked event carries
//!   `related_events: caused_by <tool call>` with the link's `confidence` and `basis`, and the
//!   tool's `agent.tool_result` lists the linked events (`child`, at most
//!   [`session::MAX_RELATED_EFFECTS`]) and their `side_effects`.
//!
//! Pure and deterministic like the rest of the decoder; bounded ([`MAX_SESSIONS`] open
//! sessions, [`session::MAX_REMEMBERED`] entries per table).

mod correlate;
mod recognize;
mod session;

pub use recognize::{known_agent, AgentIdentity, KNOWN as KNOWN_AGENTS};

use super::procs::ProcessTable;
use correlate::{Link, Observed, OpenCall};
use oisp_event::trace::{span_id_for, trace_id_for};
use oisp_event::{
    CaptureMethod, Completeness, Confidence, ConfidenceLevel, Event, EventData, OpenFlag,
    RelatedEvent, Relationship, SideEffect, SideEffectType, Source, Timestamp, TraceContext,
};
use session::{Session, ToolSpan};
use std::collections::HashMap;

/// Most sessions open at once; beyond it the oldest is ended (`ended_by: evicted`).
pub const MAX_SESSIONS: usize = 1024;
/// Deepest process ancestry walked.
const MAX_DEPTH: usize = 64;
/// Longest `task_description` (characters) taken from the first request's user message.
const MAX_TASK_CHARS: usize = 300;

#[derive(Debug, Default)]
pub struct AgentTracker {
    sessions: HashMap<u64, Session>,
    by_root: HashMap<u32, u64>,
    started: u64,
    id_counter: u64,
    /// Latest event time seen (for ends at capture end): monotonic, and the `ts` text (parsed
    /// only when needed).
    last_mono: u64,
    last_ts: String,
}

fn event_ts(ev: &Event) -> Timestamp {
    Timestamp {
        wall_ns: ev.wall_ns().unwrap_or(0),
        mono_ns: ev.ts_mono.unwrap_or(0),
    }
}

fn is_ai(d: &EventData) -> bool {
    matches!(
        d,
        EventData::AiRequest(_)
            | EventData::AiResponse(_)
            | EventData::AiEmbedding(_)
            | EventData::AiStreamingChunk(_)
            | EventData::AgentToolCall(_)
            | EventData::AgentToolResult(_)
    )
}

fn related(ev: &Event, rel: Relationship) -> Option<&str> {
    ev.related_events
        .iter()
        .find(|r| r.relationship == rel)
        .map(|r| r.event_id.as_str())
}

fn set_trace(ev: &mut Event, trace: &str, span: &str, parent: Option<&str>) {
    ev.trace_context = Some(TraceContext {
        trace_id: Some(trace.to_string()),
        span_id: Some(span.to_string()),
        trace_flags: Some(1),
        parent_span_id: parent.map(str::to_string),
    });
}

impl AgentTracker {
    /// Sessions started so far.
    pub fn sessions_started(&self) -> u64 {
        self.started
    }

    /// The latest event time seen.
    fn last_seen(&self) -> Timestamp {
        Timestamp {
            wall_ns: oisp_event::parse_ts(&self.last_ts).unwrap_or(0),
            mono_ns: self.last_mono,
        }
    }

    fn next_id(&mut self, at: Timestamp, kind: &str) -> String {
        self.id_counter += 1;
        let seed = format!("agent/{}/{kind}", self.id_counter);
        oisp_event::event_id_from(at.wall_ns, seed.as_bytes())
    }

    /// Annotates `events` (just produced, in order) and moves them to `out`, with session
    /// starts and ends inserted where they happen.
    pub fn process(&mut self, procs: &ProcessTable, events: Vec<Event>, out: &mut Vec<Event>) {
        for mut ev in events {
            if let Some(m) = ev.ts_mono {
                if m >= self.last_mono {
                    self.last_mono = m;
                    self.last_ts.clone_from(&ev.ts);
                }
            }
            let pid = ev
                .process
                .as_ref()
                .and_then(|p| p.pid)
                .and_then(|p| u32::try_from(p).ok())
                .unwrap_or(0);
            let mut sid = self.session_of(procs, pid);
            if sid.is_none() && pid != 0 && is_ai(&ev.data) {
                sid = Some(self.start(procs, pid, &ev, out));
            }
            let Some(sid) = sid else {
                out.push(ev);
                continue;
            };
            self.annotate(procs, sid, pid, &mut ev);
            let root_exit = matches!(ev.data, EventData::ProcessExit(_))
                && self.by_root.get(&pid) == Some(&sid);
            let at = root_exit.then(|| event_ts(&ev));
            out.push(ev);
            if let Some(at) = at {
                self.end(procs, sid, at, "process_exit", out);
            }
        }
    }

    /// End of capture: every open session ends (`ended_by: capture_end`).
    pub fn finish(&mut self, procs: &ProcessTable, out: &mut Vec<Event>) {
        let mut open: Vec<u64> = self.sessions.keys().copied().collect();
        open.sort();
        let at = self.last_seen();
        for sid in open {
            self.end(procs, sid, at, "capture_end", out);
        }
    }

    /// The open session `pid` belongs to: the nearest of it and its ancestors that is a root.
    fn session_of(&self, procs: &ProcessTable, pid: u32) -> Option<u64> {
        if self.by_root.is_empty() || pid == 0 {
            return None;
        }
        let mut cur = pid;
        for _ in 0..MAX_DEPTH {
            if let Some(s) = self.by_root.get(&cur) {
                return Some(*s);
            }
            let parent = procs.get(cur)?.image.ppid;
            if parent == cur || parent <= 1 {
                return None;
            }
            cur = parent;
        }
        None
    }

    /// The root of a new session for an AI event of `pid`: the topmost running known agent
    /// among it and its ancestors, else `pid` itself.
    fn root_for(procs: &ProcessTable, pid: u32) -> (u32, AgentIdentity) {
        let mut best = None;
        let mut cur = pid;
        for _ in 0..MAX_DEPTH {
            let Some(e) = procs.get(cur) else { break };
            if e.exited.is_none() || cur == pid {
                if let Some(id) = known_agent(e) {
                    best = Some((cur, id));
                }
            }
            let parent = e.image.ppid;
            if parent == cur || parent <= 1 {
                break;
            }
            cur = parent;
        }
        best.unwrap_or_else(|| (pid, AgentIdentity::of_caller(procs.get(pid))))
    }

    fn start(
        &mut self,
        procs: &ProcessTable,
        pid: u32,
        trigger: &Event,
        out: &mut Vec<Event>,
    ) -> u64 {
        if self.sessions.len() >= MAX_SESSIONS {
            if let Some(&oldest) = self.sessions.keys().min() {
                let at = self.last_seen();
                self.end(procs, oldest, at, "evicted", out);
            }
        }
        let (root, identity) = Self::root_for(procs, pid);
        let at = event_ts(trigger);
        let entry = procs.get(root);
        let started = entry
            .map(|e| Timestamp {
                wall_ns: e.started.wall_ns,
                mono_ns: e.started.mono_ns,
            })
            .filter(|s| s.wall_ns > 0 && s.mono_ns <= at.mono_ns)
            .unwrap_or(at);
        self.started += 1;
        let number = self.started;
        let id = format!("ses_{}", self.next_id(started, &format!("session/{root}")));
        let start_event_id = self.next_id(started, "session-start");
        let framework = trigger
            .attrs
            .as_ref()
            .and_then(|a| a.get("sdk"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let s = Session {
            trace_id: trace_id_for(&id),
            root_span: span_id_for(&start_event_id),
            id,
            start_event_id,
            identity,
            framework,
            root,
            started,
            own_pids: [root, pid].into_iter().collect(),
            chat_by_request: HashMap::new(),
            chat_by_response: HashMap::new(),
            tools: HashMap::new(),
            open: Vec::new(),
            lineage: HashMap::new(),
            totals: Default::default(),
            task: task_of(trigger),
            exe: entry.map(|e| e.image.exe.clone()).filter(|e| !e.is_empty()),
            cwd: entry.and_then(|e| e.image.cwd.clone()),
        };
        let known = s.identity.known;
        let mut ev = Event::new(s.start_data(), started, s.start_event_id.clone())
            .with_process(procs.context(root, 0))
            .with_source(session_source())
            .with_confidence(session_confidence(known));
        set_trace(&mut ev, &s.trace_id, &s.root_span, None);
        out.push(ev);
        self.by_root.insert(root, number);
        self.sessions.insert(number, s);
        number
    }

    fn end(
        &mut self,
        procs: &ProcessTable,
        sid: u64,
        at: Timestamp,
        why: &str,
        out: &mut Vec<Event>,
    ) {
        let Some(s) = self.sessions.remove(&sid) else {
            return;
        };
        if self.by_root.get(&s.root) == Some(&sid) {
            self.by_root.remove(&s.root);
        }
        let at = if at.mono_ns < s.started.mono_ns {
            s.started
        } else {
            at
        };
        let id = self.next_id(at, "session-end");
        let mut ev = Event::new(s.end_data(at, why), at, id)
            .with_process(procs.context(s.root, 0))
            .with_source(session_source())
            .with_confidence(session_confidence(s.identity.known))
            .with_related(s.start_event_id.clone(), Relationship::Related);
        set_trace(&mut ev, &s.trace_id, &s.root_span, None);
        out.push(ev);
    }

    fn annotate(&mut self, procs: &ProcessTable, sid: u64, pid: u32, ev: &mut Event) {
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        let own_id = ev.event_id.clone();
        let trace = s.trace_id.clone();
        let root_span = s.root_span.clone();
        match &mut ev.data {
            EventData::AiRequest(req) => {
                let request_id = req.request_id.clone();
                s.own_pids.insert(pid);
                s.totals.llm_calls += 1;
                if s.task.is_none() {
                    s.task = task_of(ev);
                }
                let span = span_id_for(&own_id);
                s.remember_chat(request_id.as_deref(), &span);
                set_trace(ev, &trace, &span, Some(&root_span));
                let start = s.start_event_id.clone();
                ev.related_events
                    .push(RelatedEvent::new(start, Relationship::Parent));
            }
            EventData::AiResponse(resp) => {
                s.own_pids.insert(pid);
                if let Some(u) = &resp.usage {
                    s.totals.tokens += u.total_tokens.unwrap_or_else(|| {
                        u.prompt_tokens.unwrap_or(0) + u.completion_tokens.unwrap_or(0)
                    });
                    s.totals.cost_usd += u.total_cost_usd.unwrap_or(0.0);
                }
                if let Some(m) = resp.model.as_ref().and_then(|m| m.id.clone()) {
                    if !s.totals.models.contains(&m) && s.totals.models.len() < 16 {
                        s.totals.models.push(m);
                    }
                }
                let span = resp
                    .request_id
                    .as_ref()
                    .and_then(|r| s.chat_by_request.get(r).cloned())
                    .unwrap_or_else(|| span_id_for(&own_id));
                s.remember_response(&own_id, &span);
                set_trace(ev, &trace, &span, Some(&root_span));
            }
            EventData::AiEmbedding(_) | EventData::AiStreamingChunk(_) => {
                let span = related(ev, Relationship::Parent)
                    .and_then(|r| s.chat_by_response.get(r).cloned())
                    .unwrap_or_else(|| span_id_for(&own_id));
                set_trace(ev, &trace, &span, Some(&root_span));
            }
            EventData::AgentToolCall(call) => {
                s.totals.tool_calls += 1;
                call.agent = Some(s.agent_info());
                let needles = call
                    .arguments
                    .as_ref()
                    .map(correlate::needles)
                    .unwrap_or_default();
                let chat = related(ev, Relationship::Parent)
                    .and_then(|r| s.chat_by_response.get(r).cloned())
                    .unwrap_or_else(|| root_span.clone());
                let span = span_id_for(&own_id);
                s.open_tool(
                    OpenCall {
                        event_id: own_id.clone(),
                        needles,
                        issued_ns: ev.ts_mono.unwrap_or(0),
                    },
                    ToolSpan {
                        span: span.clone(),
                        parent: chat.clone(),
                        effects: Vec::new(),
                    },
                );
                set_trace(ev, &trace, &span, Some(&chat));
            }
            EventData::AgentToolResult(res) => {
                res.agent = Some(s.agent_info());
                let call = related(ev, Relationship::CausedBy).map(str::to_string);
                let tool = call.as_deref().and_then(|c| s.close_tool(c)).cloned();
                match tool {
                    Some(t) => {
                        let (children, effects) = t.summary();
                        if let EventData::AgentToolResult(res) = &mut ev.data {
                            if !effects.is_empty() {
                                res.side_effects = Some(effects);
                            }
                        }
                        for id in children {
                            ev.related_events
                                .push(RelatedEvent::new(id, Relationship::Child));
                        }
                        set_trace(ev, &trace, &t.span, Some(&t.parent));
                    }
                    None => set_trace(ev, &trace, &span_id_for(&own_id), Some(&root_span)),
                }
            }
            EventData::AgentSession(_) => {}
            _ => self.annotate_system(procs, sid, pid, ev),
        }
    }

    /// A process, file, network (or other) event of a session's process: linked to a tool call
    /// when the rules allow, else placed under the session's root.
    fn annotate_system(&mut self, procs: &ProcessTable, sid: u64, pid: u32, ev: &mut Event) {
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        let (seen, effect) = observed(&ev.data);
        count(s, &ev.data);
        let link = lineage(s, procs, pid).or_else(|| {
            (!s.open.is_empty())
                .then(|| correlate::link(&s.open, &seen, s.own_pids.contains(&pid)))
                .flatten()
        });
        let span = span_id_for(&ev.event_id);
        let (trace, root_span) = (s.trace_id.clone(), s.root_span.clone());
        match link.and_then(|l| s.tools.get(&l.event_id).map(|t| (l, t.span.clone()))) {
            Some((l, tool_span)) => {
                if matches!(ev.data, EventData::ProcessExec(_)) && s.lineage.len() < 65_536 {
                    s.lineage.insert(pid, (l.event_id.clone(), l.confidence));
                }
                s.add_effect(&l.event_id, &ev.event_id, effect, l.confidence);
                ev.related_events.push(RelatedEvent {
                    event_id: l.event_id.clone(),
                    relationship: Relationship::CausedBy,
                    confidence: Some(l.confidence),
                    basis: Some(l.basis.to_string()),
                });
                set_trace(ev, &trace, &span, Some(&tool_span));
            }
            None => {
                let start = s.start_event_id.clone();
                ev.related_events
                    .push(RelatedEvent::new(start, Relationship::Parent));
                set_trace(ev, &trace, &span, Some(&root_span));
            }
        }
        if matches!(ev.data, EventData::ProcessExit(_)) {
            s.lineage.remove(&pid);
            s.own_pids.remove(&pid);
        }
    }
}

/// Rule 1 of [`correlate`]: the tool call whose command started `pid` or an ancestor of it
/// below the root, with the confidence of that command's own link.
fn lineage(s: &Session, procs: &ProcessTable, pid: u32) -> Option<Link> {
    let mut cur = pid;
    for _ in 0..MAX_DEPTH {
        if cur == s.root {
            return None;
        }
        if let Some((t, confidence)) = s.lineage.get(&cur) {
            // as sure as the link of the exec it descends from
            return Some(Link {
                event_id: t.clone(),
                confidence: *confidence,
                basis: "process_lineage",
            });
        }
        let parent = procs.get(cur)?.image.ppid;
        if parent == cur || parent <= 1 {
            return None;
        }
        cur = parent;
    }
    None
}

/// What an event shows for matching, and the side effect it is when linked to a tool (`None`
/// for events that changed nothing: reads, plain opens, exits, forks).
fn observed(d: &EventData) -> (Observed<'_>, Option<SideEffect>) {
    let fx = |kind, target: &str| {
        Some(SideEffect {
            kind: Some(kind),
            target: Some(target.to_string()),
        })
    };
    match d {
        EventData::ProcessExec(e) => (
            Observed::Exec(e.args.as_deref().unwrap_or_default()),
            fx(SideEffectType::ProcessSpawned, &e.exe),
        ),
        EventData::FileWrite(f) => (
            Observed::File(&f.path),
            fx(SideEffectType::FileModified, &f.path),
        ),
        EventData::FileOpen(f) => {
            let created = f.flags.contains(&OpenFlag::Create);
            let effect = created
                .then(|| fx(SideEffectType::FileCreated, &f.path))
                .flatten();
            (Observed::File(&f.path), effect)
        }
        EventData::FileRead(f) => (Observed::File(&f.path), None),
        EventData::FileDelete(f) => (
            Observed::File(&f.path),
            fx(SideEffectType::FileDeleted, &f.path),
        ),
        EventData::FileRename(f) => (
            Observed::File(&f.new_path),
            fx(SideEffectType::FileModified, &f.new_path),
        ),
        EventData::NetworkConnect(c) => {
            let target = c
                .dest
                .domain
                .clone()
                .or_else(|| c.dest.ip.clone())
                .map(|h| format!("{h}:{}", c.dest.port.unwrap_or(0)))
                .unwrap_or_default();
            (Observed::Other, fx(SideEffectType::NetworkRequest, &target))
        }
        _ => (Observed::Other, None),
    }
}

fn count(s: &mut Session, d: &EventData) {
    let t = &mut s.totals;
    match d {
        EventData::ProcessExec(_) => t.commands += 1,
        EventData::NetworkConnect(_) => t.connects += 1,
        EventData::FileWrite(f) => Session::note_file(&mut t.files_written, &f.path),
        EventData::FileRename(f) => Session::note_file(&mut t.files_written, &f.new_path),
        EventData::FileDelete(_) => t.files_deleted += 1,
        EventData::FileRead(f) => Session::note_file(&mut t.files_read, &f.path),
        EventData::FileOpen(f) if !f.flags.contains(&OpenFlag::Write) => {
            Session::note_file(&mut t.files_read, &f.path)
        }
        _ => {}
    }
}

pub use oisp_event::user_text;

/// The task of a session: the last user message of its first request (reminders removed),
/// shortened.
fn task_of(ev: &Event) -> Option<String> {
    let EventData::AiRequest(req) = &ev.data else {
        return None;
    };
    let text = req
        .messages
        .as_ref()?
        .iter()
        .rev()
        .find(|m| m.role == oisp_event::Role::User)?
        .content
        .as_ref()
        .and_then(|c| match c {
            oisp_event::Content::Text(t) => Some(user_text(t)),
            _ => None,
        })?;
    if text.is_empty() {
        return None;
    }
    let short: String = text.chars().take(MAX_TASK_CHARS).collect();
    Some(if short.len() < text.len() {
        format!("{short}…")
    } else {
        short
    })
}

fn session_source() -> Source {
    Source::sensor()
        .with_capture_method(CaptureMethod::Other)
        .with_capture_point("agent_sessions")
}

fn session_confidence(known: bool) -> Confidence {
    let level = if known {
        ConfidenceLevel::High
    } else {
        ConfidenceLevel::Medium
    };
    Confidence::new(level, Completeness::Full).with_reason(if known {
        "known_agent_program"
    } else {
        "ai_calling_process"
    })
}

#[cfg(test)]
mod tests {
    use super::user_text;

    #[test]
    fn reminders_are_not_the_users_words() {
        assert_eq!(
            user_text("<system-reminder>be nice</system-reminder>\n Run it. <system-reminder>x</system-reminder>"),
            "Run it."
        );
        assert_eq!(user_text("plain"), "plain");
        assert_eq!(user_text("a <system-reminder>cut"), "a");
    }
}
