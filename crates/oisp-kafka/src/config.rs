//! `[kafka]` of `config.toml` and its codecs (`deny_unknown_fields`: a typo is an error with its
//! line). [`crate::Settings`] checks it and turns it into what the producer uses.

use oisp_sinks::FilterConfig;
use serde::Deserialize;

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
