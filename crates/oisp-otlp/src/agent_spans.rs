//! Spans of an agent session besides its AI and tool calls (OpenTelemetry GenAI agent
//! conventions): the session's `invoke_agent {agent}` root span, exported when the session ends,
//! and one short span per command, file change or connection the decoder placed in the session
//! (a child of the tool call it is linked to, else of the root). Their ids come from the
//! events' `trace_context` (see [`crate::ids::own_span`]), so nothing is held in memory.

use crate::attrs::Attrs;
use crate::ids::{SpanId, TraceId};
use crate::spans::Finished;
use oisp_event::{AgentSession, Event, EventData, Relationship, SessionAction};
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, Span};
use std::sync::Arc;

fn span(trace: TraceId, id: SpanId, parent: Option<SpanId>, name: String, kind: SpanKind) -> Span {
    Span {
        trace_id: trace.to_vec(),
        span_id: id.to_vec(),
        parent_span_id: parent.map(|p| p.to_vec()).unwrap_or_default(),
        name,
        kind: kind as i32,
        ..Default::default()
    }
}

/// The `invoke_agent` span of a session's `end` event (`None` for other actions).
pub fn session_span(
    ev: &Arc<Event>,
    s: &AgentSession,
    trace: TraceId,
    id: SpanId,
) -> Option<Finished> {
    if s.action != SessionAction::End {
        return None;
    }
    let agent = s.agent.as_ref();
    let name = agent.and_then(|a| a.name.as_deref()).unwrap_or("agent");
    let mut sp = span(
        trace,
        id,
        None,
        format!("invoke_agent {name}"),
        SpanKind::Internal,
    );
    sp.end_time_unix_nano = ev.wall_ns().unwrap_or(0);
    sp.start_time_unix_nano = sp
        .end_time_unix_nano
        .saturating_sub(s.duration_ms.unwrap_or(0).saturating_mul(1_000_000));
    let stats = s.stats.clone().unwrap_or_default();
    let extra = |k: &str| s.extra.get(k).and_then(|v| v.as_u64());
    let mut a = Attrs::new();
    a.str("gen_ai.operation.name", Some("invoke_agent"))
        .str("gen_ai.agent.name", Some(name))
        .str("gen_ai.agent.id", s.session_id.as_deref())
        .str(
            "oisp.agent.type",
            agent.and_then(|a| a.kind).map(|k| k.as_str()),
        )
        .str(
            "oisp.agent.framework",
            agent.and_then(|a| a.framework.as_deref()),
        )
        .str("oisp.session.task", s.task_description.as_deref())
        .int("oisp.session.llm_calls", stats.llm_calls)
        .int("oisp.session.tool_calls", stats.tool_calls)
        .int("oisp.session.files_written", stats.files_written)
        .int("oisp.session.tokens", stats.tokens_used)
        .double("oisp.session.cost_usd", stats.estimated_cost_usd)
        .int("oisp.session.commands", extra("commands_run"))
        .int("oisp.session.root_pid", extra("root_pid"))
        .str(
            "oisp.session.ended_by",
            s.extra.get("ended_by").and_then(|v| v.as_str()),
        )
        .str("oisp.event_id", Some(&ev.event_id));
    sp.attributes = a.into_vec();
    Some((ev.clone(), sp))
}

/// A span for a command, file change or connection of a session (`None` for other events:
/// opens, reads, exits and forks stay log records).
pub fn activity_span(
    ev: &Arc<Event>,
    trace: TraceId,
    id: SpanId,
    parent: Option<SpanId>,
) -> Option<Finished> {
    let mut a = Attrs::new();
    let (name, kind) = match &ev.data {
        EventData::ProcessExec(e) => {
            let base = e.exe.rsplit('/').next().unwrap_or(&e.exe);
            a.str("process.executable.path", Some(&e.exe))
                .str("process.command_line", e.args.as_ref().map(|v| v.join(" ")))
                .str("process.working_directory", e.cwd.as_deref());
            (format!("exec {base}"), SpanKind::Internal)
        }
        EventData::FileWrite(f) => {
            a.str("file.path", Some(&f.path))
                .int("oisp.file.bytes_written", f.bytes_written);
            ("file.write".to_string(), SpanKind::Internal)
        }
        EventData::FileDelete(f) => {
            a.str("file.path", Some(&f.path));
            ("file.delete".to_string(), SpanKind::Internal)
        }
        EventData::FileRename(f) => {
            a.str("file.path", Some(&f.new_path))
                .str("oisp.file.old_path", Some(&f.old_path));
            ("file.rename".to_string(), SpanKind::Internal)
        }
        EventData::NetworkConnect(c) => {
            let host = c.dest.domain.clone().or_else(|| c.dest.ip.clone());
            a.str("server.address", host.as_deref())
                .int("server.port", c.dest.port)
                .str("network.peer.address", c.dest.ip.as_deref())
                .bool("oisp.connect.success", c.success);
            (
                format!("connect {}", host.as_deref().unwrap_or("?")),
                SpanKind::Client,
            )
        }
        _ => return None,
    };
    let pid = ev.process.as_ref().and_then(|p| p.pid);
    a.int("process.pid", pid)
        .str("oisp.event_id", Some(&ev.event_id));
    if let Some(link) = ev
        .related_events
        .iter()
        .find(|r| r.relationship == Relationship::CausedBy)
    {
        a.str("oisp.link.tool_call_event_id", Some(&link.event_id))
            .str("oisp.link.confidence", link.confidence.map(|c| c.as_str()))
            .str("oisp.link.basis", link.basis.as_deref());
    }
    let mut sp = span(trace, id, parent, name, kind);
    sp.start_time_unix_nano = ev.wall_ns().unwrap_or(0);
    sp.end_time_unix_nano = sp.start_time_unix_nano;
    sp.attributes = a.into_vec();
    Some((ev.clone(), sp))
}
