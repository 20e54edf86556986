#[path = "providers_support.rs"]
mod support;

use oisp_decode::providers::*;
use support::*;

const REQ: &str = r#"{"contents":[{"role":"user","parts":[{"text":"Describe this"},{"inlineData":{"mimeType":"image/jpeg","data":"/9j/4AAQ"}}]},{"role":"model","parts":[{"functionCall":{"name":"find_theaters","args":{"location":"Mountain View"}}}]},{"role":"user","parts":[{"functionResponse":{"name":"find_theaters","response":{"theaters":["AMC"]}}}]}],"systemInstruction":{"parts":[{"text":"You are a cat."}]},"tools":[{"functionDeclarations":[{"name":"find_theaters","description":"Find theaters"}]}],"toolConfig":{"functionCallingConfig":{"mode":"AUTO"}},"generationConfig":{"temperature":0.7,"topP":0.95,"topK":40,"maxOutputTokens":800,"stopSequences":["Title"]}}"#;

#[test]
fn generate_content_non_streaming() {
    let resp = r#"{"candidates":[{"content":{"parts":[{"text":"A cat says hi."},{"functionCall":{"name":"find_theaters","args":{"location":"SF"}}}],"role":"model"},"finishReason":"STOP","index":0,"safetyRatings":[]}],"usageMetadata":{"promptTokenCount":1000,"candidatesTokenCount":20,"totalTokenCount":1130,"cachedContentTokenCount":400,"thoughtsTokenCount":110},"modelVersion":"gemini-2.5-flash","responseId":"abc123"}"#;
    let ex = exchange(
        post(
            "generativelanguage.googleapis.com",
            "/v1beta/models/gemini-2.5-flash:generateContent?key=AIzaSECRET",
            &[],
            REQ,
        ),
        Some(json_resp(200, &[], resp)),
    );
    let call = decode_exchange(&ex).unwrap();
    assert_eq!(call.detection.provider, ProviderId::Google);
    assert_eq!(call.detection.api_shape, ApiShape::GeminiGenerate);
    assert_eq!(
        call.detection.endpoint,
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    );
    let a = call.auth.as_ref().unwrap();
    assert_eq!(
        (a.scheme, a.secret.as_str()),
        (AuthScheme::QueryParam, "AIzaSECRET")
    );
    let r = &call.request;
    assert_eq!(r.model.as_deref(), Some("gemini-2.5-flash"));
    assert!(!r.streaming);
    assert!(r.has_system_prompt);
    assert_eq!(r.messages[1].image_count, 1);
    assert_eq!(
        r.messages[2].tool_calls[0].arguments,
        r#"{"location":"Mountain View"}"#
    );
    assert_eq!(r.params.max_tokens, Some(800));
    assert_eq!(r.params.top_k, Some(40.0));
    assert_eq!(r.tool_choice.as_deref(), Some("auto"));
    assert_eq!(call.tool_results[0].call_id, "find_theaters");
    assert_eq!(call.tool_results[0].content, r#"{"theaters":["AMC"]}"#);
    let o = call.response.as_ref().unwrap();
    assert_eq!(o.choices[0].text.as_deref(), Some("A cat says hi."));
    assert_eq!(o.tool_calls[0].name.as_deref(), Some("find_theaters"));
    assert_eq!(o.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(o.response_id.as_deref(), Some("abc123"));
    let us = o.usage.as_ref().unwrap();
    assert_eq!(
        (
            us.prompt_tokens,
            us.completion_tokens,
            us.cached_tokens,
            us.reasoning_tokens,
            us.total_tokens
        ),
        (Some(1000), Some(130), Some(400), Some(110), Some(1130))
    );
    let (pin, pout, pc) = price("google/gemini-2.5-flash");
    let expect = (600.0 * pin + 400.0 * pc.unwrap() + 130.0 * pout) / 1000.0;
    assert!(approx(call.cost.unwrap().total_usd, expect));
    assert!(!format!("{:?}", call.detection).contains("AIzaSECRET"));
}

#[test]
fn stream_generate_content_json_array_timing() {
    let chunks = [
        ("[{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 8,\"candidatesTokenCount\": 1,\"totalTokenCount\": 9},\"modelVersion\": \"gemini-2.0-flash\"}\n", 500),
        (",\r\n{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" answer [is], \\\"42\\\"\"}],\"role\": \"model\"},\"index\": 0}],\"modelVersion\": \"gemini-2.0-flash\"}\n", 600),
        (",\r\n{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \".\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 8,\"candidatesTokenCount\": 12,\"totalTokenCount\": 20},\"modelVersion\": \"gemini-2.0-flash\"}\n]", 700),
    ];
    let ex = exchange(
        post(
            "generativelanguage.googleapis.com",
            "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
            &[("x-goog-api-key", "AIzaK")],
            r#"{"contents":[{"parts":[{"text":"Q?"}]}]}"#,
        ),
        Some(chunked_resp("application/json; charset=UTF-8", &chunks)),
    );
    let call = decode_exchange(&ex).unwrap();
    assert!(call.warnings.is_empty(), "{:?}", call.warnings);
    assert!(call.request.streaming);
    assert_eq!(call.auth.as_ref().unwrap().location, "x-goog-api-key");
    let o = call.response.as_ref().unwrap();
    assert_eq!(o.chunk_count, 3);
    assert_eq!(
        o.choices[0].text.as_deref(),
        Some("The answer [is], \"42\".")
    );
    assert_eq!(o.finish_reason, Some(FinishReason::Stop));
    assert_eq!(o.usage.as_ref().unwrap().completion_tokens, Some(12));
    assert_eq!(call.timing.first_token, Some(ts(500)));
    let (pin, pout, _) = price("google/gemini-2.0-flash");
    assert!(approx(
        call.cost.unwrap().total_usd,
        (8.0 * pin + 12.0 * pout) / 1000.0
    ));
}

#[test]
fn stream_generate_content_sse_and_truncated_array() {
    let e1 = r#"{"candidates": [{"content": {"parts": [{"text": "Hel"}],"role": "model"}}],"modelVersion": "gemini-1.5-pro-002"}"#;
    let e2 = r#"{"candidates": [{"content": {"parts": [{"text": "lo"}],"role": "model"},"finishReason": "MAX_TOKENS"}],"usageMetadata": {"promptTokenCount": 3,"candidatesTokenCount": 2,"totalTokenCount": 5},"modelVersion": "gemini-1.5-pro-002"}"#;
    let ex = exchange(
        post(
            "generativelanguage.googleapis.com",
            "/v1beta/models/gemini-1.5-pro:streamGenerateContent?alt=sse",
            &[],
            r#"{"contents":[{"parts":[{"text":"Hi"}]}]}"#,
        ),
        Some(sse_resp(&[], &[(None, e1, 150), (None, e2, 160)])),
    );
    let call = decode_exchange(&ex).unwrap();
    let o = call.response.as_ref().unwrap();
    assert_eq!(o.choices[0].text.as_deref(), Some("Hello"));
    assert_eq!(o.finish_reason, Some(FinishReason::Length));
    assert_eq!(call.timing.first_token, Some(ts(150)));
    let cost = call.cost.unwrap();
    assert_eq!(cost.model_key, "google/gemini-1.5-pro");
    assert_eq!(cost.matched, PriceMatch::Normalized);

    let ex = exchange(
        post(
            "generativelanguage.googleapis.com",
            "/v1beta/models/gemini-1.5-pro:streamGenerateContent",
            &[],
            r#"{"contents":[]}"#,
        ),
        Some(chunked_resp(
            "application/json",
            &[(
                "[{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Par",
                100,
            )],
        )),
    );
    let call = decode_exchange(&ex).unwrap();
    assert!(
        call.warnings.iter().any(|w| w.contains("not closed")),
        "{:?}",
        call.warnings
    );
}

#[test]
fn gemini_error_429() {
    let ex = exchange(
        post(
            "generativelanguage.googleapis.com",
            "/v1beta/models/gemini-2.0-flash:generateContent",
            &[],
            r#"{"contents":[]}"#,
        ),
        Some(json_resp(
            429,
            &[],
            r#"{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}"#,
        )),
    );
    let e = decode_exchange(&ex)
        .unwrap()
        .response
        .unwrap()
        .error
        .unwrap();
    assert_eq!(e.kind.as_deref(), Some("RESOURCE_EXHAUSTED"));
    assert_eq!(e.code.as_deref(), Some("429"));
}
