//! The webhook sink: batches of OISP events POSTed as a JSON array to an HTTP(S) endpoint,
//! optionally signed with HMAC-SHA256.
//!
//! [`WebhookSink`] implements [`oisp_sinks::Sink`] (kind `webhook`). It makes one attempt per
//! batch with a timeout and classifies failures; retries with backoff, the disk queue and the
//! health counters live in `oisp_sinks`' worker. The wire format (headers, signature scheme,
//! receiver-side verification) is documented in `docs/webhook.md` and in [`signature`].

mod config;
mod post;
mod signature;
mod sink;
mod url;

pub use config::WebhookConfig;
pub use signature::{batch_id, signature, SIGNATURE_HEADER, TIMESTAMP_HEADER};
pub use sink::{WebhookSink, BATCH_ID_HEADER, EVENT_COUNT_HEADER};
