//! `oisp-sensor run -- CMD ARGS`: CMD with its AI traffic captured through an in-process
//! proxy (no root). The proxy listens on a free 127.0.0.1 port; CMD gets the proxy and CA
//! variables ([`setup::env_vars`](super::proxy::setup::env_vars)); the pipeline runs until CMD
//! exits; a summary follows and CMD's exit status is returned (128 + signal when it was killed).

mod summary;

use super::proxy::setup;
use crate::cli::{exit, RunArgs};
use crate::events_io::raw_out_writer;
use crate::settings;
use anyhow::{Context, Result};
use oisp_capture::Tee;
use oisp_pipeline::{build_sinks, Hooks, Pipeline};
use oisp_proxy::ProxySource;
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Exit status when CMD cannot be started (as a shell reports a missing command).
const NOT_STARTED: i32 = 127;

pub fn run(args: &RunArgs) -> Result<i32> {
    let (cfg, _source) = settings::resolve(&args.sinks, &args.redact, args.output.as_deref())?;
    let collected = summary::Collected::default();
    let mut sinks = build_sinks(&cfg.sinks())?;
    sinks.add_local("summary", collected.sink(), None);
    let mut pipeline = Pipeline::new(sinks, settings::redactor(&cfg)?, settings::filter(&cfg));
    let opts = setup::proxy_options(
        &cfg.proxy,
        &args.intercept,
        "127.0.0.1:0".into(),
        setup::stderr_log(),
    )?;
    let proxy = ProxySource::start(opts)?;
    let raw_out = raw_out_writer(args.raw_out.as_deref())?;
    setup::write_node_preload(proxy.ca_dir())?;
    let env = setup::env_vars(proxy.addr(), proxy.ca_dir());
    let mut source = Tee::new(proxy, raw_out)?;

    // Ctrl-C reaches CMD too (same process group): the sensor keeps running until CMD ends,
    // so what CMD did up to then is still decoded. SIGTERM is passed on to CMD.
    let interrupted = Arc::new(AtomicBool::new(false));
    let terminated = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted))
        .context("cannot install signal handlers")?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&terminated))
        .context("cannot install signal handlers")?;

    let Some((program, rest)) = args.command.split_first() else {
        anyhow::bail!("no command to run: oisp-sensor run -- CMD ARGS");
    };
    let child = match Command::new(program)
        .args(rest)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("oisp-sensor: cannot run {}: {e}", program.to_string_lossy());
            return Ok(NOT_STARTED);
        }
    };
    let mut hooks = RunHooks {
        child,
        status: None,
        terminated,
        forwarded: false,
    };
    let result = oisp_pipeline::run(&mut source, &mut pipeline, &mut hooks);
    // The loop ended on an error: CMD still gets to finish.
    let status = match hooks.status {
        Some(s) => s,
        None => hooks.child.wait().context("waiting for the command")?,
    };
    source.flush()?;
    let health = pipeline.close(Duration::from_secs(10))?;
    result?;
    if !args.no_summary {
        eprintln!(
            "oisp-sensor: {} {}",
            program.to_string_lossy(),
            describe(status)
        );
        eprint!("{}", collected.render());
        for line in oisp_pipeline::summary(&health) {
            if !line.starts_with("summary ") {
                eprintln!("  {line}");
            }
        }
    }
    Ok(code(status))
}

/// `exited with status 0`, `killed by signal 9`.
fn describe(s: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = s.signal() {
            return format!("killed by signal {sig}");
        }
    }
    format!("exited with status {}", s.code().unwrap_or(exit::ERROR))
}

/// The exit code `run` returns for CMD's status.
fn code(s: ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = s.signal() {
            return 128 + sig;
        }
    }
    s.code().unwrap_or(exit::ERROR)
}

/// Runs the loop until CMD exits.
struct RunHooks {
    child: Child,
    status: Option<ExitStatus>,
    /// SIGTERM arrived (to be passed on to CMD once).
    terminated: Arc<AtomicBool>,
    forwarded: bool,
}

impl Hooks for RunHooks {
    fn should_stop(&mut self) -> bool {
        if !self.forwarded && self.terminated.load(Ordering::Relaxed) {
            self.forwarded = true;
            #[cfg(unix)]
            // SAFETY: kill has no memory preconditions; the pid is our child's, not reaped.
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
            }
        }
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status.is_some()
    }
}
