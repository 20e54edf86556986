#[path = "providers_support.rs"]
mod support;

use oisp_decode::providers::*;
use support::*;

#[test]
fn ollama_chat_ndjson_stream() {
    let lines = [
        ("{\"model\":\"llama3.2\",\"created_at\":\"2024-07-22T20:33:28.123648Z\",\"message\":{\"role\":\"assistant\",\"content\":\"The\"},\"done\":false}\n", 300),
        ("{\"model\":\"llama3.2\",\"created_at\":\"2024-07-22T20:33:28.2Z\",\"message\":{\"role\":\"assistant\",\"content\":\" sky\"},\"done\":false}\n{\"model\":\"llama3.2\",\"created_at\":\"2024-07-22T20:33:28.3Z\",\"message\":{\"role\":\"assistant\",\"content\":\" is blue.\"},\"done\":false}\n", 350),
        ("{\"model\":\"llama3.2\",\"created_at\":\"2024-07-22T20:33:28.4Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true,\"total_duration\":4883583458,\"load_duration\":1334875,\"prompt_eval_count\":26,\"prompt_eval_duration\":342546000,\"eval_count\":282,\"eval_duration\":4535599000}\n", 400),
    ];
    let ex = exchange(
        post(
            "localhost:11434",
            "/api/chat",
            &[],
            r#"{"model":"llama3.2","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"why is the sky blue?","images":["iVBOR"]}],"options":{"temperature":0.1,"num_predict":100}}"#,
        ),
        Some(chunked_resp("application/x-ndjson", &lines)),
    );
    let call = decode_exchange(&ex).unwrap();
    assert!(call.warnings.is_empty(), "{:?}", call.warnings);
    assert_eq!(call.detection.provider, ProviderId::Ollama);
    assert_eq!(call.detection.oisp_provider, "ollama");
    assert_eq!(call.detection.api_shape, ApiShape::OllamaChat);
    assert!(call.request.streaming, "ollama streams by default");
    assert_eq!(call.request.params.max_tokens, Some(100));
    assert_eq!(call.request.params.temperature, Some(0.1));
    assert!(call.request.messages[1].has_images);
    let o = call.response.as_ref().unwrap();
    assert_eq!(o.chunk_count, 4);
    assert_eq!(o.choices[0].text.as_deref(), Some("The sky is blue."));
    assert_eq!(o.finish_reason, Some(FinishReason::Stop));
    let us = o.usage.as_ref().unwrap();
    assert_eq!(
        (us.prompt_tokens, us.completion_tokens, us.total_tokens),
        (Some(26), Some(282), Some(308))
    );
    assert_eq!(call.timing.first_token, Some(ts(300)));
    assert!(call.cost.is_none(), "no bundle price for a local llama3.2");
}

#[test]
fn ollama_chat_tool_calls_and_tool_results() {
    let body = r#"{"model":"llama3.1","created_at":"2024-07-22T20:33:28Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Toronto"}}},{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},"done_reason":"stop","done":true,"prompt_eval_count":90,"eval_count":30}"#;
    let ex = exchange(
        post(
            "127.0.0.1:11434",
            "/api/chat",
            &[],
            r#"{"model":"llama3.1","stream":false,"messages":[{"role":"user","content":"weather?"},{"role":"tool","content":"11 degrees","tool_name":"get_weather"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object"}}}]}"#,
        ),
        Some(json_resp(200, &[], body)),
    );
    let call = decode_exchange(&ex).unwrap();
    assert!(!call.request.streaming);
    assert_eq!(call.tool_results[0].call_id, "get_weather");
    assert_eq!(call.tool_results[0].content, "11 degrees");
    let o = call.response.as_ref().unwrap();
    assert_eq!(o.chunk_count, 0);
    assert_eq!(o.tool_calls.len(), 2);
    assert_eq!(o.tool_calls[1].arguments, r#"{"city":"Paris"}"#);
    assert_eq!(o.finish_reason, Some(FinishReason::ToolCalls));
    assert!(call.timing.first_token.is_none());
}

#[test]
fn ollama_generate_and_errors() {
    let ex = exchange(
        post(
            "localhost:11434",
            "/api/generate",
            &[],
            r#"{"model":"qwen2.5:7b","prompt":"Why?","system":"Short answers.","stream":false}"#,
        ),
        Some(json_resp(
            200,
            &[],
            r#"{"model":"qwen2.5:7b","created_at":"2023-08-04T19:22:45.499127Z","response":"Because.","done":true,"done_reason":"length","context":[1,2,3],"total_duration":5043500667,"prompt_eval_count":11,"eval_count":3}"#,
        )),
    );
    let call = decode_exchange(&ex).unwrap();
    assert_eq!(call.detection.api_shape, ApiShape::OllamaGenerate);
    assert_eq!(call.request.request_type, RequestType::Completion);
    assert_eq!(call.request.prompt.as_deref(), Some("Why?"));
    assert!(call.request.has_system_prompt);
    let o = call.response.unwrap();
    assert_eq!(o.choices[0].text.as_deref(), Some("Because."));
    assert_eq!(o.finish_reason, Some(FinishReason::Length));

    let ex = exchange(
        post(
            "localhost:11434",
            "/api/chat",
            &[],
            r#"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#,
        ),
        Some(json_resp(
            404,
            &[],
            r#"{"error":"model \"nope\" not found, try pulling it first"}"#,
        )),
    );
    let o = decode_exchange(&ex).unwrap().response.unwrap();
    assert!(!o.success);
    let e = o.error.unwrap();
    assert_eq!(
        e.message.as_deref(),
        Some("model \"nope\" not found, try pulling it first")
    );
    assert_eq!(e.kind.as_deref(), Some("not_found_error"));
}

#[test]
fn ollama_openai_compat_goes_through_chat_decoder() {
    let ex = exchange(
        post(
            "localhost:11434",
            "/v1/chat/completions",
            &[],
            r#"{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}"#,
        ),
        Some(json_resp(
            200,
            &[],
            r#"{"id":"chatcmpl-123","object":"chat.completion","created":1,"model":"llama3.2","system_fingerprint":"fp_ollama","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13}}"#,
        )),
    );
    let call = decode_exchange(&ex).unwrap();
    assert_eq!(call.detection.provider, ProviderId::Ollama);
    assert_eq!(call.detection.api_shape, ApiShape::OpenAiChat);
    assert_eq!(
        call.response.unwrap().choices[0].text.as_deref(),
        Some("Hello!")
    );
}

#[test]
fn ollama_embed() {
    let ex = exchange(
        post(
            "localhost:11434",
            "/api/embed",
            &[],
            r#"{"model":"all-minilm","input":["Why is the sky blue?","Why is the grass green?"]}"#,
        ),
        Some(json_resp(
            200,
            &[],
            r#"{"model":"all-minilm","embeddings":[[0.010071029,-0.0017594862,0.05007221],[-0.0098027075,0.06042469,0.025358144]],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8}"#,
        )),
    );
    let call = decode_exchange(&ex).unwrap();
    let e = call.embedding.unwrap();
    assert_eq!(
        (e.input_count, e.vector_count, e.dimensions, e.total_tokens),
        (2, 2, Some(3), Some(8))
    );
}
