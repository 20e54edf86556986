//! Starting and stopping the server: binds synchronously (so a busy port or a missing store is
//! an error at once), then serves on its own thread until stopped.

use crate::api::{self, App};
use crate::pool::Pool;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The store to read.
    pub store: PathBuf,
    /// The access token. `None` on a loopback address means no token; on any other address
    /// [`start`] generates one.
    pub token: Option<String>,
    /// The state file a running `record` publishes (sensor health), if any.
    pub state_file: Option<PathBuf>,
    /// How often the live stream looks for new rows.
    pub live_poll: Duration,
}

impl WebConfig {
    /// A configuration with the defaults: no token, no state file, 250 ms live polling.
    pub fn new(addr: SocketAddr, store: PathBuf) -> WebConfig {
        WebConfig {
            addr,
            store,
            token: None,
            state_file: None,
            live_poll: Duration::from_millis(250),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] oisp_store::StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A running server. Dropping it stops the server.
pub struct WebServer {
    addr: SocketAddr,
    token: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WebServer {
    /// The address it listens on (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token every request must present, if one is required.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The URL to open in a browser (with the token when one is required).
    pub fn url(&self) -> String {
        match &self.token {
            Some(t) => format!("http://{}/?token={t}", self.addr),
            None => format!("http://{}/", self.addr),
        }
    }

    /// Stops serving and waits for the server thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Opens the store, binds `config.addr` and serves on a new thread.
pub fn start(mut config: WebConfig) -> Result<WebServer, WebError> {
    if config.token.is_none() && !config.addr.ip().is_loopback() {
        config.token = Some(crate::auth::generate()?);
    }
    let pool = Pool::open(config.store.clone())?;
    let listener = TcpListener::bind(config.addr).map_err(|source| WebError::Bind {
        addr: config.addr,
        source,
    })?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let app = Arc::new(App::new(pool, config.state_file.clone(), config.live_poll));
    let router = api::router(app, config.token.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(8)
        .thread_name("oisp-web")
        .enable_all()
        .build()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("oisp-web".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("oisp-sensor web: {e}");
                        return;
                    }
                };
                let shutdown = async move {
                    let _ = stop_rx.await;
                };
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(shutdown)
                    .await
                {
                    eprintln!("oisp-sensor web: {e}");
                }
            });
            // live streams never end on their own: do not wait for them
            runtime.shutdown_timeout(Duration::from_millis(200));
        })?;
    Ok(WebServer {
        addr,
        token: config.token,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}
