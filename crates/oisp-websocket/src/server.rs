//! The server thread: accepts connections, routes them, and streams frames to each client.

use crate::request::{refusal, route, Route, MAX_HEAD};
use crate::sink::Limits;
use futures_util::{SinkExt, StreamExt};
use oisp_event::Event;
use oisp_sinks::filter::EventMatcher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::WeakSender;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Time a client has to send its request and complete the handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest message a client may send (clients have nothing to say; pings and closes are small).
const MAX_CLIENT_MESSAGE: usize = 64 * 1024;

/// One event as it goes to clients: the event (for per-client filters) and its JSON text.
#[derive(Clone)]
pub(crate) struct Frame {
    pub event: Arc<Event>,
    pub text: Utf8Bytes,
}

/// Counters shared by the sink and the server (see `WebSocketStats`).
#[derive(Default)]
pub(crate) struct Counters {
    pub clients: AtomicU64,
    pub connections: AtomicU64,
    pub refused: AtomicU64,
    pub frames_sent: AtomicU64,
    pub slow_disconnects: AtomicU64,
    pub missed: AtomicU64,
}

pub(crate) struct Shared {
    pub counters: Counters,
    pub limits: Limits,
}

/// Serves until `stop` fires (or its sender is dropped), then gives clients up to a second to
/// receive their close frame. The sink drops its broadcast sender before stopping, so every
/// client task sees `Closed` and ends.
pub(crate) async fn run(
    listener: std::net::TcpListener,
    events: WeakSender<Frame>,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("oisp-sensor: warning: websocket sink cannot serve: {e}");
            return;
        }
    };
    let mut tasks = JoinSet::new();
    let mut last_accept_error = None;
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    last_accept_error = None;
                    while tasks.try_join_next().is_some() {}
                    shared.counters.connections.fetch_add(1, Ordering::Relaxed);
                    tasks.spawn(client(stream, events.clone(), Arc::clone(&shared)));
                }
                Err(e) => {
                    // E.g. out of file descriptors: report once, back off, keep serving.
                    let msg = e.to_string();
                    if last_accept_error.as_ref() != Some(&msg) {
                        eprintln!("oisp-sensor: warning: websocket sink: accept: {msg}");
                    }
                    last_accept_error = Some(msg);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
    let _ = timeout(Duration::from_secs(1), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
}

/// Decrements the connected-clients gauge when a streaming client ends.
struct ClientSlot<'a>(&'a AtomicU64);

impl Drop for ClientSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Waits until the request head is complete; returns the route and the head's length so far.
async fn read_route(stream: &TcpStream) -> Option<(Route, usize)> {
    let mut buf = vec![0u8; MAX_HEAD];
    loop {
        let n = stream.peek(&mut buf).await.ok()?;
        if n == 0 {
            return None; // closed before sending a request
        }
        if let Some(r) = route(&buf[..n]) {
            return Some((r, n));
        }
        if n == MAX_HEAD {
            return Some((Route::Refuse(431, "request head too large".into()), n));
        }
        // More of the head is on its way; `peek` returns at once while data is buffered.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Answers `status` (after consuming the `peeked` request bytes) and closes.
async fn refuse(shared: &Shared, mut stream: TcpStream, peeked: usize, status: u16, text: &str) {
    shared.counters.refused.fetch_add(1, Ordering::Relaxed);
    let mut sink = vec![0u8; peeked];
    let _ = timeout(Duration::from_secs(1), async {
        let _ = stream.read_exact(&mut sink).await;
        let _ = stream.write_all(&refusal(status, text)).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

async fn client(stream: TcpStream, events: WeakSender<Frame>, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let (route, peeked) = match timeout(HANDSHAKE_TIMEOUT, read_route(&stream)).await {
        Ok(Some(r)) => r,
        _ => return, // silent or closed: nothing to answer
    };
    let filter = match route {
        Route::Refuse(status, text) => return refuse(&shared, stream, peeked, status, &text).await,
        Route::Events(filter) => filter,
    };
    let counters = &shared.counters;
    if counters.clients.fetch_add(1, Ordering::Relaxed) >= shared.limits.max_clients as u64 {
        counters.clients.fetch_sub(1, Ordering::Relaxed);
        let text = format!("too many clients (limit {})", shared.limits.max_clients);
        return refuse(&shared, stream, peeked, 503, &text).await;
    }
    let _slot = ClientSlot(&counters.clients);
    let matcher = filter.map(|f| EventMatcher::new(&f));
    let config = WebSocketConfig::default().max_message_size(Some(MAX_CLIENT_MESSAGE));
    let ws = match timeout(
        HANDSHAKE_TIMEOUT,
        tokio_tungstenite::accept_async_with_config(stream, Some(config)),
    )
    .await
    {
        Ok(Ok(ws)) => ws,
        _ => return,
    };
    // Subscribe only now: a client receives the events delivered after its handshake.
    let Some(mut rx) = events.upgrade().map(|tx| tx.subscribe()) else {
        return; // the sink is shutting down
    };
    let (mut write, mut read) = ws.split();
    let write_timeout = shared.limits.write_timeout;
    loop {
        tokio::select! {
            incoming = read.next() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                // tungstenite queued the pong; flushing sends it.
                Some(Ok(Message::Ping(_))) => {
                    if !matches!(timeout(write_timeout, write.flush()).await, Ok(Ok(()))) {
                        break;
                    }
                }
                Some(Ok(_)) => {} // clients have nothing to say; ignored
            },
            got = rx.recv() => match got {
                Ok(frame) => {
                    if matcher.as_ref().is_some_and(|m| !m.matches(&frame.event)) {
                        continue;
                    }
                    match timeout(write_timeout, write.send(Message::Text(frame.text))).await {
                        Ok(Ok(())) => {
                            counters.frames_sent.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(Err(_)) => break, // the client went away
                        Err(_) => {
                            // Not reading at all: its socket buffer is full. Nothing more can
                            // be written (not even a close frame); drop the connection.
                            counters.slow_disconnects.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    counters.slow_disconnects.fetch_add(1, Ordering::Relaxed);
                    counters.missed.fetch_add(n, Ordering::Relaxed);
                    let reason = format!("too slow: {n} events missed; reconnect");
                    close(&mut write, CloseCode::Again, reason, write_timeout).await;
                    break;
                }
                Err(RecvError::Closed) => {
                    close(&mut write, CloseCode::Away, "sensor stopping".into(), write_timeout).await;
                    break;
                }
            }
        }
    }
}

async fn close<S>(write: &mut S, code: CloseCode, reason: String, wait: Duration)
where
    S: futures_util::Sink<Message> + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = timeout(wait, write.send(Message::Close(Some(frame)))).await;
}
