//! The span pairing state on its own: trace context, conversations, bounds, orphans, tool
//! results.

use oisp_event::{
    AgentToolCall, AgentToolResult, AiRequest, AiResponse, Event, ModelInfo, Relationship,
    Timestamp, ToolError, ToolInfo, TraceContext,
};
use oisp_otlp::spans::{Finished, TraceState, MAX_PENDING};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

const T0: u64 = 1_766_434_505_000_000_000;

fn ev(data: impl Into<oisp_event::EventData>, ms: u64, id: &str) -> Arc<Event> {
    Arc::new(Event::new(data, Timestamp::new(T0 + ms * 1_000_000, 0), id))
}

fn request(rid: &str, conv: &str) -> AiRequest {
    AiRequest {
        request_id: Some(rid.into()),
        conversation_id: Some(conv.into()),
        model: Some(ModelInfo {
            id: Some("gpt-4o".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn response(rid: &str) -> AiResponse {
    AiResponse {
        request_id: Some(rid.into()),
        success: Some(true),
        status_code: Some(200),
        latency_ms: Some(40),
        ..Default::default()
    }
}

fn attr_bool(f: &Finished, key: &str) -> Option<bool> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    f.1.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::BoolValue(b) => Some(*b),
            _ => None,
        })
}

#[test]
fn trace_context_of_the_request_is_used() {
    let mut st = TraceState::default();
    let mut out = Vec::new();
    let now = Instant::now();
    let mut req = Event::new(request("r1", "c1"), Timestamp::new(T0, 0), "E1");
    req.trace_context = Some(TraceContext {
        trace_id: Some("0af7651916cd43dd8448eb211c80319c".into()),
        span_id: Some("b7ad6b7169203331".into()),
        trace_flags: Some(1),
        parent_span_id: None,
    });
    st.process(&Arc::new(req), now, &mut out);
    st.process(&ev(response("r1"), 50, "E2"), now, &mut out);
    assert_eq!(out.len(), 1);
    let span = &out[0].1;
    assert_eq!(span.trace_id[..2], [0x0a, 0xf7]);
    assert_eq!(
        span.parent_span_id,
        vec![0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31]
    );
    assert_eq!(span.name, "generate_content gpt-4o");
    assert_eq!(
        span.end_time_unix_nano - span.start_time_unix_nano,
        50_000_000
    );
}

#[test]
fn calls_of_one_conversation_share_a_trace() {
    let mut st = TraceState::default();
    let mut out = Vec::new();
    let now = Instant::now();
    for (i, rid) in ["a", "b"].iter().enumerate() {
        let ms = i as u64 * 100;
        st.process(
            &ev(request(rid, "conv"), ms, &format!("Q{rid}")),
            now,
            &mut out,
        );
        st.process(
            &ev(response(rid), ms + 10, &format!("P{rid}")),
            now,
            &mut out,
        );
    }
    st.process(&ev(request("c", "other"), 300, "Qc"), now, &mut out);
    st.process(&ev(response("c"), 310, "Pc"), now, &mut out);
    assert_eq!(out.len(), 3);
    assert_eq!(out[0].1.trace_id, out[1].1.trace_id);
    assert_ne!(out[0].1.span_id, out[1].1.span_id);
    assert_ne!(out[0].1.trace_id, out[2].1.trace_id);
}

#[test]
fn pending_requests_are_bounded_and_expire_unfinished() {
    let mut st = TraceState::default();
    let mut out = Vec::new();
    let now = Instant::now();
    for i in 0..MAX_PENDING + 1 {
        st.process(
            &ev(request(&format!("r{i}"), "c"), i as u64, &format!("E{i}")),
            now,
            &mut out,
        );
    }
    assert_eq!(out.len(), 1, "the oldest request went out unfinished");
    assert_eq!(attr_bool(&out[0], "oisp.span.unfinished"), Some(true));
    assert_eq!(st.pending(), MAX_PENDING);
    out.clear();
    st.expire(now, Duration::from_secs(60), &mut out);
    assert!(out.is_empty(), "not waited long enough");
    st.expire(
        now + Duration::from_secs(60),
        Duration::from_secs(60),
        &mut out,
    );
    assert_eq!(out.len(), MAX_PENDING);
    assert_eq!(st.pending(), 0);
    // A late response still gets a span (request missing), not a panic or a drop.
    out.clear();
    st.process(&ev(response("r5"), 9_000, "late"), now, &mut out);
    assert_eq!(attr_bool(&out[0], "oisp.span.request_missing"), Some(true));
    let s = &out[0].1;
    assert_eq!(s.end_time_unix_nano - s.start_time_unix_nano, 40_000_000);
}

#[test]
fn tool_call_spans_end_at_their_result_and_carry_its_failure() {
    let mut st = TraceState::default();
    let mut out = Vec::new();
    let now = Instant::now();
    st.process(&ev(request("r1", "c1"), 0, "REQ"), now, &mut out);
    st.process(&ev(response("r1"), 10, "RESP"), now, &mut out);
    let call = AgentToolCall {
        tool: ToolInfo {
            name: Some("get_weather".into()),
            ..Default::default()
        },
        call_id: Some("call_1".into()),
        ..Default::default()
    };
    let call_ev = Event::new(call, Timestamp::new(T0 + 10_000_000, 0), "CALL")
        .with_related("RESP", Relationship::Parent);
    let link = st.process(&Arc::new(call_ev), now, &mut out).unwrap();
    assert_eq!(out.len(), 1, "the tool span waits for its result");
    assert_eq!(link.0.to_vec(), out[0].1.trace_id);
    let result = AgentToolResult {
        call_id: "call_1".into(),
        success: Some(false),
        error: Some(ToolError {
            kind: Some("timeout".into()),
            message: Some("took too long".into()),
        }),
        ..Default::default()
    };
    st.process(&ev(result, 500, "RESULT"), now, &mut out);
    assert_eq!(out.len(), 2);
    let (ai, tool) = (&out[0].1, &out[1].1);
    assert_eq!(tool.parent_span_id, ai.span_id);
    assert_eq!(tool.trace_id, ai.trace_id);
    assert_eq!(tool.name, "execute_tool get_weather");
    assert_eq!(
        tool.end_time_unix_nano - tool.start_time_unix_nano,
        490_000_000
    );
    let status = tool.status.as_ref().unwrap();
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, "took too long");
    assert_eq!(st.pending(), 0);
}
