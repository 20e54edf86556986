//! `oisp-sensor record`: live capture with eBPF → decode → redaction → sinks.
//!
//! SIGHUP re-reads the configuration file: redaction, filters and sinks are swapped between two
//! batches of records (network sinks hand over through their disk queues, so nothing is lost);
//! capture options (`[record]`) need a restart.

use crate::cli::{exit, RecordArgs};
use crate::config::{Config, ConfigSource, RecordConfig};
use crate::events_io::create_private;
use crate::pipeline::Pipeline;
use crate::runtime_state::{self, Counters, ProbeState, RecordState, SinkState};
use crate::{config, settings, sinks_setup};
use anyhow::{Context, Result};
use oisp_capture::{RawRecord, RawWriter};
use oisp_ebpf::{CaptureOptions, EbpfCapture};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The command-line capture flags on top of `[record]`.
fn apply_record_flags(r: &mut RecordConfig, args: &RecordArgs) {
    r.ssl &= !args.no_ssl;
    r.process &= !args.no_process;
    r.file &= !args.no_file;
    r.network &= !args.no_network;
    r.all_processes |= args.all_processes;
    if args.pid.is_some() {
        r.pid = args.pid;
    }
    if args.process.is_some() {
        r.process_name = args.process.clone();
    }
    if args.raw_out.is_some() {
        r.raw_out = args.raw_out.clone();
    }
}

/// The configuration file and flags, as `record` uses them.
fn effective_config(args: &RecordArgs, source: &ConfigSource) -> Result<Config> {
    let mut cfg = config::load(source)?;
    settings::apply_flags(&mut cfg, &args.sinks, &args.redact, args.output.as_deref())?;
    apply_record_flags(&mut cfg.record, args);
    Ok(cfg)
}

pub fn run(args: &RecordArgs) -> Result<i32> {
    let source = config::locate(args.sinks.config.as_deref());
    let cfg = effective_config(args, &source)?;
    let r = &cfg.record;
    let opts = CaptureOptions {
        ssl: r.ssl,
        process: r.process,
        file: r.file,
        network: r.network,
        all_processes: r.all_processes,
        pid: r.pid,
        comm: r.process_name.clone(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install signal handlers")?;
    }
    let reload = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&reload))
        .context("cannot install the SIGHUP handler")?;
    // Sinks first: a bad endpoint or unwritable store is reported before any probe is loaded.
    let sinks = sinks_setup::build(&cfg)?;

    let mut capture = match EbpfCapture::start(&opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("oisp-sensor: cannot start capture: {e}");
            return Ok(exit::ERROR);
        }
    };

    let mut raw = match &cfg.record.raw_out {
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
    let mut pipeline = Pipeline::new(sinks, settings::redactor(&cfg)?, settings::filter(&cfg));
    let mut cfg = cfg;

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
        output: pipeline.sinks().names().join(", "),
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
        sinks: Vec::new(),
        config: source.describe(),
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

    let mut ignorable: Vec<u64> = Vec::new();
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
        // Overhead: client connections the decoder found to carry no AI traffic stop being
        // copied in the kernel (oisp-decode engine/ignore.rs has the rule).
        ignorable.clear();
        pipeline.drain_ignorable(&mut ignorable);
        for &conn_id in &ignorable {
            capture.ignore_connection(conn_id);
        }
        // Readers (`show --follow`, `status`) see new events and counters within a second.
        if let Err(e) = pipeline.flush() {
            error = Some(e);
            break;
        }
        if reload.swap(false, Ordering::Relaxed) {
            reconfigure(args, &source, &mut cfg, &mut pipeline);
            state.output = pipeline.sinks().names().join(", ");
        }
        if last_state.elapsed() >= Duration::from_secs(1) {
            last_state = Instant::now();
            state.counters = counters(&pipeline, &capture);
            state.sinks = sink_states(&pipeline);
            state.updated = oisp_event::format_ts(now_ns());
            if let Err(e) = runtime_state::publish(&state) {
                eprintln!("oisp-sensor: warning: cannot publish state for `status`: {e}");
            }
        }
        if tty && last_line.elapsed() >= Duration::from_millis(500) {
            last_line = Instant::now();
            let s = pipeline.stats();
            let c = capture.stats();
            let lag: u64 = pipeline
                .sinks()
                .health()
                .iter()
                .map(|(_, h)| h.queued)
                .sum();
            eprint!(
                "\r\x1b[Koisp-sensor: {} events, {} AI calls, {} records, {} dropped, {} queued for sinks",
                pipeline.events_written(),
                s.ai_calls,
                c.records,
                c.lost_tls + c.lost_sys,
                lag
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
    if let Some(mut w) = raw {
        w.flush()?;
    }
    if tty {
        eprintln!();
    }
    let s = pipeline.stats();
    let c = capture.stats();
    let written = pipeline.events_written();
    let health = pipeline.close(Duration::from_secs(10))?;
    eprintln!(
        "oisp-sensor: stopped: {} records → {written} events ({} AI calls); lost {} TLS + {} system records, {} bytes truncated; {} client sessions without AI traffic ignored, {} SSL calls skipped in the kernel",
        c.records,
        s.ai_calls,
        c.lost_tls,
        c.lost_sys,
        c.truncated_bytes,
        c.ignored_sessions,
        c.skipped_server_calls + c.skipped_ignored_calls
    );
    for line in sinks_setup::summary(&health) {
        eprintln!("  {line}");
    }
    match error {
        Some(e) => Err(e),
        None => Ok(exit::OK),
    }
}

/// SIGHUP: re-reads the configuration; on success swaps redaction, filter and sinks. A bad file
/// keeps the running configuration and says why.
fn reconfigure(
    args: &RecordArgs,
    source: &ConfigSource,
    cfg: &mut Config,
    pipeline: &mut Pipeline,
) {
    let built = effective_config(args, source).and_then(|new| {
        let redactor = settings::redactor(&new)?;
        let filter = settings::filter(&new);
        // The old sinks must release their queues before the new ones open them.
        Ok((new, redactor, filter))
    });
    let (new, redactor, filter) = match built {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "oisp-sensor: SIGHUP: configuration not reloaded, keeping the running one: {e:#}"
            );
            return;
        }
    };
    if new.record != cfg.record {
        eprintln!(
            "oisp-sensor: SIGHUP: [record] capture options changed; they apply at the next start"
        );
    }
    // Hand over: flush and stop the old sinks (what they have not delivered stays in their disk
    // queues), then open the new ones, which deliver it first.
    let old =
        match pipeline.reconfigure(oisp_sinks::SinkSet::new(), redactor.clone(), filter.clone()) {
            Ok(old) => old,
            Err(e) => {
                eprintln!("oisp-sensor: SIGHUP: {e:#}");
                return;
            }
        };
    old.shutdown(Duration::from_millis(500));
    match sinks_setup::build(&new) {
        Ok(sinks) => {
            let _ = pipeline.reconfigure(sinks, redactor, filter);
            eprintln!(
                "oisp-sensor: SIGHUP: configuration reloaded from {} (sinks: {})",
                source.describe(),
                pipeline.sinks().names().join(", ")
            );
            *cfg = new;
        }
        Err(e) => {
            eprintln!("oisp-sensor: SIGHUP: cannot open the new sinks ({e:#}); restoring the previous ones");
            match sinks_setup::build(cfg) {
                Ok(sinks) => {
                    let _ = pipeline.reconfigure(sinks, settings::redactor(cfg).unwrap_or_default(), settings::filter(cfg));
                }
                Err(e) => eprintln!("oisp-sensor: SIGHUP: the previous sinks cannot be reopened either: {e:#}; events are not being written"),
            }
        }
    }
}

fn sink_states(pipeline: &Pipeline) -> Vec<SinkState> {
    pipeline
        .sinks()
        .health()
        .into_iter()
        .map(|(name, health)| SinkState { name, health })
        .collect()
}

/// The counters `status` shows, drops included.
fn counters(pipeline: &Pipeline, capture: &EbpfCapture) -> Counters {
    let s = pipeline.stats();
    let c = capture.stats();
    Counters {
        records: c.records,
        events: pipeline.events_written(),
        filtered: pipeline.events_filtered(),
        ai_calls: s.ai_calls,
        warnings: s.warnings,
        lost_tls_records: c.lost_tls,
        lost_system_records: c.lost_sys,
        truncated_bytes: c.truncated_bytes,
        gap_bytes: s.tracker.gap_bytes,
        ignored_sessions: c.ignored_sessions,
        skipped_calls: c.skipped_server_calls + c.skipped_ignored_calls,
    }
}

fn now_ns() -> u64 {
    crate::filter::now_ns()
}
