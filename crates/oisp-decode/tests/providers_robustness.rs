//! Garbage, truncation and size: warnings, never panics; huge bodies decode whole and fast.
#[path = "providers_support.rs"]
mod support;

use oisp_decode::http::HttpExchange;
use oisp_decode::providers::*;
use support::*;

fn samples() -> Vec<HttpExchange> {
    let chat = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"c1","content":"x"}],"stream":true}"#;
    let chunk = r#"{"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c2","function":{"name":"f","arguments":"{\"a\":"}}]},"finish_reason":null}]}"#;
    let anth = r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"x\":1}"}}"#;
    vec![
        exchange(post("api.openai.com", "/v1/chat/completions", &[], chat), Some(sse_resp(&[], &[(None, chunk, 10), (None, "[DONE]", 20)]))),
        exchange(post("api.anthropic.com", "/v1/messages", &[], r#"{"model":"claude-3-haiku-20240307","system":[{"type":"text","text":"s"}],"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"r"}]}],"stream":true}"#), Some(sse_resp(&[], &[(Some("content_block_delta"), anth, 10)]))),
        exchange(post("generativelanguage.googleapis.com", "/v1beta/models/gemini-2.0-flash:streamGenerateContent", &[], r#"{"contents":[{"parts":[{"text":"q"},{"functionResponse":{"name":"f","response":{}}}]}]}"#), Some(chunked_resp("application/json", &[(r#"[{"candidates":[{"content":{"parts":[{"text":"a"},{"functionCall":{"name":"f","args":{}}}]},"finishReason":"STOP"}]}]"#, 10)]))),
        exchange(post("localhost:11434", "/api/chat", &[], r#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#), Some(chunked_resp("application/x-ndjson", &[("{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"done\":true,\"eval_count\":1}\n", 10)]))),
        exchange(post("api.openai.com", "/v1/responses", &[], r#"{"model":"gpt-4o","input":[{"type":"function_call_output","call_id":"c","output":"o"}]}"#), Some(json_resp(200, &[], r#"{"object":"response","status":"completed","output":[{"type":"function_call","call_id":"c","name":"n","arguments":"{}"}],"usage":{"input_tokens":1,"output_tokens":1}}"#))),
        exchange(post("api.openai.com", "/v1/embeddings", &[], r#"{"model":"text-embedding-3-small","input":"x"}"#), Some(json_resp(200, &[], r#"{"data":[{"embedding":"AAAAAAAAgD8="}],"usage":{"prompt_tokens":1,"total_tokens":1}}"#))),
    ]
}

#[test]
fn garbage_bodies_give_warnings_not_panics() {
    let ex = exchange(
        post(
            "api.openai.com",
            "/v1/chat/completions",
            &[],
            "{\"model\": \"gpt-4o\", \"messa",
        ),
        Some(json_resp(200, &[], "<html>502 Bad Gateway</html>")),
    );
    let call = decode_exchange(&ex).unwrap();
    assert!(
        call.warnings
            .iter()
            .any(|w| w.starts_with("request body: invalid JSON")),
        "{:?}",
        call.warnings
    );
    assert!(
        call.warnings
            .iter()
            .any(|w| w.starts_with("response body: invalid JSON")),
        "{:?}",
        call.warnings
    );

    let ex = exchange(
        post(
            "api.anthropic.com",
            "/v1/messages",
            &[],
            r#"{"model":"claude-3-haiku-20240307","messages":[]}"#,
        ),
        Some(sse_resp(
            &[],
            &[
                (Some("mystery"), r#"{"type":"mystery"}"#, 5),
                (None, "][", 6),
            ],
        )),
    );
    let call = decode_exchange(&ex).unwrap();
    assert!(call
        .warnings
        .iter()
        .any(|w| w.contains("unknown event type `mystery`")));
    assert!(call.warnings.iter().any(|w| w.contains("invalid JSON")));
    assert!(call.warnings.iter().any(|w| w.contains("no message_stop")));
}

#[test]
fn truncations_and_mutations_never_panic() {
    for ex in samples() {
        let req_body = ex.request.body.bytes.clone();
        let resp = ex.response.clone().unwrap();
        // Every prefix of request and response bodies.
        for cut in 0..=req_body.len() {
            let mut e = ex.clone();
            e.request.body.bytes.truncate(cut);
            let _ = decode_exchange(&e);
        }
        for cut in 0..=resp.body.bytes.len() {
            let mut e = ex.clone();
            let r = e.response.as_mut().unwrap();
            r.body.bytes.truncate(cut);
            r.body.incomplete = true;
            if let Some(sse) = r.sse.as_mut() {
                for ev in sse.iter_mut() {
                    let n = cut.min(ev.data.len());
                    let mut n2 = n;
                    while !ev.data.is_char_boundary(n2) {
                        n2 -= 1;
                    }
                    ev.data.truncate(n2);
                }
            }
            let _ = decode_exchange(&e);
        }
        // Deterministic byte mutations (LCG), SSE dropped so the body parser is exercised too.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..300 {
            let mut e = ex.clone();
            for target in [
                &mut e.request.body.bytes,
                &mut e.response.as_mut().unwrap().body.bytes,
            ] {
                if target.is_empty() {
                    continue;
                }
                for _ in 0..3 {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let i = (seed >> 33) as usize % target.len();
                    target[i] = (seed >> 17) as u8;
                }
            }
            e.response.as_mut().unwrap().sse = None;
            let _ = decode_exchange(&e);
        }
        // Nonsense arrivals and absurd indices.
        let mut e = ex.clone();
        e.response.as_mut().unwrap().body.arrivals = vec![(usize::MAX, ts(1)), (0, ts(2))];
        let _ = decode_exchange(&e);
    }
    let huge_index = r#"{"choices":[{"index":18446744073709551615,"delta":{"tool_calls":[{"index":4294967296,"function":{"arguments":"x"}}]}}]}"#;
    let ex = exchange(
        post(
            "api.openai.com",
            "/v1/chat/completions",
            &[],
            r#"{"model":"gpt-4o","messages":[]}"#,
        ),
        Some(sse_resp(&[], &[(None, huge_index, 5)])),
    );
    let call = decode_exchange(&ex).unwrap();
    assert_eq!(call.response.unwrap().tool_calls[0].arguments, "x");
}

#[test]
fn two_megabyte_prompt_decodes_whole_and_fast() {
    let text = "lorem ipsum dolor sit amet ".repeat(80_000); // ~2.1 MB
    let body = serde_json::json!({"model":"gpt-4o","messages":[{"role":"user","content": text}]})
        .to_string();
    let ex = exchange(
        post("api.openai.com", "/v1/chat/completions", &[], &body),
        Some(json_resp(
            200,
            &[],
            r#"{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#,
        )),
    );
    let start = std::time::Instant::now();
    let call = decode_exchange(&ex).unwrap();
    let took = start.elapsed();
    assert_eq!(
        call.request.messages[0].content.as_ref().map(String::len),
        Some(text.len())
    );
    assert!(took.as_secs_f64() < 2.0, "took {took:?}");
}

#[test]
fn deterministic() {
    for ex in samples() {
        assert_eq!(decode_exchange(&ex), decode_exchange(&ex));
    }
}
