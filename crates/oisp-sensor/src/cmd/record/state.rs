//! The state a running `record` or `proxy` publishes for `status`, once a second (see
//! `runtime_state`).

use crate::runtime_state::{self, Counters, ProbeState, RecordState, SinkState, UnlocatedState};
use oisp_capture::{Source, SourceStats};
use oisp_pipeline::Pipeline;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How often the state file is rewritten.
const EVERY: Duration = Duration::from_secs(1);

/// Publishes [`RecordState`] at most every [`EVERY`].
pub struct Publisher {
    state: RecordState,
    path: PathBuf,
    last: Option<Instant>,
}

impl Publisher {
    /// The state of `record`'s capture that starts now, in [`runtime_state::state_path`];
    /// `config` names the configuration file in use. The probes come from the source at each
    /// publication.
    pub fn record(pipeline: &Pipeline, config: String) -> Self {
        Self::new("record", runtime_state::state_path(), pipeline, config)
    }

    /// The state of a `proxy` that starts now, in [`runtime_state::proxy_state_path`] (its
    /// "probe" is the listening proxy and its CA).
    pub fn proxy(pipeline: &Pipeline, config: String) -> Self {
        Self::new("proxy", runtime_state::proxy_state_path(), pipeline, config)
    }

    fn new(command: &str, path: PathBuf, pipeline: &Pipeline, config: String) -> Self {
        Publisher {
            path,
            state: RecordState {
                command: command.into(),
                pid: std::process::id(),
                started: oisp_event::format_ts(oisp_store::now_ns()),
                updated: String::new(),
                output: output(pipeline),
                probes: Vec::new(),
                unlocated: Vec::new(),
                coverage: Vec::new(),
                counters: Counters::default(),
                sinks: Vec::new(),
                config,
            },
            last: None,
        }
    }

    /// The sinks were swapped (SIGHUP).
    pub fn sinks_changed(&mut self, pipeline: &Pipeline) {
        self.state.output = output(pipeline);
    }

    /// Publishes the counters when the last publication is [`EVERY`] old.
    pub fn tick(&mut self, source: &dyn Source, pipeline: &Pipeline) {
        if self.last.is_some_and(|t| t.elapsed() < EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        self.state.counters = counters(pipeline, source.stats());
        // Probes attached since start (a TLS stack in an executable run later) show up too.
        let (refused, probes): (Vec<_>, Vec<_>) = source
            .observed()
            .into_iter()
            .partition(|o| o.kind == "refused");
        self.state.probes = probes
            .into_iter()
            .map(|o| ProbeState {
                probe: o.kind,
                path: o.path,
                symbol: o.what,
            })
            .collect();
        self.state.unlocated = refused
            .into_iter()
            .map(|o| UnlocatedState {
                path: o.path,
                why: o.what,
            })
            .collect();
        if self.state.command == "record" {
            self.state.coverage = super::coverage::coverage(
                &pipeline.ai_processes(),
                &self.state.probes,
                &self.state.unlocated,
            );
        }
        self.state.sinks = pipeline
            .sinks()
            .health()
            .into_iter()
            .map(|(name, health)| SinkState { name, health })
            .collect();
        self.state.updated = oisp_event::format_ts(oisp_store::now_ns());
        if let Err(e) = runtime_state::publish(&self.state, &self.path) {
            eprintln!("oisp-sensor: warning: cannot publish state for `status`: {e}");
        }
    }
}

impl Drop for Publisher {
    /// The command is ending: `status` must not show it any more.
    fn drop(&mut self) {
        runtime_state::clear(&self.path);
    }
}

fn output(pipeline: &Pipeline) -> String {
    pipeline.sinks().names().join(", ")
}

/// The counters `status` shows, drops included.
fn counters(pipeline: &Pipeline, c: SourceStats) -> Counters {
    let s = pipeline.stats();
    Counters {
        records: c.records,
        events: pipeline.events_written(),
        filtered: pipeline.events_filtered(),
        ai_calls: s.ai_calls,
        agent_sessions: s.agent_sessions,
        warnings: s.warnings,
        lost_tls_records: c.lost_data,
        lost_system_records: c.lost_system,
        truncated_bytes: c.truncated_bytes,
        gap_bytes: s.tracker.gap_bytes,
        ignored_sessions: c.ignored_sessions,
        skipped_calls: c.skipped_calls,
    }
}
