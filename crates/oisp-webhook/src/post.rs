//! One POST and what its outcome means for the worker.

use oisp_sinks::DeliveryError;
use std::io::Read;
use std::time::{Duration, SystemTime};
use ureq::http::{HeaderName, HeaderValue};
use ureq::Agent;

/// How much of an error response's body is quoted in the error message.
const ERROR_BODY_QUOTE: usize = 200;
/// How much of any response body is read (so the connection can be reused).
const RESPONSE_BODY_LIMIT: u64 = 64 * 1024;

/// Why one POST failed: the verdict for the worker, the HTTP status if one came back, and the
/// wait the server asked for in `Retry-After`, if any.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: DeliveryError,
    pub status: Option<u16>,
    pub retry_after: Option<Duration>,
}

/// Sends `body` to `url` with `headers` in one attempt.
///
/// Outcome: 2xx → `Ok`; 408, 429, 5xx, 3xx (a redirect is a configuration problem that a fix
/// of the URL resolves without losing the queued events) and every transport failure
/// (connection refused or reset, DNS, TLS, timeout) → `Retryable`; any other status →
/// `Rejected`. Messages name the URL as `shown` (never the configured URL, which may carry a
/// secret).
pub(crate) fn post(
    agent: &Agent,
    url: &str,
    shown: &str,
    headers: &[(HeaderName, HeaderValue)],
    body: &[u8],
) -> Result<(), Failure> {
    let mut req = agent.post(url);
    for (name, value) in headers {
        req = req.header(name, value);
    }
    let mut resp = match req.send(body) {
        Ok(resp) => resp,
        Err(e) => {
            let msg = e.to_string().replace(url, shown);
            return Err(Failure {
                error: DeliveryError::Retryable(format!("POST {shown}: {msg}")),
                status: None,
                retry_after: None,
            });
        }
    };
    let status = resp.status().as_u16();
    let mut quoted = Vec::new();
    // A body that cannot be read does not change the verdict of the status line.
    let _ = resp
        .body_mut()
        .as_reader()
        .take(RESPONSE_BODY_LIMIT)
        .read_to_end(&mut quoted);
    if (200..300).contains(&status) {
        return Ok(());
    }
    let msg = format!("POST {shown}: HTTP {status}{}", quote(&quoted));
    let error = match status {
        408 | 429 | 500..=599 => DeliveryError::Retryable(msg),
        300..=399 => {
            let to = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?");
            DeliveryError::Retryable(format!(
                "{msg} (redirects to {}; set `url` to the final address)",
                to.split('?').next().unwrap_or("?")
            ))
        }
        _ => DeliveryError::Rejected(msg),
    };
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| oisp_sinks::parse_retry_after(v, SystemTime::now()));
    Err(Failure {
        error,
        status: Some(status),
        retry_after,
    })
}

/// `": <first line of the body, at most 200 chars>"`, or nothing for an empty body.
fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    match line {
        Some(l) => {
            let cut: String = l.chars().take(ERROR_BODY_QUOTE).collect();
            format!(": {cut}")
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_first_line_briefly() {
        assert_eq!(quote(b""), "");
        assert_eq!(quote(b"\n  bad signature \nmore"), ": bad signature");
        assert_eq!(quote(&[b'x'; 500]).len(), 2 + ERROR_BODY_QUOTE);
    }
}
