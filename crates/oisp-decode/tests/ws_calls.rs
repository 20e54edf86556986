//! WebSocket APIs through the whole decoder (records → events): OpenAI Realtime with the beta
//! event names, audio (counted, never copied), server-initiated responses, unknown message types
//! (counted and warned), errors outside a response, a turn cut by the connection's close, and
//! WebSocket traffic of no known API (counted, no calls). Every event validates against the
//! schemas.

use oisp_capture::*;
use oisp_decode::{decode_records, DecodeStats};
use oisp_event::{Event, EventData};
use serde_json::{json, Value};

const KEY: [u8; 4] = [9, 8, 7, 6];

fn ts(ms: u64) -> Timestamp {
    Timestamp {
        wall_ns: 1_800_000_000_000_000_000 + ms * 1_000_000,
        mono_ns: ms * 1_000_000,
    }
}

/// One client connection to api.openai.com: handshake on `path`, then scripted messages.
struct Script {
    recs: Vec<RawRecord>,
    seq: [u64; 2],
    ms: u64,
}

impl Script {
    fn new(path: &str) -> Script {
        let mut s = Script {
            recs: vec![RawRecord::ConnOpen(ConnOpen {
                conn_id: 1,
                ts: ts(0),
                pid: 77,
                tid: 77,
                role: ConnRole::Client,
                source: DataSource::OpenSsl,
                local: None,
                remote: None,
                sni: Some("api.openai.com".into()),
                alpn: Some("http/1.1".into()),
            })],
            seq: [0; 2],
            ms: 0,
        };
        s.data(Direction::Egress, format!("GET {path} HTTP/1.1\r\nHost: api.openai.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nAuthorization: Bearer sk-proj-abcdefghijklmnopqrstuvwxyz0123456789\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n").into_bytes());
        s.data(Direction::Ingress, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nx-request-id: req_ws_1\r\n\r\n".to_vec());
        s
    }

    fn data(&mut self, dir: Direction, bytes: Vec<u8>) {
        let i = (dir == Direction::Ingress) as usize;
        self.ms += 5;
        let n = bytes.len() as u64;
        self.recs.push(RawRecord::Data(DataChunk {
            conn_id: 1,
            direction: dir,
            seq: self.seq[i],
            ts: ts(self.ms),
            pid: 77,
            tid: 77,
            source: DataSource::OpenSsl,
            truncated_len: 0,
            bytes,
        }));
        self.seq[i] += n;
    }

    /// A text message from the client (masked).
    fn up(&mut self, v: Value) -> &mut Self {
        let p = v.to_string().into_bytes();
        let mut f = vec![0x81];
        push_len(&mut f, p.len(), 0x80);
        f.extend_from_slice(&KEY);
        f.extend(p.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
        self.data(Direction::Egress, f);
        self
    }

    /// A text message from the server.
    fn down(&mut self, v: Value) -> &mut Self {
        let p = v.to_string().into_bytes();
        let mut f = vec![0x81];
        push_len(&mut f, p.len(), 0);
        f.extend_from_slice(&p);
        self.data(Direction::Ingress, f);
        self
    }

    fn raw_down(&mut self, f: Vec<u8>) -> &mut Self {
        self.data(Direction::Ingress, f);
        self
    }

    fn decode(&mut self) -> (Vec<Event>, DecodeStats) {
        self.ms += 5;
        self.recs.push(RawRecord::ConnClose(ConnClose {
            conn_id: 1,
            ts: ts(self.ms),
            pid: 77,
        }));
        let (events, stats) = decode_records(&self.recs);
        for ev in &events {
            if let Err(e) = oisp_event::schema::validate_event(ev) {
                panic!("{} invalid: {e:#?}", ev.event_type());
            }
        }
        (events, stats)
    }
}

fn push_len(f: &mut Vec<u8>, n: usize, mask: u8) {
    if n < 126 {
        f.push(mask | n as u8);
    } else {
        f.push(mask | 126);
        f.extend_from_slice(&(n as u16).to_be_bytes());
    }
}

fn of_type<'a>(events: &'a [Event], t: &str) -> Vec<&'a Event> {
    events.iter().filter(|e| e.event_type() == t).collect()
}

fn json_of(e: &Event) -> Value {
    serde_json::to_value(e).unwrap()
}

fn warnings(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::SensorWarning(w) => Some(format!("{}: {}", w.code, w.message)),
            _ => None,
        })
        .collect()
}

/// 3000 bytes of "audio", base64.
fn audio() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode([7u8; 3000])
}

#[test]
fn realtime_beta_names_audio_and_unknown_types() {
    let mut s = Script::new("/v1/realtime?model=gpt-4o-realtime-preview");
    s.down(json!({"type": "session.created", "session": {"model": "gpt-4o-realtime-preview"}}))
        .up(json!({"type": "session.update", "session": {"instructions": "Be kind.", "modalities": ["text", "audio"]}}))
        .up(json!({"type": "input_audio_buffer.append", "audio": audio()}))
        .up(json!({"type": "conversation.item.create", "item": {"type": "message", "role": "user",
            "content": [{"type": "input_audio", "audio": audio(), "transcript": "hello there"}]}}))
        .up(json!({"type": "x.client.novelty"}))
        .up(json!({"type": "response.create"}))
        .down(json!({"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}}))
        .down(json!({"type": "response.audio.delta", "delta": audio()}))
        .down(json!({"type": "response.audio_transcript.delta", "delta": "Hi "}))
        .down(json!({"type": "response.text.delta", "delta": "friend"}))
        .down(json!({"type": "x.server.novelty"}))
        .down(json!({"type": "response.done", "response": {"id": "resp_1", "status": "completed",
            "output": [{"type": "message", "role": "assistant", "content": [{"type": "audio", "transcript": "Hi friend"}]}],
            "usage": {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42,
                      "input_token_details": {"cached_tokens": 4}}}}));
    let (events, stats) = s.decode();
    assert_eq!(stats.ws_turns, 1);
    assert_eq!(stats.ws_unmatched_messages, 2);
    let req = json_of(of_type(&events, "ai.request")[0]);
    assert_eq!(req["data"]["model"]["id"], "gpt-4o-realtime-preview");
    assert_eq!(req["data"]["messages"][0]["content"], "Be kind.");
    assert_eq!(req["data"]["messages"][1]["content"], "hello there");
    assert_eq!(req["data"]["streaming"], true);
    let ws = &req["attrs"]["websocket"];
    assert_eq!(ws["api"], "openai_realtime");
    assert_eq!(ws["audio_in_bytes"], 6000);
    assert_eq!(ws["audio_out_bytes"], 3000);
    assert_eq!(
        ws["unknown_types"],
        json!({"x.client.novelty": 1, "x.server.novelty": 1})
    );
    let resp = json_of(of_type(&events, "ai.response")[0]);
    assert_eq!(
        resp["data"]["choices"][0]["message"]["content"],
        "Hi friend"
    );
    assert_eq!(resp["data"]["usage"]["prompt_tokens"], 12);
    assert_eq!(resp["data"]["usage"]["cached_tokens"], 4);
    assert_eq!(resp["data"]["provider_request_id"], "req_ws_1");
    let all = serde_json::to_string(&events).unwrap();
    assert!(!all.contains(&audio()[..64]), "audio copied into events");
    let limits = resp["confidence"]["limitations"].to_string();
    assert!(
        limits.contains("unknown type `x.server.novelty`"),
        "{limits}"
    );
    assert!(warnings(&events).is_empty(), "{:?}", warnings(&events));
}

#[test]
fn server_initiated_response_with_transcribed_speech_and_error_outside_a_response() {
    let mut s = Script::new("/v1/realtime?model=gpt-realtime");
    s.down(json!({"type": "error", "error": {"type": "invalid_request_error", "message": "bad session"}}))
        .up(json!({"type": "input_audio_buffer.append", "audio": audio()}))
        .down(json!({"type": "input_audio_buffer.speech_stopped", "item_id": "item_1"}))
        .down(json!({"type": "conversation.item.input_audio_transcription.completed",
            "item_id": "item_1", "content_index": 0, "transcript": "spoken question"}))
        .down(json!({"type": "response.created", "response": {"id": "r2"}}))
        .down(json!({"type": "response.output_text.delta", "delta": "answer"}))
        .down(json!({"type": "response.done", "response": {"id": "r2", "status": "cancelled",
            "usage": {"input_tokens": 3, "output_tokens": 1}}}));
    let (events, _) = s.decode();
    let req = json_of(of_type(&events, "ai.request")[0]);
    assert_eq!(req["data"]["messages"][0]["content"], "spoken question");
    assert_eq!(req["data"]["messages"][0]["role"], "user");
    let resp = json_of(of_type(&events, "ai.response")[0]);
    assert_eq!(resp["data"]["choices"][0]["message"]["content"], "answer");
    let limits = resp["confidence"]["limitations"].to_string();
    assert!(limits.contains("bad session"), "{limits}");
    assert_eq!(
        json_of(of_type(&events, "ai.request")[0])["data"]["model"]["id"],
        "gpt-realtime"
    );
}

#[test]
fn turn_cut_by_close_is_reported_incomplete() {
    let mut s = Script::new("/v1/responses");
    s.up(json!({"type": "response.create", "model": "gpt-4o-mini", "input": "hi"}))
        .down(json!({"type": "response.created", "response": {"id": "resp_9", "status": "in_progress"}}))
        .down(json!({"type": "response.output_text.delta", "delta": "par"}));
    // Half a frame, then the connection closes.
    s.raw_down(vec![0x81, 0x20, b'{']);
    let (events, stats) = s.decode();
    assert_eq!(stats.ws_turns, 1);
    let resp = json_of(of_type(&events, "ai.response")[0]);
    assert_eq!(resp["data"]["choices"][0]["message"]["content"], "par");
    assert!(resp["confidence"]["limitations"]
        .to_string()
        .contains("stream truncated"));
    let w = warnings(&events);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("ws_truncated"), "{w:?}");
}

#[test]
fn websocket_of_no_known_api_is_counted_not_called() {
    let mut s = Script::new("/socket.io/?EIO=4");
    s.up(json!({"type": "hello"})).down(json!({"ok": true}));
    let (events, stats) = s.decode();
    assert!(of_type(&events, "ai.request").is_empty());
    assert_eq!(stats.ws_unmatched_messages, 2);
    assert_eq!(stats.tracker.ws_messages, 2);
    assert!(warnings(&events).is_empty());
}
