//! The access token: generated for non-loopback addresses, checked on every route.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The cookie the page keeps the token in.
pub const COOKIE: &str = "oisp_token";

/// A fresh random token (32 hex characters from the kernel's random source).
pub fn generate() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// Compares in time independent of where the strings differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The token a request presents: bearer header, cookie, or `token` query parameter.
fn presented<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Vec<&'a str> {
    let mut out = Vec::new();
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(t) = v.strip_prefix("Bearer ") {
            out.push(t.trim());
        }
    }
    for v in headers.get_all(header::COOKIE) {
        if let Ok(s) = v.to_str() {
            out.extend(s.split(';').filter_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k == COOKIE).then_some(v)
            }));
        }
    }
    if let Some(q) = query {
        out.extend(q.split('&').filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == "token").then_some(v)
        }));
    }
    out
}

/// Middleware: with a token configured, refuses (401) any request that does not present it;
/// a request that presents it as `?token=` gets it set as an HTTP-only cookie.
pub async fn check(State(token): State<Arc<Option<String>>>, req: Request, next: Next) -> Response {
    let Some(token) = token.as_ref() else {
        return next.run(req).await;
    };
    let offered = presented(req.headers(), req.uri().query());
    if !offered.iter().any(|t| same(t, token)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "oisp-sensor web: this server needs its access token: open the URL it printed \
             (…/?token=…) or send `Authorization: Bearer <token>`\n",
        )
            .into_response();
    }
    let via_query = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("token=")));
    let mut resp = next.run(req).await;
    if via_query {
        if let Ok(v) = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/").parse() {
            resp.headers_mut().insert(header::SET_COOKIE, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_in_header_cookie_and_query() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        h.insert(header::COOKIE, "x=1; oisp_token=def".parse().unwrap());
        assert_eq!(
            presented(&h, Some("a=b&token=ghi")),
            vec!["abc", "def", "ghi"]
        );
    }

    #[test]
    fn comparison_needs_equal_strings() {
        assert!(same("abcd", "abcd"));
        assert!(!same("abcd", "abce"));
        assert!(!same("abc", "abcd"));
    }

    #[test]
    fn generated_tokens_differ() {
        let a = generate().unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, generate().unwrap());
    }
}
