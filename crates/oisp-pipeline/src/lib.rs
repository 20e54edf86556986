//! What happens between a capture source and the sinks, for every command (`record`, `replay`,
//! `demo`): records are decoded (`oisp_decode::CaptureDecoder`), the global `[filter]` keeps or
//! drops each event, redaction (`oisp_redact`) applies, and the survivors go to a
//! [`SinkSet`](oisp_sinks::SinkSet).
//!
//! - [`Pipeline`]: decode → filter → redact → sinks, capture after capture.
//! - [`run`]: the one loop that drives any [`oisp_capture::Source`] into a pipeline, including
//!   the decoder's feedback: connections without AI traffic go back to the source
//!   ([`oisp_capture::Source::ignore_connection`]). [`Hooks`] let a command stop, reconfigure
//!   and report while it runs.
//! - [`sinks`]: the [`SinkSet`](oisp_sinks::SinkSet) a [`SinksConfig`] describes.
//!
//! Data flows one way: source → decoder → filter → redaction → sinks; the only thing going back
//! is the list of connection ids the decoder found not worth copying.

mod pipeline;
mod run;
pub mod sinks;

pub use pipeline::Pipeline;
pub use run::{run, Hooks, NoHooks};
pub use sinks::{build_sinks, queue_dir, summary, SinksConfig};
