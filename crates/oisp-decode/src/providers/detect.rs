//! The embedded OISP spec bundle and provider detection.
//!
//! Detection order for an exchange:
//! 1. request authority (`:authority` / `Host`, or the host of an absolute-form request target),
//!    then the TLS SNI — each looked up (with and without port) in the bundle's domain index,
//!    a small built-in list of OpenAI-compatible vendors the bundle lacks (OpenRouter, xAI, ...),
//!    and the bundle's glob patterns (`*.openai.azure.com`);
//! 2. the remote/authority port: 11434 → Ollama, 1234 → LM Studio, 8000 → vLLM (the last only
//!    when the path is an OpenAI-compatible endpoint);
//! 3. path/header/body fingerprints for unknown hosts (`/v1/chat/completions` with `model` +
//!    `messages` → OpenAI-compatible "other"; `/v1/messages` + `anthropic-version` → Anthropic;
//!    `:generateContent` → Google; `/api/chat` → Ollama ...).
//!
//! Non-inference traffic: a request to a known provider that is not a model call (e.g.
//! `GET /v1/models`, `/api/tags`, file uploads) yields a `Detection` with
//! [`ApiShape::NonInference`]; `decode_exchange` returns `None` for it. Traffic to an unknown host
//! that matches no inference fingerprint yields no `Detection` at all.

use super::registry::{bundle, ApiShape, Detection, DetectionMethod, ProviderId};
use crate::http::HttpExchange;
use oisp_capture::DataSource;
use serde_json::Value;

/// Detects the provider and API shape of an exchange (parses the request body when needed).
pub fn detect(ex: &HttpExchange) -> Option<Detection> {
    let body = super::common::parse_json_quiet(&ex.request.body.bytes);
    detect_with_body(ex, body.as_ref())
}

/// Built-in hosts the bundle's domain index lacks.
const EXTRA_DOMAINS: &[(&str, ProviderId)] = &[
    ("openrouter.ai", ProviderId::OpenRouter),
    ("api.x.ai", ProviderId::Xai),
    ("api.together.ai", ProviderId::Together),
    ("api.deepseek.com", ProviderId::DeepSeek),
    ("api.perplexity.ai", ProviderId::Perplexity),
    ("api.mistral.ai", ProviderId::Mistral),
    ("codestral.mistral.ai", ProviderId::Mistral),
    ("api.groq.com", ProviderId::Groq),
    ("router.huggingface.co", ProviderId::HuggingFace),
];

/// The AI provider serving `host` (a TLS server name or a DNS name), by the bundle's domains and
/// patterns and the built-in list; `None` for a host no provider is known at.
pub fn provider_for_host(host: &str) -> Option<ProviderId> {
    let host = host.to_ascii_lowercase();
    lookup_host(&host, &host).map(|(p, _)| p)
}

fn lookup_host(host_port: &str, host: &str) -> Option<(ProviderId, DetectionMethod)> {
    let b = bundle();
    for key in [host_port, host] {
        if let Some(p) = b
            .domain_index
            .get(key)
            .and_then(|p| ProviderId::from_key(p))
        {
            return Some((p, DetectionMethod::KnownEndpoint));
        }
    }
    if let Some((_, p)) = EXTRA_DOMAINS.iter().find(|(d, _)| *d == host) {
        return Some((*p, DetectionMethod::KnownEndpoint));
    }
    // Vertex AI regional endpoints: `us-central1-aiplatform.googleapis.com`.
    if host.ends_with("-aiplatform.googleapis.com") {
        return Some((ProviderId::Google, DetectionMethod::DomainPattern));
    }
    for pat in &b.domain_patterns {
        if glob_match(&pat.pattern, host_port) || glob_match(&pat.pattern, host) {
            if let Some(p) = ProviderId::from_key(&pat.provider) {
                return Some((p, DetectionMethod::DomainPattern));
            }
        }
    }
    None
}

/// `*` matches any (possibly empty) run of characters; everything else literally (ASCII case
/// folded). Iterative with backtracking on the last star: O(len(p) * len(s)) worst case.
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let p = pattern.as_bytes();
    let t = s.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi].eq_ignore_ascii_case(&t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// Splits `host[:port]` / `[v6]:port` into lower-case host and port.
pub(crate) fn split_host_port(authority: &str) -> (String, Option<u16>) {
    let a = authority.trim();
    let a = a.rsplit_once('@').map(|(_, h)| h).unwrap_or(a);
    if let Some(rest) = a.strip_prefix('[') {
        if let Some((h, tail)) = rest.split_once(']') {
            let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
            return (h.to_ascii_lowercase(), port);
        }
    }
    match a.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_ascii_lowercase(), p.parse().ok()),
        _ => (a.to_ascii_lowercase(), None),
    }
}

/// Request path split from an absolute-form target (`http://host/path`), and the authority
/// found there.
pub(crate) fn split_target(target: &str) -> (Option<&str>, &str) {
    for scheme in ["http://", "https://"] {
        if let Some(rest) = target.strip_prefix(scheme) {
            return match rest.find('/') {
                Some(i) => (Some(&rest[..i]), &rest[i..]),
                None => (Some(rest), "/"),
            };
        }
    }
    (None, target)
}

pub(crate) fn shape_from_path(path: &str) -> Option<ApiShape> {
    let p = path.trim_end_matches('/');
    if p.contains(":streamGenerateContent") || p.contains(":generateContent") {
        return Some(ApiShape::GeminiGenerate);
    }
    if p.contains(":countTokens") {
        return Some(ApiShape::GeminiCountTokens);
    }
    if p.contains(":embedContent") || p.contains(":batchEmbedContents") {
        return Some(ApiShape::GeminiEmbed);
    }
    let shape = if p.ends_with("/chat/completions") {
        ApiShape::OpenAiChat
    } else if p.ends_with("/completions") {
        ApiShape::OpenAiCompletions
    } else if p.ends_with("/responses") {
        ApiShape::OpenAiResponses
    } else if p.ends_with("/realtime") {
        ApiShape::OpenAiRealtime
    } else if p.ends_with("/api/embed") || p.ends_with("/api/embeddings") {
        ApiShape::OllamaEmbed
    } else if p.ends_with("/embeddings") {
        ApiShape::OpenAiEmbeddings
    } else if p.ends_with("/messages/count_tokens") {
        ApiShape::AnthropicCountTokens
    } else if p.ends_with("/v1/messages") || p == "/messages" {
        ApiShape::AnthropicMessages
    } else if p.ends_with("/api/chat") {
        ApiShape::OllamaChat
    } else if p.ends_with("/api/generate") {
        ApiShape::OllamaGenerate
    } else if p.contains("/images/") {
        ApiShape::OpenAiImages
    } else if p.contains("/audio/") {
        ApiShape::OpenAiAudio
    } else if p.ends_with("/moderations") {
        ApiShape::OpenAiModerations
    } else {
        return None;
    };
    Some(shape)
}

fn sdk_hint(ex: &HttpExchange) -> Option<String> {
    let h = &ex.request.headers;
    let lang = h.get("x-stainless-lang");
    let has_stainless = h.0.iter().any(|(k, _)| k.starts_with("x-stainless-"));
    if h.get("anthropic-version").is_some() && has_stainless {
        return Some("anthropic-sdk".into());
    }
    if has_stainless {
        return Some(match lang {
            Some(l) => format!("stainless-sdk:{l}"),
            None => "stainless-sdk".into(),
        });
    }
    if let Some(c) = h.get("x-goog-api-client") {
        return Some(format!("google:{}", c.split(' ').next().unwrap_or(c)));
    }
    let ua = h.get("user-agent")?;
    let ua_l = ua.to_ascii_lowercase();
    for (needle, hint) in [
        ("openai/", "openai-sdk"),
        ("anthropic/", "anthropic-sdk"),
        ("ollama", "ollama-client"),
        ("langchain", "langchain"),
        ("litellm", "litellm"),
    ] {
        if ua_l.contains(needle) {
            return Some(hint.into());
        }
    }
    None
}

fn body_has(body: Option<&Value>, key: &str) -> bool {
    body.and_then(|b| b.get(key)).is_some()
}

/// Detection with an already-parsed JSON request body.
pub(crate) fn detect_with_body(ex: &HttpExchange, body: Option<&Value>) -> Option<Detection> {
    let req = &ex.request;
    let (abs_authority, path) = split_target(&req.path);
    let path_only = path.split(['?', '#']).next().unwrap_or("");
    let authority = abs_authority.or(req.authority.as_deref()).unwrap_or("");
    let (auth_host, auth_port) = split_host_port(authority);
    let sni = ex
        .conn
        .sni
        .as_deref()
        .map(|s| s.trim_end_matches('.').to_ascii_lowercase());
    let remote_port = ex.conn.remote.map(|r| r.port());
    let port = auth_port.or(remote_port);

    let mut found: Option<(ProviderId, DetectionMethod, String)> = None;
    if !auth_host.is_empty() {
        let hp = match auth_port {
            Some(p) => format!("{auth_host}:{p}"),
            None => auth_host.clone(),
        };
        if let Some((p, m)) = lookup_host(&hp, &auth_host) {
            found = Some((p, m, auth_host.clone()));
        }
    }
    if found.is_none() {
        if let Some(s) = sni.as_deref().filter(|s| !s.is_empty()) {
            if let Some((p, m)) = lookup_host(s, s) {
                found = Some((p, m, s.to_string()));
            }
        }
    }
    let display_host = if !auth_host.is_empty() {
        auth_host.clone()
    } else {
        sni.clone().unwrap_or_default()
    };

    let path_shape = shape_from_path(path_only);
    let is_post = req.method.eq_ignore_ascii_case("POST");
    let hdr = &req.headers;

    // Port heuristics for local servers.
    if found.is_none() {
        let p = match port {
            Some(11434) => Some(ProviderId::Ollama),
            Some(1234) => Some(ProviderId::LmStudio),
            Some(8000)
                if matches!(
                    path_shape,
                    Some(ApiShape::OpenAiChat | ApiShape::OpenAiCompletions)
                        | Some(ApiShape::OpenAiEmbeddings)
                ) =>
            {
                Some(ProviderId::Vllm)
            }
            _ => None,
        };
        if let Some(p) = p {
            found = Some((p, DetectionMethod::PortHeuristic, display_host.clone()));
        }
    }

    let mut shape = path_shape;
    // Body fingerprints when the path alone is not conclusive.
    if shape == Some(ApiShape::OllamaChat) && !body_has(body, "messages") && is_post {
        shape = None;
    }
    if shape == Some(ApiShape::OllamaGenerate) && !body_has(body, "prompt") && is_post {
        shape = None;
    }

    let (provider, method) = match found {
        Some((p, m, _)) => (p, m),
        None => {
            // Unknown host: only inference fingerprints count.
            let s = shape?;
            let claude_model = body
                .and_then(|b| b.get("model"))
                .and_then(Value::as_str)
                .is_some_and(|m| m.starts_with("claude-"));
            let p = match s {
                ApiShape::AnthropicMessages | ApiShape::AnthropicCountTokens
                    if hdr.get("anthropic-version").is_some() || claude_model =>
                {
                    ProviderId::Anthropic
                }
                ApiShape::GeminiGenerate | ApiShape::GeminiCountTokens | ApiShape::GeminiEmbed => {
                    ProviderId::Google
                }
                ApiShape::OllamaChat | ApiShape::OllamaGenerate | ApiShape::OllamaEmbed => {
                    ProviderId::Ollama
                }
                ApiShape::OpenAiChat => {
                    if !(body_has(body, "model") && body_has(body, "messages")) {
                        return None;
                    }
                    ProviderId::Unknown
                }
                ApiShape::OpenAiCompletions => {
                    if !(body_has(body, "model") && body_has(body, "prompt")) {
                        return None;
                    }
                    ProviderId::Unknown
                }
                ApiShape::OpenAiResponses => {
                    if !(body_has(body, "model") && body_has(body, "input")) {
                        return None;
                    }
                    ProviderId::Unknown
                }
                ApiShape::OpenAiRealtime => {
                    if !body_has(body, "input") {
                        return None;
                    }
                    ProviderId::Unknown
                }
                ApiShape::OpenAiEmbeddings => {
                    if !(body_has(body, "model") && body_has(body, "input")) {
                        return None;
                    }
                    ProviderId::Unknown
                }
                _ => return None,
            };
            (p, DetectionMethod::PayloadInspection)
        }
    };

    let shape = match shape {
        Some(s) if is_post => s,
        _ if is_post && provider != ProviderId::Unknown => ApiShape::UnknownInference,
        _ => ApiShape::NonInference,
    };
    let shape = match (provider, shape) {
        // Bedrock InvokeModel with an Anthropic body is the Messages API.
        (ProviderId::AwsBedrock, ApiShape::UnknownInference)
            if path_only.ends_with("/invoke") && body_has(body, "anthropic_version") =>
        {
            ApiShape::AnthropicMessages
        }
        (_, s) => s,
    };
    // Listing/management POSTs on known providers (e.g. /v1/files) stay NonInference.
    let shape = if shape == ApiShape::UnknownInference
        && [
            "/files",
            "/uploads",
            "/batches",
            "/fine_tuning",
            "/api/pull",
            "/api/show",
        ]
        .iter()
        .any(|m| path_only.contains(m))
    {
        ApiShape::NonInference
    } else {
        shape
    };

    // Bytes read at a TLS library boundary came over TLS even when no SNI was sent (clients
    // connecting to an IP address send none).
    let tls_source = matches!(
        ex.conn.source,
        Some(
            DataSource::OpenSsl
                | DataSource::OpenSslStatic
                | DataSource::BoringSsl
                | DataSource::GnuTls
                | DataSource::GoTls
                | DataSource::Rustls
                | DataSource::Nss
                | DataSource::ClientHello
        )
    );
    let tls = tls_source || sni.is_some() || port == Some(443);
    let scheme = if tls { "https" } else { "http" };
    let default_port = if tls { 443 } else { 80 };
    let host_for_url = if display_host.contains(':') {
        format!("[{display_host}]")
    } else {
        display_host.clone()
    };
    let endpoint = match auth_port.filter(|p| *p != default_port) {
        Some(p) => format!("{scheme}://{host_for_url}:{p}{path_only}"),
        None => format!("{scheme}://{host_for_url}{path_only}"),
    };
    Some(Detection {
        provider,
        oisp_provider: provider.oisp_name(),
        api_shape: shape,
        method,
        endpoint,
        host: (!display_host.is_empty()).then_some(display_host),
        sdk_hint: sdk_hint(ex),
    })
}
