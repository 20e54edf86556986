//! (c) A fully populated value of every variant serializes to JSON that sets
//! every property its schema declares (and nothing else), passes the
//! validators, and (d) round-trips losslessly.

mod common;

use common::fixtures_envelope::{full_envelope, MONO_NS, WALL_NS};
use common::fixtures_sys::all_payloads;
use common::{assert_valid, coverage, schemas, BASE};
use oisp_event::{schema, Event, EventData, Timestamp};
use serde_json::{json, Value};

#[test]
fn one_fixture_per_known_type() {
    let types: Vec<String> = all_payloads()
        .iter()
        .map(|d| d.event_type().to_owned())
        .collect();
    assert_eq!(types, EventData::KNOWN_TYPES);
}

#[test]
fn full_events_validate() {
    for data in all_payloads() {
        let label = data.event_type().to_owned();
        let event = full_envelope(data);
        assert_valid(&label, schema::validate(&event.to_value()));
        assert_valid(&label, schema::validate_event(&event));
    }
}

#[test]
fn minimal_events_validate() {
    for data in all_payloads() {
        let label = data.event_type().to_owned();
        let event = Event::new(
            data,
            Timestamp::new(WALL_NS, MONO_NS),
            oisp_event::new_event_id(),
        );
        assert_valid(&label, schema::validate_event(&event));
    }
}

#[test]
fn full_envelope_sets_every_envelope_property() {
    let schemas = schemas();
    let event = full_envelope(all_payloads().remove(0)).to_value();
    let (missing, undeclared) = coverage(&schemas, &format!("{BASE}envelope.schema.json#"), &event);
    assert!(
        missing.is_empty(),
        "envelope properties not set: {missing:?}"
    );
    assert!(undeclared.is_empty(), "undeclared keys: {undeclared:?}");
}

#[test]
fn full_payloads_set_every_data_property() {
    let schemas = schemas();
    for data in all_payloads() {
        let event_type = data.event_type().to_owned();
        let Some(uri) = schema::data_schema_uri(&event_type) else {
            assert_eq!(event_type, "sensor.warning");
            continue;
        };
        let (missing, undeclared) = coverage(&schemas, uri, &data.to_value());
        assert!(missing.is_empty(), "{event_type}: not set: {missing:?}");
        assert!(
            undeclared.is_empty(),
            "{event_type}: undeclared: {undeclared:?}"
        );
    }
}

#[test]
fn full_events_round_trip_losslessly() {
    for data in all_payloads() {
        let event = full_envelope(data);
        let text = event.to_json_line();
        assert!(!text.contains('\n'));
        let back: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(back, event, "{}", event.event_type());
        assert_eq!(back.to_json_line(), text);
    }
}

#[test]
fn envelope_key_order_and_event_type() {
    let event = full_envelope(all_payloads().remove(0));
    let v = event.to_value();
    assert_eq!(v["event_type"], "ai.request");
    assert_eq!(v["oisp_version"], "0.1");
    assert_eq!(v["ts"], "2025-12-22T20:15:05.123456Z");
    assert_eq!(v["ts_mono"], MONO_NS);
    assert_eq!(v["source"]["collector"], "oisp-sensor");
    let text = event.to_json_line();
    let pos = |k: &str| text.find(&format!("\"{k}\":")).unwrap();
    assert!(pos("oisp_version") < pos("event_id"));
    assert!(pos("event_id") < pos("event_type"));
    assert!(pos("event_type") < pos("ts"));
}

#[test]
fn empty_options_are_omitted() {
    let event = Event::new(
        oisp_event::SensorWarning::new("dropped", "ring buffer overflow"),
        Timestamp::new(WALL_NS, MONO_NS),
        "01JFWK8X6B7C8D9E0F1G2H3J4K",
    );
    let v = event.to_value();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "confidence",
            "data",
            "event_id",
            "event_type",
            "oisp_version",
            "source",
            "ts",
            "ts_mono"
        ]
    );
    assert_eq!(
        v["data"],
        json!({"code": "dropped", "message": "ring buffer overflow"})
    );
    assert_eq!(
        v["confidence"],
        json!({"level": "low", "completeness": "partial"})
    );
}

#[test]
fn unknown_types_round_trip_verbatim() {
    let mut v = full_envelope(all_payloads().remove(0)).to_value();
    v["event_type"] = json!("vendor.custom_thing");
    v["data"] = json!({"anything": [1, 2.5, {"x": null}]});
    let event: Event = serde_json::from_value(v.clone()).unwrap();
    assert!(matches!(
        &event.data,
        EventData::Unknown { event_type, .. } if event_type == "vendor.custom_thing"
    ));
    assert_eq!(event.event_type(), "vendor.custom_thing");
    assert_eq!(event.to_value(), v);
    assert_valid("unknown", schema::validate(&v));
}

#[test]
fn extra_data_keys_are_kept() {
    let mut v = full_envelope(all_payloads().remove(0)).to_value();
    v["data"]["x_vendor_field"] = json!({"kept": true});
    let event: Event = serde_json::from_value(v.clone()).unwrap();
    match &event.data {
        EventData::AiRequest(r) => assert_eq!(r.extra["x_vendor_field"], json!({"kept": true})),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(event.to_value(), v);
}

#[test]
fn absent_data_reads_as_empty_object() {
    let mut v = full_envelope(oisp_event::AiEmbedding::default()).to_value();
    v.as_object_mut().unwrap().remove("data");
    let event: Event = serde_json::from_value(v).unwrap();
    assert_eq!(event.data, EventData::AiEmbedding(Default::default()));
    assert_eq!(event.to_value()["data"], json!({}));
}

#[test]
fn parse_errors_name_the_problem() {
    let mut v = full_envelope(all_payloads().remove(0)).to_value();
    v["unexpected"] = Value::Bool(true);
    let err = serde_json::from_value::<Event>(v).unwrap_err().to_string();
    assert!(err.contains("unexpected"), "{err}");

    let mut v = full_envelope(all_payloads().remove(0)).to_value();
    v["data"]["provider"]["name"] = json!("openia");
    let err = serde_json::from_value::<Event>(v).unwrap_err().to_string();
    assert!(
        err.contains("ai.request") && err.contains("openia"),
        "{err}"
    );

    let mut v = full_envelope(all_payloads().remove(0)).to_value();
    v["data"] = json!([1]);
    let err = serde_json::from_value::<Event>(v).unwrap_err().to_string();
    assert!(err.contains("`data` must be a JSON object"), "{err}");
}

#[test]
fn coverage_walker_detects_gaps() {
    // Guards the coverage tests above against passing vacuously.
    let schemas = schemas();
    let uri = schema::data_schema_uri("ai.response").unwrap();
    let data = oisp_event::AiResponse {
        usage: Some(Default::default()),
        ..Default::default()
    };
    let (missing, _) = coverage(&schemas, uri, &EventData::from(data).to_value());
    assert!(missing.contains(&"/request_id".to_owned()), "{missing:?}");
    assert!(
        missing.contains(&"/usage/prompt_tokens".to_owned()),
        "{missing:?}"
    );
    let (_, undeclared) = coverage(&schemas, uri, &json!({"nope": 1}));
    assert_eq!(undeclared, ["/nope"]);
    // Refs across files are followed (process.exec -> common/process hash).
    let uri = schema::data_schema_uri("process.exec").unwrap();
    let (missing, _) = coverage(&schemas, uri, &json!({"binary_hash": {}}));
    assert!(
        missing.contains(&"/binary_hash/sha256".to_owned()),
        "{missing:?}"
    );
}
