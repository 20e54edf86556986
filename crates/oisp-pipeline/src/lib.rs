//! Actions applied to events between decode and the sinks.
//!
//! Today: secret redaction, applied to every event before it is stored or exported.

mod redact;

pub use redact::{Redactor, SecretKind};
