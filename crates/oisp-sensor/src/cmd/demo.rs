//! `oisp-sensor demo`: decode the captures bundled in the binary.
//!
//! The captures were recorded from real clients (official OpenAI/Anthropic SDKs, the OpenAI npm
//! SDK, curl over HTTP/1.1 and HTTP/2) talking to the project's mock provider; see
//! `fixtures/captures/README.md`. Nothing here is hand-written: every event comes from decoding.

use crate::cli::{exit, DemoArgs};
use crate::settings;
use anyhow::Result;
use oisp_capture::{SequenceSource, Source};
use oisp_pipeline::{build_sinks, summary, NoHooks, Pipeline};
use std::time::Duration;

/// (name, raw capture bytes), in the order they are replayed.
pub const BUNDLED: &[(&str, &[u8])] = &[
    (
        "openai-python",
        include_bytes!("../../../../fixtures/captures/openai-python.oraw"),
    ),
    (
        "anthropic-python",
        include_bytes!("../../../../fixtures/captures/anthropic-python.oraw"),
    ),
    (
        "openai-node",
        include_bytes!("../../../../fixtures/captures/openai-node.oraw"),
    ),
    (
        "curl-h1",
        include_bytes!("../../../../fixtures/captures/curl-h1.oraw"),
    ),
    (
        "curl-h2",
        include_bytes!("../../../../fixtures/captures/curl-h2.oraw"),
    ),
    (
        "gemini-curl",
        include_bytes!("../../../../fixtures/captures/gemini-curl.oraw"),
    ),
    (
        "ollama-curl",
        include_bytes!("../../../../fixtures/captures/ollama-curl.oraw"),
    ),
    (
        "compat-curl",
        include_bytes!("../../../../fixtures/captures/compat-curl.oraw"),
    ),
    (
        "keepalive-concurrent",
        include_bytes!("../../../../fixtures/captures/keepalive-concurrent.oraw"),
    ),
];

pub fn run(args: &DemoArgs) -> Result<i32> {
    let (cfg, _) = settings::resolve(&args.sinks, &args.redact, args.output.as_deref())?;
    let sinks = build_sinks(&cfg.sinks())?;
    if sinks.is_empty() {
        eprintln!("oisp-sensor demo: no sink configured (the store is off and no -o/--otlp/--kafka/--webhook given)");
        return Ok(exit::USAGE);
    }
    let mut p = Pipeline::new(sinks, settings::redactor(&cfg)?, settings::filter(&cfg));
    // Each bundled capture is its own capture: the decoder starts afresh for each.
    let captures = BUNDLED
        .iter()
        .map(|(name, bytes)| (name.to_string(), *bytes))
        .collect();
    let mut source = SequenceSource::new(captures)?;
    oisp_pipeline::run(&mut source, &mut p, &mut NoHooks)?;
    p.finish()?;
    let skipped = source.stats().skipped_unknown;
    if skipped > 0 {
        eprintln!("oisp-sensor: warning: bundled captures: skipped {skipped} records of kinds this build does not know");
    }
    let s = p.stats();
    let written = p.events_written();
    let health = p.close(Duration::from_secs(10))?;
    eprintln!(
        "oisp-sensor demo: decoded {} bundled captures ({} records) into {written} events: {} AI calls, {} warnings",
        BUNDLED.len(),
        s.records,
        s.ai_calls,
        s.warnings,
    );
    for line in summary(&health) {
        eprintln!("  {line}");
    }
    if cfg.store.enabled {
        eprintln!("see them with: oisp-sensor show   (or analyze --report costs)");
    }
    Ok(exit::OK)
}
