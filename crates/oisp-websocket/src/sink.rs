//! [`WebSocketSink`]: the sink side (construction, `deliver`, stats, shutdown).

use crate::server::{run, Counters, Frame, Shared};
use crate::WebSocketConfig;
use bytes::Bytes;
use oisp_sinks::{DeliveryError, Item, Sink};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// Bounds of the server. The defaults suit a local UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Events a client may fall behind before it is disconnected (close code 1013, "too slow").
    /// One ring of this many events is shared by all clients, so memory stays bounded whatever
    /// the number of clients. Default 1024.
    pub buffer: usize,
    /// Clients streaming at once; more are answered `503`. Default 64.
    pub max_clients: usize,
    /// A client whose socket accepts nothing for this long is dropped as too slow. Default 5 s.
    pub write_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            buffer: 1024,
            max_clients: 64,
            write_timeout: Duration::from_secs(5),
        }
    }
}

/// What the server has done since start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WebSocketStats {
    /// Events handed to `deliver`.
    pub events: u64,
    /// Clients streaming now.
    pub clients: u64,
    /// TCP connections accepted.
    pub connections: u64,
    /// Connections answered with an HTTP error (wrong path, not a WebSocket, bad filter, full).
    pub refused: u64,
    /// Text frames written, summed over clients.
    pub frames_sent: u64,
    /// Clients disconnected because they fell `buffer` events behind or stopped reading.
    pub slow_disconnects: u64,
    /// Events those clients missed when they fell behind.
    pub missed: u64,
}

/// A live stream of events at `ws://LISTEN/events`, one text frame of JSON (the event's JSON
/// bytes exactly as in JSONL) per event, to every connected client.
///
/// Contract:
/// - Live only: it does **not** sit behind the disk queue. A client receives the events
///   delivered after its handshake; nothing is stored or replayed, and with no client connected
///   events pass through at no cost.
/// - `deliver` never blocks: it puts the batch into a bounded ring read by the server thread
///   and returns `Ok` at once.
/// - Bounded memory: a client that falls [`Limits::buffer`] events behind is disconnected
///   with close code 1013 and counted (`slow_disconnects`, `missed`); one that stops reading
///   for [`Limits::write_timeout`] is dropped and counted.
/// - Routing: only `GET /events` with a WebSocket upgrade streams; other paths get `404`, a
///   plain HTTP request `426`. Optional per-client filters in the query string use the
///   `[filter]` keys: `/events?types=ai.request,ai.response&processes=python`
///   (`types`, `exclude_types`, `processes`, `providers`, `models`: comma-separated;
///   `ai_only=true`); an unknown key is a `400`. The `[websocket] filter` section is applied
///   before events reach this sink (by the sink set).
/// - Client messages are ignored (pings are answered); dropping the sink closes every client
///   with code 1001 and stops the server thread.
pub struct WebSocketSink {
    events: Option<broadcast::Sender<Frame>>,
    addr: SocketAddr,
    shared: Arc<Shared>,
    delivered: u64,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl WebSocketSink {
    /// Binds `listen` and starts the server thread, with default [`Limits`].
    pub fn new(cfg: &WebSocketConfig) -> Result<Self, String> {
        Self::with_limits(cfg, Limits::default())
    }

    /// Binds `listen` (now, so a port in use is reported here) and starts the server thread.
    /// Messages name the bad value but not the sink (the caller prefixes `websocket: `).
    pub fn with_limits(cfg: &WebSocketConfig, limits: Limits) -> Result<Self, String> {
        if limits.buffer == 0 || limits.max_clients == 0 || limits.write_timeout.is_zero() {
            return Err(format!("limits must be more than 0: {limits:?}"));
        }
        let listen = cfg.listen.trim();
        let listener = TcpListener::bind(listen).map_err(|e| {
            format!("cannot listen on `{listen}` (expected HOST:PORT, e.g. 127.0.0.1:7879): {e}")
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("{listen}: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("{listen}: {e}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| format!("cannot start the server runtime: {e}"))?;
        let (tx, _) = broadcast::channel(limits.buffer);
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            limits,
        });
        let (stop_tx, stop_rx) = oneshot::channel();
        let weak = tx.downgrade();
        let server_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("sink-websocket".into())
            .spawn(move || runtime.block_on(run(listener, weak, server_shared, stop_rx)))
            .map_err(|e| format!("cannot start the server thread: {e}"))?;
        Ok(WebSocketSink {
            events: Some(tx),
            addr,
            shared,
            delivered: 0,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The address the server listens on (the real port when `listen` used port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Counters since start.
    pub fn stats(&self) -> WebSocketStats {
        let c = &self.shared.counters;
        WebSocketStats {
            events: self.delivered,
            clients: c.clients.load(Ordering::Relaxed),
            connections: c.connections.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            frames_sent: c.frames_sent.load(Ordering::Relaxed),
            slow_disconnects: c.slow_disconnects.load(Ordering::Relaxed),
            missed: c.missed.load(Ordering::Relaxed),
        }
    }
}

impl Sink for WebSocketSink {
    fn kind(&self) -> &'static str {
        "websocket"
    }

    fn target(&self) -> String {
        format!("ws://{}/events", self.addr)
    }

    /// Hands every item to the server thread and returns at once. An item that is not UTF-8
    /// (never produced by serde_json) is skipped and the batch reported `Rejected` with the
    /// count, after the others went out.
    fn deliver(&mut self, batch: &[Item]) -> Result<(), DeliveryError> {
        self.delivered += batch.len() as u64;
        let Some(tx) = &self.events else {
            return Ok(());
        };
        if tx.receiver_count() == 0 {
            return Ok(()); // live stream, nobody listening
        }
        let mut bad = 0usize;
        for item in batch {
            match Utf8Bytes::try_from(Bytes::from_owner(Arc::clone(&item.json))) {
                Ok(text) => {
                    // Err only when the last client left meanwhile: nothing to do.
                    let _ = tx.send(Frame {
                        event: Arc::clone(&item.event),
                        text,
                    });
                }
                Err(_) => bad += 1,
            }
        }
        if bad > 0 {
            return Err(DeliveryError::Rejected(format!(
                "{bad} events were not valid UTF-8 JSON"
            )));
        }
        Ok(())
    }
}

impl Drop for WebSocketSink {
    /// Closes every client (code 1001), stops the server and waits for its thread (at most
    /// about a second).
    fn drop(&mut self) {
        self.events = None;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
