//! The shared assertion: what the receiver got describes the events exactly.

use super::*;
use oisp_event::{Event, EventData};
use serde_json::Value;
use std::collections::HashMap;

/// Everything the receiver got must describe `events` exactly: one log record per event, one
/// span per AI call with its model/provider/usage, one child span per tool call under the AI
/// call that requested it, resources per process.
pub fn check_export(received: &[Value], events: &[Event], service: &str) {
    // Logs: one per event, body = the event JSON; records are grouped by resource (process),
    // so the order is the events' order within each process.
    let logs = log_records(received);
    assert_eq!(logs.len(), events.len(), "one log record per event");
    let by_id: HashMap<&str, (usize, &Event)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.event_id.as_str(), (i, e)))
        .collect();
    let in_log_order: Vec<&Event> = logs
        .iter()
        .map(|(_, rec)| {
            let id = attr_str(&rec["attributes"], "oisp.event_id").expect("log names its event");
            by_id[id.as_str()].1
        })
        .collect();
    let mut last_of_process: HashMap<Option<u64>, usize> = HashMap::new();
    for ev in &in_log_order {
        let pid = ev.process.as_ref().and_then(|p| p.pid);
        let i = by_id[ev.event_id.as_str()].0;
        if let Some(prev) = last_of_process.insert(pid, i) {
            assert!(prev < i, "records of one process keep their order");
        }
    }
    for ((resource, rec), ev) in logs.iter().zip(in_log_order.iter().copied()) {
        assert_eq!(rec["eventName"], ev.event_type());
        assert_eq!(
            attr_str(&rec["attributes"], "event.name").as_deref(),
            Some(ev.event_type())
        );
        assert_eq!(
            attr_str(&rec["attributes"], "oisp.event_id").as_deref(),
            Some(ev.event_id.as_str())
        );
        let body = rec["body"]["stringValue"].as_str().unwrap();
        assert_eq!(
            body,
            serde_json::to_string(ev).unwrap(),
            "body is the event JSON"
        );
        assert_eq!(
            rec["timeUnixNano"].as_str().unwrap(),
            ev.wall_ns().unwrap().to_string()
        );
        let sev = if ev.event_type() == "sensor.warning" {
            "SEVERITY_NUMBER_WARN"
        } else {
            "SEVERITY_NUMBER_INFO"
        };
        assert_eq!(rec["severityNumber"], sev);
        assert_eq!(attr_str(resource, "service.name").as_deref(), Some(service));
        if let Some(p) = &ev.process {
            assert_eq!(attr_int(resource, "process.pid"), p.pid.map(|x| x as i64));
            assert_eq!(attr_str(resource, "process.executable.path"), p.exe);
            assert_eq!(attr_str(resource, "process.executable.name"), p.name);
            assert_eq!(attr_str(resource, "process.command_line"), p.cmdline);
        }
        assert!(attr_str(resource, "host.name").is_some());
        assert!(attr_str(resource, "os.type").is_some());
    }

    // Spans.
    let spans = spans(received);
    let mut by_request: HashMap<String, &(Value, Value)> = HashMap::new();
    let mut by_response_event: HashMap<String, &(Value, Value)> = HashMap::new();
    let mut tools: HashMap<String, &(Value, Value)> = HashMap::new();
    // Agent sessions: `invoke_agent` spans by trace; activity spans (exec, file, connect).
    let mut sessions: HashMap<String, &(Value, Value)> = HashMap::new();
    let mut activity = 0;
    for s in &spans {
        let a = &s.1["attributes"];
        let name = s.1["name"].as_str().unwrap_or("");
        if name.starts_with("invoke_agent ") {
            let trace = hex_id(&s.1["traceId"]);
            assert!(
                sessions.insert(trace, s).is_none(),
                "one invoke_agent span per session"
            );
            assert_eq!(s.1["kind"], "SPAN_KIND_INTERNAL");
            continue;
        }
        if ["exec ", "file.", "connect "]
            .iter()
            .any(|p| name.starts_with(p))
        {
            assert!(
                attr_str(a, "oisp.event_id").is_some(),
                "activity span names its event"
            );
            activity += 1;
            continue;
        }
        match s.1["kind"].as_str() {
            Some("SPAN_KIND_CLIENT") => {
                let rid = attr_str(a, "oisp.request_id").expect("AI span has oisp.request_id");
                assert!(by_request.insert(rid, s).is_none(), "one span per AI call");
                if let Some(e) = attr_str(a, "oisp.response.event_id") {
                    by_response_event.insert(e, s);
                }
            }
            Some("SPAN_KIND_INTERNAL") => {
                let id = attr_str(a, "oisp.event_id").expect("tool span names its event");
                assert!(tools.insert(id, s).is_none(), "one span per tool call");
            }
            other => panic!("unexpected span kind {other:?}"),
        }
    }
    let session_ends = events
        .iter()
        .filter(|e| {
            matches!(&e.data, EventData::AgentSession(s)
                if s.action == oisp_event::SessionAction::End)
        })
        .count();
    assert_eq!(
        sessions.len(),
        session_ends,
        "one invoke_agent span per ended session"
    );
    let activities = events
        .iter()
        .filter(|e| {
            e.trace_context
                .as_ref()
                .is_some_and(|t| t.parent_span_id.is_some())
                && matches!(
                    e.data,
                    EventData::ProcessExec(_)
                        | EventData::FileWrite(_)
                        | EventData::FileDelete(_)
                        | EventData::FileRename(_)
                        | EventData::NetworkConnect(_)
                )
        })
        .count();
    assert_eq!(
        activity, activities,
        "one span per command, file change, connection"
    );
    let mut calls = 0;
    let mut tool_calls = 0;
    let responses: HashMap<&str, &Event> = events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::AiResponse(r) => Some((r.request_id.as_deref()?, e)),
            _ => None,
        })
        .collect();
    for ev in events {
        match &ev.data {
            EventData::AiRequest(req) => {
                calls += 1;
                let rid = req.request_id.as_deref().unwrap();
                let (resource, span) = by_request[rid];
                let a = &span["attributes"];
                let model = req.model.as_ref().and_then(|m| m.id.clone());
                assert_eq!(attr_str(a, "gen_ai.request.model"), model);
                let op = attr_str(a, "gen_ai.operation.name").unwrap();
                assert_eq!(
                    span["name"].as_str().unwrap(),
                    format!("{op} {}", model.unwrap())
                );
                let provider = req
                    .provider
                    .as_ref()
                    .and_then(oisp_otlp::genai::provider_name);
                assert_eq!(attr_str(a, "gen_ai.provider.name"), provider);
                assert_eq!(
                    span["startTimeUnixNano"].as_str().unwrap(),
                    ev.wall_ns().unwrap().to_string()
                );
                assert_eq!(
                    attr_int(resource, "process.pid"),
                    ev.process.as_ref().and_then(|p| p.pid).map(|p| p as i64)
                );
                assert!(attr_str(a, "server.address").is_some());
                let resp_ev = responses[rid];
                let EventData::AiResponse(resp) = &resp_ev.data else {
                    unreachable!()
                };
                assert_eq!(
                    span["endTimeUnixNano"].as_str().unwrap(),
                    resp_ev.wall_ns().unwrap().to_string()
                );
                let usage = resp.usage.clone().unwrap_or_default();
                assert_eq!(
                    attr_int(a, "gen_ai.usage.input_tokens"),
                    usage.prompt_tokens.map(|x| x as i64),
                    "{rid}"
                );
                assert_eq!(
                    attr_int(a, "gen_ai.usage.output_tokens"),
                    usage.completion_tokens.map(|x| x as i64),
                    "{rid}"
                );
                let cost = attr(a, "oisp.cost_usd").and_then(|v| v["doubleValue"].as_f64());
                assert_eq!(cost.is_some(), usage.total_cost_usd.is_some());
                if let (Some(got), Some(want)) = (cost, usage.total_cost_usd) {
                    assert!((got - want).abs() <= want.abs() * 1e-12, "{got} != {want}");
                }
                assert_eq!(
                    attr_str(a, "gen_ai.response.model"),
                    resp.model.as_ref().and_then(|m| m.id.clone())
                );
                let failed = resp.success == Some(false);
                assert_eq!(
                    span["status"]["code"] == "STATUS_CODE_ERROR",
                    failed,
                    "{rid}"
                );
                assert_eq!(attr_str(a, "error.type").is_some(), failed);
                assert!(attr(a, "oisp.span.unfinished").is_none());
                // In an agent session: a child of the session's invoke_agent span.
                if let Some(tc) = &ev.trace_context {
                    let root = sessions[tc.trace_id.as_deref().unwrap()];
                    assert_eq!(span["parentSpanId"], root.1["spanId"], "{rid}");
                    assert_eq!(span["traceId"], root.1["traceId"], "{rid}");
                }
            }
            EventData::AgentToolCall(call) => {
                tool_calls += 1;
                let (_, span) = tools[&ev.event_id];
                assert_eq!(
                    attr_str(&span["attributes"], "gen_ai.tool.call.id"),
                    call.call_id
                );
                let parent_event = &ev.related_events[0].event_id;
                let (_, parent) = by_response_event[parent_event];
                assert_eq!(
                    span["parentSpanId"], parent["spanId"],
                    "tool span is a child of its AI call"
                );
                assert_eq!(span["traceId"], parent["traceId"]);
                assert_eq!(
                    attr_str(&span["attributes"], "gen_ai.tool.name"),
                    call.tool.name
                );
                assert_eq!(
                    attr_str(&span["attributes"], "gen_ai.operation.name").as_deref(),
                    Some("execute_tool")
                );
                assert_eq!(
                    span["name"].as_str().unwrap(),
                    format!("execute_tool {}", call.tool.name.clone().unwrap())
                );
            }
            _ => {}
        }
    }
    assert!(calls > 0);
    assert_eq!(by_request.len(), calls, "one span per AI call, no more");
    assert_eq!(tools.len(), tool_calls, "one span per tool call, no more");
    // Ids are valid and AI spans of one conversation share a trace.
    for (_, s) in &spans {
        assert_eq!(hex_id(&s["traceId"]).len(), 32);
        assert_eq!(hex_id(&s["spanId"]).len(), 16);
    }
    // Log records of AI events point at their span.
    for ((_, rec), ev) in logs.iter().zip(in_log_order.iter().copied()) {
        if let EventData::AiRequest(r) = &ev.data {
            let (_, span) = by_request[r.request_id.as_deref().unwrap()];
            assert_eq!(rec["spanId"], span["spanId"]);
            assert_eq!(rec["traceId"], span["traceId"]);
        }
    }
}
