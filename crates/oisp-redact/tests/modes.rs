//! Each redaction mode over real decoded traffic: the result still validates against the OISP
//! schemas, and keeps or removes exactly what the mode promises.

use oisp_event::{Content, Event, EventData};
use oisp_redact::{RedactionMode, Redactor};

fn events() -> Vec<Event> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/captures/openai-python.oraw"
    );
    let bytes = std::fs::read(path).unwrap();
    let (records, err) = oisp_capture::read_all(&bytes);
    assert!(err.is_none());
    let mut evs = oisp_decode::decode_records(&records).0;
    // Personal data in a prompt, to see `safe` mask it.
    for ev in &mut evs {
        if let EventData::AiRequest(r) = &mut ev.data {
            if let Some(m) = r.messages.as_mut().and_then(|m| m.last_mut()) {
                m.content = Some(Content::Text("mail me at bob@example.org".into()));
            }
        }
    }
    evs
}

fn redacted(mode: RedactionMode) -> String {
    let r = Redactor::new(mode);
    let mut out = String::new();
    for mut ev in events() {
        r.apply(&mut ev);
        if let Err(e) = oisp_event::schema::validate_event(&ev) {
            panic!(
                "{mode:?}: {} invalid after redaction: {e:#?}",
                ev.event_type()
            );
        }
        out.push_str(&ev.to_json_line());
        out.push('\n');
    }
    out
}

#[test]
fn full_keeps_content_and_masks_secrets() {
    let out = redacted(RedactionMode::Full);
    assert!(out.contains("This is a mock reply"));
    assert!(out.contains("bob@example.org"));
    assert!(out.contains("get_weather"));
}

#[test]
fn safe_also_masks_personal_data() {
    let out = redacted(RedactionMode::Safe);
    assert!(out.contains("This is a mock reply"));
    assert!(!out.contains("bob@example.org"));
    assert!(out.contains("[REDACTED:email"));
}

#[test]
fn minimal_keeps_metadata_only() {
    let out = redacted(RedactionMode::Minimal);
    for gone in [
        "This is a mock reply",
        "bob@example.org",
        "Paris",
        "temperature_c",
    ] {
        assert!(!out.contains(gone), "{gone} survived minimal redaction");
    }
    assert!(out.contains("\"$redacted\""));
    assert!(out.contains("\"total_tokens\""), "usage must survive");
    assert!(out.contains("\"gpt-4o-mini\""), "model must survive");
    assert!(out.contains("\"arguments_hash\""));
}

#[test]
fn custom_rules_apply_in_every_mode_and_keep_events_valid() {
    let rule = oisp_redact::CustomRule::new("mailbox", r"bob@example\.org", None).unwrap();
    for mode in [RedactionMode::Full, RedactionMode::Safe] {
        let r = Redactor::new(mode)
            .without_secret_masking()
            .with_rules(vec![rule.clone()]);
        let mut hits = 0;
        for mut ev in events() {
            r.apply(&mut ev);
            oisp_event::schema::validate_event(&ev).unwrap();
            let line = ev.to_json_line();
            assert!(!line.contains("bob@example.org"), "{mode:?}: {line}");
            hits += line.matches("[REDACTED:").count();
        }
        assert!(hits > 0, "{mode:?}: the rule found nothing");
    }
}
