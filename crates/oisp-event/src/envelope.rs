//! The OISP envelope: [`Event`] and its small companions.
//!
//! Wire contract (envelope.schema.json, `additionalProperties: false`):
//! serialization writes exactly the schema's keys — `event_type` derived from
//! the [`EventData`] variant, `data` always present, `None`/empty members
//! omitted. Deserialization rejects unknown top-level keys, reads
//! `event_type` and parses `data` with it (an absent `data` reads as `{}`).

use crate::confidence::{Confidence, ConfidenceLevel};
use crate::context::{Actor, App, Host, ProcessInfo, WebContext};
use crate::data::EventData;
use crate::macros::string_enum;
use crate::source::Source;
use crate::time::{format_ts, parse_ts, Timestamp, TsError};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

string_enum! {
    /// `related_events[].relationship`.
    pub enum Relationship {
        Parent => "parent",
        Child => "child",
        CausedBy => "caused_by",
        Causes => "causes",
        Related => "related",
    }
}

/// One entry of `related_events`.
///
/// `confidence` and `basis` are this sensor's additions (the schema allows extra keys on
/// entries): set when the link is inferred rather than observed — e.g. a command linked to the
/// tool call that ran it — they say how sure the link is and what it rests on
/// (`process_lineage`, `arguments`, `timing`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedEvent {
    pub event_id: String,
    pub relationship: Relationship,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<ConfidenceLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
}

impl RelatedEvent {
    /// An observed link (no confidence or basis).
    pub fn new(event_id: impl Into<String>, relationship: Relationship) -> Self {
        RelatedEvent {
            event_id: event_id.into(),
            relationship,
            confidence: None,
            basis: None,
        }
    }
}

/// `trace_context`: W3C / OpenTelemetry correlation. `trace_id` is 32 and
/// `span_id` 16 lowercase hex characters.
///
/// Events this sensor puts in an agent session carry the span they open or close as `span_id`
/// and that span's parent as `parent_span_id` (an addition the schema allows; absent on a
/// session's root span), so the trace tree can be rebuilt from the events alone
/// (see [`crate::trace`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TraceContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_flags: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
}

/// One OISP event: the envelope plus its typed payload.
///
/// `ts` is stored as the string that goes on the wire (canonical form when
/// built with [`Event::new`]; foreign events keep theirs verbatim).
/// `related_events` is omitted from JSON when empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub oisp_version: String,
    pub event_id: String,
    pub ts: String,
    pub ts_mono: Option<u64>,
    pub host: Option<Host>,
    pub actor: Option<Actor>,
    pub process: Option<ProcessInfo>,
    pub app: Option<App>,
    pub web_context: Option<WebContext>,
    pub source: Source,
    pub confidence: Confidence,
    pub data: EventData,
    /// Custom attributes not covered by the schema.
    pub attrs: Option<Map<String, Value>>,
    /// Namespaced extensions, e.g. `oximy.*`.
    pub ext: Option<Map<String, Value>>,
    pub related_events: Vec<RelatedEvent>,
    pub trace_context: Option<TraceContext>,
}

impl Event {
    /// A new event from this sensor: `oisp_version` = [`crate::OISP_VERSION`],
    /// `ts` = [`format_ts`]`(ts.wall_ns)`, `ts_mono` = `ts.mono_ns`,
    /// `source` = [`Source::sensor`], `confidence` = [`Confidence::default`]
    /// (low/partial — set the real one with [`Event::with_confidence`]),
    /// every optional member empty. Pure: reads no clock.
    pub fn new(data: impl Into<EventData>, ts: Timestamp, event_id: impl Into<String>) -> Self {
        Self {
            oisp_version: crate::OISP_VERSION.to_owned(),
            event_id: event_id.into(),
            ts: format_ts(ts.wall_ns),
            ts_mono: Some(ts.mono_ns),
            host: None,
            actor: None,
            process: None,
            app: None,
            web_context: None,
            source: Source::sensor(),
            confidence: Confidence::default(),
            data: data.into(),
            attrs: None,
            ext: None,
            related_events: Vec::new(),
            trace_context: None,
        }
    }

    /// The `event_type` string, derived from [`Event::data`].
    pub fn event_type(&self) -> &str {
        self.data.event_type()
    }

    /// `ts` as nanoseconds since the Unix epoch.
    pub fn wall_ns(&self) -> Result<u64, TsError> {
        parse_ts(&self.ts)
    }

    /// Sets `ts_mono` (`None` removes it).
    pub fn with_ts_mono(mut self, ts_mono: Option<u64>) -> Self {
        self.ts_mono = ts_mono;
        self
    }

    /// Sets `host`.
    pub fn with_host(mut self, host: Host) -> Self {
        self.host = Some(host);
        self
    }

    /// Sets `actor`.
    pub fn with_actor(mut self, actor: Actor) -> Self {
        self.actor = Some(actor);
        self
    }

    /// Sets `process`.
    pub fn with_process(mut self, process: ProcessInfo) -> Self {
        self.process = Some(process);
        self
    }

    /// Sets `app`.
    pub fn with_app(mut self, app: App) -> Self {
        self.app = Some(app);
        self
    }

    /// Sets `web_context`.
    pub fn with_web_context(mut self, web_context: WebContext) -> Self {
        self.web_context = Some(web_context);
        self
    }

    /// Replaces `source`.
    pub fn with_source(mut self, source: Source) -> Self {
        self.source = source;
        self
    }

    /// Replaces `confidence`.
    pub fn with_confidence(mut self, confidence: Confidence) -> Self {
        self.confidence = confidence;
        self
    }

    /// Inserts one `attrs` entry.
    pub fn with_attr(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attrs
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }

    /// Inserts one `ext` entry (use a namespaced key, e.g. `oisp_sensor.x`).
    pub fn with_ext(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.ext
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }

    /// Appends a `related_events` entry.
    pub fn with_related(mut self, event_id: impl Into<String>, relationship: Relationship) -> Self {
        self.related_events
            .push(RelatedEvent::new(event_id, relationship));
        self
    }

    /// Sets `trace_context`.
    pub fn with_trace_context(mut self, trace_context: TraceContext) -> Self {
        self.trace_context = Some(trace_context);
        self
    }

    /// The event as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("events always serialize")
    }

    /// The event as one line of compact JSON (no trailing newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("events always serialize")
    }
}

/// Borrowed wire view used for serialization; field order is the output
/// key order.
#[derive(Serialize)]
struct WireOut<'a> {
    oisp_version: &'a str,
    event_id: &'a str,
    event_type: &'a str,
    ts: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ts_mono: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a Host>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<&'a Actor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    process: Option<&'a ProcessInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app: Option<&'a App>,
    #[serde(skip_serializing_if = "Option::is_none")]
    web_context: Option<&'a WebContext>,
    source: &'a Source,
    confidence: &'a Confidence,
    data: &'a EventData,
    #[serde(skip_serializing_if = "Option::is_none")]
    attrs: Option<&'a Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ext: Option<&'a Map<String, Value>>,
    #[serde(skip_serializing_if = "<[RelatedEvent]>::is_empty")]
    related_events: &'a [RelatedEvent],
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_context: Option<&'a TraceContext>,
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireOut {
            oisp_version: &self.oisp_version,
            event_id: &self.event_id,
            event_type: self.event_type(),
            ts: &self.ts,
            ts_mono: self.ts_mono,
            host: self.host.as_ref(),
            actor: self.actor.as_ref(),
            process: self.process.as_ref(),
            app: self.app.as_ref(),
            web_context: self.web_context.as_ref(),
            source: &self.source,
            confidence: &self.confidence,
            data: &self.data,
            attrs: self.attrs.as_ref(),
            ext: self.ext.as_ref(),
            related_events: &self.related_events,
            trace_context: self.trace_context.as_ref(),
        }
        .serialize(serializer)
    }
}

/// Owned wire view used for deserialization.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireIn {
    oisp_version: String,
    event_id: String,
    event_type: String,
    ts: String,
    #[serde(default)]
    ts_mono: Option<u64>,
    #[serde(default)]
    host: Option<Host>,
    #[serde(default)]
    actor: Option<Actor>,
    #[serde(default)]
    process: Option<ProcessInfo>,
    #[serde(default)]
    app: Option<App>,
    #[serde(default)]
    web_context: Option<WebContext>,
    source: Source,
    confidence: Confidence,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    attrs: Option<Map<String, Value>>,
    #[serde(default)]
    ext: Option<Map<String, Value>>,
    #[serde(default)]
    related_events: Vec<RelatedEvent>,
    #[serde(default)]
    trace_context: Option<TraceContext>,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let w = WireIn::deserialize(deserializer)?;
        let data_value = w.data.unwrap_or_else(|| Value::Object(Map::new()));
        if !data_value.is_object() {
            return Err(D::Error::custom("`data` must be a JSON object"));
        }
        let data = EventData::from_parts(&w.event_type, data_value)
            .map_err(|e| D::Error::custom(format!("invalid `data` for {}: {e}", w.event_type)))?;
        Ok(Event {
            oisp_version: w.oisp_version,
            event_id: w.event_id,
            ts: w.ts,
            ts_mono: w.ts_mono,
            host: w.host,
            actor: w.actor,
            process: w.process,
            app: w.app,
            web_context: w.web_context,
            source: w.source,
            confidence: w.confidence,
            data,
            attrs: w.attrs,
            ext: w.ext,
            related_events: w.related_events,
            trace_context: w.trace_context,
        })
    }
}
