//! One event on its way to the sinks.

use oisp_event::Event;
use std::sync::Arc;

/// A redacted event and its JSON form, serialised once and shared by every sink.
///
/// `json` is one JSON object without a trailing newline; it is exactly
/// `serde_json::to_vec(&*event)`. Items read back from a disk queue are rebuilt from `json`.
#[derive(Debug, Clone)]
pub struct Item {
    pub event: Arc<Event>,
    pub json: Arc<[u8]>,
}

impl Item {
    /// Serialises `event` (infallible for our types: maps have string keys, no NaN floats are
    /// produced by decode; a failure is reported as an error, never a panic).
    pub fn new(event: Event) -> Result<Self, serde_json::Error> {
        let json = serde_json::to_vec(&event)?;
        Ok(Item {
            event: Arc::new(event),
            json: json.into(),
        })
    }

    /// Rebuilds an item from its JSON form (as stored in a disk queue).
    pub fn from_json(json: &[u8]) -> Result<Self, serde_json::Error> {
        let event: Event = serde_json::from_slice(json)?;
        Ok(Item {
            event: Arc::new(event),
            json: json.into(),
        })
    }
}
