#[path = "providers_support.rs"]
mod support;

use oisp_decode::providers::*;
use support::*;

const CHAT: &str = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#;

fn det(authority: &str, path: &str, h: &[(&str, &str)], body: &str) -> Option<Detection> {
    detect(&exchange(post(authority, path, h, body), None))
}

#[test]
fn hosts_and_patterns() {
    let d = det(
        "myres.openai.azure.com",
        "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21",
        &[("api-key", "k")],
        r#"{"messages":[]}"#,
    )
    .unwrap();
    assert_eq!(d.provider, ProviderId::AzureOpenAi);
    assert_eq!(d.oisp_provider, "azure_openai");
    assert_eq!(d.method, DetectionMethod::DomainPattern);
    assert_eq!(d.api_shape, ApiShape::OpenAiChat);
    assert_eq!(
        d.endpoint,
        "https://myres.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions"
    );

    for (host, p, oisp) in [
        ("api.groq.com", ProviderId::Groq, "groq"),
        ("api.mistral.ai", ProviderId::Mistral, "mistral"),
        ("api.deepseek.com", ProviderId::DeepSeek, "other"),
        ("api.together.xyz", ProviderId::Together, "together"),
        ("api.fireworks.ai", ProviderId::Fireworks, "fireworks"),
        ("openrouter.ai", ProviderId::OpenRouter, "other"),
        ("api.x.ai", ProviderId::Xai, "other"),
        ("api.perplexity.ai", ProviderId::Perplexity, "other"),
    ] {
        let d = det(host, "/v1/chat/completions", &[], CHAT).unwrap();
        assert_eq!((d.provider, d.oisp_provider), (p, oisp), "{host}");
        assert_eq!(
            d.provider.name(),
            if p == ProviderId::Together {
                "together"
            } else {
                d.provider.name()
            }
        );
    }
    let d = det("localhost:1234", "/v1/chat/completions", &[], CHAT).unwrap();
    assert_eq!(d.provider, ProviderId::LmStudio);
    let d = det("10.0.0.5:8000", "/v1/chat/completions", &[], CHAT).unwrap();
    assert_eq!(
        (d.provider, d.method),
        (ProviderId::Vllm, DetectionMethod::PortHeuristic)
    );
    let d = det("us-central1-aiplatform.googleapis.com", "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-1.5-pro:generateContent", &[], "{}").unwrap();
    assert_eq!(
        (d.provider, d.api_shape),
        (ProviderId::Google, ApiShape::GeminiGenerate)
    );
}

#[test]
fn sni_when_no_authority() {
    let mut ex = exchange(
        post(
            "",
            "/v1/messages",
            &[],
            r#"{"model":"claude-3-haiku-20240307","messages":[]}"#,
        ),
        None,
    );
    ex.conn.sni = Some("api.anthropic.com".into());
    let d = detect(&ex).unwrap();
    assert_eq!(d.provider, ProviderId::Anthropic);
    assert_eq!(d.host.as_deref(), Some("api.anthropic.com"));
}

#[test]
fn fingerprints_on_unknown_hosts() {
    let d = det(
        "localhost:8080",
        "/v1/chat/completions",
        &[("x-stainless-lang", "js")],
        CHAT,
    )
    .unwrap();
    assert_eq!(
        (d.provider, d.oisp_provider, d.method),
        (
            ProviderId::Unknown,
            "other",
            DetectionMethod::PayloadInspection
        )
    );
    assert_eq!(d.sdk_hint.as_deref(), Some("stainless-sdk:js"));
    // Same path without the OpenAI body shape: not classified.
    assert!(det(
        "localhost:8080",
        "/v1/chat/completions",
        &[],
        r#"{"foo":1}"#
    )
    .is_none());
    let d = det(
        "127.0.0.1:9999",
        "/api/chat",
        &[],
        r#"{"model":"llama3","messages":[]}"#,
    )
    .unwrap();
    assert_eq!(d.provider, ProviderId::Ollama);
    let d = det(
        "127.0.0.1:9999",
        "/v1/messages",
        &[("anthropic-version", "2023-06-01")],
        r#"{"model":"x","messages":[]}"#,
    )
    .unwrap();
    assert_eq!(d.provider, ProviderId::Anthropic);
    assert!(det(
        "127.0.0.1:9999",
        "/v1/messages",
        &[],
        r#"{"model":"x","messages":[]}"#
    )
    .is_none());
    let d = det(
        "proxy.internal",
        "/v1beta/models/gemini-pro:generateContent",
        &[],
        "{}",
    )
    .unwrap();
    assert_eq!(d.provider, ProviderId::Google);
    assert!(det("example.com", "/index.html", &[], "").is_none());
    // Absolute-form request target through a forward proxy.
    let ex = exchange(
        post("", "http://api.openai.com/v1/chat/completions", &[], CHAT),
        None,
    );
    assert_eq!(detect(&ex).unwrap().provider, ProviderId::OpenAi);
}

#[test]
fn azure_model_from_response_and_deployment() {
    let ex = exchange(
        post(
            "myres.openai.azure.com",
            "/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21",
            &[("api-key", "azkey")],
            r#"{"messages":[{"role":"user","content":"hi"}]}"#,
        ),
        Some(json_resp(
            200,
            &[("apim-request-id", "apim-1")],
            r#"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-2024-11-20","choices":[{"index":0,"message":{"role":"assistant","content":"yo"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}"#,
        )),
    );
    let call = decode_exchange(&ex).unwrap();
    assert_eq!(call.request.model.as_deref(), Some("prod-4o"));
    assert_eq!(call.auth.unwrap().location, "api-key");
    let r = call.response.unwrap();
    assert_eq!(r.provider_request_id.as_deref(), Some("apim-1"));
    let cost = call.cost.unwrap();
    assert_eq!(cost.model_key, "azure_openai/gpt-4o");
    assert_eq!(cost.matched, PriceMatch::Normalized);
}

#[test]
fn pricing_lookup_rules() {
    let us = Usage {
        prompt_tokens: Some(1000),
        completion_tokens: Some(500),
        ..Default::default()
    };
    let (pin, pout, _) = price("openai/gpt-4o");
    let c = cost_usd(ProviderId::OpenAi, "gpt-4o", &us).unwrap();
    assert_eq!(
        (c.model_key.as_str(), c.matched),
        ("openai/gpt-4o", PriceMatch::Exact)
    );
    assert!(approx(c.total_usd, pin + 0.5 * pout));
    // Unknown dated snapshot falls back to the base model.
    let c = cost_usd(ProviderId::OpenAi, "gpt-4o-2099-01-01", &us).unwrap();
    assert_eq!(
        (c.model_key.as_str(), c.matched),
        ("openai/gpt-4o", PriceMatch::Normalized)
    );
    // OpenRouter vendor-prefixed ids.
    let c = cost_usd(ProviderId::OpenRouter, "anthropic/claude-sonnet-4", &us).unwrap();
    assert_eq!(c.model_key, "openrouter/anthropic/claude-sonnet-4");
    let c = cost_usd(ProviderId::OpenRouter, "openai/gpt-4o", &us).unwrap();
    assert_eq!(c.model_key, "openai/gpt-4o");
    // Unknown provider: vendor inferred, and said so.
    let c = cost_usd(ProviderId::Unknown, "claude-3-5-haiku-20241022", &us).unwrap();
    assert_eq!(
        (c.model_key.as_str(), c.matched),
        (
            "anthropic/claude-3-5-haiku-20241022",
            PriceMatch::InferredVendor
        )
    );
    // Unknown models and missing usage: no guess.
    assert!(cost_usd(ProviderId::OpenAi, "my-finetune", &us).is_none());
    assert!(cost_usd(ProviderId::Vllm, "meta-llama/Llama-3.1-8B-Instruct", &us).is_none());
    assert!(cost_usd(ProviderId::OpenAi, "gpt-4o", &Usage::default()).is_none());
    // Cached tokens without a cache price are priced at the input rate and flagged.
    assert!(price_field("groq/llama-3.3-70b-versatile", "cache_read_cost_per_1k").is_none());
    let cu = Usage {
        prompt_tokens: Some(1000),
        cached_tokens: Some(400),
        completion_tokens: Some(0),
        ..Default::default()
    };
    let c = cost_usd(ProviderId::Groq, "llama-3.3-70b-versatile", &cu).unwrap();
    assert!(c.cache_priced_at_input_rate);
    let (gin, _, _) = price("groq/llama-3.3-70b-versatile");
    assert!(approx(c.total_usd, gin));
}

#[test]
fn tls_library_capture_means_https_even_without_sni() {
    let mut ex = exchange(
        post("127.0.0.1:8443", "/v1/chat/completions", &[], CHAT),
        None,
    );
    ex.conn.sni = None;
    ex.conn.source = Some(oisp_capture::DataSource::OpenSsl);
    let d = detect(&ex).unwrap();
    assert_eq!(d.endpoint, "https://127.0.0.1:8443/v1/chat/completions");
    ex.conn.source = Some(oisp_capture::DataSource::Socket);
    assert!(detect(&ex).unwrap().endpoint.starts_with("http://"));
}
