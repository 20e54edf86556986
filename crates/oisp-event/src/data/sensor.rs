//! `sensor.warning`: this project's own event type (no schema in the spec;
//! the envelope only requires `data` to be an object).
//!
//! Emitted when the sensor drops or cannot decode data, so that gaps are
//! visible in the event stream instead of silent.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `sensor.warning` data: `{ "code", "message", "conn_id"?, "details"? }`.
///
/// `code` is a stable machine-readable identifier (snake_case, e.g.
/// `http_parse_error`, `ring_buffer_overflow`); `message` is for humans.
/// Unknown keys are rejected so the shape stays fixed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorWarning {
    pub code: String,
    pub message: String,
    /// The capture connection the warning concerns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conn_id: Option<u64>,
    /// Free-form structured context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Map<String, Value>>,
}

impl SensorWarning {
    /// A warning with `code` and `message` only.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            conn_id: None,
            details: None,
        }
    }

    /// Sets `conn_id`.
    pub fn with_conn_id(mut self, conn_id: u64) -> Self {
        self.conn_id = Some(conn_id);
        self
    }

    /// Inserts one `details` entry.
    pub fn with_detail(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.details
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }
}
