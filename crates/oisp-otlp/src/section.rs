//! `[otlp]` of `config.toml` as written (`deny_unknown_fields`: a typo is an error with its line);
//! [`crate::config::resolve`] applies the `OTEL_*` environment and defaults.

use oisp_sinks::FilterConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

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
