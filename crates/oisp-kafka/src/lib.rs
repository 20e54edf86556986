//! Kafka sink for OISP events.
//!
//! [`KafkaSink`] implements [`oisp_sinks::Sink`] (kind `kafka`) with a pure-Rust Kafka client
//! (`rskafka`): no librdkafka, nothing extra to install next to the binary. Built from
//! [`KafkaConfig`] (`[kafka]` in `config.toml`):
//!
//! - one message per event, keyed by host or by AI conversation/session ([`key`]), partitioned
//!   with murmur2 like the Java client so every key stays in order on one partition;
//! - value: the event's JSON, or an `oisp.v1.Event` protobuf compiled at build time from the
//!   vendored OISP protos ([`proto`]);
//! - headers `oisp-event-type`, `oisp-event-id`, `oisp-version`, `content-type` ([`encode`]);
//! - compression none, gzip, snappy, lz4 or zstd; `acks = all`.
//!
//! See `docs/kafka.md` for the consumer side.

mod config;
pub mod encode;
mod errors;
pub mod key;
pub mod proto;
mod settings;
mod sink;

pub use config::{KafkaCompression, KafkaConfig, KafkaKey, MessageFormat};
pub use settings::{Settings, DEFAULT_TIMEOUT};
pub use sink::KafkaSink;
