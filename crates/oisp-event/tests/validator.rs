//! (e) The validator rejects what the schemas forbid, with error messages
//! that name the failing path; plus consistency checks between the Rust
//! enums / event types and the vendored schemas.

mod common;

use common::fixtures_envelope::full_envelope;
use common::fixtures_sys::all_payloads;
use common::{lookup, schemas, BASE};
use oisp_event::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn full(event_type: &str) -> Value {
    let data = all_payloads()
        .into_iter()
        .find(|d| d.event_type() == event_type)
        .unwrap();
    full_envelope(data).to_value()
}

/// Asserts `v` fails [`schema::validate`] with an error starting with `path`.
fn assert_rejected_at(v: &Value, path: &str) -> Vec<String> {
    let errors = schema::validate(v).expect_err("should be rejected");
    assert!(
        errors.iter().any(|e| e.starts_with(&format!("{path}: "))),
        "no error at {path}: {errors:#?}"
    );
    errors
}

#[test]
fn rejects_bad_enum_in_data() {
    let mut v = full("ai.request");
    v["data"]["provider"]["name"] = json!("openia");
    let errors = assert_rejected_at(&v, "/data/provider/name");
    assert!(errors[0].contains("openia"), "{errors:?}");
    assert!(
        errors[0].contains("ai.schema.json#/$defs/request"),
        "{errors:?}"
    );
}

#[test]
fn rejects_bad_enum_in_envelope() {
    let mut v = full("process.exec");
    v["confidence"]["level"] = json!("certain");
    assert_rejected_at(&v, "/confidence/level");
    let mut v = full("process.exec");
    v["host"]["os"] = json!("macos");
    assert_rejected_at(&v, "/host/os");
}

#[test]
fn rejects_extra_envelope_keys_and_missing_required() {
    let mut v = full("file.write");
    v["extra_key"] = json!(1);
    let errors = assert_rejected_at(&v, "/");
    assert!(errors.iter().any(|e| e.contains("extra_key")), "{errors:?}");

    let mut v = full("file.write");
    v.as_object_mut().unwrap().remove("confidence");
    assert_rejected_at(&v, "/");
}

#[test]
fn rejects_missing_required_data_fields() {
    let mut v = full("agent.tool_result");
    v["data"].as_object_mut().unwrap().remove("call_id");
    assert_rejected_at(&v, "/data");
    let mut v = full("network.dns");
    v["data"].as_object_mut().unwrap().remove("query_type");
    assert_rejected_at(&v, "/data");
}

#[test]
fn rejects_length_pattern_and_format_violations() {
    let mut v = full("ai.request");
    v["data"]["auth"]["key_prefix"] = json!("sk-proj-X");
    assert_rejected_at(&v, "/data/auth/key_prefix");

    let mut v = full("ai.request");
    v["trace_context"]["trace_id"] = json!("XYZ");
    assert_rejected_at(&v, "/trace_context/trace_id");

    let mut v = full("ai.request");
    v["process"]["hash"]["sha256"] = json!("A".repeat(64));
    assert_rejected_at(&v, "/process/hash/sha256");

    let mut v = full("ai.request");
    v["ts"] = json!("yesterday");
    assert_rejected_at(&v, "/ts");

    let mut v = full("ai.request");
    v["event_type"] = json!("AI.Request");
    assert_rejected_at(&v, "/event_type");

    let mut v = full("network.connect");
    v["data"]["dest"]["port"] = json!(70000);
    assert_rejected_at(&v, "/data/dest/port");

    let mut v = full("file.read");
    v["data"]["content_preview"] = json!("x".repeat(257));
    assert_rejected_at(&v, "/data/content_preview");
}

#[test]
fn redacted_tool_arguments_fail_the_v0_1_schema() {
    // Documents a schema quirk: a redaction marker is also an object, so the
    // `oneOf [string, object, redacted]` of tool_call.arguments matches twice.
    let mut v = full("ai.response");
    v["data"]["tool_calls"][0]["arguments"] = json!({"$redacted": {"reason": "policy"}});
    assert_rejected_at(&v, "/data/tool_calls/0/arguments");
    // ...whereas a redacted message content (oneOf [string, redacted]) is fine.
    let v = full("ai.request");
    assert!(v["data"]["messages"][0]["content"]["$redacted"].is_object());
    assert!(schema::validate(&v).is_ok());
}

#[test]
fn validate_emitted_enforces_project_contracts() {
    let v = full("sensor.warning");
    assert!(schema::validate_emitted(&v).is_ok());

    let mut bad_ts = v.clone();
    bad_ts["ts"] = json!("2025-12-22T20:15:05Z");
    assert!(schema::validate(&bad_ts).is_ok());
    let errors = schema::validate_emitted(&bad_ts).unwrap_err();
    assert!(errors.iter().any(|e| e.starts_with("/ts: ")), "{errors:?}");

    let mut bad_id = v.clone();
    bad_id["event_id"] = json!("not-a-ulid");
    let errors = schema::validate_emitted(&bad_id).unwrap_err();
    assert!(
        errors.iter().any(|e| e.starts_with("/event_id: ")),
        "{errors:?}"
    );

    let mut bad_warning = v.clone();
    bad_warning["data"]["surprise"] = json!(true);
    assert!(schema::validate(&bad_warning).is_ok());
    let errors = schema::validate_emitted(&bad_warning).unwrap_err();
    assert!(
        errors.iter().any(|e| e.starts_with("/data: ")),
        "{errors:?}"
    );

    let mut foreign = v.clone();
    foreign["source"]["collector"] = json!("browser-extension");
    assert!(schema::validate_emitted(&foreign).is_err());
}

#[test]
fn every_schema_event_type_has_a_variant_and_vice_versa() {
    let from_schema: BTreeSet<&str> = schema::schema_event_types().into_iter().collect();
    let ours: BTreeSet<&str> = EventData::KNOWN_TYPES
        .iter()
        .copied()
        .filter(|t| *t != "sensor.warning")
        .collect();
    assert_eq!(from_schema, ours);
    assert!(schema::data_schema_uri("sensor.warning").is_none());
    assert_eq!(
        schema::data_schema_uri("ai.request"),
        Some("https://oisp.dev/schema/v0.1/events/ai.schema.json#/$defs/request")
    );
}

fn strings<T: std::fmt::Display>(all: &[T]) -> Vec<String> {
    all.iter().map(ToString::to_string).collect()
}

#[test]
fn rust_enums_match_every_schema_enum() {
    let schemas = schemas();
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("envelope.schema.json#/$defs/source/properties/capture_method", strings(CaptureMethod::ALL)),
        ("envelope.schema.json#/properties/related_events/items/properties/relationship", strings(Relationship::ALL)),
        ("common/confidence.schema.json#/properties/level", strings(ConfidenceLevel::ALL)),
        ("common/confidence.schema.json#/properties/completeness", strings(Completeness::ALL)),
        ("common/confidence.schema.json#/properties/process_attribution", strings(ProcessAttribution::ALL)),
        ("common/confidence.schema.json#/properties/content_source", strings(ContentSource::ALL)),
        ("common/confidence.schema.json#/properties/ai_detection_method", strings(AiDetectionMethod::ALL)),
        ("common/host.schema.json#/properties/os", strings(Os::ALL)),
        ("common/host.schema.json#/properties/arch", strings(Arch::ALL)),
        ("common/host.schema.json#/properties/cloud/properties/provider", strings(CloudProvider::ALL)),
        ("common/host.schema.json#/properties/container/properties/runtime", strings(ContainerRuntime::ALL)),
        ("common/actor.schema.json#/properties/identity/properties/provider", strings(IdentityProvider::ALL)),
        ("common/actor.schema.json#/properties/service_account/properties/type", strings(ServiceAccountType::ALL)),
        ("common/actor.schema.json#/properties/auth_method", strings(AuthMethod::ALL)),
        ("common/app.schema.json#/properties/category", strings(AppCategory::ALL)),
        ("common/app.schema.json#/properties/tier", strings(AppTier::ALL)),
        ("common/app.schema.json#/properties/type", strings(AppType::ALL)),
        ("common/web_context.schema.json#/properties/web_app_type", strings(WebAppType::ALL)),
        ("events/ai.schema.json#/$defs/provider_info/properties/name", strings(ProviderName::ALL)),
        ("events/ai.schema.json#/$defs/auth_info/properties/type", strings(AuthType::ALL)),
        ("events/ai.schema.json#/$defs/auth_info/properties/account_type", strings(AccountType::ALL)),
        ("events/ai.schema.json#/$defs/message/properties/role", strings(Role::ALL)),
        ("events/ai.schema.json#/$defs/tool_definition/properties/type", strings(ToolDefinitionType::ALL)),
        ("events/ai.schema.json#/$defs/request/properties/request_type", strings(RequestType::ALL)),
        ("events/ai.schema.json#/$defs/response/properties/finish_reason", strings(FinishReason::ALL)),
        ("events/ai.schema.json#/$defs/response/properties/choices/items/properties/finish_reason", strings(FinishReason::ALL)),
        ("events/agent.schema.json#/$defs/agent_info/properties/type", strings(AgentType::ALL)),
        ("events/agent.schema.json#/$defs/tool_info/properties/type", strings(ToolType::ALL)),
        ("events/agent.schema.json#/$defs/tool_call/properties/triggered_by", strings(TriggeredBy::ALL)),
        ("events/agent.schema.json#/$defs/tool_call/properties/risk_level", strings(RiskLevel::ALL)),
        ("events/agent.schema.json#/$defs/tool_result/properties/side_effects/items/properties/type", strings(SideEffectType::ALL)),
        ("events/agent.schema.json#/$defs/plan_step/properties/step_type", strings(StepType::ALL)),
        ("events/agent.schema.json#/$defs/rag_retrieve/properties/source/properties/type", strings(RagSourceType::ALL)),
        ("events/agent.schema.json#/$defs/session/properties/action", strings(SessionAction::ALL)),
        ("events/process.schema.json#/$defs/exit/properties/termination_type", strings(TerminationType::ALL)),
        ("events/file.schema.json#/$defs/open/properties/flags/items", strings(OpenFlag::ALL)),
        ("events/network.schema.json#/$defs/connect/properties/protocol", strings(Protocol::ALL)),
        ("events/network.schema.json#/$defs/accept/properties/protocol", strings(Protocol::ALL)),
        ("events/network.schema.json#/$defs/flow/properties/protocol", strings(Protocol::ALL)),
        ("events/network.schema.json#/$defs/flow/properties/direction", strings(Direction::ALL)),
        ("events/network.schema.json#/$defs/dns/properties/query_type", strings(DnsQueryType::ALL)),
        ("events/network.schema.json#/$defs/dns/properties/response_code", strings(DnsResponseCode::ALL)),
    ];
    let mut covered = BTreeSet::new();
    for (rel, ours) in &cases {
        let uri = format!("{BASE}{rel}");
        let theirs: Vec<String> = lookup(&schemas, &uri)["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{rel} has no enum"))
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ours, &theirs, "{rel}");
        covered.insert(uri);
    }
    // Every enum anywhere in the schemas is covered by a case above.
    fn find_enums(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if m.contains_key("enum") {
                    out.push(at.clone());
                }
                for (k, c) in m {
                    find_enums(c, format!("{at}/{k}"), out);
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    find_enums(c, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    for (id, doc) in &schemas {
        let mut found = Vec::new();
        find_enums(doc, format!("{id}#"), &mut found);
        for uri in found {
            assert!(
                covered.contains(&uri),
                "schema enum not mirrored in Rust: {uri}"
            );
        }
    }
}

#[test]
fn error_messages_are_readable() {
    let mut v = full("ai.request");
    v["data"]["provider"]["name"] = json!("openia");
    v["confidence"]["level"] = json!("certain");
    let errors = schema::validate(&v).unwrap_err();
    for e in &errors {
        eprintln!("{e}");
    }
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].starts_with("/confidence/level: \"certain\" is not one of"));
    assert!(errors[1].starts_with("/data/provider/name: \"openia\" is not one of"));
}
