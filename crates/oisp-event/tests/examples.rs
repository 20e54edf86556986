//! (a) Every vendored example event parses into `Event`, re-serializes to
//! semantically identical JSON, and passes the schema validator.

mod common;

use common::{assert_valid, examples, semantic_diff};
use oisp_event::{schema, Event, EventData};

#[test]
fn there_are_examples() {
    assert!(examples().len() >= 9);
}

#[test]
fn examples_round_trip_semantically() {
    for (name, original) in examples() {
        let event: Event = serde_json::from_value(original.clone())
            .unwrap_or_else(|e| panic!("{name}: does not parse: {e}"));
        assert!(
            !matches!(event.data, EventData::Unknown { .. }),
            "{name}: parsed as Unknown"
        );
        assert_eq!(event.event_type(), original["event_type"], "{name}");
        let back = serde_json::to_value(&event).unwrap();
        if let Some(diff) = semantic_diff(&original, &back, "") {
            panic!("{name}: round-trip changed the event at {diff}");
        }
        // Text round-trip too, and a second pass is a fixed point.
        let text = serde_json::to_string(&event).unwrap();
        let again: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(again, event, "{name}");
    }
}

#[test]
fn examples_validate_against_schemas() {
    for (name, original) in examples() {
        assert_valid(&name, schema::validate(&original));
        let event: Event = serde_json::from_value(original).unwrap();
        assert_valid(&name, schema::validate(&event.to_value()));
    }
}

#[test]
fn examples_use_a_data_schema() {
    for (name, original) in examples() {
        let event_type = original["event_type"].as_str().unwrap();
        assert!(
            schema::data_schema_uri(event_type).is_some(),
            "{name}: no data schema for {event_type}"
        );
    }
}
