//! Request/response header facts: credentials, request ids, rate limits.

use super::call::{AuthInfo, AuthScheme, RateLimit};
use crate::http::{Headers, HttpRequest};

/// Credentials from headers (in priority order) or the `key` query parameter.
pub(crate) fn auth(req: &HttpRequest) -> Option<AuthInfo> {
    let h = &req.headers;
    if let Some(v) = h.get("authorization") {
        let v = v.trim();
        let (word, rest) = v.split_once(' ').unwrap_or(("", v));
        let scheme = match word.to_ascii_lowercase().as_str() {
            "bearer" => AuthScheme::Bearer,
            "basic" => AuthScheme::Basic,
            "aws4-hmac-sha256" => AuthScheme::AwsSigV4,
            _ => AuthScheme::Other,
        };
        let secret = if scheme == AuthScheme::Other {
            v
        } else {
            rest.trim()
        };
        return Some(AuthInfo {
            scheme,
            location: "authorization".into(),
            secret: secret.to_string(),
        });
    }
    for name in ["x-api-key", "api-key", "x-goog-api-key"] {
        if let Some(v) = h.get(name) {
            return Some(AuthInfo {
                scheme: AuthScheme::ApiKeyHeader,
                location: name.into(),
                secret: v.trim().to_string(),
            });
        }
    }
    let query = req.path.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or("");
    for pair in query.split('&') {
        if let Some(v) = pair.strip_prefix("key=") {
            return Some(AuthInfo {
                scheme: AuthScheme::QueryParam,
                location: "query:key".into(),
                secret: v.to_string(),
            });
        }
    }
    None
}

pub(crate) fn query_param<'a>(path: &'a str, name: &str) -> Option<&'a str> {
    let q = path.split_once('?')?.1;
    q.split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub(crate) fn request_id(h: &Headers) -> Option<String> {
    [
        "x-request-id",
        "request-id",
        "apim-request-id",
        "x-amzn-requestid",
        "x-goog-request-id",
        "cf-ray",
    ]
    .iter()
    .find_map(|n| h.get(n))
    .map(|v| v.trim().to_string())
}

pub(crate) fn rate_limit(h: &Headers) -> RateLimit {
    let mut rl = RateLimit::default();
    for (k, v) in &h.0 {
        let rel = k.starts_with("x-ratelimit-")
            || k.starts_with("anthropic-ratelimit-")
            || k == "retry-after"
            || k == "retry-after-ms"
            || k == "x-retry-after";
        if !rel {
            continue;
        }
        rl.headers.push((k.clone(), v.clone()));
        let n = v.trim().parse::<u64>().ok();
        match k.as_str() {
            "x-ratelimit-limit-requests" | "anthropic-ratelimit-requests-limit" => {
                rl.limit_requests = rl.limit_requests.or(n)
            }
            "x-ratelimit-remaining-requests" | "anthropic-ratelimit-requests-remaining" => {
                rl.remaining_requests = rl.remaining_requests.or(n)
            }
            "x-ratelimit-reset-requests" | "anthropic-ratelimit-requests-reset" => {
                rl.reset_requests
                    .get_or_insert_with(|| v.trim().to_string());
            }
            "x-ratelimit-limit-tokens" | "anthropic-ratelimit-tokens-limit" => {
                rl.limit_tokens = rl.limit_tokens.or(n)
            }
            "x-ratelimit-remaining-tokens" | "anthropic-ratelimit-tokens-remaining" => {
                rl.remaining_tokens = rl.remaining_tokens.or(n)
            }
            "x-ratelimit-reset-tokens" | "anthropic-ratelimit-tokens-reset" => {
                rl.reset_tokens.get_or_insert_with(|| v.trim().to_string());
            }
            "retry-after" | "x-retry-after" => {
                if let Ok(secs) = v.trim().parse::<f64>() {
                    if secs.is_finite() && secs >= 0.0 {
                        rl.retry_after_secs = Some(secs);
                    }
                }
            }
            "retry-after-ms" => {
                if let Ok(ms) = v.trim().parse::<f64>() {
                    if ms.is_finite() && ms >= 0.0 && rl.retry_after_secs.is_none() {
                        rl.retry_after_secs = Some(ms / 1000.0);
                    }
                }
            }
            _ => {}
        }
    }
    rl
}
