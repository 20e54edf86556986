//! Reading the HTTP request that opens a connection, before the WebSocket handshake: routing
//! (`/events` only), the upgrade check, and per-client filters from the query string.

use oisp_sinks::FilterConfig;

/// Largest request head accepted (request line + headers).
pub(crate) const MAX_HEAD: usize = 16 * 1024;

/// What to do with a connection, decided from its request head.
#[derive(Debug, PartialEq)]
pub(crate) enum Route {
    /// A WebSocket upgrade to `/events`, with the client's filter (None: every event).
    Events(Option<FilterConfig>),
    /// Answer with this status and one line of text, then close.
    Refuse(u16, String),
}

/// Parses a complete request head (`buf` ends at or after the blank line). `None`: incomplete.
pub(crate) fn route(buf: &[u8]) -> Option<Route> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Partial) => return None,
        Err(e) => return Some(Route::Refuse(400, format!("bad request: {e}"))),
        Ok(httparse::Status::Complete(_)) => {}
    }
    let target = req.path.unwrap_or("/");
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    if path != "/events" {
        return Some(Route::Refuse(
            404,
            format!("not found: {path} (events are streamed at /events)"),
        ));
    }
    if req.method != Some("GET") {
        return Some(Route::Refuse(
            405,
            "GET /events with a WebSocket upgrade".into(),
        ));
    }
    let upgrade = req.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("upgrade")
            && std::str::from_utf8(h.value)
                .is_ok_and(|v| v.trim().eq_ignore_ascii_case("websocket"))
    });
    if !upgrade {
        return Some(Route::Refuse(
            426,
            "this is a WebSocket endpoint: connect with a WebSocket client".into(),
        ));
    }
    match query.map(filter_from_query).transpose() {
        Ok(filter) => Some(Route::Events(
            filter.filter(|f| *f != FilterConfig::default()),
        )),
        Err(e) => Some(Route::Refuse(400, e)),
    }
}

/// `types`, `exclude_types`, `processes`, `providers`, `models` (comma-separated, may repeat)
/// and `ai_only` (`true`/`false`/`1`/`0`), with the meaning of [`FilterConfig`].
pub(crate) fn filter_from_query(query: &str) -> Result<FilterConfig, String> {
    let mut f = FilterConfig::default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let list = match key.as_ref() {
            "types" => &mut f.types,
            "exclude_types" => &mut f.exclude_types,
            "processes" => &mut f.processes,
            "providers" => &mut f.providers,
            "models" => &mut f.models,
            "ai_only" => {
                f.ai_only = match value.as_ref() {
                    "true" | "1" | "" => true,
                    "false" | "0" => false,
                    other => return Err(format!("ai_only={other}: expected true or false")),
                };
                continue;
            }
            other => {
                return Err(format!(
                    "unknown filter `{other}` (types, exclude_types, processes, providers, \
                     models, ai_only)"
                ))
            }
        };
        list.extend(
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    Ok(f)
}

/// The bytes of a minimal HTTP/1.1 response that closes the connection.
pub(crate) fn refusal(status: u16, text: &str) -> Vec<u8> {
    let reason = match status {
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let body = format!("{text}\n");
    let upgrade = if status == 426 {
        "Upgrade: websocket\r\n"
    } else {
        ""
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\n{upgrade}Content-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str = "Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";

    #[test]
    fn routes() {
        let r = |s: String| route(s.as_bytes());
        assert_eq!(
            r(format!("GET /events HTTP/1.1\r\n{WS}")),
            Some(Route::Events(None))
        );
        assert!(matches!(
            r(format!("GET /other HTTP/1.1\r\n{WS}")),
            Some(Route::Refuse(404, _))
        ));
        assert!(matches!(
            r("GET /events HTTP/1.1\r\nHost: x\r\n\r\n".into()),
            Some(Route::Refuse(426, _))
        ));
        assert!(matches!(
            r(format!("POST /events HTTP/1.1\r\n{WS}")),
            Some(Route::Refuse(405, _))
        ));
        assert_eq!(r("GET /events HTTP/1.1\r\nHost: x\r\n".into()), None);
        assert!(matches!(
            r("\x01\x02 garbage\r\n\r\n".into()),
            Some(Route::Refuse(400, _))
        ));
        match r(format!(
            "GET /events?types=ai.request,ai.response&ai_only=1 HTTP/1.1\r\n{WS}"
        )) {
            Some(Route::Events(Some(f))) => {
                assert_eq!(f.types, ["ai.request", "ai.response"]);
                assert!(f.ai_only);
            }
            other => panic!("{other:?}"),
        }
        match r(format!("GET /events?color=red HTTP/1.1\r\n{WS}")) {
            Some(Route::Refuse(400, m)) => assert!(m.contains("color")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn query_filters_decode_and_repeat() {
        let f = filter_from_query("processes=my%20app&processes=curl&models=gpt-4o").unwrap();
        assert_eq!(f.processes, ["my app", "curl"]);
        assert_eq!(f.models, ["gpt-4o"]);
        assert!(filter_from_query("ai_only=maybe").is_err());
    }
}
