//! HTTP/1.x head parsing (via `httparse`) and the body-length rules of RFC 9112 §6.3.

use super::exchange::{Headers, HttpVersion};
use super::h1_framing::Framing;

/// Most header fields accepted in one head.
const MAX_HEADERS: usize = 128;

/// A parsed request head.
pub(crate) struct ReqHead {
    pub method: String,
    pub path: String,
    pub version: HttpVersion,
    pub headers: Headers,
}

/// A parsed response head.
pub(crate) struct RespHead {
    pub status: u16,
    pub headers: Headers,
}

/// End of the head (index just past its empty line) in `buf`, scanning LFs from `from`.
pub(crate) fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        let lf = i + buf.get(i..)?.iter().position(|&b| b == b'\n')?;
        match buf.get(lf + 1..)? {
            [b'\n', ..] => return Some(lf + 2),
            [b'\r', b'\n', ..] => return Some(lf + 3),
            [b'\r'] | [] => return None,
            _ => i = lf + 1,
        }
    }
}

fn to_headers(raw: &[httparse::Header<'_>]) -> Headers {
    Headers(
        raw.iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
    )
}

fn version(v: Option<u8>) -> HttpVersion {
    match v {
        Some(0) => HttpVersion::Http10,
        _ => HttpVersion::Http11,
    }
}

/// Parses a complete request head.
pub(crate) fn parse_request(head: &[u8]) -> Result<ReqHead, String> {
    let mut hdrs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut hdrs);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => Ok(ReqHead {
            method: req.method.unwrap_or_default().to_string(),
            path: req.path.unwrap_or_default().to_string(),
            version: version(req.version),
            headers: to_headers(req.headers),
        }),
        Ok(httparse::Status::Partial) => Err("incomplete request head".into()),
        Err(e) => Err(format!("bad request head: {e}")),
    }
}

/// Parses a complete response head.
pub(crate) fn parse_response(head: &[u8]) -> Result<RespHead, String> {
    let mut hdrs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut hdrs);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => Ok(RespHead {
            status: resp.code.unwrap_or_default(),
            headers: to_headers(resp.headers),
        }),
        Ok(httparse::Status::Partial) => Err("incomplete response head".into()),
        Err(e) => Err(format!("bad response head: {e}")),
    }
}

/// True when a comma-separated header contains `token` (case-insensitive).
pub(crate) fn has_token(headers: &Headers, name: &str, token: &str) -> bool {
    headers
        .get_all(name)
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// `Some(true)` if Transfer-Encoding ends with chunked, `Some(false)` if present otherwise.
fn transfer_chunked(headers: &Headers) -> Option<bool> {
    let last = headers
        .get_all("transfer-encoding")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .last()?;
    Some(last.eq_ignore_ascii_case("chunked"))
}

/// The Content-Length, if any; differing or malformed values are an error.
fn content_length(headers: &Headers) -> Result<Option<u64>, String> {
    let mut found: Option<u64> = None;
    for v in headers.get_all("content-length").flat_map(|v| v.split(',')) {
        let v = v.trim();
        let n: u64 = v
            .parse()
            .map_err(|_| format!("invalid content-length {v:?}"))?;
        if found.is_some_and(|f| f != n) {
            return Err("conflicting content-length values".into());
        }
        found = Some(n);
    }
    Ok(found)
}

/// Body framing of a request.
pub(crate) fn request_framing(headers: &Headers) -> Result<Framing, String> {
    match transfer_chunked(headers) {
        Some(true) => Ok(Framing::chunked()),
        Some(false) => Err("request transfer-encoding does not end in chunked".into()),
        None => Ok(Framing::Length(content_length(headers)?.unwrap_or(0))),
    }
}

/// Body framing of a (final, non-1xx) response to a request with method `HEAD` if `is_head`.
pub(crate) fn response_framing(
    headers: &Headers,
    status: u16,
    is_head: bool,
) -> Result<Framing, String> {
    if is_head || status == 204 || status == 304 || (100..200).contains(&status) {
        return Ok(Framing::Length(0));
    }
    match transfer_chunked(headers) {
        Some(true) => Ok(Framing::chunked()),
        Some(false) => Ok(Framing::Close),
        None => Ok(content_length(headers)?.map_or(Framing::Close, Framing::Length)),
    }
}
