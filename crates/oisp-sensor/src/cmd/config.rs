//! `oisp-sensor config check [FILE]`: validate a configuration file.

use crate::cli::{exit, ConfigArgs, ConfigCommand};
use crate::config::{self, ConfigSource};
use anyhow::Result;

pub fn run(args: &ConfigArgs) -> Result<i32> {
    match &args.command {
        ConfigCommand::Check { file } => check(file.as_deref()),
    }
}

fn check(file: Option<&std::path::Path>) -> Result<i32> {
    let source = config::locate(file);
    if source == ConfigSource::Defaults {
        println!(
            "no configuration file ({} does not exist, $OISP_CONFIG unset): built-in defaults apply",
            config::SYSTEM_CONFIG
        );
        return Ok(exit::OK);
    }
    match config::load(&source) {
        Ok(cfg) => {
            println!("{}: OK", source.describe());
            for line in describe(&cfg) {
                println!("  {line}");
            }
            Ok(exit::OK)
        }
        Err(e) => {
            eprintln!("{e:#}");
            Ok(exit::ERROR)
        }
    }
}

/// What the configuration will do, one line per sink (no secrets).
fn describe(cfg: &config::Config) -> Vec<String> {
    let mut out = Vec::new();
    let mode = cfg.redaction.mode.as_deref().unwrap_or("safe");
    let secrets = if cfg.redaction.redact_secrets == Some(false) {
        "secrets NOT masked"
    } else {
        "secrets masked"
    };
    out.push(format!(
        "redaction: {mode}, {secrets}, {} custom rule(s)",
        cfg.redaction.rules.len()
    ));
    if cfg.store.enabled {
        let path = cfg
            .store
            .path
            .clone()
            .unwrap_or_else(oisp_store::default_path);
        out.push(format!("store: {}", path.display()));
    } else {
        out.push("store: off".into());
    }
    if let Some(j) = &cfg.jsonl {
        out.push(format!("jsonl: {}", j.path.display()));
    }
    if let Some(o) = &cfg.otlp {
        out.push(format!(
            "otlp: {}",
            o.endpoint
                .as_deref()
                .unwrap_or("(from OTEL_EXPORTER_OTLP_ENDPOINT or default)")
        ));
    }
    if let Some(k) = &cfg.kafka {
        out.push(format!("kafka: {} topic {}", k.brokers, k.topic));
    }
    if let Some(w) = &cfg.webhook {
        let signed = if w.secret.is_some() {
            "signed"
        } else {
            "unsigned"
        };
        out.push(format!("webhook: {} ({signed})", redact_url(&w.url)));
    }
    if let Some(ws) = &cfg.websocket {
        out.push(format!("websocket: ws://{}/events", ws.listen));
    }
    out
}

/// `https://user:pw@host/p?token=x` → `https://host/p` (never print credentials).
fn redact_url(u: &str) -> String {
    let (scheme, rest) = u.split_once("://").unwrap_or(("", u));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let rest = rest.split('?').next().unwrap_or(rest);
    format!("{scheme}://{rest}")
}
