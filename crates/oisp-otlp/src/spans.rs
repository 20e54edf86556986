//! AI calls and tool calls as spans: pairing `ai.request` → `ai.response` and
//! `agent.tool_call` → `agent.tool_result`, in bounded memory.
//!
//! - One CLIENT span per AI call, named `{gen_ai.operation.name} {gen_ai.request.model}`, from
//!   the request's time to the response's; status ERROR (message from the provider) when the
//!   response failed. A response whose request was never seen still gets a span
//!   (`oisp.span.request_missing = true`, start = response time − `latency_ms`).
//! - One INTERNAL span per tool call (`execute_tool {gen_ai.tool.name}`), child of the span of
//!   the AI call whose response requested it, from the tool call to its `agent.tool_result`.
//! - A request without response (or a tool call without result) is exported after waiting
//!   `unfinished_after` with `oisp.span.unfinished = true` and end time = start time; so is the
//!   oldest entry when more than [`MAX_PENDING`] wait.
//!
//! Ids are deterministic (see [`crate::ids`]). [`TraceState`] is `Clone` so the sink can work
//! on a copy and keep it only once the export succeeded (a retried batch is paired again from
//! the same state, never twice).

use crate::agent_spans;
use crate::genai;
use crate::ids::{self, SpanId, TraceId};
use oisp_event::{Event, EventData, Relationship};
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode, Span, Status};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most requests (and, separately, tool calls) waiting for their other half.
pub const MAX_PENDING: usize = 4096;
/// Most recent responses remembered to parent their tool calls.
pub const MAX_RESPONSES: usize = 4096;

/// A finished span and the event whose process it belongs to (its resource).
pub type Finished = (Arc<Event>, Span);

/// Trace and span id of the span an event belongs to (for log ↔ span links).
pub type Link = (TraceId, SpanId);

#[derive(Debug, Clone)]
struct Pending {
    event: Arc<Event>,
    trace: TraceId,
    span: SpanId,
    parent: Option<SpanId>,
    since: Instant,
}

/// A bounded map with insertion order, oldest evicted first.
#[derive(Debug, Clone)]
struct Bounded<V> {
    map: HashMap<String, (u64, V)>,
    order: VecDeque<(u64, String)>,
    next_seq: u64,
    cap: usize,
}

impl<V> Bounded<V> {
    fn new(cap: usize) -> Self {
        Bounded {
            map: HashMap::new(),
            order: VecDeque::new(),
            next_seq: 0,
            cap,
        }
    }

    /// Inserts; returns what had to be evicted to stay within the bound.
    fn insert(&mut self, key: String, value: V) -> Vec<V> {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.map.insert(key.clone(), (seq, value));
        self.order.push_back((seq, key));
        let mut evicted = Vec::new();
        while self.map.len() > self.cap {
            match self.pop_oldest() {
                Some(v) => evicted.push(v),
                None => break,
            }
        }
        if self.order.len() > 2 * self.cap.max(16) {
            let map = &self.map;
            self.order
                .retain(|(s, k)| map.get(k).is_some_and(|(ms, _)| ms == s));
        }
        evicted
    }

    fn pop_oldest(&mut self) -> Option<V> {
        while let Some((seq, key)) = self.order.pop_front() {
            if self.map.get(&key).is_some_and(|(s, _)| *s == seq) {
                return self.map.remove(&key).map(|(_, v)| v);
            }
        }
        None
    }

    fn remove(&mut self, key: &str) -> Option<V> {
        self.map.remove(key).map(|(_, v)| v)
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key).map(|(_, v)| v)
    }

    /// Removes and returns every value matching `pred`, oldest first.
    fn drain_where(&mut self, mut pred: impl FnMut(&V) -> bool) -> Vec<V> {
        let mut keys: Vec<(u64, String)> = self
            .map
            .iter()
            .filter(|(_, (_, v))| pred(v))
            .map(|(k, (s, _))| (*s, k.clone()))
            .collect();
        keys.sort();
        keys.into_iter()
            .filter_map(|(_, k)| self.remove(&k))
            .collect()
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

/// Pairing state of the trace exporter.
#[derive(Debug, Clone)]
pub struct TraceState {
    calls: Bounded<Pending>,
    tools: Bounded<Pending>,
    /// Response event id → the span of its AI call.
    responses: Bounded<Link>,
}

impl Default for TraceState {
    fn default() -> Self {
        TraceState {
            calls: Bounded::new(MAX_PENDING),
            tools: Bounded::new(MAX_PENDING),
            responses: Bounded::new(MAX_RESPONSES),
        }
    }
}

fn time_ns(ev: &Event) -> u64 {
    ev.wall_ns().unwrap_or(0)
}

fn new_span(trace: TraceId, span: SpanId, parent: Option<SpanId>, name: String) -> Span {
    Span {
        trace_id: trace.to_vec(),
        span_id: span.to_vec(),
        parent_span_id: parent.map(|p| p.to_vec()).unwrap_or_default(),
        name,
        ..Default::default()
    }
}

fn call_name(op: &str, model: Option<&str>) -> String {
    match model {
        Some(m) => format!("{op} {m}"),
        None => op.to_owned(),
    }
}

impl TraceState {
    /// Requests and tool calls waiting for their other half.
    pub fn pending(&self) -> usize {
        self.calls.len() + self.tools.len()
    }

    /// Feeds one event (in capture order). Finished spans go to `out`; returns the span the
    /// event belongs to, if any.
    pub fn process(
        &mut self,
        ev: &Arc<Event>,
        now: Instant,
        out: &mut Vec<Finished>,
    ) -> Option<Link> {
        match &ev.data {
            EventData::AiRequest(req) => {
                let key = req
                    .request_id
                    .clone()
                    .unwrap_or_else(|| ev.event_id.clone());
                let (trace, span, parent) = match sensor_span(ev) {
                    Some((t, s, p)) => (t, s, p),
                    None => match ids::from_context(ev.trace_context.as_ref()) {
                        Some((t, p)) => (t, ids::span_id("span", &key), p),
                        None => (
                            ids::trace_id(req.conversation_id.as_deref().unwrap_or(&key)),
                            ids::span_id("span", &key),
                            None,
                        ),
                    },
                };
                let pending = Pending {
                    event: ev.clone(),
                    trace,
                    span,
                    parent,
                    since: now,
                };
                for old in self.calls.insert(key, pending) {
                    out.push(unfinished_call(&old));
                }
                Some((trace, span))
            }
            EventData::AiResponse(resp) => {
                let key = resp
                    .request_id
                    .clone()
                    .unwrap_or_else(|| ev.event_id.clone());
                let link = match self.calls.remove(&key) {
                    Some(req) => {
                        out.push(finished_call(&req, ev));
                        (req.trace, req.span)
                    }
                    None => {
                        let (trace, span, parent) = sensor_span(ev).unwrap_or_else(|| {
                            (
                                ids::trace_id(resp.conversation_id.as_deref().unwrap_or(&key)),
                                ids::span_id("span", &key),
                                None,
                            )
                        });
                        out.push(orphan_response(ev, trace, span, parent));
                        (trace, span)
                    }
                };
                self.responses.insert(ev.event_id.clone(), link);
                Some(link)
            }
            EventData::AgentToolCall(call) => {
                let (key, trace, span, parent) = match sensor_span(ev) {
                    Some((t, s, p)) => (tool_key(&s), t, s, p),
                    None => {
                        let key = call.call_id.clone().unwrap_or_else(|| ev.event_id.clone());
                        let parent = ev
                            .related_events
                            .iter()
                            .filter(|r| r.relationship == Relationship::Parent)
                            .find_map(|r| self.responses.get(&r.event_id).copied());
                        let trace = parent.map(|p| p.0).unwrap_or_else(|| ids::trace_id(&key));
                        let span = ids::span_id("tool", &key);
                        (key, trace, span, parent.map(|p| p.1))
                    }
                };
                let pending = Pending {
                    event: ev.clone(),
                    trace,
                    span,
                    parent,
                    since: now,
                };
                for old in self.tools.insert(key, pending) {
                    out.push(tool_span(&old, None));
                }
                Some((trace, span))
            }
            EventData::AgentToolResult(res) => {
                let key = match sensor_span(ev) {
                    Some((_, s, _)) => tool_key(&s),
                    None => res.call_id.clone(),
                };
                let call = self.tools.remove(&key)?;
                out.push(tool_span(&call, Some(ev)));
                Some((call.trace, call.span))
            }
            EventData::AiEmbedding(_) => ev
                .related_events
                .iter()
                .filter(|r| r.relationship == Relationship::Parent)
                .find_map(|r| self.responses.get(&r.event_id).copied()),
            EventData::AgentSession(session) => {
                let (trace, span, _) = sensor_span(ev)?;
                out.extend(agent_spans::session_span(ev, session, trace, span));
                Some((trace, span))
            }
            _ => {
                let (trace, span, parent) = sensor_span(ev)?;
                match agent_spans::activity_span(ev, trace, span, parent) {
                    Some(f) => {
                        out.push(f);
                        Some((trace, span))
                    }
                    // not a span of its own: its log record belongs to the parent span
                    None => Some((trace, parent.unwrap_or(span))),
                }
            }
        }
    }

    /// Exports as unfinished every request and tool call that has waited at least `wait`.
    pub fn expire(&mut self, now: Instant, wait: Duration, out: &mut Vec<Finished>) {
        let old = |p: &Pending| now.saturating_duration_since(p.since) >= wait;
        for p in self.calls.drain_where(old) {
            out.push(unfinished_call(&p));
        }
        for p in self.tools.drain_where(old) {
            out.push(tool_span(&p, None));
        }
    }
}

fn call_span(req: &Pending, end_ns: u64) -> Span {
    let EventData::AiRequest(r) = &req.event.data else {
        unreachable!("calls only hold ai.request events")
    };
    let op = genai::operation_name(Some(r));
    let model = r.model.as_ref().and_then(|m| m.id.as_deref());
    let mut span = new_span(req.trace, req.span, req.parent, call_name(op, model));
    span.kind = SpanKind::Client as i32;
    span.start_time_unix_nano = time_ns(&req.event);
    span.end_time_unix_nano = end_ns.max(span.start_time_unix_nano);
    let mut a = genai::request_attrs(r);
    a.str("oisp.event_id", Some(&req.event.event_id));
    span.attributes = a.into_vec();
    span
}

fn finished_call(req: &Pending, resp_ev: &Arc<Event>) -> Finished {
    let EventData::AiResponse(resp) = &resp_ev.data else {
        unreachable!("called with ai.response events only")
    };
    let mut span = call_span(req, time_ns(resp_ev));
    let mut a = genai::response_attrs(resp, false);
    a.str("oisp.response.event_id", Some(&resp_ev.event_id));
    span.attributes.extend(a.into_vec());
    if genai::error_type(resp).is_some() {
        span.status = Some(Status {
            code: StatusCode::Error as i32,
            message: genai::error_message(resp),
        });
    }
    (req.event.clone(), span)
}

fn unfinished_call(req: &Pending) -> Finished {
    let mut span = call_span(req, 0);
    let mut a = crate::attrs::Attrs::new();
    a.bool("oisp.span.unfinished", Some(true));
    span.attributes.extend(a.into_vec());
    (req.event.clone(), span)
}

/// The span the decoder placed an event of an agent session in (`span_id` and, except for a
/// session's root, `parent_span_id` in `trace_context`). Events without `parent_span_id` other
/// than sessions keep the older reading (`span_id` = the caller's span, see [`crate::ids`]).
fn sensor_span(ev: &Event) -> Option<(TraceId, SpanId, Option<SpanId>)> {
    let (t, s, p) = ids::own_span(ev.trace_context.as_ref())?;
    (p.is_some() || matches!(ev.data, EventData::AgentSession(_))).then_some((t, s, p))
}

/// The pairing key of a tool call placed in a session: its span (call ids repeat across
/// sessions — a mock's `call_1` — spans do not).
fn tool_key(span: &SpanId) -> String {
    span.iter().map(|b| format!("{b:02x}")).collect()
}

fn orphan_response(
    ev: &Arc<Event>,
    trace: TraceId,
    span_id: SpanId,
    parent: Option<SpanId>,
) -> Finished {
    let EventData::AiResponse(resp) = &ev.data else {
        unreachable!("called with ai.response events only")
    };
    let model = resp.model.as_ref().and_then(|m| m.id.as_deref());
    let mut span = new_span(trace, span_id, parent, call_name("generate_content", model));
    span.kind = SpanKind::Client as i32;
    span.end_time_unix_nano = time_ns(ev);
    span.start_time_unix_nano = span
        .end_time_unix_nano
        .saturating_sub(resp.latency_ms.unwrap_or(0).saturating_mul(1_000_000));
    let mut a = crate::attrs::Attrs::new();
    a.str("gen_ai.operation.name", Some("generate_content"));
    a.extend(genai::response_attrs(resp, true));
    a.str("oisp.response.event_id", Some(&ev.event_id))
        .bool("oisp.span.request_missing", Some(true));
    span.attributes = a.into_vec();
    if genai::error_type(resp).is_some() {
        span.status = Some(Status {
            code: StatusCode::Error as i32,
            message: genai::error_message(resp),
        });
    }
    (ev.clone(), span)
}

fn tool_span(call: &Pending, result: Option<&Arc<Event>>) -> Finished {
    let EventData::AgentToolCall(c) = &call.event.data else {
        unreachable!("tools only hold agent.tool_call events")
    };
    let name = call_name("execute_tool", c.tool.name.as_deref());
    let mut span = new_span(call.trace, call.span, call.parent, name);
    span.kind = SpanKind::Internal as i32;
    span.start_time_unix_nano = time_ns(&call.event);
    let mut a = genai::tool_call_attrs(c);
    a.str("oisp.event_id", Some(&call.event.event_id)).bool(
        "oisp.span.parent_missing",
        call.parent.is_none().then_some(true),
    );
    match result.map(|r| (r, &r.data)) {
        Some((r, EventData::AgentToolResult(res))) => {
            span.end_time_unix_nano = time_ns(r).max(span.start_time_unix_nano);
            a.extend(genai::tool_result_attrs(res, false));
            a.str("oisp.tool_result.event_id", Some(&r.event_id));
            if res.success == Some(false) || res.error.is_some() {
                span.status = Some(Status {
                    code: StatusCode::Error as i32,
                    message: res
                        .error
                        .as_ref()
                        .and_then(|e| e.message.clone())
                        .unwrap_or_default(),
                });
            }
        }
        _ => {
            span.end_time_unix_nano = span.start_time_unix_nano;
            a.bool("oisp.span.unfinished", Some(true));
        }
    }
    span.attributes = a.into_vec();
    (call.event.clone(), span)
}
