//! The WebSocket sink: a live stream of OISP events for UIs at `ws://LISTEN/events`.
//!
//! [`WebSocketSink`] implements [`oisp_sinks::Sink`] (kind `websocket`). It is a *live* stream:
//! it does not sit behind the disk queue, nothing is replayed to a client that connects late or
//! reconnects, and `deliver` never blocks the pipeline (it hands the batch to the server thread
//! and returns). Slow clients are disconnected, never buffered for without bound. See
//! [`WebSocketSink`] for the exact contract and `docs/websocket.md` for the client side.

mod config;
mod request;
mod server;
mod sink;

pub use config::WebSocketConfig;
pub use sink::{Limits, WebSocketSink, WebSocketStats};
