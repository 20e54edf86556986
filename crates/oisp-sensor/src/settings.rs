//! The effective configuration of a command: the config file, then command-line flags on top.

use crate::cli::{RedactArgs, RedactionArg, SinkArgs};
use crate::config::{self, Config, ConfigSource};
use anyhow::{bail, Result};
use oisp_kafka::KafkaConfig;
use oisp_otlp::{OtlpConfig, OtlpProtocol};
use oisp_pipeline::{build_sinks, Pipeline};
use oisp_redact::{CustomRule, RedactionMode, Redactor};
use oisp_sinks::filter::EventMatcher;
use oisp_sinks::JsonlConfig;
use oisp_webhook::WebhookConfig;
use oisp_websocket::WebSocketConfig;
use std::path::Path;

/// Loads the configuration named by `--config`/`$OISP_CONFIG`/the system file and applies the
/// sink and redaction flags. `output` is `-o` (JSON Lines).
pub fn resolve(
    sinks: &SinkArgs,
    redact: &RedactArgs,
    output: Option<&Path>,
) -> Result<(Config, ConfigSource)> {
    let source = config::locate(sinks.config.as_deref());
    let mut cfg = config::load(&source)?;
    apply_flags(&mut cfg, sinks, redact, output)?;
    Ok((cfg, source))
}

/// Flags override the file, key by key.
pub fn apply_flags(
    cfg: &mut Config,
    sinks: &SinkArgs,
    redact: &RedactArgs,
    output: Option<&Path>,
) -> Result<()> {
    if let Some(m) = redact.redaction {
        cfg.redaction.mode = Some(
            match m {
                RedactionArg::Safe => "safe",
                RedactionArg::Full => "full",
                RedactionArg::Minimal => "minimal",
            }
            .into(),
        );
    }
    if redact.no_redact_secrets {
        cfg.redaction.redact_secrets = Some(false);
    }
    if let Some(p) = output {
        let mut j = cfg.jsonl.take().unwrap_or_default();
        j.path = p.to_path_buf();
        // `-o FILE` starts the file afresh, as it always has; a configured file is appended to.
        j.append = false;
        cfg.jsonl = Some(j);
    }
    if let Some(p) = &sinks.store {
        cfg.store.enabled = true;
        cfg.store.path = Some(p.clone());
    }
    if sinks.no_store {
        cfg.store.enabled = false;
    }
    if let Some(e) = &sinks.otlp {
        let o = cfg.otlp.get_or_insert_with(OtlpConfig::default);
        if !e.is_empty() {
            o.endpoint = Some(e.clone());
        }
    }
    if let Some(p) = &sinks.otlp_protocol {
        let Some(o) = cfg.otlp.as_mut() else {
            bail!("--otlp-protocol needs --otlp (or an [otlp] section in the config file)");
        };
        o.protocol = Some(match p.as_str() {
            "grpc" => OtlpProtocol::Grpc,
            "http/protobuf" | "http" => OtlpProtocol::HttpProtobuf,
            other => bail!("--otlp-protocol: `{other}` is not grpc or http/protobuf"),
        });
    }
    if let Some(b) = &sinks.kafka {
        let k = cfg.kafka.get_or_insert_with(KafkaConfig::default);
        k.brokers = b.clone();
    }
    if let Some(t) = &sinks.kafka_topic {
        let Some(k) = cfg.kafka.as_mut() else {
            bail!("--kafka-topic needs --kafka BROKERS (or a [kafka] section)");
        };
        k.topic = t.clone();
    }
    if let Some(u) = &sinks.webhook {
        let w = cfg.webhook.get_or_insert_with(WebhookConfig::default);
        w.url = u.clone();
    }
    if let Some(w) = cfg.webhook.as_mut() {
        if w.secret.is_none() {
            w.secret = std::env::var("OISP_WEBHOOK_SECRET")
                .ok()
                .filter(|s| !s.is_empty());
        }
    }
    if let Some(a) = &sinks.websocket {
        let ws = cfg.websocket.get_or_insert_with(WebSocketConfig::default);
        ws.listen = a.clone();
    }
    let issues = config::validate(cfg, "");
    if let Some(i) = issues.first() {
        bail!("{}: {}", i.key, i.message);
    }
    Ok(())
}

/// The redactor the configuration describes.
pub fn redactor(cfg: &Config) -> Result<Redactor> {
    let mode = match cfg.redaction.mode.as_deref().unwrap_or("safe") {
        "safe" => RedactionMode::Safe,
        "full" => RedactionMode::Full,
        "minimal" => RedactionMode::Minimal,
        other => bail!("redaction.mode: `{other}` is not one of safe, full, minimal"),
    };
    let rules = cfg
        .redaction
        .rules
        .iter()
        .map(|r| CustomRule::new(&r.name, &r.pattern, r.replacement.as_deref()))
        .collect::<Result<Vec<_>, String>>()
        .map_err(anyhow::Error::msg)?;
    let r = Redactor::new(mode).with_rules(rules);
    Ok(if cfg.redaction.redact_secrets == Some(false) {
        r.without_secret_masking()
    } else {
        r
    })
}

/// The sinks, redaction and global filter the configuration describes, as a pipeline. An error
/// names the sink or section at fault.
pub fn pipeline(cfg: &Config) -> Result<Pipeline> {
    let sinks = build_sinks(&cfg.sinks())?;
    Ok(Pipeline::new(sinks, redactor(cfg)?, filter(cfg)))
}

/// The global `[filter]`.
pub fn filter(cfg: &Config) -> EventMatcher {
    EventMatcher::new(&cfg.filter)
}

/// A JSONL section writing to `path` (used for `replay`'s default of standard output).
pub fn jsonl_to(path: &Path) -> JsonlConfig {
    JsonlConfig {
        path: path.to_path_buf(),
        append: false,
        ..Default::default()
    }
}
