//! JSON Schema validation of serialized events (cargo feature `schema`).
//!
//! Built from the vendored OISP v0.1 schemas, embedded with `include_str!`
//! and registered under their `$id` URIs, so no file or network access
//! happens at run time. Formats (`date-time`, `email`, `uri`) are asserted.
//!
//! [`validate`] checks an event against `envelope.schema.json` and its
//! `data` against the specific `$defs` entry for its `event_type` (found by
//! the def's `title`, e.g. `ai.request` → `events/ai.schema.json#/$defs/request`;
//! the event files' top-level `oneOf` is not used because it cannot
//! discriminate). `sensor.warning` and unknown types get envelope validation
//! only. [`validate_emitted`] additionally enforces this project's own
//! contracts for events the sensor emits.
//!
//! Errors are strings `"<JSON pointer>: <message> (schema: <uri or
//! pointer>)"`, e.g. `"/data/provider/name: \"openia\" is not one of ..."`.
//! The instance path is always relative to the event root.

use crate::{Event, SensorWarning};
use jsonschema::{Draft, Resource, ValidationOptions, Validator};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// `$id` prefix shared by every vendored schema.
pub const SCHEMA_BASE_URI: &str = "https://oisp.dev/schema/v0.1/";

macro_rules! vendored {
    ($($path:literal),+ $(,)?) => {
        &[$(($path, include_str!(concat!("../../../vendor/oisp-spec/schema/v0.1/", $path)))),+]
    };
}

/// The vendored schema files: (path relative to [`SCHEMA_BASE_URI`], text).
const SCHEMA_FILES: &[(&str, &str)] = vendored![
    "envelope.schema.json",
    "common/actor.schema.json",
    "common/app.schema.json",
    "common/confidence.schema.json",
    "common/host.schema.json",
    "common/process.schema.json",
    "common/web_context.schema.json",
    "events/agent.schema.json",
    "events/ai.schema.json",
    "events/file.schema.json",
    "events/network.schema.json",
    "events/process.schema.json",
];

struct Validators {
    envelope: Validator,
    /// event_type → (schema URI of its def, validator for that def).
    data: BTreeMap<String, (String, Validator)>,
}

fn parse_file(path: &str, text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("vendored schema {path} is not JSON: {e}"))
}

fn options() -> ValidationOptions {
    let resources = SCHEMA_FILES.iter().map(|(path, text)| {
        let resource = Resource::from_contents(parse_file(path, text))
            .unwrap_or_else(|e| panic!("vendored schema {path} is not a resource: {e}"));
        (format!("{SCHEMA_BASE_URI}{path}"), resource)
    });
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .with_resources(resources)
}

fn build() -> Validators {
    let (_, envelope_text) = SCHEMA_FILES[0];
    let envelope = options()
        .build(&parse_file("envelope.schema.json", envelope_text))
        .unwrap_or_else(|e| panic!("envelope schema does not compile: {e}"));
    let mut data = BTreeMap::new();
    for (path, text) in SCHEMA_FILES
        .iter()
        .filter(|(p, _)| p.starts_with("events/"))
    {
        let schema = parse_file(path, text);
        let Some(defs) = schema.get("$defs").and_then(Value::as_object) else {
            continue;
        };
        for (def, body) in defs {
            let Some(title) = body.get("title").and_then(Value::as_str) else {
                continue;
            };
            let uri = format!("{SCHEMA_BASE_URI}{path}#/$defs/{def}");
            let validator = options()
                .build(&json!({ "$ref": uri }))
                .unwrap_or_else(|e| panic!("schema {uri} does not compile: {e}"));
            data.insert(title.to_owned(), (uri, validator));
        }
    }
    Validators { envelope, data }
}

static VALIDATORS: LazyLock<Validators> = LazyLock::new(build);

/// The schema URI used to validate `data` of `event_type`, or `None` when
/// the type has no schema (`sensor.warning`, unknown types).
pub fn data_schema_uri(event_type: &str) -> Option<&'static str> {
    VALIDATORS.data.get(event_type).map(|(uri, _)| uri.as_str())
}

/// Every `event_type` the vendored schemas define (sorted).
pub fn schema_event_types() -> Vec<&'static str> {
    VALIDATORS.data.keys().map(String::as_str).collect()
}

fn collect(validator: &Validator, instance: &Value, prefix: &str, errors: &mut Vec<String>) {
    for err in validator.iter_errors(instance) {
        let path = format!("{prefix}{}", err.instance_path.as_str());
        let path = if path.is_empty() { "/" } else { path.as_str() };
        errors.push(format!(
            "{path}: {err} (schema: {})",
            err.schema_path.as_str()
        ));
    }
}

/// Validates `data` alone against the def for `event_type`. Paths in the
/// errors are prefixed with `/data`. Types without a schema pass.
pub fn validate_data(event_type: &str, data: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if let Some((uri, validator)) = VALIDATORS.data.get(event_type) {
        let before = errors.len();
        collect(validator, data, "/data", &mut errors);
        for e in &mut errors[before..] {
            e.push_str(&format!(" [{event_type} data schema {uri}]"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Validates one serialized event: the envelope schema (with `common/*`
/// refs resolved) and, for types the spec defines, `data` against its def.
/// Returns every error found, each naming the failing instance path.
pub fn validate(event: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    collect(&VALIDATORS.envelope, event, "", &mut errors);
    let event_type = event.get("event_type").and_then(Value::as_str);
    if let (Some(event_type), Some(data)) = (event_type, event.get("data")) {
        if let Err(mut data_errors) = validate_data(event_type, data) {
            errors.append(&mut data_errors);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Serializes `event` and runs [`validate_emitted`] on it.
pub fn validate_event(event: &Event) -> Result<(), Vec<String>> {
    validate_emitted(&event.to_value())
}

/// [`validate`] plus this project's contracts for events the sensor emits:
/// `oisp_version` is [`crate::OISP_VERSION`]; `ts` is canonical (UTC, exactly
/// microseconds); `event_id` is a 26-character ULID; `source.collector` is
/// [`crate::COLLECTOR`]; `sensor.warning` data has exactly the
/// [`SensorWarning`] shape; and the value survives a lossless round-trip
/// through [`Event`].
pub fn validate_emitted(event: &Value) -> Result<(), Vec<String>> {
    let mut errors = validate(event).err().unwrap_or_default();
    let str_at = |ptr: &str| event.pointer(ptr).and_then(Value::as_str);
    if str_at("/oisp_version") != Some(crate::OISP_VERSION) {
        errors.push(format!("/oisp_version: must be {:?}", crate::OISP_VERSION));
    }
    match str_at("/ts") {
        Some(ts) if crate::is_canonical_ts(ts) => {}
        other => errors.push(format!(
            "/ts: {other:?} is not canonical (YYYY-MM-DDTHH:MM:SS.ffffffZ)"
        )),
    }
    match str_at("/event_id") {
        Some(id) if id.len() == 26 && ulid::Ulid::from_string(id).is_ok() => {}
        other => errors.push(format!("/event_id: {other:?} is not a ULID")),
    }
    if str_at("/source/collector") != Some(crate::COLLECTOR) {
        errors.push(format!("/source/collector: must be {:?}", crate::COLLECTOR));
    }
    if str_at("/event_type") == Some("sensor.warning") {
        let data = event.get("data").cloned().unwrap_or(Value::Null);
        if let Err(e) = serde_json::from_value::<SensorWarning>(data) {
            errors.push(format!("/data: not a sensor.warning payload: {e}"));
        }
    }
    match serde_json::from_value::<Event>(event.clone()) {
        Ok(parsed) if parsed.to_value() == *event => {}
        Ok(_) => errors.push("/: does not round-trip losslessly through Event".to_owned()),
        Err(e) => errors.push(format!("/: does not parse as Event: {e}")),
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
