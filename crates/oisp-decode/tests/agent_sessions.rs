//! Agent sessions and tool links decoded from a live capture of two real agents at once
//! (`fixtures/agents/two-agents.oraw`: Claude Code making two parallel Bash calls, Codex one
//! `exec_command`): two sessions rooted at the agents; each command, and the file it wrote,
//! under the right tool call; nothing of one agent in the other's trace; the same events on
//! every decode.

use oisp_decode::decode_capture;
use oisp_event::{Event, EventData, Relationship};
use std::path::PathBuf;

fn capture() -> Vec<u8> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/agents/two-agents.oraw");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn tc(e: &Event) -> (&str, &str, &str) {
    let t = e.trace_context.as_ref().expect("trace context");
    (
        t.trace_id.as_deref().unwrap_or(""),
        t.span_id.as_deref().unwrap_or(""),
        t.parent_span_id.as_deref().unwrap_or(""),
    )
}

fn session<'a>(evs: &'a [Event], agent: &str) -> (&'a Event, &'a Event) {
    let of = |action: &str| {
        evs.iter()
            .find(|e| match &e.data {
                EventData::AgentSession(s) => {
                    s.agent.as_ref().and_then(|a| a.name.as_deref()) == Some(agent)
                        && s.action.as_str() == action
                }
                _ => false,
            })
            .unwrap_or_else(|| panic!("no {action} of {agent}'s session"))
    };
    (of("start"), of("end"))
}

/// The tool call of `trace` whose arguments hold `command`; checks the command's exec and the
/// write of `file` sit under it, linked to it, and that its result names the exec.
fn check_episode(evs: &[Event], trace: &str, command: &str, file: &str) {
    let in_trace: Vec<&Event> = evs
        .iter()
        .filter(|e| e.trace_context.as_ref().and_then(|t| t.trace_id.as_deref()) == Some(trace))
        .collect();
    let call = in_trace
        .iter()
        .find(|e| match &e.data {
            EventData::AgentToolCall(c) => c.arguments.as_ref().is_some_and(|a| {
                serde_json::Value::Object(a.clone())
                    .to_string()
                    .contains(command)
            }),
            _ => false,
        })
        .unwrap_or_else(|| panic!("no tool call for {command}"));
    let (_, tool_span, chat_span) = tc(call);
    assert!(
        in_trace
            .iter()
            .any(|e| matches!(e.data, EventData::AiRequest(_)) && tc(e).1 == chat_span),
        "the tool call is not under an AI call"
    );
    let exec = in_trace
        .iter()
        .find(|e| match &e.data {
            EventData::ProcessExec(x) => x
                .args
                .as_ref()
                .is_some_and(|a| a.iter().any(|s| s.contains(command))),
            _ => false,
        })
        .unwrap_or_else(|| panic!("no exec of {command}"));
    assert_eq!(
        tc(exec).2,
        tool_span,
        "exec of {command} not under its tool call"
    );
    let link = exec
        .related_events
        .iter()
        .find(|r| r.relationship == Relationship::CausedBy)
        .expect("caused_by");
    assert_eq!(link.event_id, call.event_id);
    assert!(link.basis.is_some() && link.confidence.is_some());
    let write = in_trace
        .iter()
        .find(|e| matches!(&e.data, EventData::FileWrite(f) if f.path == file))
        .unwrap_or_else(|| panic!("no write of {file}"));
    assert_eq!(
        tc(write).2,
        tool_span,
        "write of {file} not under its tool call"
    );
    let result = in_trace
        .iter()
        .find(|e| matches!(e.data, EventData::AgentToolResult(_)) && tc(e).1 == tool_span)
        .unwrap_or_else(|| panic!("no result closing the call of {command}"));
    assert!(result
        .related_events
        .iter()
        .any(|r| r.relationship == Relationship::Child && r.event_id == exec.event_id));
}

#[test]
fn two_agents_at_once_decode_into_two_trees() {
    let bytes = capture();
    let (evs, stats, err) = decode_capture(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(stats.agent_sessions, 2);
    let (claude, claude_end) = session(&evs, "claude-code");
    let (codex, codex_end) = session(&evs, "codex");
    for (start, end) in [(claude, claude_end), (codex, codex_end)] {
        assert_eq!(tc(start).0, tc(end).0);
        let EventData::AgentSession(s) = &end.data else {
            unreachable!()
        };
        let stats = s.stats.as_ref().unwrap();
        assert_eq!(stats.llm_calls, Some(2));
        assert!(stats.files_written.unwrap() >= 1);
        assert_eq!(s.extra["ended_by"], "process_exit");
    }
    let (claude_trace, codex_trace) = (tc(claude).0, tc(codex).0);
    assert_ne!(claude_trace, codex_trace);
    check_episode(
        &evs,
        claude_trace,
        "echo alpha-from-claude",
        "/tmp/r2/proj/claude-a.txt",
    );
    check_episode(
        &evs,
        claude_trace,
        "echo beta-from-claude",
        "/tmp/r2/proj/claude-b.txt",
    );
    check_episode(
        &evs,
        codex_trace,
        "echo gamma-from-codex",
        "/tmp/r2/work/codex-c.txt",
    );
    // Every event of a session's processes carries that session's trace and no other.
    let pid_of = |e: &Event| e.process.as_ref().and_then(|p| p.pid);
    for (start, other) in [(claude, codex_trace), (codex, claude_trace)] {
        let root = pid_of(start);
        for e in evs.iter().filter(|e| pid_of(e) == root) {
            let t = e.trace_context.as_ref().and_then(|t| t.trace_id.as_deref());
            assert_ne!(t, Some(other), "{}", e.event_type());
        }
    }
    // Deterministic: a second decode gives the same events.
    let (again, _, _) = decode_capture(&bytes);
    assert_eq!(again, evs);
}
