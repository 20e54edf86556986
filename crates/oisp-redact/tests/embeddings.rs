//! An embeddings request's inputs travel as the request's user messages, so each redaction mode
//! treats them like any prompt: `full` keeps them, `safe` masks secrets and personal data in
//! them, `minimal` keeps only their length and hash.

use oisp_event::{Content, Event, EventData, RequestType};
use oisp_redact::{RedactionMode, Redactor};

/// The embeddings requests of the recorded OpenAI Python session (inputs "hello world" +
/// "oisp sensor", then "plain floats please"), with a secret and an email added to the first.
fn embedding_requests() -> Vec<Event> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/captures/openai-python.oraw"
    );
    let bytes = std::fs::read(path).unwrap();
    let (records, err) = oisp_capture::read_all(&bytes);
    assert!(err.is_none());
    let mut evs: Vec<Event> = oisp_decode::decode_records(&records)
        .0
        .into_iter()
        .filter(|e| {
            matches!(&e.data, EventData::AiRequest(r) if r.request_type == Some(RequestType::Embedding))
        })
        .collect();
    assert_eq!(evs.len(), 2);
    if let EventData::AiRequest(r) = &mut evs[0].data {
        let m = &mut r.messages.as_mut().unwrap()[0];
        m.content = Some(Content::Text(
            "hello world from bob@example.org with x-api-key: k-123".into(),
        ));
    }
    evs
}

fn texts(ev: &Event) -> Vec<String> {
    let EventData::AiRequest(r) = &ev.data else {
        unreachable!()
    };
    r.messages
        .iter()
        .flatten()
        .map(|m| serde_json::to_string(&m.content).unwrap())
        .collect()
}

fn redacted(mode: RedactionMode) -> Vec<Vec<String>> {
    embedding_requests()
        .into_iter()
        .map(|mut ev| {
            Redactor::new(mode).apply(&mut ev);
            oisp_event::schema::validate_event(&ev)
                .unwrap_or_else(|e| panic!("{mode:?}: invalid after redaction: {e:#?}"));
            texts(&ev)
        })
        .collect()
}

#[test]
fn full_keeps_the_inputs_and_masks_secrets() {
    let t = redacted(RedactionMode::Full);
    assert!(t[0][0].contains("bob@example.org") && !t[0][0].contains("k-123"));
    assert_eq!(t[0][1], r#""oisp sensor""#);
    assert_eq!(t[1], [r#""plain floats please""#]);
}

#[test]
fn safe_masks_personal_data_in_the_inputs() {
    let t = redacted(RedactionMode::Safe);
    assert!(
        t[0][0].starts_with(r#""hello world from [REDACTED:email sha256:"#),
        "{t:?}"
    );
    assert!(!t[0][0].contains("k-123"), "{t:?}");
    assert_eq!(t[1], [r#""plain floats please""#]);
}

#[test]
fn minimal_keeps_only_length_and_hash() {
    let all = redacted(RedactionMode::Minimal).concat().join("\n");
    for gone in ["hello world", "bob@", "oisp sensor", "plain floats"] {
        assert!(!all.contains(gone), "{gone}: {all}");
    }
    assert!(all.contains("$redacted"), "{all}");
}
