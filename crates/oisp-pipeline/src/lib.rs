//! Actions applied to events between decode and the sinks.
//!
//! Today: redaction (`safe`, `full`, `minimal` profiles; secrets masked in every profile unless
//! the user opts out), applied to every event before it is stored or exported.

mod minimal;
mod pii;
mod redact;

pub use pii::redact_pii;
pub use redact::{RedactionMode, Redactor, SecretKind};
