//! `oisp-sensor record`: live capture with eBPF → decode → redaction → sinks.
//!
//! Wiring only: the eBPF capture ([`live`]) is the [`oisp_capture::Source`] (wrapped in a
//! [`Tee`] for `--raw-out`), `oisp_pipeline::run` drives it, and the hooks stop on SIGINT/SIGTERM,
//! reload the configuration on SIGHUP ([`reload`]), publish the state `status` reads
//! ([`state`]) and draw the progress line on a terminal ([`progress`]).

mod coverage;
mod live;
mod progress;
mod reload;
pub(crate) mod state;
mod tui;

use crate::cli::{exit, RecordArgs};
use crate::config;
use crate::events_io::raw_out_writer;
use crate::settings;
use anyhow::{Context, Result};
use oisp_capture::{Source, Tee};
use oisp_pipeline::{Hooks, Pipeline};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub fn run(args: &RecordArgs) -> Result<i32> {
    let cfg_source = config::locate(args.sinks.config.as_deref());
    let cfg = reload::effective_config(args, &cfg_source)?;
    if args.tui {
        tui::check(&cfg)?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install signal handlers")?;
    }
    let reload = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&reload))
        .context("cannot install the SIGHUP handler")?;
    // Sinks first: a bad endpoint or unwritable store is reported before any probe is loaded.
    let mut pipeline = settings::pipeline(&cfg)?;
    let web = if args.web || args.web_addr.web_addr.is_some() || cfg.web.enabled {
        if !cfg.store.enabled {
            anyhow::bail!("the web UI reads the store: drop --no-store (or store.enabled = false)");
        }
        Some(super::web::start(
            &cfg,
            &args.web_addr,
            &super::web::store_path(&cfg),
        )?)
    } else {
        None
    };

    let capture = match live::start(&cfg.record) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("oisp-sensor: cannot start capture: {e}");
            return Ok(exit::ERROR);
        }
    };
    let raw_out = raw_out_writer(cfg.record.raw_out.as_deref())?;
    let mut source = Tee::new(capture, raw_out)?;
    // From here record's messages go to the TUI's log (its status line shows the last one).
    let tui = if args.tui {
        Some(tui::start(&cfg, Arc::clone(&stop))?)
    } else {
        None
    };

    eprintln!(
        "oisp-sensor: capturing ({} probes attached) — Ctrl-C to stop",
        live::probes(source.inner())
    );
    warn_not_hooked(&source.observed());
    if let Some(w) = &web {
        super::web::announce(w);
    }
    let mut hooks = RecordHooks {
        state: state::Publisher::record(&pipeline, cfg_source.describe()),
        progress: progress::Line::new(),
        reloader: reload::Reloader::new(args, cfg_source, cfg),
        stop,
        reload,
    };
    let result = oisp_pipeline::run(&mut source, &mut pipeline, &mut hooks);
    let RecordHooks {
        state, progress, ..
    } = hooks;
    drop(state); // the state file goes with its publisher
    drop(web);
    source.flush()?;
    progress.end();
    let tui_result = tui.map(tui::TuiSession::finish);
    let s = pipeline.stats();
    let c = source.stats();
    let written = pipeline.events_written();
    let health = pipeline.close(Duration::from_secs(10))?;
    eprintln!(
        "oisp-sensor: stopped: {} records → {written} events ({} AI calls, {} agent sessions); lost {} TLS + {} system records, {} bytes truncated; {} client sessions without AI traffic ignored, {} SSL calls skipped in the kernel",
        c.records,
        s.ai_calls,
        s.agent_sessions,
        c.lost_data,
        c.lost_system,
        c.truncated_bytes,
        c.ignored_sessions,
        c.skipped_calls
    );
    for line in oisp_pipeline::summary(&health) {
        eprintln!("  {line}");
    }
    if let Some(Err(e)) = tui_result {
        eprintln!("oisp-sensor: {e:#}");
    }
    result.map(|()| exit::OK)
}

/// Names the TLS stacks found at start that are not fully hooked (not located safely, or hooks
/// the kernel refused — plain uprobes need CAP_SYS_ADMIN), at most `NAMED` of them.
fn warn_not_hooked(observed: &[oisp_capture::Observation]) {
    const NAMED: usize = 5;
    let refused: Vec<_> = observed.iter().filter(|o| o.kind == "refused").collect();
    if refused.is_empty() {
        return;
    }
    eprintln!(
        "oisp-sensor: warning: {} TLS stack(s) found but not fully hooked (`oisp-sensor status` \
         lists them):",
        refused.len()
    );
    for o in refused.iter().take(NAMED) {
        eprintln!("  {}: {}", o.path, o.what);
    }
    if refused.len() > NAMED {
        eprintln!("  … and {} more", refused.len() - NAMED);
    }
}

/// `record`'s part of the loop: signals, SIGHUP reload, `status` state, progress line.
struct RecordHooks<'a> {
    state: state::Publisher,
    progress: progress::Line,
    reloader: reload::Reloader<'a>,
    /// SIGINT/SIGTERM arrived.
    stop: Arc<AtomicBool>,
    /// SIGHUP arrived.
    reload: Arc<AtomicBool>,
}

impl Hooks for RecordHooks<'_> {
    fn should_stop(&mut self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn after_round(&mut self, source: &dyn Source, pipeline: &mut Pipeline) {
        if self.reload.swap(false, Ordering::Relaxed) {
            self.reloader.reload(pipeline);
            self.state.sinks_changed(pipeline);
        }
        self.state.tick(source, pipeline);
        self.progress.tick(source, pipeline);
    }
}
