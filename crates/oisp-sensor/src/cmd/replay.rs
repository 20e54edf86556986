//! `oisp-sensor replay RAWFILE`: decode a raw capture file into events.

use crate::cli::{exit, ReplayArgs};
use crate::settings;
use anyhow::{Context, Result};
use oisp_capture::{ReplaySource, Source};
use oisp_pipeline::{summary, NoHooks};
use std::path::Path;
use std::time::Duration;

pub fn run(args: &ReplayArgs) -> Result<i32> {
    let file = std::fs::File::open(&args.input)
        .with_context(|| format!("cannot open {}", args.input.display()))?;
    let (mut cfg, _) = settings::resolve(&args.sinks, &args.redact, args.output.as_deref())?;
    if cfg.jsonl.is_none() {
        // replay prints JSON Lines unless told otherwise.
        cfg.jsonl = Some(settings::jsonl_to(Path::new("-")));
    }
    let mut p = settings::pipeline(&cfg)?;
    let name = args.input.display().to_string();
    // Records before a read error are decoded; the error then names the byte offset where the
    // capture is damaged.
    let result = match ReplaySource::new(std::io::BufReader::new(file)) {
        Ok(mut source) => oisp_pipeline::run(&mut source, &mut p, &mut NoHooks)
            .with_context(|| format!("raw capture {name}"))
            .map(|()| source.stats().skipped_unknown),
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot read raw capture {name}"))),
    };
    if let Ok(skipped) = result {
        if skipped > 0 {
            eprintln!(
                "oisp-sensor: warning: {name}: skipped {skipped} records of kinds this build does not know"
            );
        }
    }
    let s = p.stats();
    let written = p.events_written();
    let health = p.close(Duration::from_secs(10))?;
    eprintln!(
        "oisp-sensor: {name}: {} records → {written} events ({} AI calls, {} agent sessions, {} warnings, {} non-AI exchanges)",
        s.records,
        s.ai_calls,
        s.agent_sessions,
        s.warnings,
        s.non_ai_exchanges
    );
    for line in summary(&health) {
        if !line.starts_with("jsonl → standard output") {
            eprintln!("  {line}");
        }
    }
    result.map(|_| exit::OK)
}
