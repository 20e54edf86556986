//! [`ProxySource`]: the proxy as an [`oisp_capture::Source`]. The proxy runs on its own tokio
//! runtime; its records reach the pipeline's thread through a channel.

use crate::ca::{self, CertAuthority};
use crate::emit::{Emitter, Log};
use crate::policy::Policy;
use crate::server::{serve, Shared};
use crate::tls::{system_roots, UpstreamTrust};
use oisp_capture::{Observation, Progress, RawRecord, Source, SourceError, SourceStats};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// The metadata of a proxy capture: process records are read from /proc.
const META: &str = concat!(
    "{\"created_by\":\"oisp-sensor ",
    env!("CARGO_PKG_VERSION"),
    " proxy\",\"system_records\":\"procfs\"}"
);

/// Most records handed over by one poll.
const MAX_BATCH: usize = 4096;

/// How the proxy is set up.
pub struct ProxyOptions {
    /// Where to listen (`127.0.0.1:8080`; port 0 picks a free one).
    pub listen: String,
    /// The CA directory (created with a new CA when empty).
    pub ca_dir: PathBuf,
    /// Extra CA certificates (PEM files) trusted for upstreams, beside the system roots.
    pub upstream_ca: Vec<PathBuf>,
    pub policy: Policy,
    /// Where the proxy's messages go.
    pub log: Log,
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("CA: {0}")]
    Ca(#[from] ca::CaError),
    #[error("upstream trust: {0}")]
    Trust(#[from] crate::tls::TlsSetupError),
    #[error("cannot start the proxy's runtime: {0}")]
    Runtime(std::io::Error),
}

/// A running proxy and the records it produces.
pub struct ProxySource {
    rx: Receiver<RawRecord>,
    emitter: Arc<Emitter>,
    runtime: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
    ca_dir: PathBuf,
    ended: bool,
}

impl ProxySource {
    /// Loads (or creates) the CA, reads the system roots, binds the listener and starts serving.
    pub fn start(opts: ProxyOptions) -> Result<Self, ProxyError> {
        let (roots, root_errors) = system_roots();
        for e in root_errors {
            (opts.log)(&format!("system root certificates: {e}"));
        }
        let ca = Arc::new(CertAuthority::load_or_create(&opts.ca_dir, &roots)?);
        let trust = UpstreamTrust::new(&roots, &opts.upstream_ca)?;
        let std_listener =
            std::net::TcpListener::bind(&opts.listen).map_err(|source| ProxyError::Listen {
                addr: opts.listen.clone(),
                source,
            })?;
        let addr = std_listener
            .local_addr()
            .map_err(|source| ProxyError::Listen {
                addr: opts.listen.clone(),
                source,
            })?;
        std_listener
            .set_nonblocking(true)
            .map_err(|source| ProxyError::Listen {
                addr: opts.listen.clone(),
                source,
            })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("oisp-proxy")
            .enable_all()
            .build()
            .map_err(ProxyError::Runtime)?;
        let (tx, rx) = mpsc::sync_channel(crate::emit::CHANNEL_RECORDS);
        let emitter = Arc::new(Emitter::new(tx, opts.log));
        let shared = Arc::new(Shared {
            ca,
            trust,
            policy: opts.policy,
            emitter: Arc::clone(&emitter),
            listen: addr,
        });
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener).map_err(|source| {
                ProxyError::Listen {
                    addr: opts.listen.clone(),
                    source,
                }
            })?
        };
        runtime.spawn(serve(listener, shared));
        Ok(ProxySource {
            rx,
            emitter,
            runtime: Some(runtime),
            addr,
            ca_dir: opts.ca_dir,
            ended: false,
        })
    }

    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CA directory in use.
    pub fn ca_dir(&self) -> &std::path::Path {
        &self.ca_dir
    }

    /// Stops serving: open connections are dropped (the decoder finishes them at the end of
    /// the capture). Records already produced stay readable.
    pub fn stop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }

    fn drain(&mut self, out: &mut Vec<RawRecord>) {
        while out.len() < MAX_BATCH {
            match self.rx.try_recv() {
                Ok(r) => out.push(r),
                Err(_) => break,
            }
        }
    }
}

impl Drop for ProxySource {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Source for ProxySource {
    fn meta(&self) -> &str {
        META
    }

    fn poll(
        &mut self,
        timeout: Duration,
        out: &mut Vec<RawRecord>,
    ) -> Result<Progress, SourceError> {
        if self.ended {
            return Ok(Progress::End);
        }
        if self.runtime.is_none() {
            // Stopped: what is left in the channel, then the end.
            let before = out.len();
            self.drain(out);
            if out.len() == before {
                self.ended = true;
                return Ok(Progress::End);
            }
            return Ok(Progress::More);
        }
        match self.rx.recv_timeout(timeout) {
            Ok(r) => out.push(r),
            Err(RecvTimeoutError::Timeout) => return Ok(Progress::More),
            Err(RecvTimeoutError::Disconnected) => {
                self.ended = true;
                return Ok(Progress::End);
            }
        }
        self.drain(out);
        Ok(Progress::More)
    }

    fn finish(&mut self, out: &mut Vec<RawRecord>) {
        self.stop();
        loop {
            let before = out.len();
            self.drain(out);
            if out.len() == before {
                break;
            }
        }
    }

    fn stats(&self) -> SourceStats {
        SourceStats {
            records: self.emitter.records(),
            ignored_sessions: self.emitter.ignored_count(),
            ..SourceStats::default()
        }
    }

    fn ignore_connection(&mut self, conn_id: u64) -> bool {
        self.emitter.ignore(conn_id)
    }

    fn observed(&self) -> Vec<Observation> {
        vec![Observation {
            kind: "proxy".into(),
            what: format!("HTTP/HTTPS proxy on {}", self.addr),
            path: ca::ca_cert_path(&self.ca_dir).display().to_string(),
        }]
    }
}
