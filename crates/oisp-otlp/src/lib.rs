//! OTLP sink: OISP events as OpenTelemetry logs and GenAI spans.
//!
//! [`OtlpSink`] implements [`oisp_sinks::Sink`] (kind `otlp`) over the official OTLP protos
//! (`opentelemetry-proto`): gRPC through the generated tonic clients, or HTTP/protobuf
//! (`POST application/x-protobuf` to `/v1/logs` and `/v1/traces`, on hyper).
//!
//! - `section`: the `[otlp]` section as written ([`OtlpConfig`]).
//! - [`config`]: `[otlp]` + `OTEL_EXPORTER_OTLP_*` resolution (pure, tested).
//! - [`logs`]: one LogRecord per event.
//! - [`spans`]: one span per AI call, child spans for tool calls, bounded pairing state; for
//!   agent sessions (events with `trace_context` from the decoder) also the `invoke_agent`
//!   root span and a span per command, file change and connection (`agent_spans`).
//! - [`genai`]: OISP fields → GenAI semantic-convention attributes.
//! - [`resource`]: resource attributes per process; grouping.
//! - [`ids`]: deterministic trace/span ids.
//! - [`transport`]: gRPC / HTTP export and failure classification.
//!
//! See `docs/otlp.md` for the user-facing description.

mod agent_spans;
mod attrs;
pub mod config;
pub mod genai;
mod http;
pub mod ids;
pub mod logs;
pub mod resource;
mod section;
mod sink;
pub mod spans;
pub mod transport;

pub use config::{resolve, Resolved};
pub use section::{OtlpCompression, OtlpConfig, OtlpProtocol};
pub use sink::{ExportCounts, OtlpSink};
