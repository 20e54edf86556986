//! Sinks: the places events go after decode and redaction.
//!
//! Data flows one way: the pipeline hands each (already redacted) event to a [`SinkSet`], which
//! serialises it once into an [`Item`] and gives it to every configured sink.
//!
//! - Local sinks: the SQLite store is written from its own thread ([`ThreadedSink`]: the pipeline
//!   only buffers); JSONL and the WebSocket stream are written on the pipeline thread at each flush.
//! - Network sinks (OTLP, Kafka, webhook) each sit behind a bounded, disk-backed [`DiskQueue`]
//!   served by a worker thread: a sink that is down for minutes loses nothing, catches up when it
//!   returns, and a full queue drops oldest-first with a counter.
//! - Every sink reports its [`SinkHealth`] (state, delivered, lag, drops, last error) for `status`.
//!
//! Each sink's `config.toml` section lives beside it: [`JsonlConfig`] in [`jsonl`], [`QueueConfig`]
//! in [`queue`], [`FilterConfig`] in [`filter`]; the network sinks' and the store's in their own
//! crates. Durations in those sections parse with [`parse_duration`].
//!
//! Every sink implements one trait, [`Sink`]; its contract is at-least-once delivery of whole
//! batches: `deliver` returns `Ok` only when the destination accepted every item of the batch.

mod duration;
pub mod filter;
mod health;
mod item;
pub mod jsonl;
pub mod queue;
mod retry_after;
mod set;
mod sink;
mod threaded;
mod worker;

pub use duration::parse_duration;
pub use filter::FilterConfig;
pub use health::{SinkHealth, SinkState};
pub use item::Item;
pub use jsonl::JsonlConfig;
pub use set::{SinkSet, LOCAL_BUFFER_LIMIT};
pub use sink::{DeliveryError, Sink};
pub use threaded::{ThreadedSink, THREADED_BUFFER};

pub use queue::{DiskQueue, QueueConfig, QueueError, QueueLimits};
pub use retry_after::parse_retry_after;
pub use worker::{RetryPolicy, SinkWorker, MAX_RETRY_AFTER, PENDING_LIMIT};
