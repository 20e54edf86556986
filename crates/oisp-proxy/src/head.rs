//! The request head a client sends the proxy: `CONNECT host:port` or an absolute-form request
//! (`GET http://host/path HTTP/1.1`) for plain HTTP.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// Largest request head accepted.
pub const MAX_HEAD: usize = 64 * 1024;

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    pub target: String,
    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub minor: u8,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// Why a head was refused (answered with 400).
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("connection closed before a request")]
    Closed,
    #[error("request head larger than {MAX_HEAD} bytes")]
    TooLarge,
    #[error("malformed request head: {0}")]
    Malformed(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Reads one head (up to the empty line) from `r`; bytes after it stay in `r`.
pub async fn read_head<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<Head, HeadError> {
    let mut raw = Vec::with_capacity(512);
    loop {
        let before = raw.len();
        // At most one byte past the limit is read, however long a line is.
        let room = (MAX_HEAD + 1 - before) as u64;
        let n = (&mut *r).take(room).read_until(b'\n', &mut raw).await?;
        if n == 0 {
            return Err(if raw.is_empty() {
                HeadError::Closed
            } else {
                HeadError::Malformed("truncated".into())
            });
        }
        if raw.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        let line = &raw[before..];
        if (line == b"\r\n" || line == b"\n") && before > 0 {
            break;
        }
    }
    parse(&raw)
}

fn parse(raw: &[u8]) -> Result<Head, HeadError> {
    let mut headers = vec![httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(raw) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HeadError::Malformed("incomplete".into())),
        Err(e) => return Err(HeadError::Malformed(e.to_string())),
    }
    Ok(Head {
        method: req.method.unwrap_or_default().to_string(),
        target: req.path.unwrap_or_default().to_string(),
        minor: req.version.unwrap_or(1),
        headers: req
            .headers
            .iter()
            .map(|h| (h.name.to_string(), h.value.to_vec()))
            .collect(),
    })
}

/// `host:port` of a CONNECT target (`[v6]:port` too); `None` if malformed.
pub fn split_authority(a: &str, default_port: u16) -> Option<(String, u16)> {
    if let Some(rest) = a.strip_prefix('[') {
        let (host, tail) = rest.split_once(']')?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if tail.is_empty() => default_port,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    let (host, port) = match a.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (a, default_port),
    };
    if host.is_empty() || host.contains(['/', ' ', '@']) {
        return None;
    }
    Some((host.to_string(), port))
}

/// An absolute-form `http://authority/path?q` target: (host, port, origin-form path).
pub fn split_absolute(target: &str) -> Option<(String, u16, String)> {
    let rest = target.strip_prefix("http://").or_else(|| {
        target
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("http://"))
            .map(|_| &target[7..])
    })?;
    let (auth, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    let (host, port) = split_authority(auth, 80)?;
    Some((host, port, path))
}

/// The head forwarded upstream for a plain HTTP request: origin-form target, hop-by-hop and
/// proxy headers dropped, `Connection: close` (the next request may name another host, so it
/// comes on a new connection).
pub fn origin_form(head: &Head, path: &str) -> Vec<u8> {
    let mut out = format!("{} {} HTTP/1.{}\r\n", head.method, path, head.minor).into_bytes();
    for (name, value) in &head.headers {
        let n = name.to_ascii_lowercase();
        if matches!(
            n.as_str(),
            "proxy-connection" | "proxy-authorization" | "connection" | "keep-alive"
        ) {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn heads_parse_and_leave_the_body() {
        let mut r = tokio::io::BufReader::new(
            &b"POST http://h:81/v1/x?a=1 HTTP/1.1\r\nHost: h:81\r\nProxy-Connection: keep-alive\r\nContent-Length: 2\r\n\r\nhi"[..],
        );
        let h = read_head(&mut r).await.unwrap();
        assert_eq!(h.method, "POST");
        let (host, port, path) = split_absolute(&h.target).unwrap();
        assert_eq!((host.as_str(), port, path.as_str()), ("h", 81, "/v1/x?a=1"));
        let fwd = String::from_utf8(origin_form(&h, &path)).unwrap();
        assert_eq!(
            fwd,
            "POST /v1/x?a=1 HTTP/1.1\r\nHost: h:81\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
        );
        let mut rest = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut r, &mut rest)
            .await
            .unwrap();
        assert_eq!(rest, "hi");
    }

    #[tokio::test]
    async fn an_endless_line_stops_at_the_limit() {
        let endless = vec![b'a'; MAX_HEAD * 4];
        let mut r = tokio::io::BufReader::new(&endless[..]);
        assert!(matches!(read_head(&mut r).await, Err(HeadError::TooLarge)));
    }

    #[tokio::test]
    async fn garbage_and_early_close_are_errors() {
        let mut r = tokio::io::BufReader::new(&b"\x16\x03\x01garbage\r\n\r\n"[..]);
        assert!(matches!(
            read_head(&mut r).await,
            Err(HeadError::Malformed(_))
        ));
        let mut r = tokio::io::BufReader::new(&b""[..]);
        assert!(matches!(read_head(&mut r).await, Err(HeadError::Closed)));
    }

    #[test]
    fn authorities_split() {
        assert_eq!(
            split_authority("api.openai.com:443", 443),
            Some(("api.openai.com".into(), 443))
        );
        assert_eq!(
            split_authority("[::1]:8443", 443),
            Some(("::1".into(), 8443))
        );
        assert_eq!(split_authority("host", 80), Some(("host".into(), 80)));
        assert_eq!(split_authority("host:xx", 80), None);
        assert_eq!(
            split_absolute("http://h"),
            Some(("h".into(), 80, "/".into()))
        );
        assert_eq!(split_absolute("/relative"), None);
    }
}
