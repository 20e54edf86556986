//! The one trait every sink implements.

use crate::Item;

/// Why a batch was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The destination is unreachable or failed for a reason that may pass (connection refused,
    /// timeout, HTTP 5xx/429, broker not available): the batch is kept and retried with backoff.
    #[error("{0}")]
    Retryable(String),
    /// The destination rejected the batch for a reason retrying cannot fix (HTTP 4xx other than
    /// 408/429, a message too large for the broker). The batch is dropped and counted.
    #[error("rejected: {0}")]
    Rejected(String),
}

/// A place events go. Implementations are driven from one thread at a time.
///
/// Contract:
/// - `deliver` sends the whole batch and returns `Ok(())` only when the destination accepted all
///   of it (at-least-once: after an error the same items may be delivered again).
/// - `deliver` never blocks longer than the sink's own timeout (a few seconds): a sink that
///   cannot reach its destination returns `Retryable` instead of hanging.
/// - Items are already redacted and filtered; a sink must not write anything it was not given.
pub trait Sink: Send {
    /// Short kind name shown in `status` and logs: `store`, `jsonl`, `otlp`, `kafka`, `webhook`,
    /// `websocket`.
    fn kind(&self) -> &'static str;

    /// Where this sink sends events, for `status` (a path, URL or broker list; never a secret).
    fn target(&self) -> String;

    /// Delivers `batch` (in capture order). See the trait contract.
    fn deliver(&mut self, batch: &[Item]) -> Result<(), DeliveryError>;

    /// Makes everything delivered so far durable/visible (flush buffers, fsync where it matters).
    fn flush(&mut self) -> Result<(), DeliveryError> {
        Ok(())
    }

    /// Largest batch the worker should hand to `deliver` at once.
    fn max_batch(&self) -> usize {
        512
    }

    /// After `deliver` returned `Retryable`: how long the destination asked to be left alone
    /// (an HTTP `Retry-After`), if it said. The worker waits at least that long, up to
    /// [`MAX_RETRY_AFTER`](crate::MAX_RETRY_AFTER), before the next attempt. Asked once after
    /// each retryable failure; the answer is not repeated.
    fn retry_after(&mut self) -> Option<std::time::Duration> {
        None
    }
}
