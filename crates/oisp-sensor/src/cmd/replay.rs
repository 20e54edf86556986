//! `oisp-sensor replay RAWFILE`: decode a raw capture file into events.

use crate::cli::{exit, ReplayArgs};
use crate::events_io::open_output;
use crate::pipeline::Pipeline;
use anyhow::{Context, Result};
use std::path::Path;

pub fn run(args: &ReplayArgs) -> Result<i32> {
    let file = std::fs::File::open(&args.input)
        .with_context(|| format!("cannot open {}", args.input.display()))?;
    let out_path = args.output.as_deref().unwrap_or(Path::new("-"));
    let mut out = open_output(out_path)?;
    let mut p = Pipeline::new(&mut *out, args.redact.redactor());
    let name = args.input.display().to_string();
    let result = p.push_raw(std::io::BufReader::new(file), &name);
    if result.is_ok() {
        p.finish()?;
    }
    let s = p.stats();
    eprintln!(
        "oisp-sensor: {name}: {} records → {} events ({} AI calls, {} warnings, {} non-AI exchanges)",
        s.records,
        p.events_written(),
        s.ai_calls,
        s.warnings,
        s.non_ai_exchanges
    );
    result.map(|_| exit::OK)
}
