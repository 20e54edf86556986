//! [`WebhookSink`]: batches as JSON arrays over HTTP(S).

use crate::post::{post, Failure};
use crate::signature::{batch_id, signature, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::url::WebhookUrl;
use crate::WebhookConfig;
use oisp_sinks::parse_duration;
use oisp_sinks::{DeliveryError, Item, Sink};
use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use ureq::http::{HeaderName, HeaderValue};
use ureq::tls::{RootCerts, TlsConfig};
use ureq::Agent;

/// Header carrying the batch's idempotency key ([`crate::batch_id`]).
pub const BATCH_ID_HEADER: &str = "X-OISP-Batch-Id";
/// Header carrying the number of events in the body.
pub const EVENT_COUNT_HEADER: &str = "X-OISP-Event-Count";

const DEFAULT_BATCH: usize = 100;
/// Largest `batch_size` accepted (the worker reads a batch into memory at once).
const MAX_BATCH: usize = 10_000;
/// A POST body grows to at most this many bytes (fewer events than `batch_size` when events
/// are large); a single larger event is sent alone.
pub(crate) const MAX_BODY: usize = 4 << 20;
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
/// Each POST carries up to `batch_size` events (and at most 4 MiB, unless one event is larger;
/// a `413` answer splits the POST further) as a JSON array (`[` + the items' JSON bytes
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
    /// `Retry-After` of the last retryable failure, until the worker asks for it.
    retry_after: Cell<Option<Duration>>,
}

impl WebhookSink {
    /// Builds the sink from `[webhook]`. Errors name the bad key and value (never a secret):
    /// missing/invalid `url`, `batch_size = 0`, an unparsable or zero `timeout`, an empty
    /// `secret`, an invalid or reserved header name, or a header value that is not valid.
    /// Messages do not repeat the sink's name (the caller prefixes `webhook: `).
    pub fn new(cfg: &WebhookConfig) -> Result<Self, String> {
        let url = WebhookUrl::parse(&cfg.url)?;
        let batch_size = cfg.batch_size.unwrap_or(DEFAULT_BATCH);
        if batch_size == 0 || batch_size > MAX_BATCH {
            return Err(format!(
                "`batch_size` = {batch_size}: expected 1 to {MAX_BATCH}"
            ));
        }
        let timeout = match &cfg.timeout {
            Some(t) => parse_duration(t).map_err(|e| format!("`timeout`: {e}"))?,
            None => DEFAULT_TIMEOUT,
        };
        if timeout.is_zero() {
            return Err("`timeout` must be more than 0".into());
        }
        let secret = match &cfg.secret {
            Some(s) if s.is_empty() => {
                return Err("`secret` is empty (remove the key to send unsigned)".into())
            }
            Some(s) => Some(s.as_bytes().to_vec()),
            None => None,
        };
        let mut user_agent = format!("oisp-sensor/{}", env!("CARGO_PKG_VERSION"));
        let mut headers = Vec::new();
        for (name, value) in &cfg.headers {
            let hname = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("invalid header name `{name}`"))?;
            if RESERVED.contains(&hname.as_str()) {
                return Err(format!(
                    "header `{name}` is set by the sink and cannot be configured"
                ));
            }
            let hvalue = HeaderValue::from_str(value).map_err(|_| {
                format!("header `{name}` has an invalid value (control characters?)")
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
            retry_after: Cell::new(None),
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

    /// One POST of `chunk`.
    fn post_chunk(&self, chunk: &[Item]) -> Result<(), Failure> {
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

    /// POSTs `chunk`; on `413 Payload Too Large` splits it in halves and tries again, down to
    /// single events. Rejected events are added to `rejected`; a retryable failure ends the
    /// attempt.
    fn post_splitting(&self, chunk: &[Item], rejected: &mut Rejected) -> Result<(), DeliveryError> {
        match self.post_chunk(chunk) {
            Ok(()) => Ok(()),
            Err(Failure {
                error: DeliveryError::Rejected(_),
                status: Some(413),
                ..
            }) if chunk.len() > 1 => {
                let (a, b) = chunk.split_at(chunk.len() / 2);
                self.post_splitting(a, rejected)?;
                self.post_splitting(b, rejected)
            }
            Err(Failure {
                error: DeliveryError::Rejected(m),
                ..
            }) => {
                rejected.events += chunk.len();
                rejected.first.get_or_insert(m);
                Ok(())
            }
            Err(Failure {
                error, retry_after, ..
            }) => {
                self.retry_after.set(retry_after);
                Err(error)
            }
        }
    }
}

/// Events the destination refused during one `deliver`.
#[derive(Default)]
struct Rejected {
    events: usize,
    first: Option<String>,
}

/// Cuts `items` into runs of at most `max_items` whose JSON array body stays within
/// `max_bytes` (a run always holds at least one item).
pub(crate) fn split_batch(items: &[Item], max_items: usize, max_bytes: usize) -> Vec<&[Item]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 2);
    for (i, item) in items.iter().enumerate() {
        let add = item.json.len() + 1;
        if i > start && (i - start == max_items || bytes + add > max_bytes) {
            out.push(&items[start..i]);
            (start, bytes) = (i, 2);
        }
        bytes += add;
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
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

    /// POSTs `batch` in order, in runs of at most `batch_size` events and [`MAX_BODY`] bytes.
    ///
    /// - A retryable failure stops at once: the whole batch is retried, so runs sent before it
    ///   may arrive twice (same `X-OISP-Batch-Id`).
    /// - `413` splits the run (see `post_splitting`); events refused anyway (any other 4xx, or
    ///   a single event still too large) do not stop the runs after them: the batch ends
    ///   `Rejected` naming how many of its events were refused, once the rest was delivered.
    fn deliver(&mut self, batch: &[Item]) -> Result<(), DeliveryError> {
        let mut rejected = Rejected::default();
        for chunk in split_batch(batch, self.batch_size, MAX_BODY) {
            self.post_splitting(chunk, &mut rejected)?;
        }
        match rejected.first {
            None => Ok(()),
            Some(first) => Err(DeliveryError::Rejected(format!(
                "{} of {} events refused: {first}",
                rejected.events,
                batch.len()
            ))),
        }
    }

    fn max_batch(&self) -> usize {
        self.batch_size
    }

    fn retry_after(&mut self) -> Option<Duration> {
        self.retry_after.take()
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
        c.batch_size = Some(MAX_BATCH + 1);
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

    fn item(json_len: usize) -> Item {
        let mut ev: oisp_event::Event = serde_json::from_slice(include_bytes!(
            "../../../vendor/oisp-spec/examples/process-exec.json"
        ))
        .unwrap();
        let base = serde_json::to_vec(&ev).unwrap().len();
        let pad = "x".repeat(json_len.saturating_sub(base + 20));
        ev.attrs = Some(serde_json::Map::from_iter([(
            "pad".to_string(),
            pad.into(),
        )]));
        Item::new(ev).unwrap()
    }

    #[test]
    fn batches_are_cut_by_count_and_bytes() {
        let small: Vec<Item> = (0..5).map(|_| item(0)).collect();
        let lens = |v: Vec<&[Item]>| v.iter().map(|c| c.len()).collect::<Vec<_>>();
        assert_eq!(lens(split_batch(&small, 2, MAX_BODY)), [2, 2, 1]);
        assert_eq!(lens(split_batch(&small, 100, MAX_BODY)), [5]);
        assert!(split_batch(&[], 100, MAX_BODY).is_empty());
        let big: Vec<Item> = (0..5).map(|_| item(1000)).collect();
        let n = big[0].json.len() + 1;
        // Room for two items (2 + 2n bytes) but not three.
        assert_eq!(lens(split_batch(&big, 100, 2 + 2 * n)), [2, 2, 1]);
        // An item larger than the limit goes alone.
        assert_eq!(lens(split_batch(&big, 100, 10)), [1, 1, 1, 1, 1]);
        let body = WebhookSink::body(&big[..2]);
        assert_eq!(body.len(), 2 + 2 * n - 1);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 2);
    }

    #[test]
    fn defaults() {
        let s = WebhookSink::new(&cfg("https://u:p@h.example/x?k=1")).unwrap();
        assert_eq!(s.kind(), "webhook");
        assert_eq!(s.max_batch(), 100);
        assert_eq!(s.target(), "https://h.example/x?…");
    }
}
