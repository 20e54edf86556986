//! `Decoder::drain_ignorable`: a client connection is handed out after `IGNORE_AFTER`
//! consecutive clearly non-AI exchanges, never when anything about it looks like AI traffic, and
//! its later records are dropped unread while AI calls on other connections decode in full.

use oisp_capture::*;
use oisp_decode::{Decoder, IGNORE_AFTER};
use oisp_event::{Event, EventData};

fn ts(ms: u64) -> Timestamp {
    Timestamp {
        wall_ns: 1_800_000_000_000_000_000 + ms * 1_000_000,
        mono_ns: ms * 1_000_000,
    }
}

/// One connection's records, with running stream offsets.
struct Conn {
    id: u64,
    seq: [u64; 2],
    ms: u64,
}

impl Conn {
    fn open(id: u64, role: ConnRole, sni: &str) -> (Conn, RawRecord) {
        let rec = RawRecord::ConnOpen(ConnOpen {
            conn_id: id,
            ts: ts(id),
            pid: 42,
            tid: 42,
            role,
            source: DataSource::OpenSsl,
            local: Some("127.0.0.1:40000".parse().unwrap()),
            remote: Some("127.0.0.1:8443".parse().unwrap()),
            sni: Some(sni.to_string()),
            alpn: None,
        });
        (
            Conn {
                id,
                seq: [0, 0],
                ms: id,
            },
            rec,
        )
    }

    fn data(&mut self, egress: bool, bytes: &[u8]) -> RawRecord {
        let d = usize::from(!egress);
        self.ms += 1;
        let rec = RawRecord::Data(DataChunk {
            conn_id: self.id,
            direction: if egress {
                Direction::Egress
            } else {
                Direction::Ingress
            },
            seq: self.seq[d],
            ts: ts(self.ms),
            pid: 42,
            tid: 42,
            source: DataSource::OpenSsl,
            truncated_len: 0,
            bytes: bytes.to_vec(),
        });
        self.seq[d] += bytes.len() as u64;
        rec
    }

    /// A request and its response.
    fn exchange(&mut self, req: &str, resp_type: &str, resp_body: &str) -> [RawRecord; 2] {
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {resp_type}\r\ncontent-length: {}\r\n\r\n{resp_body}",
            resp_body.len()
        );
        [
            self.data(true, req.as_bytes()),
            self.data(false, resp.as_bytes()),
        ]
    }
}

const PAGE: &str = "GET /page HTTP/1.1\r\nhost: static.example.org\r\n\r\n";

fn chat_request() -> String {
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hi"}]}"#;
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: api.openai.com\r\nauthorization: Bearer sk-test\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

const CHAT_REPLY: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1767225600,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hi there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#;

fn push(dec: &mut Decoder, recs: impl IntoIterator<Item = RawRecord>, out: &mut Vec<Event>) {
    for r in recs {
        dec.push(&r, out);
    }
}

fn ai_requests(evs: &[Event]) -> usize {
    evs.iter()
        .filter(|e| matches!(e.data, EventData::AiRequest(_)))
        .count()
}

#[test]
fn plain_keepalive_connection_is_ignored_after_n_and_ai_elsewhere_decodes() {
    let mut dec = Decoder::default();
    let mut out = Vec::new();
    let mut ready = Vec::new();
    let (mut web, open) = Conn::open(1, ConnRole::Client, "static.example.org");
    push(&mut dec, [open], &mut out);
    for i in 0..IGNORE_AFTER {
        dec.drain_ignorable(&mut ready);
        assert!(ready.is_empty(), "ignored after only {i} exchanges");
        push(
            &mut dec,
            web.exchange(PAGE, "text/html", "<p>hello</p>"),
            &mut out,
        );
    }
    dec.drain_ignorable(&mut ready);
    assert_eq!(
        ready,
        vec![1],
        "ignorable after {IGNORE_AFTER} plain exchanges"
    );
    dec.drain_ignorable(&mut ready);
    assert_eq!(ready, vec![1], "handed out once");

    // Records still in flight for the ignored connection are dropped unread (no warnings),
    // while an AI call on another connection of the same process decodes in full.
    let (mut ai, open) = Conn::open(2, ConnRole::Client, "api.openai.com");
    push(&mut dec, [open], &mut out);
    push(
        &mut dec,
        [web.data(true, b"GET /page HTTP/1.1\r\nhost: static.exa")],
        &mut out,
    );
    push(
        &mut dec,
        ai.exchange(&chat_request(), "application/json", CHAT_REPLY),
        &mut out,
    );
    push(
        &mut dec,
        web.exchange(PAGE, "text/html", "<p>hello</p>"),
        &mut out,
    );
    dec.finish(&mut out);
    assert_eq!(ai_requests(&out), 1);
    let warnings: Vec<_> = out
        .iter()
        .filter(|e| matches!(e.data, EventData::SensorWarning(_)))
        .collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
    let s = dec.stats();
    assert_eq!(s.ignorable_conns, 1);
    assert_eq!(s.ignored_records, 3);
}

#[test]
fn anything_ai_ish_keeps_a_connection_copied() {
    let cases: Vec<(&str, String, &str)> = vec![
        // an AI call first, then plain traffic on the same connection
        ("ai call", chat_request(), "application/json"),
        // a provider host, even for a non-inference request
        (
            "provider host",
            "GET /v1/models HTTP/1.1\r\nhost: api.openai.com\r\n\r\n".into(),
            "application/json",
        ),
        // an AI API path on an unknown host
        (
            "ai path",
            "GET /v1/chat/completions HTTP/1.1\r\nhost: gw.internal\r\n\r\n".into(),
            "application/json",
        ),
        // an SDK header
        (
            "sdk header",
            "GET /x HTTP/1.1\r\nhost: gw.internal\r\nx-stainless-lang: python\r\n\r\n".into(),
            "application/json",
        ),
        // a streamed response
        (
            "event stream",
            "GET /x HTTP/1.1\r\nhost: gw.internal\r\n\r\n".into(),
            "text/event-stream",
        ),
    ];
    for (what, first, ctype) in cases {
        let mut dec = Decoder::default();
        let mut out = Vec::new();
        let (mut c, open) = Conn::open(7, ConnRole::Client, "gw.internal");
        push(&mut dec, [open], &mut out);
        let body = if ctype == "text/event-stream" {
            "data: {}\n\n"
        } else {
            CHAT_REPLY
        };
        push(&mut dec, c.exchange(&first, ctype, body), &mut out);
        for _ in 0..IGNORE_AFTER * 3 {
            push(
                &mut dec,
                c.exchange(PAGE, "text/html", "<p>x</p>"),
                &mut out,
            );
        }
        let mut ready = Vec::new();
        dec.drain_ignorable(&mut ready);
        assert!(
            ready.is_empty(),
            "{what}: connection handed out as ignorable"
        );
    }
}

#[test]
fn server_side_and_closed_connections_are_not_handed_out() {
    let mut dec = Decoder::default();
    let mut out = Vec::new();
    let (mut srv, open) = Conn::open(3, ConnRole::Server, "static.example.org");
    push(&mut dec, [open], &mut out);
    for _ in 0..IGNORE_AFTER * 2 {
        // the server's view: it reads requests and writes responses
        let req = srv.data(false, PAGE.as_bytes());
        let resp = srv.data(true, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        push(&mut dec, [req, resp], &mut out);
    }
    let mut ready = Vec::new();
    dec.drain_ignorable(&mut ready);
    assert!(ready.is_empty(), "server side handed out");

    // closes before reaching N: forgotten, a later connection id starts from zero
    let (mut c, open) = Conn::open(4, ConnRole::Client, "static.example.org");
    push(&mut dec, [open], &mut out);
    for _ in 0..IGNORE_AFTER - 1 {
        push(
            &mut dec,
            c.exchange(PAGE, "text/html", "<p>x</p>"),
            &mut out,
        );
    }
    push(
        &mut dec,
        [RawRecord::ConnClose(ConnClose {
            conn_id: 4,
            ts: ts(500),
            pid: 42,
        })],
        &mut out,
    );
    dec.drain_ignorable(&mut ready);
    assert!(ready.is_empty());
}
