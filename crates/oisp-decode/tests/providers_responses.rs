#[path = "providers_support.rs"]
mod support;

use oisp_decode::providers::*;
use support::*;

const REQ: &str = r#"{"model":"o3-mini","instructions":"Be helpful.","input":[{"role":"user","content":[{"type":"input_text","text":"What's the weather in Paris?"}]},{"type":"function_call","id":"fc_1","call_id":"call_w1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},{"type":"function_call_output","call_id":"call_w1","output":"{\"temp\":18}"}],"tools":[{"type":"function","name":"get_weather","description":"Weather","parameters":{"type":"object"}},{"type":"web_search_preview"}],"max_output_tokens":500,"stream":false}"#;

#[test]
fn responses_non_streaming() {
    let resp = r#"{"id":"resp_67ccd2bed1ec8190","object":"response","created_at":1741476542,"status":"completed","error":null,"incomplete_details":null,"instructions":"Be helpful.","max_output_tokens":500,"model":"o3-mini-2025-01-31","output":[{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Checking tool output."}]},{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"It is 18°C in Paris.","annotations":[]}]}],"parallel_tool_calls":true,"usage":{"input_tokens":300,"input_tokens_details":{"cached_tokens":128},"output_tokens":120,"output_tokens_details":{"reasoning_tokens":64},"total_tokens":420}}"#;
    let ex = exchange(
        post(
            "api.openai.com",
            "/v1/responses",
            &[("authorization", "Bearer sk-abc")],
            REQ,
        ),
        Some(json_resp(200, &[], resp)),
    );
    let call = decode_exchange(&ex).unwrap();
    assert_eq!(call.detection.api_shape, ApiShape::OpenAiResponses);
    let r = &call.request;
    assert_eq!(r.model.as_deref(), Some("o3-mini"));
    assert!(r.has_system_prompt);
    assert_eq!(r.messages[0].role, Role::System);
    assert_eq!(
        r.messages[1].content.as_deref(),
        Some("What's the weather in Paris?")
    );
    assert_eq!(r.messages[2].tool_calls[0].id.as_deref(), Some("call_w1"));
    assert_eq!(r.tools.len(), 2);
    assert_eq!(r.tools[1].kind, ToolKind::Other);
    assert_eq!(r.params.max_tokens, Some(500));
    assert_eq!(call.tool_results[0].call_id, "call_w1");
    assert_eq!(call.tool_results[0].content, r#"{"temp":18}"#);
    let o = call.response.as_ref().unwrap();
    assert_eq!(o.choices[0].text.as_deref(), Some("It is 18°C in Paris."));
    assert_eq!(
        o.choices[0].reasoning.as_deref(),
        Some("Checking tool output.")
    );
    assert_eq!(o.finish_reason, Some(FinishReason::Stop));
    let us = o.usage.as_ref().unwrap();
    assert_eq!(
        (us.prompt_tokens, us.cached_tokens, us.reasoning_tokens),
        (Some(300), Some(128), Some(64))
    );
    let (pin, pout, pc) = price("openai/o3-mini");
    let cost = call.cost.unwrap();
    assert_eq!(cost.model_key, "openai/o3-mini");
    assert!(approx(
        cost.total_usd,
        (172.0 * pin + 128.0 * pc.unwrap() + 120.0 * pout) / 1000.0
    ));
}

#[test]
fn responses_streaming_every_event() {
    use serde_json::json;
    let resp = |status: &str, usage: serde_json::Value| json!({"id":"resp_1","object":"response","status":status,"model":"gpt-4.1-2025-04-14","output":[],"usage":usage});
    let all = [
        json!({"type":"response.created","sequence_number":0,"response":resp("in_progress", json!(null))}),
        json!({"type":"response.in_progress","sequence_number":1,"response":resp("in_progress", json!(null))}),
        json!({"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[]}}),
        json!({"type":"response.reasoning_summary_text.delta","sequence_number":3,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"Thinking"}),
        json!({"type":"response.output_item.added","sequence_number":4,"output_index":1,"item":{"type":"message","id":"msg_1","status":"in_progress","role":"assistant","content":[]}}),
        json!({"type":"response.content_part.added","sequence_number":5,"item_id":"msg_1","output_index":1,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}),
        json!({"type":"response.output_text.delta","sequence_number":6,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"Hi"}),
        json!({"type":"response.output_text.delta","sequence_number":7,"item_id":"msg_1","output_index":1,"content_index":0,"delta":" there"}),
        json!({"type":"response.output_text.done","sequence_number":8,"item_id":"msg_1","output_index":1,"content_index":0,"text":"Hi there"}),
        json!({"type":"response.content_part.done","sequence_number":9,"item_id":"msg_1","output_index":1,"content_index":0,"part":{"type":"output_text","text":"Hi there","annotations":[]}}),
        json!({"type":"response.output_item.done","sequence_number":10,"output_index":1,"item":{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there","annotations":[]}]}}),
        json!({"type":"response.output_item.added","sequence_number":11,"output_index":2,"item":{"type":"function_call","id":"fc_1","call_id":"call_9","name":"lookup","arguments":"","status":"in_progress"}}),
        json!({"type":"response.function_call_arguments.delta","sequence_number":12,"item_id":"fc_1","output_index":2,"delta":"{\"q\":"}),
        json!({"type":"response.function_call_arguments.delta","sequence_number":13,"item_id":"fc_1","output_index":2,"delta":"\"x\"}"}),
        json!({"type":"response.function_call_arguments.done","sequence_number":14,"item_id":"fc_1","output_index":2,"arguments":"{\"q\":\"x\"}"}),
        json!({"type":"response.output_item.done","sequence_number":15,"output_index":2,"item":{"type":"function_call","id":"fc_1","call_id":"call_9","name":"lookup","arguments":"{\"q\":\"x\"}","status":"completed"}}),
        json!({"type":"response.completed","sequence_number":16,"response":resp("completed", json!({"input_tokens":10,"input_tokens_details":{"cached_tokens":0},"output_tokens":20,"output_tokens_details":{"reasoning_tokens":5},"total_tokens":30}))}),
    ];
    let wire: Vec<(String, String)> = all
        .iter()
        .map(|v| (v["type"].as_str().unwrap().to_string(), v.to_string()))
        .collect();
    let events: Vec<(Option<&str>, &str, u64)> = wire
        .iter()
        .enumerate()
        .map(|(i, (t, d))| (Some(t.as_str()), d.as_str(), 200 + i as u64 * 10))
        .collect();
    let ex = exchange(
        post(
            "api.openai.com",
            "/v1/responses",
            &[],
            r#"{"model":"gpt-4.1","input":"Hi","stream":true}"#,
        ),
        Some(sse_resp(&[], &events)),
    );
    let call = decode_exchange(&ex).unwrap();
    assert!(call.warnings.is_empty(), "{:?}", call.warnings);
    assert!(call.request.streaming);
    assert_eq!(call.request.messages[0].content.as_deref(), Some("Hi"));
    let o = call.response.as_ref().unwrap();
    assert_eq!(o.model.as_deref(), Some("gpt-4.1-2025-04-14"));
    assert_eq!(o.response_id.as_deref(), Some("resp_1"));
    assert_eq!(o.choices[0].text.as_deref(), Some("Hi there"));
    assert_eq!(o.choices[0].reasoning.as_deref(), Some("Thinking"));
    assert_eq!(o.tool_calls.len(), 1);
    assert_eq!(o.tool_calls[0].id.as_deref(), Some("call_9"));
    assert_eq!(o.tool_calls[0].arguments, r#"{"q":"x"}"#);
    assert_eq!(o.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(o.usage.as_ref().unwrap().reasoning_tokens, Some(5));
    // First output-carrying event: the reasoning delta (index 3).
    assert_eq!(call.timing.first_token, Some(ts(230)));
    assert!(call.cost.is_some());
}

#[test]
fn responses_stream_failure_and_unknown_event() {
    let failed = r#"{"type":"response.failed","sequence_number":3,"response":{"id":"resp_f","object":"response","status":"failed","model":"gpt-4o","output":[],"error":{"code":"server_error","message":"The model failed."}}}"#;
    let weird = r#"{"type":"response.brand_new_thing","sequence_number":2}"#;
    let ex = exchange(
        post(
            "api.openai.com",
            "/v1/responses",
            &[],
            r#"{"model":"gpt-4o","input":"x","stream":true}"#,
        ),
        Some(sse_resp(
            &[],
            &[
                (Some("response.brand_new_thing"), weird, 120),
                (Some("response.failed"), failed, 130),
            ],
        )),
    );
    let call = decode_exchange(&ex).unwrap();
    let o = call.response.as_ref().unwrap();
    assert!(!o.success);
    assert_eq!(o.finish_reason, Some(FinishReason::Error));
    assert_eq!(
        o.error.as_ref().unwrap().message.as_deref(),
        Some("The model failed.")
    );
    assert!(call
        .warnings
        .iter()
        .any(|w| w.contains("response.brand_new_thing")));
}
