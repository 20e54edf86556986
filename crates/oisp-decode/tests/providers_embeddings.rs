//! Embeddings requests carry their input as the text that left the machine: one `user` message
//! per input (OpenAI / compatibles, Ollama, Gemini), token-id inputs described, not dumped; the
//! `ai.request` event holds them and validates against the schemas. (Redaction of the inputs:
//! `oisp-redact/tests/embeddings.rs`.)
#[path = "providers_support.rs"]
mod support;

use oisp_decode::providers::*;
use support::*;

/// (role, content) of each request message.
fn inputs(authority: &str, path: &str, body: &str) -> Vec<(Role, Option<String>)> {
    let call = decode_exchange(&exchange(post(authority, path, &[], body), None)).unwrap();
    assert_eq!(call.request.request_type, RequestType::Embedding, "{body}");
    let msgs: Vec<_> = call
        .request
        .messages
        .iter()
        .map(|m| (m.role, m.content.clone()))
        .collect();
    assert_eq!(
        call.embedding.unwrap().input_count as usize,
        msgs.len(),
        "{body}"
    );
    assert!(!call.request.has_system_prompt);
    msgs
}

fn users(texts: &[&str]) -> Vec<(Role, Option<String>)> {
    texts
        .iter()
        .map(|t| (Role::User, Some(t.to_string())))
        .collect()
}

const OPENAI: (&str, &str) = ("api.openai.com", "/v1/embeddings");

#[test]
fn openai_string_and_array_of_strings() {
    let (a, p) = OPENAI;
    assert_eq!(
        inputs(
            a,
            p,
            r#"{"input":"Embed this sentence please","model":"text-embedding-3-small"}"#
        ),
        users(&["Embed this sentence please"])
    );
    assert_eq!(
        inputs(
            a,
            p,
            r#"{"input":["first","second\nline",""],"model":"text-embedding-3-small"}"#
        ),
        users(&["first", "second\nline", ""])
    );
    assert_eq!(
        inputs(a, p, r#"{"input":[],"model":"text-embedding-3-small"}"#),
        vec![]
    );
}

#[test]
fn token_id_inputs_are_described_not_dumped() {
    let (a, p) = OPENAI;
    assert_eq!(
        inputs(
            a,
            p,
            r#"{"input":[1212,318,257,1332],"model":"text-embedding-3-small"}"#
        ),
        users(&["[4 token ids]"])
    );
    assert_eq!(
        inputs(
            a,
            p,
            r#"{"input":[[1212,318],[42]],"model":"text-embedding-3-small"}"#
        ),
        users(&["[2 token ids]", "[1 token id]"])
    );
    // Compatible APIs taking objects; anything else is named by its type.
    assert_eq!(
        inputs(
            a,
            p,
            r#"{"input":[{"text":"a caption"},{"image":"data:..."},7],"model":"m"}"#
        ),
        users(&[
            "a caption",
            "[non-text input: object]",
            "[non-text input: number]"
        ])
    );
}

#[test]
fn ollama_embed_and_embeddings() {
    assert_eq!(
        inputs(
            "localhost:11434",
            "/api/embed",
            r#"{"model":"all-minilm","input":["Why is the sky blue?","Why is the grass green?"]}"#
        ),
        users(&["Why is the sky blue?", "Why is the grass green?"])
    );
    assert_eq!(
        inputs(
            "localhost:11434",
            "/api/embed",
            r#"{"model":"all-minilm","input":"one"}"#
        ),
        users(&["one"])
    );
    assert_eq!(
        inputs(
            "localhost:11434",
            "/api/embeddings",
            r#"{"model":"all-minilm","prompt":"old endpoint"}"#
        ),
        users(&["old endpoint"])
    );
}

#[test]
fn gemini_embed_content_and_batch() {
    let host = "generativelanguage.googleapis.com";
    assert_eq!(
        inputs(
            host,
            "/v1beta/models/text-embedding-004:embedContent",
            r#"{"model":"models/text-embedding-004","content":{"parts":[{"text":"What is"},{"text":"the meaning?"}]}}"#
        ),
        users(&["What is\nthe meaning?"])
    );
    assert_eq!(
        inputs(
            host,
            "/v1beta/models/text-embedding-004:batchEmbedContents",
            r#"{"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"one"}]}},{"model":"models/text-embedding-004","content":{"parts":[{"text":"two"}]}}]}"#
        ),
        users(&["one", "two"])
    );
}

mod events {
    use oisp_capture::*;
    use oisp_event::{Content, Event, EventData};

    fn ts(ms: u64) -> Timestamp {
        Timestamp {
            wall_ns: 1_800_000_000_000_000_000 + ms * 1_000_000,
            mono_ns: ms * 1_000_000,
        }
    }

    /// One client connection carrying `body` to /v1/embeddings and a response, decoded.
    fn decode(body: &str) -> Vec<Event> {
        let req = format!(
            "POST /v1/embeddings HTTP/1.1\r\nhost: api.openai.com\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let resp_body = r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]},{"object":"embedding","index":1,"embedding":[0.3,0.4]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":9,"total_tokens":9}}"#;
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{resp_body}",
            resp_body.len()
        );
        let data = |dir, ms, bytes: String| {
            RawRecord::Data(DataChunk {
                conn_id: 1,
                direction: dir,
                seq: 0,
                ts: ts(ms),
                pid: 7,
                tid: 7,
                source: DataSource::OpenSsl,
                truncated_len: 0,
                bytes: bytes.into_bytes(),
            })
        };
        let recs = [
            RawRecord::ConnOpen(ConnOpen {
                conn_id: 1,
                ts: ts(1),
                pid: 7,
                tid: 7,
                role: ConnRole::Client,
                source: DataSource::OpenSsl,
                local: Some("10.0.0.2:50000".parse().unwrap()),
                remote: Some("162.159.140.245:443".parse().unwrap()),
                sni: Some("api.openai.com".into()),
                alpn: None,
            }),
            data(Direction::Egress, 2, req),
            data(Direction::Ingress, 3, resp),
        ];
        let (events, _) = oisp_decode::decode_records(&recs);
        for ev in &events {
            if let Err(e) = oisp_event::schema::validate_event(ev) {
                panic!("{} invalid: {e:#?}", ev.event_type());
            }
        }
        events
    }

    fn request_texts(events: &[Event]) -> Vec<String> {
        let req = events
            .iter()
            .find_map(|e| match &e.data {
                EventData::AiRequest(r) => Some(r),
                _ => None,
            })
            .expect("ai.request");
        req.messages
            .iter()
            .flatten()
            .map(|m| match &m.content {
                Some(Content::Text(t)) => {
                    assert_eq!(m.content_length, Some(t.chars().count() as u64));
                    t.clone()
                }
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn the_request_event_carries_the_inputs_and_validates() {
        let events = decode(
            r#"{"input":["Embed this sentence please","and this one"],"model":"text-embedding-3-small"}"#,
        );
        assert_eq!(
            request_texts(&events),
            ["Embed this sentence please", "and this one"]
        );
        assert!(events
            .iter()
            .any(|e| matches!(e.data, EventData::AiEmbedding(_))));
    }
}
