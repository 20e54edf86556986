//! The configuration of every sink: the `[store]`, `[jsonl]`, `[otlp]`, `[kafka]`, `[webhook]`,
//! `[websocket]` and `[queue]` sections of `config.toml` (the binary's `Config` holds them, next
//! to `[record]`, `[redaction]` and `[filter]`).
//!
//! Each section deserialises with `deny_unknown_fields`, so a typo in the file is an error with a
//! line number, never a silently ignored key. Command-line flags override these values (the
//! binary does the merge). Durations are written as strings with a unit: `500ms`, `30s`, `10m`,
//! `2h`, `7d` (see [`parse_duration`]).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// `[store]`: the embedded SQLite store `show` and `analyze` read by default.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// On by default.
    pub enabled: bool,
    /// Default: `/var/lib/oisp-sensor/events.db` as root, `$XDG_DATA_HOME/oisp-sensor/events.db`
    /// otherwise (`OISP_STORE` overrides).
    pub path: Option<PathBuf>,
    /// Delete events older than this (e.g. `30d`). None: keep by age forever.
    pub retention: Option<String>,
    /// Keep the database under this many megabytes by deleting the oldest events.
    pub max_size_mb: Option<u64>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            enabled: true,
            path: None,
            retention: None,
            max_size_mb: None,
        }
    }
}

/// `[jsonl]`: events as JSON Lines to a file (created 0600) or standard output (`path = "-"`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct JsonlConfig {
    pub path: PathBuf,
    /// Rotate when the file reaches this many megabytes.
    pub rotate_size_mb: Option<u64>,
    /// Rotate at this interval (e.g. `1h`, `1d`).
    pub rotate_interval: Option<String>,
    /// Rotated files kept (`FILE.1` newest … `FILE.N`); older ones are deleted.
    pub keep: u32,
    /// Append to an existing file instead of truncating it at start.
    pub append: bool,
}

impl Default for JsonlConfig {
    fn default() -> Self {
        JsonlConfig {
            path: PathBuf::from("-"),
            rotate_size_mb: None,
            rotate_interval: None,
            keep: 5,
            append: true,
        }
    }
}

/// OTLP transport.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
pub enum OtlpProtocol {
    #[default]
    #[serde(rename = "grpc")]
    Grpc,
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
}

/// `[otlp]`: logs and traces to an OpenTelemetry collector, GenAI semantic conventions.
/// Unset keys fall back to the standard `OTEL_EXPORTER_OTLP_*` / `OTEL_SERVICE_NAME` variables.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpConfig {
    /// `http://host:4317` (gRPC) or `http://host:4318` (HTTP; `/v1/logs`, `/v1/traces` added).
    pub endpoint: Option<String>,
    pub protocol: Option<OtlpProtocol>,
    /// Extra request headers (e.g. an API key for a hosted collector). Never shown in `status`.
    pub headers: BTreeMap<String, String>,
    /// `service.name` resource attribute (default `oisp-sensor`).
    pub service_name: Option<String>,
    /// Export log records (one per event). Default true.
    pub logs: Option<bool>,
    /// Export spans (one per AI call, children for tool calls). Default true.
    pub traces: Option<bool>,
    /// Per-request timeout, e.g. `10s`.
    pub timeout: Option<String>,
    /// Request compression (`gzip` or `none`; default `none`, or `OTEL_EXPORTER_OTLP_COMPRESSION`).
    pub compression: Option<OtlpCompression>,
    /// How long an AI call waits for its response before its span is exported marked unfinished
    /// (e.g. `5m`, the default).
    pub unfinished_after: Option<String>,
    /// PEM file of CA certificates trusted for an `https://` endpoint, in addition to the
    /// Mozilla roots (default: `OTEL_EXPORTER_OTLP_CERTIFICATE`).
    pub certificate: Option<PathBuf>,
    pub filter: Option<FilterConfig>,
}

/// OTLP request compression.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OtlpCompression {
    None,
    Gzip,
}

/// Kafka compression codec.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum KafkaCompression {
    None,
    #[default]
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

/// How Kafka messages are keyed (decides partitioning and ordering).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum KafkaKey {
    /// The host name: all events of a host in one partition, in order.
    #[default]
    Host,
    /// The AI conversation/session (falls back to host + pid).
    Session,
}

/// Message encoding.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum MessageFormat {
    /// The OISP event as JSON (the same object as a JSONL line).
    #[default]
    Json,
    /// The OISP event as protobuf (`oisp.v1.Event` from the spec's protos).
    Protobuf,
}

/// `[kafka]`: a producer to a Kafka-protocol broker.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// `host:port[,host:port…]`
    pub brokers: String,
    pub topic: String,
    pub compression: KafkaCompression,
    pub key: KafkaKey,
    pub format: MessageFormat,
    /// Wait at most this long to fill a batch (e.g. `100ms`).
    pub linger: Option<String>,
    pub timeout: Option<String>,
    /// Partitions of the topic when the sink has to create it (default 1; unused when the topic
    /// exists).
    pub partitions: Option<u32>,
    pub filter: Option<FilterConfig>,
}

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

/// `[websocket]`: a live event stream for UIs at `ws://LISTEN/events`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebSocketConfig {
    /// Default `127.0.0.1:7879` (loopback only unless you say otherwise).
    pub listen: String,
    pub filter: Option<FilterConfig>,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            listen: "127.0.0.1:7879".into(),
            filter: None,
        }
    }
}

/// `[queue]`: the disk-backed queue in front of every network sink.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// Directory of the queue files (default: next to the store, `queue/`).
    pub dir: Option<PathBuf>,
    /// Events kept per sink before the oldest are dropped.
    pub max_events: u64,
    /// Megabytes kept per sink before the oldest are dropped.
    pub max_size_mb: u64,
    /// First retry delay; doubles up to `retry_max`, with jitter.
    pub retry_initial: String,
    pub retry_max: String,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            dir: None,
            max_events: 1_000_000,
            max_size_mb: 1024,
            retry_initial: "500ms".into(),
            retry_max: "30s".into(),
        }
    }
}

/// Which events pass (global `[filter]`, or per sink). Empty lists pass everything; an event
/// must match every non-empty list. Matching: `types` by exact type or prefix (`ai` matches
/// `ai.request`); `processes` by substring of process name or exe; `providers`, `models` exact
/// (case-insensitive) on AI events — non-AI events pass those two lists unless
/// `ai_only = true`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FilterConfig {
    pub types: Vec<String>,
    pub exclude_types: Vec<String>,
    pub processes: Vec<String>,
    pub providers: Vec<String>,
    pub models: Vec<String>,
    pub ai_only: bool,
}

/// Parses `500ms`, `30s`, `10m`, `2h`, `7d` (a bare number is seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid duration `{s}` (expected e.g. 500ms, 30s, 10m, 2h, 7d)"))?;
    let ms = match unit.trim() {
        "ms" => n,
        "" | "s" => n * 1000,
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        "d" => n * 86_400_000,
        other => {
            return Err(format!(
                "invalid duration unit `{other}` in `{s}` (ms, s, m, h, d)"
            ))
        }
    };
    Ok(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(
            parse_duration("7d").unwrap(),
            Duration::from_secs(7 * 86400)
        );
        assert!(parse_duration("7w").is_err());
        assert!(parse_duration("").is_err());
    }
}
