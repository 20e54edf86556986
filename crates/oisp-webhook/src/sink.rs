//! [`WebhookSink`]: batches as JSON arrays over HTTP(S).

use crate::post::post;
use crate::signature::{batch_id, signature, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::url::WebhookUrl;
use oisp_sinks::config::{parse_duration, WebhookConfig};
use oisp_sinks::{DeliveryError, Item, Sink};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use ureq::http::{HeaderName, HeaderValue};
use ureq::tls::{RootCerts, TlsConfig};
use ureq::Agent;

/// Header carrying the batch's idempotency key ([`crate::batch_id`]).
pub const BATCH_ID_HEADER: &str = "X-OISP-Batch-Id";
/// Header carrying the number of events in the body.
pub const EVENT_COUNT_HEADER: &str = "X-OISP-Event-Count";

const DEFAULT_BATCH: usize = 100;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Headers the sink sets itself; `headers` in the config may not name them.
const RESERVED: &[&str] = &[
    "content-type",
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "x-oisp-timestamp",
    "x-oisp-signature",
    "x-oisp-batch-id",
    "x-oisp-event-count",
];

/// POSTs events to one URL.
///
/// Each POST carries up to `batch_size` events as a JSON array (`[` + the items' JSON bytes
/// joined by `,` + `]`, never re-serialised) with `Content-Type: application/json`,
/// `User-Agent: oisp-sensor/VERSION` (unless `headers` sets one), `X-OISP-Batch-Id`,
/// `X-OISP-Event-Count`, the configured extra headers and, when a secret is set,
/// `X-OISP-Timestamp` + `X-OISP-Signature` (see [`crate::signature`]).
///
/// HTTPS verifies the server against the system's CA store (`SSL_CERT_FILE` / `SSL_CERT_DIR`
/// honoured); `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` are honoured. Redirects
/// are not followed. Every request has the configured timeout (default 10 s) end to end.
pub struct WebhookSink {
    agent: Agent,
    url: WebhookUrl,
    secret: Option<Vec<u8>>,
    headers: Vec<(HeaderName, HeaderValue)>,
    batch_size: usize,
}

impl WebhookSink {
    /// Builds the sink from `[webhook]`. Errors name the bad key and value (never a secret):
    /// missing/invalid `url`, `batch_size = 0`, an unparsable or zero `timeout`, an empty
    /// `secret`, an invalid or reserved header name, or a header value that is not valid.
    pub fn new(cfg: &WebhookConfig) -> Result<Self, String> {
        let url = WebhookUrl::parse(&cfg.url)?;
        let batch_size = cfg.batch_size.unwrap_or(DEFAULT_BATCH);
        if batch_size == 0 {
            return Err("webhook: `batch_size` must be at least 1".into());
        }
        let timeout = match &cfg.timeout {
            Some(t) => parse_duration(t).map_err(|e| format!("webhook: `timeout`: {e}"))?,
            None => DEFAULT_TIMEOUT,
        };
        if timeout.is_zero() {
            return Err("webhook: `timeout` must be more than 0".into());
        }
        let secret = match &cfg.secret {
            Some(s) if s.is_empty() => {
                return Err("webhook: `secret` is empty (remove the key to send unsigned)".into())
            }
            Some(s) => Some(s.as_bytes().to_vec()),
            None => None,
        };
        let mut user_agent = format!("oisp-sensor/{}", env!("CARGO_PKG_VERSION"));
        let mut headers = Vec::new();
        for (name, value) in &cfg.headers {
            let hname = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("webhook: invalid header name `{name}`"))?;
            if RESERVED.contains(&hname.as_str()) {
                return Err(format!(
                    "webhook: header `{name}` is set by the sink and cannot be configured"
                ));
            }
            let hvalue = HeaderValue::from_str(value).map_err(|_| {
                format!("webhook: header `{name}` has an invalid value (control characters?)")
            })?;
            if hname == "user-agent" {
                user_agent = value.clone();
            } else {
                headers.push((hname, hvalue));
            }
        }
        let tls = TlsConfig::builder()
            .root_certs(RootCerts::PlatformVerifier)
            .build();
        let agent: Agent = Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(user_agent)
            .tls_config(tls)
            .build()
            .into();
        Ok(WebhookSink {
            agent,
            url,
            secret,
            headers,
            batch_size,
        })
    }

    /// The POST body for `items`: a JSON array of their JSON bytes.
    pub fn body(items: &[Item]) -> Vec<u8> {
        let len = items.iter().map(|i| i.json.len() + 1).sum::<usize>() + 2;
        let mut body = Vec::with_capacity(len);
        body.push(b'[');
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                body.push(b',');
            }
            body.extend_from_slice(&item.json);
        }
        body.push(b']');
        body
    }

    /// One POST of `chunk` (at most `batch_size` items).
    fn post_chunk(&self, chunk: &[Item]) -> Result<(), DeliveryError> {
        let body = Self::body(chunk);
        let mut headers = Vec::with_capacity(self.headers.len() + 5);
        headers.push((
            HeaderName::from_static("content-type"),
            HeaderValue::from_static("application/json"),
        ));
        headers.push((header(BATCH_ID_HEADER), value(&batch_id(chunk))));
        headers.push((header(EVENT_COUNT_HEADER), value(&chunk.len().to_string())));
        if let Some(secret) = &self.secret {
            let ts = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            headers.push((header(TIMESTAMP_HEADER), value(&ts.to_string())));
            headers.push((
                header(SIGNATURE_HEADER),
                value(&signature(secret, ts, &body)),
            ));
        }
        headers.extend(self.headers.iter().cloned());
        post(
            &self.agent,
            &self.url.full,
            &self.url.shown,
            &headers,
            &body,
        )
    }
}

/// Our own header names are static, valid tokens.
fn header(name: &'static str) -> HeaderName {
    HeaderName::from_bytes(name.as_bytes()).unwrap_or_else(|_| unreachable!("valid: {name}"))
}

/// Hex, digits and `sha256=`: always valid header values.
fn value(v: &str) -> HeaderValue {
    HeaderValue::from_str(v).unwrap_or_else(|_| unreachable!("valid header value: {v}"))
}

impl Sink for WebhookSink {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn target(&self) -> String {
        self.url.shown.clone()
    }

    /// POSTs `batch` in chunks of `batch_size`, in order; stops at the first failed chunk.
    /// After an error the whole batch is retried, so earlier chunks may arrive twice (same
    /// `X-OISP-Batch-Id`).
    fn deliver(&mut self, batch: &[Item]) -> Result<(), DeliveryError> {
        for chunk in batch.chunks(self.batch_size) {
            self.post_chunk(chunk)?;
        }
        Ok(())
    }

    fn max_batch(&self) -> usize {
        self.batch_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn cfg(url: &str) -> WebhookConfig {
        WebhookConfig {
            url: url.into(),
            ..Default::default()
        }
    }

    #[test]
    fn config_errors_name_the_key() {
        let mut c = cfg("https://h.example/x");
        c.batch_size = Some(0);
        assert!(WebhookSink::new(&c).err().unwrap().contains("batch_size"));
        let mut c = cfg("https://h.example/x");
        c.timeout = Some("5 parsecs".into());
        assert!(WebhookSink::new(&c).err().unwrap().contains("timeout"));
        let mut c = cfg("https://h.example/x");
        c.timeout = Some("0s".into());
        assert!(WebhookSink::new(&c).err().unwrap().contains("timeout"));
        let mut c = cfg("https://h.example/x");
        c.secret = Some(String::new());
        assert!(WebhookSink::new(&c).err().unwrap().contains("secret"));
        let mut c = cfg("https://h.example/x");
        c.headers = BTreeMap::from([("X-OISP-Signature".into(), "forged".into())]);
        assert!(WebhookSink::new(&c)
            .err()
            .unwrap()
            .contains("X-OISP-Signature"));
        let mut c = cfg("https://h.example/x");
        c.headers = BTreeMap::from([("Bad Name".into(), "v".into())]);
        assert!(WebhookSink::new(&c).err().unwrap().contains("Bad Name"));
        let mut c = cfg("https://h.example/x");
        c.headers = BTreeMap::from([("Authorization".into(), "Bearer a\nb".into())]);
        let err = WebhookSink::new(&c).err().unwrap();
        assert!(
            err.contains("Authorization") && !err.contains("Bearer"),
            "{err}"
        );
        assert!(WebhookSink::new(&cfg("")).is_err());
    }

    #[test]
    fn defaults() {
        let s = WebhookSink::new(&cfg("https://u:p@h.example/x?k=1")).unwrap();
        assert_eq!(s.kind(), "webhook");
        assert_eq!(s.max_batch(), 100);
        assert_eq!(s.target(), "https://h.example/x?…");
    }
}
