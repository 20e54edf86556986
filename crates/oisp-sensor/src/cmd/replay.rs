//! `oisp-sensor replay RAWFILE`: decode a raw capture file into events.

use crate::cli::{exit, ReplayArgs};
use crate::pipeline::Pipeline;
use crate::{settings, sinks_setup};
use anyhow::{Context, Result};
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
    let sinks = sinks_setup::build(&cfg)?;
    let mut p = Pipeline::new(sinks, settings::redactor(&cfg)?, settings::filter(&cfg));
    let name = args.input.display().to_string();
    let result = p.push_raw(std::io::BufReader::new(file), &name);
    let s = p.stats();
    let written = p.events_written();
    let health = p.close(Duration::from_secs(10))?;
    eprintln!(
        "oisp-sensor: {name}: {} records → {written} events ({} AI calls, {} warnings, {} non-AI exchanges)",
        s.records,
        s.ai_calls,
        s.warnings,
        s.non_ai_exchanges
    );
    for line in sinks_setup::summary(&health) {
        if !line.starts_with("jsonl → standard output") {
            eprintln!("  {line}");
        }
    }
    result.map(|_| exit::OK)
}
