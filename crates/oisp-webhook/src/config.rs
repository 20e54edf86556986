//! `[webhook]` of `config.toml` (`deny_unknown_fields`: a typo is an error with its line).

use oisp_sinks::FilterConfig;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `[webhook]`: batched HTTP POSTs (JSON array of events), signed with HMAC-SHA256.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// Key for `X-OISP-Signature: sha256=<hex>`, HMAC-SHA256 over `"{X-OISP-Timestamp}." + body`
    /// (docs/webhook.md). None: unsigned.
    pub secret: Option<String>,
    /// Events per POST (default 100).
    pub batch_size: Option<usize>,
    /// Extra request headers. Never shown in `status`.
    pub headers: BTreeMap<String, String>,
    pub timeout: Option<String>,
    pub filter: Option<FilterConfig>,
}
