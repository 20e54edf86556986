//! `oisp-sensor record`: live capture with eBPF → decode → redaction → JSON Lines.

use crate::cli::{exit, RecordArgs};
use crate::events_io::{create_private, default_events_path, open_output};
use crate::pipeline::Pipeline;
use crate::runtime_state::{self, Counters, ProbeState, RecordState};
use anyhow::{Context, Result};
use oisp_capture::{RawRecord, RawWriter};
use oisp_ebpf::{CaptureOptions, EbpfCapture};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn run(args: &RecordArgs) -> Result<i32> {
    let opts = CaptureOptions {
        ssl: !args.no_ssl,
        process: !args.no_process,
        file: !args.no_file,
        network: !args.no_network,
        all_processes: args.all_processes,
        pid: args.pid,
        comm: args.process.clone(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install signal handlers")?;
    }

    let mut capture = match EbpfCapture::start(&opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("oisp-sensor: cannot start capture: {e}");
            return Ok(exit::ERROR);
        }
    };

    let out_path = args.output.clone().unwrap_or_else(default_events_path);
    let mut out = open_output(&out_path)?;
    let mut raw = match &args.raw_out {
        Some(p) => {
            let f = create_private(p)?;
            let meta = format!(
                "{{\"created_by\":\"oisp-sensor {} record (eBPF)\",\"system_records\":\"kernel\"}}",
                env!("CARGO_PKG_VERSION")
            );
            Some(RawWriter::new(std::io::BufWriter::new(f), &meta)?)
        }
        None => None,
    };
    let mut pipeline = Pipeline::new(&mut *out, args.redact.redactor());

    eprintln!(
        "oisp-sensor: capturing ({} probes attached) — Ctrl-C to stop",
        capture.attachments().len()
    );
    let tty = std::io::stderr().is_terminal();
    let mut last_line = Instant::now();
    let mut state = RecordState {
        pid: std::process::id(),
        started: oisp_event::format_ts(now_ns()),
        updated: String::new(),
        output: out_path.display().to_string(),
        probes: capture
            .attachments()
            .iter()
            .map(|a| ProbeState {
                probe: a.probe.to_string(),
                path: a.path.clone(),
                symbol: a.symbol.clone(),
            })
            .collect(),
        counters: Counters::default(),
    };
    let mut last_state = Instant::now() - Duration::from_secs(10);
    let mut error: Option<anyhow::Error> = None;

    let feed = |rec: RawRecord, pipeline: &mut Pipeline, raw: &mut Option<_>| -> Result<()> {
        if let Some(w) = raw.as_mut() {
            let w: &mut RawWriter<std::io::BufWriter<std::fs::File>> = w;
            w.write(&rec)?;
        }
        pipeline.push(&rec)
    };

    while !stop.load(Ordering::Relaxed) {
        let mut recs = Vec::new();
        if let Err(e) = capture.poll(Duration::from_millis(200), &mut |r| recs.push(r)) {
            error = Some(e.into());
            break;
        }
        for r in recs {
            if let Err(e) = feed(r, &mut pipeline, &mut raw) {
                error = Some(e);
                break;
            }
        }
        if error.is_some() {
            break;
        }
        // Readers (`show --follow`, `status`) see new events and counters within a second.
        if let Err(e) = pipeline.flush() {
            error = Some(e);
            break;
        }
        if last_state.elapsed() >= Duration::from_secs(1) {
            last_state = Instant::now();
            state.counters = counters(&pipeline, &capture);
            state.updated = oisp_event::format_ts(now_ns());
            if let Err(e) = runtime_state::publish(&state) {
                eprintln!("oisp-sensor: warning: cannot publish state for `status`: {e}");
            }
        }
        if tty && last_line.elapsed() >= Duration::from_millis(500) {
            last_line = Instant::now();
            let s = pipeline.stats();
            let c = capture.stats();
            eprint!(
                "\r\x1b[Koisp-sensor: {} events, {} AI calls, {} records, {} dropped",
                pipeline.events_written(),
                s.ai_calls,
                c.records,
                c.lost_tls + c.lost_sys
            );
            let _ = std::io::stderr().flush();
        }
    }
    let mut recs = Vec::new();
    capture.finish(&mut |r| recs.push(r));
    for r in recs {
        if error.is_none() {
            if let Err(e) = feed(r, &mut pipeline, &mut raw) {
                error = Some(e);
            }
        }
    }
    runtime_state::clear();
    pipeline.finish()?;
    if let Some(mut w) = raw {
        w.flush()?;
    }
    if tty {
        eprintln!();
    }
    let s = pipeline.stats();
    let c = capture.stats();
    eprintln!(
        "oisp-sensor: stopped: {} records → {} events ({} AI calls) written to {}; lost {} TLS + {} system records, {} bytes truncated",
        c.records,
        pipeline.events_written(),
        s.ai_calls,
        out_path.display(),
        c.lost_tls,
        c.lost_sys,
        c.truncated_bytes
    );
    match error {
        Some(e) => Err(e),
        None => Ok(exit::OK),
    }
}

/// The counters `status` shows, drops included.
fn counters(pipeline: &Pipeline, capture: &EbpfCapture) -> Counters {
    let s = pipeline.stats();
    let c = capture.stats();
    Counters {
        records: c.records,
        events: pipeline.events_written(),
        ai_calls: s.ai_calls,
        warnings: s.warnings,
        lost_tls_records: c.lost_tls,
        lost_system_records: c.lost_sys,
        truncated_bytes: c.truncated_bytes,
        gap_bytes: s.tracker.gap_bytes,
    }
}

fn now_ns() -> u64 {
    crate::filter::now_ns()
}
