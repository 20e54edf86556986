#[path = "providers_support.rs"]
mod support;

use oisp_decode::providers::*;
use support::*;

const REQ: &str = r#"{"model":"claude-3-5-sonnet-20241022","max_tokens":1024,"system":[{"type":"text","text":"You are a weather bot.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"Weather in SF?"},{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"location":"SF"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":[{"type":"text","text":"15 degrees"}]},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}}]}],"tools":[{"name":"get_weather","description":"Get the weather","input_schema":{"type":"object","properties":{"location":{"type":"string"}}}},{"type":"web_search_20250305","name":"web_search","max_uses":3}],"tool_choice":{"type":"auto"},"temperature":0.5,"stop_sequences":["\n\nHuman:"]}"#;

#[test]
fn messages_non_streaming_with_cache_usage() {
    let resp = r#"{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-3-5-sonnet-20241022","content":[{"type":"text","text":"Let me also check tomorrow."},{"type":"tool_use","id":"toolu_02","name":"get_weather","input":{"location":"SF","day":"tomorrow"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":100,"cache_creation_input_tokens":2000,"cache_read_input_tokens":3000,"output_tokens":50}}"#;
    let ex = exchange(
        post(
            "api.anthropic.com",
            "/v1/messages",
            &[
                ("x-api-key", "sk-ant-api03-SECRET"),
                ("anthropic-version", "2023-06-01"),
            ],
            REQ,
        ),
        Some(json_resp(
            200,
            &[
                ("request-id", "req_011CKV"),
                ("anthropic-ratelimit-requests-limit", "4000"),
                ("anthropic-ratelimit-tokens-remaining", "399000"),
            ],
            resp,
        )),
    );
    let call = decode_exchange(&ex).unwrap();
    assert_eq!(call.detection.provider, ProviderId::Anthropic);
    assert_eq!(call.detection.api_shape, ApiShape::AnthropicMessages);
    let a = call.auth.as_ref().unwrap();
    assert_eq!(
        (a.scheme, a.location.as_str(), a.secret.as_str()),
        (AuthScheme::ApiKeyHeader, "x-api-key", "sk-ant-api03-SECRET")
    );
    let r = &call.request;
    assert!(r.has_system_prompt);
    assert_eq!(
        r.messages[0].content.as_deref(),
        Some("You are a weather bot.")
    );
    assert_eq!(
        r.messages[2].tool_calls[0].arguments,
        r#"{"location":"SF"}"#
    );
    assert_eq!(r.messages[3].role, Role::Tool);
    assert!(r.messages[4].has_images);
    assert_eq!(r.tools[1].raw_type.as_deref(), Some("web_search_20250305"));
    assert_eq!(r.tool_choice.as_deref(), Some("auto"));
    assert_eq!(r.params.max_tokens, Some(1024));
    assert_eq!(r.params.stop, vec!["\n\nHuman:".to_string()]);
    assert_eq!(call.tool_results[0].call_id, "toolu_01");
    assert_eq!(call.tool_results[0].content, "15 degrees");
    let o = call.response.as_ref().unwrap();
    assert_eq!(o.provider_request_id.as_deref(), Some("req_011CKV"));
    assert_eq!(o.rate_limit.limit_requests, Some(4000));
    assert_eq!(o.rate_limit.remaining_tokens, Some(399000));
    assert_eq!(o.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(o.raw_finish_reason.as_deref(), Some("tool_use"));
    assert_eq!(
        o.choices[0].text.as_deref(),
        Some("Let me also check tomorrow.")
    );
    // `input` arrives as a JSON object and is re-serialised: same members, key order not kept.
    let args: serde_json::Value = serde_json::from_str(&o.tool_calls[0].arguments).unwrap();
    assert_eq!(
        args,
        serde_json::json!({"location": "SF", "day": "tomorrow"})
    );
    let us = o.usage.as_ref().unwrap();
    assert_eq!(us.prompt_tokens, Some(5100));
    assert_eq!(us.cached_tokens, Some(3000));
    assert_eq!(us.cache_creation_tokens, Some(2000));
    assert_eq!(us.total_tokens, Some(5150));
    let key = "anthropic/claude-3-5-sonnet-20241022";
    let (pin, pout, pread) = price(key);
    let pwrite = price_field(key, "cache_write_cost_per_1k").unwrap();
    let expect = (100.0 * pin + 3000.0 * pread.unwrap() + 2000.0 * pwrite + 50.0 * pout) / 1000.0;
    let cost = call.cost.unwrap();
    assert!(
        approx(cost.total_usd, expect),
        "{} vs {expect}",
        cost.total_usd
    );
    assert!(!cost.cache_priced_at_input_rate);
}

#[test]
fn messages_streaming_thinking_text_and_tool() {
    let evs: Vec<(&str, &str)> = vec![
        (
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_s1","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
        ),
        ("ping", r#"{"type": "ping"}"#),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Need weather."}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Okay, "}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"checking."}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":1}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_S","name":"get_weather","input":{}}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"San Fra"}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"ncisco\"}"}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":2}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ];
    let events: Vec<(Option<&str>, &str, u64)> = evs
        .iter()
        .enumerate()
        .map(|(i, (n, d))| (Some(*n), *d, 400 + i as u64 * 10))
        .collect();
    let ex = exchange(
        post(
            "api.anthropic.com",
            "/v1/messages",
            &[("anthropic-version", "2023-06-01")],
            r#"{"model":"claude-sonnet-4-20250514","max_tokens":2048,"stream":true,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"Weather?"}]}"#,
        ),
        Some(sse_resp(&[], &events)),
    );
    let call = decode_exchange(&ex).unwrap();
    assert!(call.warnings.is_empty(), "{:?}", call.warnings);
    assert!(call.request.streaming);
    let o = call.response.as_ref().unwrap();
    assert_eq!(o.model.as_deref(), Some("claude-sonnet-4-20250514"));
    assert_eq!(o.choices[0].reasoning.as_deref(), Some("Need weather."));
    assert_eq!(o.choices[0].text.as_deref(), Some("Okay, checking."));
    assert_eq!(o.tool_calls.len(), 1);
    assert_eq!(o.tool_calls[0].id.as_deref(), Some("toolu_S"));
    assert_eq!(
        o.tool_calls[0].arguments,
        r#"{"location": "San Francisco"}"#
    );
    assert_eq!(o.finish_reason, Some(FinishReason::ToolCalls));
    let us = o.usage.as_ref().unwrap();
    assert_eq!(
        (us.prompt_tokens, us.completion_tokens),
        (Some(472), Some(89))
    );
    assert_eq!(call.timing.first_token, Some(ts(430)));
    assert_eq!(call.timing.time_to_first_token_ms, Some(430));
    let (pin, pout, _) = price("anthropic/claude-sonnet-4-20250514");
    assert!(approx(
        call.cost.unwrap().total_usd,
        (472.0 * pin + 89.0 * pout) / 1000.0
    ));
}

#[test]
fn stream_error_event_and_http_errors() {
    let events = [
        (
            Some("message_start"),
            r#"{"type":"message_start","message":{"id":"msg_e","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[],"usage":{"input_tokens":5,"output_tokens":1}}}"#,
            110,
        ),
        (
            Some("error"),
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            120,
        ),
    ];
    let ex = exchange(
        post(
            "api.anthropic.com",
            "/v1/messages",
            &[],
            r#"{"model":"claude-3-5-haiku-20241022","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"x"}]}"#,
        ),
        Some(sse_resp(&[], &events)),
    );
    let call = decode_exchange(&ex).unwrap();
    let o = call.response.unwrap();
    assert!(!o.success);
    assert_eq!(o.error.unwrap().kind.as_deref(), Some("overloaded_error"));

    let ex = exchange(
        post(
            "api.anthropic.com",
            "/v1/messages",
            &[],
            r#"{"model":"claude-3-5-haiku-20241022","max_tokens":10,"messages":[{"role":"user","content":"x"}]}"#,
        ),
        Some(json_resp(
            429,
            &[("retry-after", "7")],
            r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#,
        )),
    );
    let o = decode_exchange(&ex).unwrap().response.unwrap();
    let e = o.error.unwrap();
    assert_eq!(e.kind.as_deref(), Some("rate_limit_error"));
    assert_eq!(e.code.as_deref(), Some("429"));
    assert_eq!(o.rate_limit.retry_after_secs, Some(7.0));
}

#[test]
fn count_tokens_and_localhost_proxy() {
    let ex = exchange(
        post(
            "localhost:8080",
            "/v1/messages/count_tokens",
            &[
                ("anthropic-version", "2023-06-01"),
                ("x-stainless-lang", "js"),
            ],
            r#"{"model":"claude-3-7-sonnet-20250219","messages":[{"role":"user","content":"Hello"}]}"#,
        ),
        Some(json_resp(200, &[], r#"{"input_tokens":14}"#)),
    );
    let call = decode_exchange(&ex).unwrap();
    assert_eq!(call.detection.provider, ProviderId::Anthropic);
    assert_eq!(call.detection.method, DetectionMethod::PayloadInspection);
    assert_eq!(call.detection.api_shape, ApiShape::AnthropicCountTokens);
    assert_eq!(
        call.detection.endpoint,
        "http://localhost:8080/v1/messages/count_tokens"
    );
    assert_eq!(call.detection.sdk_hint.as_deref(), Some("anthropic-sdk"));
    assert_eq!(call.request.request_type, RequestType::Other);
    assert_eq!(
        call.response.unwrap().usage.unwrap().prompt_tokens,
        Some(14)
    );
    assert!(call.cost.is_none());
}
