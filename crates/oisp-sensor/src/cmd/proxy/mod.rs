//! `oisp-sensor proxy`: the capturing HTTP/HTTPS proxy as a long-running command (no root):
//! [`oisp_proxy::ProxySource`] into the same pipeline `record` uses, until Ctrl-C or SIGTERM.
//! `--ca-path` and `--print-env` answer and exit.

pub mod setup;

use super::record::state::Publisher;
use crate::cli::{exit, ProxyArgs};
use crate::events_io::raw_out_writer;
use crate::settings;
use anyhow::{Context, Result};
use oisp_capture::{Source, Tee};
use oisp_pipeline::{Hooks, Pipeline};
use oisp_proxy::ProxySource;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub fn run(args: &ProxyArgs) -> Result<i32> {
    let (cfg, cfg_source) = settings::resolve(&args.sinks, &args.redact, args.output.as_deref())?;
    let listen = args
        .listen
        .clone()
        .or_else(|| cfg.proxy.listen.clone())
        .unwrap_or_else(|| setup::DEFAULT_LISTEN.to_string());
    if args.ca_path || args.print_env {
        let dir = setup::ca_dir(&cfg.proxy, &args.intercept);
        oisp_proxy::prepare_ca(&dir, &setup::stderr_log())?;
        if args.ca_path {
            println!("{}", oisp_proxy::ca_cert_path(&dir).display());
        } else {
            let addr = listen
                .parse()
                .with_context(|| format!("--listen: `{listen}` is not an address:port"))?;
            setup::write_node_preload(&dir)?;
            print!("{}", setup::shell_lines(&setup::env_vars(addr, &dir)));
        }
        return Ok(exit::OK);
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install signal handlers")?;
    }
    let mut pipeline = settings::pipeline(&cfg)?;
    let opts = setup::proxy_options(&cfg.proxy, &args.intercept, listen, setup::stderr_log())?;
    let proxy = ProxySource::start(opts)?;
    let raw_out = raw_out_writer(args.raw_out.as_deref())?;
    let mut source = Tee::new(proxy, raw_out)?;
    eprintln!(
        "oisp-sensor: proxy listening on http://{} (CA: {}) — Ctrl-C to stop",
        source.inner().addr(),
        oisp_proxy::ca_cert_path(source.inner().ca_dir()).display()
    );
    let mut hooks = ProxyHooks {
        stop,
        state: Publisher::proxy(&pipeline, cfg_source.describe()),
    };
    let result = oisp_pipeline::run(&mut source, &mut pipeline, &mut hooks);
    drop(hooks); // the state file goes with its publisher
    source.flush()?;
    let s = pipeline.stats();
    let c = oisp_capture::Source::stats(&source);
    let written = pipeline.events_written();
    let health = pipeline.close(Duration::from_secs(10))?;
    eprintln!(
        "oisp-sensor: stopped: {} records → {written} events ({} AI calls, {} agent sessions)",
        c.records, s.ai_calls, s.agent_sessions
    );
    for line in oisp_pipeline::summary(&health) {
        eprintln!("  {line}");
    }
    result.map(|()| exit::OK)
}

/// `proxy`'s part of the loop: stops on SIGINT/SIGTERM, publishes its state for `status`.
struct ProxyHooks {
    stop: Arc<AtomicBool>,
    state: Publisher,
}

impl Hooks for ProxyHooks {
    fn should_stop(&mut self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn after_round(&mut self, source: &dyn Source, pipeline: &mut Pipeline) {
        self.state.tick(source, pipeline);
    }
}
