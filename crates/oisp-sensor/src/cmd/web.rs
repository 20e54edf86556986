//! `oisp-sensor web`: the web UI over a store, until Ctrl-C; and [`start`], which `record --web`
//! uses to serve the store it writes.

use crate::cli::{exit, WebAddrArgs, WebArgs};
use crate::config::{self, Config};
use crate::runtime_state;
use anyhow::{bail, Context, Result};
use oisp_web::{WebConfig, WebServer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub fn run(args: &WebArgs) -> Result<i32> {
    let source = config::locate(args.config.as_deref());
    let cfg = config::load(&source)?;
    let store = match &args.input {
        Some(p) => p.clone(),
        None => store_path(&cfg),
    };
    if !store.exists() {
        bail!(
            "no event store at {} (record some events first: `oisp-sensor demo` fills one without \
             root, `sudo oisp-sensor record` captures live; or name one with -i)",
            store.display()
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install signal handlers")?;
    }
    let server = start(&cfg, &args.web, &store)?;
    announce(&server);
    eprintln!("oisp-sensor: serving {} — Ctrl-C to stop", store.display());
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
    }
    server.stop();
    Ok(exit::OK)
}

/// The store `record` writes under this configuration.
pub fn store_path(cfg: &Config) -> PathBuf {
    cfg.store
        .path
        .clone()
        .unwrap_or_else(oisp_store::default_path)
}

/// Starts the web UI over `store` at the flag's, the configuration's or the default address
/// (bound before this returns: a busy port is an error here).
pub fn start(cfg: &Config, flags: &WebAddrArgs, store: &Path) -> Result<WebServer> {
    let listen = flags
        .web_addr
        .clone()
        .or_else(|| cfg.web.listen.clone())
        .unwrap_or_else(|| oisp_web::DEFAULT_ADDR.to_string());
    let addr: SocketAddr = listen
        .parse()
        .with_context(|| format!("--web-addr: `{listen}` is not an address:port"))?;
    let token = std::env::var("OISP_WEB_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .or_else(|| cfg.web.token.clone());
    if token.as_ref().is_some_and(|t| t.len() < 16) {
        bail!("the web token must be at least 16 characters");
    }
    let mut web = WebConfig::new(addr, store.to_path_buf());
    web.token = token;
    web.state_file = Some(runtime_state::state_path());
    oisp_web::start(web).context("web UI")
}

/// Prints where to open the web UI (with the token when one is required).
pub fn announce(server: &WebServer) {
    eprintln!("oisp-sensor: web UI at {}", server.url());
    if server.token().is_some() && !server.addr().ip().is_loopback() {
        eprintln!(
            "oisp-sensor: the web UI listens on {} beyond this machine: every request needs the \
             token above",
            server.addr()
        );
    }
}
