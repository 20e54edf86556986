//! Actions applied to events between decode and the sinks.
//!
//! Redaction (`safe`, `full`, `minimal` profiles; secrets masked in every profile unless the user
//! opts out; plus user-defined regex rules), applied to every event before it is stored or
//! exported. Filters live with the sinks (`oisp_sinks::filter`).

mod custom;
mod minimal;
mod pii;
mod redact;

pub use custom::CustomRule;
pub use pii::redact_pii;
pub use redact::{RedactionMode, Redactor, SecretKind};
