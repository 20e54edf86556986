//! What each sink reports about itself (`status`, the UI).

use serde::{Deserialize, Serialize};

/// The state of one sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkState {
    /// Last delivery succeeded (or nothing to deliver yet).
    Ok,
    /// Last delivery failed; retrying with backoff. Events wait in the queue.
    Retrying,
    /// The sink stopped (shut down or a fatal error).
    Stopped,
}

/// Counters and state of one sink, as shown by `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkHealth {
    /// Sink kind (`otlp`, `kafka`, ...).
    pub kind: String,
    /// Path, URL or brokers (never a secret).
    pub target: String,
    pub state: SinkState,
    /// Events accepted by the destination since start.
    pub delivered: u64,
    /// Events waiting in the queue (lag), in memory and on disk.
    pub queued: u64,
    /// Age in milliseconds of the oldest queued event, 0 when the queue is empty.
    pub lag_ms: u64,
    /// Events dropped: queue full (oldest first) or rejected by the destination.
    pub dropped: u64,
    /// Failed delivery attempts since start.
    pub failures: u64,
    /// The last error, if the last attempt failed.
    pub last_error: Option<String>,
}
