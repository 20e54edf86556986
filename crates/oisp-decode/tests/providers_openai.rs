#[path = "providers_support.rs"]
mod support;

use oisp_decode::providers::*;
use support::*;

const CHAT_REQ: &str = r#"{"model":"gpt-4o","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":[{"type":"text","text":"Weather in Paris and Tokyo?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"call_prev","type":"function","function":{"name":"get_time","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_prev","content":"12:00"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Get weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],"tool_choice":"auto","temperature":0.2,"top_p":0.9,"max_completion_tokens":256,"presence_penalty":0.1,"stop":["END"],"stream":false}"#;

#[test]
fn chat_non_streaming_with_parallel_tool_calls() {
    let resp = r#"{"id":"chatcmpl-AbC123","object":"chat.completion","created":1727000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\"}"}}],"refusal":null},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1200,"completion_tokens":40,"total_tokens":1240,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"system_fingerprint":"fp_1"}"#;
    let ex = exchange(
        post(
            "api.openai.com",
            "/v1/chat/completions",
            &[
                ("authorization", "Bearer sk-proj-SECRET123"),
                ("x-stainless-lang", "python"),
            ],
            CHAT_REQ,
        ),
        Some(json_resp(
            200,
            &[
                ("x-request-id", "req_abc"),
                ("x-ratelimit-limit-requests", "10000"),
                ("x-ratelimit-remaining-requests", "9999"),
                ("x-ratelimit-reset-tokens", "6ms"),
            ],
            resp,
        )),
    );
    let call = decode_exchange(&ex).expect("ai call");
    assert_eq!(call.detection.provider, ProviderId::OpenAi);
    assert_eq!(call.detection.oisp_provider, "openai");
    assert_eq!(call.detection.api_shape, ApiShape::OpenAiChat);
    assert_eq!(call.detection.method, DetectionMethod::KnownEndpoint);
    assert_eq!(
        call.detection.endpoint,
        "https://api.openai.com/v1/chat/completions"
    );
    assert_eq!(
        call.detection.sdk_hint.as_deref(),
        Some("stainless-sdk:python")
    );
    let auth = call.auth.as_ref().unwrap();
    assert_eq!(auth.scheme, AuthScheme::Bearer);
    assert_eq!(auth.secret, "sk-proj-SECRET123");

    let r = &call.request;
    assert_eq!(r.model.as_deref(), Some("gpt-4o"));
    assert_eq!(r.request_type, RequestType::Chat);
    assert!(!r.streaming);
    assert!(r.has_system_prompt);
    assert_eq!(r.messages.len(), 4);
    assert_eq!(
        r.messages[1].content.as_deref(),
        Some("Weather in Paris and Tokyo?")
    );
    assert!(r.messages[1].has_images);
    assert_eq!(r.messages[1].image_count, 1);
    assert_eq!(
        r.messages[2].tool_calls[0].name.as_deref(),
        Some("get_time")
    );
    assert_eq!(r.messages[3].role, Role::Tool);
    assert_eq!(r.tools[0].name.as_deref(), Some("get_weather"));
    assert_eq!(r.tools[0].description.as_deref(), Some("Get weather"));
    assert_eq!(r.tool_choice.as_deref(), Some("auto"));
    assert_eq!(r.params.temperature, Some(0.2));
    assert_eq!(r.params.max_tokens, Some(256));
    assert_eq!(r.params.stop, vec!["END".to_string()]);
    assert_eq!(
        call.tool_results,
        vec![ToolResult {
            call_id: "call_prev".into(),
            content: "12:00".into(),
            is_error: None
        }]
    );
    // The secret never appears outside `auth`.
    let dbg = format!("{:?}", (&call.request, &call.response, &call.detection));
    assert!(!dbg.contains("SECRET123"));

    let resp = call.response.as_ref().unwrap();
    assert!(resp.success);
    assert_eq!(resp.model.as_deref(), Some("gpt-4o-2024-08-06"));
    assert_eq!(resp.response_id.as_deref(), Some("chatcmpl-AbC123"));
    assert_eq!(resp.provider_request_id.as_deref(), Some("req_abc"));
    assert_eq!(resp.rate_limit.limit_requests, Some(10000));
    assert_eq!(resp.rate_limit.remaining_requests, Some(9999));
    assert_eq!(resp.rate_limit.reset_tokens.as_deref(), Some("6ms"));
    assert_eq!(resp.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(resp.tool_calls.len(), 2);
    assert_eq!(resp.tool_calls[0].id.as_deref(), Some("call_1"));
    assert_eq!(resp.tool_calls[1].arguments, r#"{"city":"Tokyo"}"#);
    let us = resp.usage.as_ref().unwrap();
    assert_eq!(us.prompt_tokens, Some(1200));
    assert_eq!(us.cached_tokens, Some(1024));
    assert_eq!(us.total_tokens, Some(1240));

    let cost = call.cost.as_ref().expect("cost");
    assert_eq!(cost.model_key, "openai/gpt-4o-2024-08-06");
    assert_eq!(cost.matched, PriceMatch::Exact);
    let (pin, pout, pcache) = price("openai/gpt-4o-2024-08-06");
    let expect_in = (176.0 * pin + 1024.0 * pcache.unwrap()) / 1000.0;
    assert!(
        approx(cost.input_usd, expect_in),
        "{} vs {}",
        cost.input_usd,
        expect_in
    );
    assert!(approx(cost.output_usd, 40.0 * pout / 1000.0));
    assert!(approx(cost.total_usd, expect_in + 40.0 * pout / 1000.0));
    assert_eq!(call.timing.latency_ms, Some(310));
    assert_eq!(call.timing.time_to_first_token_ms, None);
    assert!(call.warnings.is_empty(), "{:?}", call.warnings);
}

#[test]
fn chat_streaming_tool_calls_usage_and_ttft() {
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}"#;
    let c = |s: &str| {
        format!(
            r#"{{"id":"chatcmpl-X","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp","choices":[{s}],"usage":null}}"#
        )
    };
    let e0 = c(
        r#"{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}"#,
    );
    let e1 = c(
        r#"{"index":0,"delta":{"content":"Let me check."},"logprobs":null,"finish_reason":null}"#,
    );
    let e2 = c(
        r#"{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}"#,
    );
    let e3 = c(
        r#"{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]},"logprobs":null,"finish_reason":null}"#,
    );
    let e4 = c(
        r#"{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_B","type":"function","function":{"name":"get_time","arguments":""}}]},"logprobs":null,"finish_reason":null}"#,
    );
    let e5 = c(
        r#"{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\":\"Paris\"}"}}]},"logprobs":null,"finish_reason":null}"#,
    );
    let e6 = c(
        r#"{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\":\"CET\"}"}}]},"logprobs":null,"finish_reason":null}"#,
    );
    let e7 = c(r#"{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}"#);
    let usage = r#"{"id":"chatcmpl-X","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":30,"total_tokens":80,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}"#;
    let events: Vec<(Option<&str>, &str, u64)> = vec![
        (None, &e0, 150),
        (None, &e1, 180),
        (None, &e2, 200),
        (None, &e3, 210),
        (None, &e4, 220),
        (None, &e5, 230),
        (None, &e6, 240),
        (None, &e7, 250),
        (None, usage, 260),
        (None, "[DONE]", 261),
    ];
    let ex = exchange(
        post("api.openai.com", "/v1/chat/completions", &[], body),
        Some(sse_resp(&[], &events)),
    );
    let call = decode_exchange(&ex).unwrap();
    assert!(call.request.streaming);
    let r = call.response.as_ref().unwrap();
    assert_eq!(r.chunk_count, 10);
    assert_eq!(r.choices[0].text.as_deref(), Some("Let me check."));
    assert_eq!(r.choices[0].role, Some(Role::Assistant));
    assert_eq!(r.tool_calls.len(), 2);
    assert_eq!(r.tool_calls[0].id.as_deref(), Some("call_A"));
    assert_eq!(r.tool_calls[0].name.as_deref(), Some("get_weather"));
    assert_eq!(r.tool_calls[0].arguments, r#"{"city":"Paris"}"#);
    assert_eq!(r.tool_calls[1].name.as_deref(), Some("get_time"));
    assert_eq!(r.tool_calls[1].arguments, r#"{"tz":"CET"}"#);
    assert_eq!(r.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(r.usage.as_ref().unwrap().completion_tokens, Some(30));
    // First chunk carrying content is e1 (the role chunk has empty content).
    assert_eq!(call.timing.first_token, Some(ts(180)));
    assert_eq!(call.timing.time_to_first_token_ms, Some(180));
    assert_eq!(call.timing.latency_ms, Some(262));
    let (pin, pout, _) = price("openai/gpt-4o-mini");
    let cost = call.cost.unwrap();
    assert_eq!(cost.model_key, "openai/gpt-4o-mini");
    assert_eq!(cost.matched, PriceMatch::Normalized);
    assert!(approx(cost.total_usd, (50.0 * pin + 30.0 * pout) / 1000.0));
    assert!(call.warnings.is_empty(), "{:?}", call.warnings);
}

#[test]
fn chat_stream_truncated_and_garbage_warns() {
    let e1 = r#"{"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#;
    let ex = exchange(
        post(
            "api.openai.com",
            "/v1/chat/completions",
            &[],
            r#"{"model":"gpt-4o","messages":[],"stream":true}"#,
        ),
        Some(sse_resp(&[], &[(None, e1, 120), (None, "{not json", 130)])),
    );
    let call = decode_exchange(&ex).unwrap();
    let r = call.response.as_ref().unwrap();
    assert_eq!(r.choices[0].text.as_deref(), Some("Hel"));
    assert!(call
        .warnings
        .iter()
        .any(|w| w.contains("stream event 1: invalid JSON")));
    assert!(call.warnings.iter().any(|w| w.contains("stream truncated")));
}

#[test]
fn legacy_completions() {
    let ex = exchange(
        post(
            "api.openai.com",
            "/v1/completions",
            &[],
            r#"{"model":"gpt-3.5-turbo-instruct","prompt":"Say this is a test","max_tokens":7,"temperature":0}"#,
        ),
        Some(json_resp(
            200,
            &[],
            r#"{"id":"cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7","object":"text_completion","created":1589478378,"model":"gpt-3.5-turbo-instruct","system_fingerprint":"fp_44709d6fcb","choices":[{"text":"\n\nThis is indeed a test","index":0,"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#,
        )),
    );
    let call = decode_exchange(&ex).unwrap();
    assert_eq!(call.detection.api_shape, ApiShape::OpenAiCompletions);
    assert_eq!(call.request.request_type, RequestType::Completion);
    assert_eq!(call.request.prompt.as_deref(), Some("Say this is a test"));
    let r = call.response.unwrap();
    assert_eq!(
        r.choices[0].text.as_deref(),
        Some("\n\nThis is indeed a test")
    );
    assert_eq!(r.finish_reason, Some(FinishReason::Length));
    assert_eq!(r.usage.unwrap().total_tokens, Some(12));
}

#[test]
fn rate_limited_429() {
    let ex = exchange(
        post(
            "api.openai.com",
            "/v1/chat/completions",
            &[],
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}"#,
        ),
        Some(json_resp(
            429,
            &[("retry-after", "20"), ("x-request-id", "req_429")],
            r#"{"error":{"message":"Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Used 30000, Requested 100.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#,
        )),
    );
    let call = decode_exchange(&ex).unwrap();
    let r = call.response.unwrap();
    assert!(!r.success);
    assert_eq!(r.status, 429);
    let e = r.error.unwrap();
    assert_eq!(e.kind.as_deref(), Some("tokens"));
    assert_eq!(e.code.as_deref(), Some("rate_limit_exceeded"));
    assert!(e.message.unwrap().starts_with("Rate limit reached"));
    assert_eq!(r.rate_limit.retry_after_secs, Some(20.0));
    assert_eq!(r.provider_request_id.as_deref(), Some("req_429"));
    assert!(call.cost.is_none());
}

#[test]
fn embeddings_float_and_base64() {
    let ex = exchange(
        post(
            "api.openai.com",
            "/v1/embeddings",
            &[],
            r#"{"input":["a","b"],"model":"text-embedding-3-small","encoding_format":"float"}"#,
        ),
        Some(json_resp(
            200,
            &[],
            r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2,0.3,0.4]},{"object":"embedding","index":1,"embedding":[0.5,0.6,0.7,0.8]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":2,"total_tokens":2}}"#,
        )),
    );
    let call = decode_exchange(&ex).unwrap();
    assert_eq!(call.request.request_type, RequestType::Embedding);
    let e = call.embedding.as_ref().unwrap();
    assert_eq!(
        (e.input_count, e.vector_count, e.dimensions),
        (2, 2, Some(4))
    );
    assert_eq!(e.total_tokens, Some(2));
    let (pin, _, _) = price("openai/text-embedding-3-small");
    assert!(approx(call.cost.unwrap().total_usd, 2.0 * pin / 1000.0));

    // 6 float32 values → 24 bytes → base64.
    use base64::Engine;
    let raw: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
        .iter()
        .flat_map(|f| f.to_le_bytes())
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    let resp = format!(
        r#"{{"object":"list","data":[{{"object":"embedding","index":0,"embedding":"{b64}"}}],"model":"text-embedding-3-small","usage":{{"prompt_tokens":3,"total_tokens":3}}}}"#
    );
    let ex = exchange(
        post(
            "api.openai.com",
            "/v1/embeddings",
            &[],
            r#"{"input":"hello world","model":"text-embedding-3-small","encoding_format":"base64"}"#,
        ),
        Some(json_resp(200, &[], &resp)),
    );
    let call = decode_exchange(&ex).unwrap();
    let e = call.embedding.unwrap();
    assert_eq!((e.input_count, e.dimensions), (1, Some(6)));
    assert_eq!(e.encoding_format.as_deref(), Some("base64"));
}

#[test]
fn models_listing_is_not_an_ai_call() {
    let ex = exchange(
        req(
            "GET",
            "api.openai.com",
            "/v1/models",
            &[("authorization", "Bearer sk-x")],
            "",
        ),
        Some(json_resp(200, &[], r#"{"object":"list","data":[]}"#)),
    );
    let d = detect(&ex).unwrap();
    assert_eq!(d.provider, ProviderId::OpenAi);
    assert_eq!(d.api_shape, ApiShape::NonInference);
    assert!(decode_exchange(&ex).is_none());
}
