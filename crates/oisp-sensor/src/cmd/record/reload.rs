//! SIGHUP: `record` re-reads its configuration file. Redaction, filters and sinks are swapped
//! between two rounds of records (network sinks hand over through their disk queues, so nothing
//! is lost); capture options (`[record]`) need a restart.

use crate::cli::RecordArgs;
use crate::config::{self, Config, ConfigSource, RecordConfig};
use crate::settings;
use anyhow::Result;
use oisp_pipeline::{build_sinks, Pipeline};
use std::time::Duration;

/// The command-line capture flags on top of `[record]`.
fn apply_record_flags(r: &mut RecordConfig, args: &RecordArgs) {
    r.ssl &= !args.no_ssl;
    r.process &= !args.no_process;
    r.file &= !args.no_file;
    r.network &= !args.no_network;
    r.plaintext &= !args.no_plaintext;
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
pub fn effective_config(args: &RecordArgs, source: &ConfigSource) -> Result<Config> {
    let mut cfg = config::load(source)?;
    settings::apply_flags(&mut cfg, &args.sinks, &args.redact, args.output.as_deref())?;
    apply_record_flags(&mut cfg.record, args);
    Ok(cfg)
}

/// Reloads the configuration of a running `record`.
pub struct Reloader<'a> {
    args: &'a RecordArgs,
    source: ConfigSource,
    /// The configuration in effect.
    cfg: Config,
}

impl<'a> Reloader<'a> {
    pub fn new(args: &'a RecordArgs, source: ConfigSource, cfg: Config) -> Self {
        Reloader { args, source, cfg }
    }

    /// Re-reads the configuration; on success swaps redaction, filter and sinks. A bad file
    /// keeps the running configuration and says why.
    pub fn reload(&mut self, pipeline: &mut Pipeline) {
        let built = effective_config(self.args, &self.source).and_then(|new| {
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
        if new.record != self.cfg.record {
            eprintln!(
                "oisp-sensor: SIGHUP: [record] capture options changed; they apply at the next start"
            );
        }
        // Hand over: flush and stop the old sinks (what they have not delivered stays in their disk
        // queues), then open the new ones, which deliver it first.
        let old = match pipeline.reconfigure(
            oisp_sinks::SinkSet::new(),
            redactor.clone(),
            filter.clone(),
        ) {
            Ok(old) => old,
            Err(e) => {
                eprintln!("oisp-sensor: SIGHUP: {e:#}");
                return;
            }
        };
        old.shutdown(Duration::from_millis(500));
        match build_sinks(&new.sinks()) {
            Ok(sinks) => {
                let _ = pipeline.reconfigure(sinks, redactor, filter);
                eprintln!(
                    "oisp-sensor: SIGHUP: configuration reloaded from {} (sinks: {})",
                    self.source.describe(),
                    pipeline.sinks().names().join(", ")
                );
                self.cfg = new;
            }
            Err(e) => {
                eprintln!("oisp-sensor: SIGHUP: cannot open the new sinks ({e:#}); restoring the previous ones");
                match build_sinks(&self.cfg.sinks()) {
                    Ok(sinks) => {
                        let _ = pipeline.reconfigure(sinks, settings::redactor(&self.cfg).unwrap_or_default(), settings::filter(&self.cfg));
                    }
                    Err(e) => eprintln!("oisp-sensor: SIGHUP: the previous sinks cannot be reopened either: {e:#}; events are not being written"),
                }
            }
        }
    }
}
