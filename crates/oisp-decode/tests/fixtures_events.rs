//! Decodes every capture recorded from real clients (`fixtures/captures/*.oraw`) and checks:
//! every event validates against the OISP v0.1 schemas; no decode warnings; each call yields one
//! `ai.request` and one `ai.response` linked by `request_id`; per-fixture facts (models, statuses,
//! streaming, tool calls, usage); and the whole output equals the committed golden file
//! (`fixtures/golden/NAME.jsonl`; regenerate with `UPDATE_GOLDEN=1 cargo test -p oisp-decode
//! --test fixtures_events` and review the diff).

use oisp_decode::{decode_records_with, DecoderConfig, SystemRecordOrigin};
use oisp_event::{Event, EventData};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn decode(name: &str) -> Vec<Event> {
    let path = root()
        .join("fixtures/captures")
        .join(format!("{name}.oraw"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (records, err) = oisp_capture::read_all(&bytes);
    assert!(err.is_none(), "{name}: {err:?}");
    let meta = oisp_capture::RawReader::new(&bytes[..])
        .unwrap()
        .meta()
        .to_string();
    let cfg = DecoderConfig {
        system_records: SystemRecordOrigin::from_capture_meta(&meta),
        ..Default::default()
    };
    assert_eq!(
        cfg.system_records,
        SystemRecordOrigin::Procfs,
        "{name}: recorder meta"
    );
    decode_records_with(cfg, &records).0
}

/// Expected (ai calls, tool calls, tool results) per fixture, from the recorded scenarios.
const FIXTURES: &[(&str, usize, usize, usize)] = &[
    ("openai-python", 16, 7, 3),
    ("anthropic-python", 12, 3, 2),
    ("openai-node", 7, 2, 2),
    ("curl-h1", 7, 0, 0),
    ("curl-h2", 7, 0, 0),
    ("gemini-curl", 7, 1, 1),
    ("ollama-curl", 8, 1, 0),
    ("compat-curl", 8, 0, 0),
    ("keepalive-concurrent", 16, 0, 0),
    ("large-prompt", 1, 0, 0),
    ("websocket-python", 6, 2, 2),
    ("codex-websocket", 2, 1, 1),
];

fn count(events: &[Event], t: &str) -> usize {
    events.iter().filter(|e| e.event_type() == t).count()
}

#[test]
fn every_fixture_decodes_to_valid_linked_events() {
    for &(name, calls, tool_calls, tool_results) in FIXTURES {
        let events = decode(name);
        for ev in &events {
            if let Err(errs) = oisp_event::schema::validate_event(ev) {
                panic!(
                    "{name}: {} {} invalid: {errs:#?}",
                    ev.event_type(),
                    ev.event_id
                );
            }
        }
        let warnings: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.data {
                EventData::SensorWarning(w) => Some(format!("{}: {}", w.code, w.message)),
                _ => None,
            })
            .collect();
        assert!(warnings.is_empty(), "{name}: {warnings:#?}");
        assert_eq!(count(&events, "ai.request"), calls, "{name}: ai.request");
        assert_eq!(count(&events, "ai.response"), calls, "{name}: ai.response");
        assert_eq!(
            count(&events, "agent.tool_call"),
            tool_calls,
            "{name}: tool calls"
        );
        assert_eq!(
            count(&events, "agent.tool_result"),
            tool_results,
            "{name}: tool results"
        );

        let mut requests = HashMap::new();
        for ev in &events {
            if let EventData::AiRequest(r) = &ev.data {
                requests.insert(r.request_id.clone().expect("request_id"), ev);
            }
        }
        for ev in &events {
            if let EventData::AiResponse(r) = &ev.data {
                let req = requests
                    .get(r.request_id.as_deref().expect("request_id"))
                    .unwrap_or_else(|| panic!("{name}: response without its request"));
                assert_eq!(
                    req.process.as_ref().and_then(|p| p.pid),
                    ev.process.as_ref().and_then(|p| p.pid)
                );
                assert!(ev.ts >= req.ts, "{name}: response before request");
                assert!(
                    ev.process.as_ref().and_then(|p| p.name.as_ref()).is_some(),
                    "{name}: response without process name"
                );
            }
        }
        let ids: std::collections::HashSet<_> = events.iter().map(|e| &e.event_id).collect();
        assert_eq!(ids.len(), events.len(), "{name}: event ids must be unique");
    }
}

fn responses(events: &[Event]) -> Vec<&oisp_event::AiResponse> {
    events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::AiResponse(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn first_text(r: &oisp_event::AiResponse) -> String {
    match r
        .choices
        .as_ref()
        .and_then(|c| c.first())
        .and_then(|c| c.message.as_ref())
        .and_then(|m| m.content.as_ref())
    {
        Some(oisp_event::Content::Text(t)) => t.clone(),
        _ => String::new(),
    }
}

/// (status, model, first choice text, total tokens) of one response.
type ResponseSummary = (Option<u16>, Option<String>, String, Option<u64>);

#[test]
fn curl_over_http1_and_http2_decode_identically() {
    let summarise = |name| -> Vec<ResponseSummary> {
        responses(&decode(name))
            .iter()
            .map(|r| {
                (
                    r.status_code,
                    r.model.as_ref().and_then(|m| m.id.clone()),
                    first_text(r),
                    r.usage.as_ref().and_then(|u| u.total_tokens),
                )
            })
            .collect()
    };
    let h1 = summarise("curl-h1");
    assert_eq!(h1, summarise("curl-h2"));
    let statuses: Vec<_> = h1.iter().map(|r| r.0.unwrap()).collect();
    assert_eq!(statuses, [200, 200, 200, 401, 200, 200, 529]);
    assert!(
        h1[1]
            .2
            .starts_with("This is a mock reply to: \"Stream to curl"),
        "{:?}",
        h1[1]
    );
}

#[test]
fn openai_python_streams_tools_and_usage_are_decoded() {
    let events = decode("openai-python");
    let reqs: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::AiRequest(r) => Some(r),
            _ => None,
        })
        .collect();
    assert!(reqs.iter().any(|r| r.streaming == Some(true)));
    // The auth header is never emitted: only prefix and hash.
    let auth = reqs[0].auth.as_ref().expect("auth");
    assert_eq!(auth.key_prefix.as_deref(), Some("sk-proj-"));
    assert!(auth.key_hash.as_deref().unwrap().starts_with("sha256:"));
    let line = serde_json::to_string(&reqs[0]).unwrap();
    assert!(!line.contains("TESTKEY"), "secret leaked: {line}");

    let resps = responses(&events);
    // include_usage stream: usage arrives in the final chunk, time to first token is measured.
    let streamed = resps
        .iter()
        .find(|r| r.time_to_first_token_ms.is_some() && r.usage.is_some())
        .expect("a streamed response with usage");
    let u = streamed.usage.as_ref().unwrap();
    assert_eq!(
        u.total_tokens,
        Some(u.prompt_tokens.unwrap() + u.completion_tokens.unwrap())
    );
    // Parallel tool calls, with arguments as JSON objects.
    let calls: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::AgentToolCall(c) => Some(c),
            _ => None,
        })
        .collect();
    let paris = calls
        .iter()
        .find(|c| {
            c.arguments
                .as_ref()
                .and_then(|a| a.get("location"))
                .and_then(|v| v.as_str())
                == Some("Paris")
        })
        .expect("Paris tool call");
    assert_eq!(paris.tool.name.as_deref(), Some("get_weather"));
    // Errors are decoded into the response.
    let limited = resps
        .iter()
        .find(|r| r.status_code == Some(429))
        .expect("429");
    assert_eq!(limited.success, Some(false));
    assert!(limited
        .error
        .as_ref()
        .and_then(|e| e.message.as_ref())
        .is_some());
}

#[test]
fn the_two_megabyte_prompt_decodes_whole() {
    let events = decode("large-prompt");
    let req = events
        .iter()
        .find_map(|e| match &e.data {
            EventData::AiRequest(r) => Some(r),
            _ => None,
        })
        .expect("request");
    let total: u64 = req
        .messages
        .iter()
        .flatten()
        .map(|m| m.content_length.unwrap_or(0))
        .sum();
    assert!(total >= 2 * 1024 * 1024, "prompt has {total} chars");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.confidence.completeness.as_str() != "full")
            .count(),
        0
    );
}

#[test]
fn decoding_is_deterministic_and_matches_the_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let dir = root().join("fixtures/golden");
    for &(name, ..) in FIXTURES {
        if name == "large-prompt" {
            continue; // 2 MB of prompt: covered by the test above, too big for a golden file.
        }
        let render = |events: Vec<Event>| -> String {
            events.iter().map(|e| e.to_json_line() + "\n").collect()
        };
        let got = render(decode(name));
        assert_eq!(
            got,
            render(decode(name)),
            "{name}: decoding is not deterministic"
        );
        let path = dir.join(format!("{name}.jsonl"));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run with UPDATE_GOLDEN=1 to create)",
                path.display()
            )
        });
        if got != want {
            let (g, w): (Vec<_>, Vec<_>) = (got.lines().collect(), want.lines().collect());
            let first = g
                .iter()
                .zip(&w)
                .position(|(a, b)| a != b)
                .unwrap_or(g.len().min(w.len()));
            panic!(
                "{name}: output differs from {} at line {} (got {} lines, golden {}).\n got: {}\nwant: {}\nIf the change is intended, regenerate with UPDATE_GOLDEN=1 and review the diff.",
                path.display(),
                first + 1,
                g.len(),
                w.len(),
                g.get(first).unwrap_or(&""),
                w.get(first).unwrap_or(&"")
            );
        }
    }
}
