//! The configuration file (`/etc/oisp-sensor/config.toml`, `--config FILE`, `$OISP_CONFIG`).
//!
//! Every command-line flag of `record`, `demo` and `replay` has a key here; flags given on the
//! command line override the file. Unknown keys are errors (with their line number), never
//! silently ignored. `oisp-sensor config check` validates a file; `record` re-reads it on SIGHUP.

mod check;
mod load;

pub use check::validate;
pub use load::{load, locate, ConfigSource, SYSTEM_CONFIG};

use oisp_kafka::KafkaConfig;
use oisp_otlp::OtlpConfig;
use oisp_pipeline::SinksConfig;
use oisp_sinks::{FilterConfig, JsonlConfig, QueueConfig};
use oisp_store::StoreConfig;
use oisp_webhook::WebhookConfig;
use oisp_websocket::WebSocketConfig;
use serde::Deserialize;
use std::path::PathBuf;

/// The whole file. Sections are optional; an empty file is the defaults. The sink sections'
/// types live beside their sinks; [`Config::sinks`] hands them to `oisp_pipeline`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub record: RecordConfig,
    pub redaction: RedactionConfig,
    /// Which events reach any sink.
    pub filter: FilterConfig,
    pub store: StoreConfig,
    pub jsonl: Option<JsonlConfig>,
    pub otlp: Option<OtlpConfig>,
    pub kafka: Option<KafkaConfig>,
    pub webhook: Option<WebhookConfig>,
    pub websocket: Option<WebSocketConfig>,
    pub queue: QueueConfig,
    /// The web UI (`oisp-sensor web`, `record --web`).
    pub web: WebConfigSection,
    /// The capturing proxy (`oisp-sensor proxy`, `oisp-sensor run`).
    pub proxy: ProxyConfigSection,
}

/// `[proxy]`: the capturing HTTP/HTTPS proxy. Flags of `proxy` and `run` override each key.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyConfigSection {
    /// Listen address of `oisp-sensor proxy` (default 127.0.0.1:8080; `run` picks a free port).
    pub listen: Option<String>,
    /// `ai` (default: the bundle's provider domains plus `domains`) or `all`.
    pub intercept: Option<String>,
    /// Extra hosts intercepted in `ai` mode (exact names or `*.example.com` globs).
    pub domains: Vec<String>,
    /// Extra CA certificates (PEM files) trusted for upstream servers, beside the system roots.
    pub upstream_ca: Vec<PathBuf>,
    /// Where the proxy's CA lives (default ~/.local/share/oisp-sensor/ca, or
    /// /var/lib/oisp-sensor/ca as root).
    pub ca_dir: Option<PathBuf>,
}

/// `[web]`: the web UI.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfigSection {
    /// Serve the web UI while `record` runs (as `record --web` does).
    pub enabled: bool,
    /// Listen address (default 127.0.0.1:7777). Any address but a loopback one needs a token.
    pub listen: Option<String>,
    /// The access token (default: generated and printed when `listen` is not a loopback address;
    /// `$OISP_WEB_TOKEN` overrides). Required by every route when set.
    pub token: Option<String>,
}

impl Config {
    /// The sink sections, for `oisp_pipeline::build_sinks`.
    pub fn sinks(&self) -> SinksConfig {
        SinksConfig {
            store: self.store.clone(),
            jsonl: self.jsonl.clone(),
            otlp: self.otlp.clone(),
            kafka: self.kafka.clone(),
            webhook: self.webhook.clone(),
            websocket: self.websocket.clone(),
            queue: self.queue.clone(),
        }
    }
}

/// `[record]`: what live capture observes (changes need a restart of `record`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RecordConfig {
    pub ssl: bool,
    pub process: bool,
    pub file: bool,
    pub network: bool,
    /// Plaintext HTTP on connected TCP sockets (local model servers, http:// APIs).
    pub plaintext: bool,
    pub all_processes: bool,
    /// Only this process id.
    pub pid: Option<u32>,
    /// Only processes with this name (kernel comm).
    pub process_name: Option<String>,
    /// Also write every captured record to this raw capture file.
    pub raw_out: Option<PathBuf>,
}

impl Default for RecordConfig {
    fn default() -> Self {
        RecordConfig {
            ssl: true,
            process: true,
            file: true,
            network: true,
            plaintext: true,
            all_processes: false,
            pid: None,
            process_name: None,
            raw_out: None,
        }
    }
}

/// `[redaction]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RedactionConfig {
    /// `safe` (default), `full` or `minimal`.
    pub mode: Option<String>,
    /// Mask API keys, tokens, JWTs, private keys (default true).
    pub redact_secrets: Option<bool>,
    /// Extra rules: `[[redaction.rules]]` with `name`, `pattern`, optional `replacement`.
    pub rules: Vec<RuleConfig>,
}

/// One `[[redaction.rules]]` entry.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: String,
    pub pattern: String,
    pub replacement: Option<String>,
}
