//! A WebSocket turn (one request message and the server messages answering it) as the
//! `HttpExchange` the provider decoders read: the client message is the request body, each
//! server message one SSE event whose data is the message text. This is what lets the
//! Responses-over-WebSocket mode reuse the Responses stream decoder unchanged.

use crate::http::{Body, Headers, HttpExchange, HttpRequest, HttpResponse, HttpVersion, SseEvent};
use crate::ws::WsHandshake;
use oisp_capture::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a call that travelled over a WebSocket adds to its events (`websocket` attribute).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct WsCallInfo {
    /// "openai_realtime" or "openai_responses".
    pub api: &'static str,
    /// Turn number on the connection (0, 1, ...).
    pub turn: u32,
    /// Client → server and server → client messages of this turn (since the previous one).
    pub messages_sent: u64,
    pub messages_received: u64,
    /// permessage-deflate was negotiated.
    pub compressed: bool,
    /// Audio carried in base64 deltas, decoded size (never the audio itself).
    pub audio_in_bytes: u64,
    pub audio_out_bytes: u64,
    pub audio_out_chunks: u64,
    /// Responses `response.create` prewarms (`generate: false`) since the previous turn: accepted
    /// by the server, nothing generated, not reported as calls.
    pub prewarms: u64,
    /// Messages whose `type` this decoder does not know, by type (client and server).
    pub unknown_types: BTreeMap<String, u64>,
}

/// One turn ready for the provider decoders.
#[derive(Debug, Clone, PartialEq)]
pub struct WsTurn {
    pub exchange: HttpExchange,
    pub info: WsCallInfo,
    /// Sentences about the turn (server errors outside a response, messages out of place).
    pub warnings: Vec<String>,
}

/// Turn being collected.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub body: Vec<u8>,
    pub req_start: Timestamp,
    pub req_end: Timestamp,
    pub events: Vec<SseEvent>,
    pub resp_start: Option<Timestamp>,
    pub resp_end: Timestamp,
}

impl Pending {
    pub fn push_event(&mut self, name: &str, data: String, ts: Timestamp) {
        self.resp_start.get_or_insert(ts);
        self.resp_end = ts;
        self.events.push(SseEvent {
            event: Some(name.to_string()),
            data,
            id: None,
            ts,
        });
    }

    /// The exchange: `POST {path}` with the handshake's request headers (credentials, user
    /// agent, SDK headers) and `body`; a `200` event-stream response of the collected events
    /// (none when no server message answered).
    pub fn into_exchange(self, hs: &WsHandshake, path: &str, index: u32) -> HttpExchange {
        let mut req_headers = hs.request_headers.clone();
        req_headers
            .0
            .push(("content-type".into(), "application/json".into()));
        let response = self.resp_start.map(|start| {
            let mut headers: Vec<(String, String)> = hs
                .response_headers
                .0
                .iter()
                .filter(|(k, _)| k.starts_with("x-") || k.ends_with("request-id"))
                .cloned()
                .collect();
            headers.push(("content-type".into(), "text/event-stream".into()));
            HttpResponse {
                status: 200,
                headers: Headers(headers),
                body: Body::default(),
                sse: Some(self.events),
                ts_start: start,
                ts_end: self.resp_end,
            }
        });
        HttpExchange {
            conn: hs.conn.clone(),
            version: HttpVersion::Http11,
            stream_id: None,
            index,
            request: HttpRequest {
                method: "POST".into(),
                path: path.to_string(),
                authority: hs.authority.clone(),
                headers: req_headers,
                body: Body {
                    arrivals: vec![(0, self.req_start)],
                    bytes: self.body,
                    ..Default::default()
                },
                ts_start: self.req_start,
                ts_end: self.req_end,
            },
            response,
            upgrade: None,
            warnings: Vec::new(),
        }
    }
}

/// Decoded size of a base64 string of `len` characters.
pub(crate) fn base64_bytes(len: usize) -> u64 {
    (len as u64 / 4) * 3
}
