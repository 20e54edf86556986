//! OISP v0.1 event model: serde types that serialize to exactly what the
//! vendored JSON Schemas (`vendor/oisp-spec/schema/v0.1`) accept.
//!
//! * [`Event`] — the envelope; `event_type` is derived from [`EventData`].
//! * [`EventData`] — one variant per event type, plus this project's
//!   `sensor.warning` ([`SensorWarning`]) and an [`EventData::Unknown`]
//!   fallback for foreign types.
//! * [`format_ts`] / [`parse_ts`] — the canonical microsecond `ts` string.
//! * [`event_id_from`] (deterministic) / [`new_event_id`] (random) — ULIDs.
//! * `schema::validate` (feature `schema`) — JSON Schema validation of
//!   serialized events, for tests.
//!
//! ```
//! use oisp_event::{Event, SensorWarning, Timestamp, event_id_from};
//!
//! let ts = Timestamp::new(1_766_434_505_123_456_789, 42);
//! let ev = Event::new(
//!     SensorWarning::new("http_parse_error", "truncated header").with_conn_id(7),
//!     ts,
//!     event_id_from(ts.wall_ns, b"conn-7/warning/0"),
//! );
//! assert_eq!(ev.event_type(), "sensor.warning");
//! assert_eq!(ev.ts, "2025-12-22T20:15:05.123456Z");
//! let back: Event = serde_json::from_str(&ev.to_json_line()).unwrap();
//! assert_eq!(back, ev);
//! ```

mod macros;

mod confidence;
mod context;
mod data;
mod envelope;
mod id;
pub mod limits;
mod source;
mod time;
pub mod trace;

#[cfg(feature = "schema")]
pub mod schema;

pub use confidence::{
    AiDetectionMethod, Completeness, Confidence, ConfidenceLevel, ContentSource, ProcessAttribution,
};
pub use context::*;
pub use data::*;
pub use envelope::{Event, RelatedEvent, Relationship, TraceContext};
pub use id::{event_id_from, new_event_id};
pub use source::{CaptureMethod, Source};
pub use time::{format_ts, is_canonical_ts, parse_ts, Timestamp, TsError};

/// The OISP specification version this crate implements (`oisp_version`).
pub const OISP_VERSION: &str = "0.1";

/// This sensor's `source.collector` name.
pub const COLLECTOR: &str = "oisp-sensor";
