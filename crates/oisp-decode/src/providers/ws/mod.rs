//! Calls carried by WebSocket messages (after `ws` decoded the frames): per connection, the
//! API is chosen from the handshake path — `…/realtime` (OpenAI Realtime) or `…/responses`
//! (the Responses API over WebSocket) — and messages are grouped into turns, each handed out
//! as a [`WsTurn`] (an `HttpExchange` the provider decoders read, plus [`WsCallInfo`]).
//!
//! Nothing is dropped silently: messages on connections of no known API, binary or non-JSON
//! messages and messages of unknown `type` are counted ([`WsCalls::unmatched`]); the unknown
//! types of a turn are also listed in its `WsCallInfo` and as warnings on its call.

mod realtime;
mod responses;
mod turn;

pub use turn::{WsCallInfo, WsTurn};

use super::{decode_exchange, AiCall};
use crate::http::Side;
use crate::ws::{WsHandshake, WsKind, WsMessage, WsOutput};
use realtime::Realtime;
use responses::ResponsesWs;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use turn::Pending;

/// Most WebSocket connections followed at once; beyond it the one with the lowest connection id
/// is ended early (its unfinished turn reported as it is).
const MAX_SESSIONS: usize = 4096;

enum Api {
    Realtime(Box<Realtime>),
    Responses(ResponsesWs),
    /// No AI API known on this path: messages are only counted.
    Other,
}

/// What handlers write to: the info of the turn being built, its warnings, finished turns.
pub(crate) struct Ctx {
    pub info: WsCallInfo,
    pub warnings: Vec<String>,
    finished: Vec<Pending>,
    unknown_total: u64,
}

impl Ctx {
    /// A turn is complete.
    pub fn finish(&mut self, p: Pending) {
        self.finished.push(p);
    }

    /// A message of a type this decoder does not know.
    pub fn unknown(&mut self, ty: &str) {
        *self.info.unknown_types.entry(ty.to_string()).or_default() += 1;
        self.unknown_total += 1;
    }
}

struct Session {
    hs: Arc<WsHandshake>,
    api: Api,
    ctx: Ctx,
    turns: u32,
}

impl Session {
    fn new(hs: Arc<WsHandshake>) -> Session {
        let path = hs.path.split(['?', '#']).next().unwrap_or("");
        let path = path.trim_end_matches('/');
        let (api, name) = if path.ends_with("/realtime") {
            (
                Api::Realtime(Box::new(Realtime::new(&hs.path))),
                "openai_realtime",
            )
        } else if path.ends_with("/responses") {
            (Api::Responses(ResponsesWs::default()), "openai_responses")
        } else {
            (Api::Other, "")
        };
        let ctx = Ctx {
            info: WsCallInfo {
                api: name,
                compressed: hs.deflate.is_some(),
                ..Default::default()
            },
            warnings: Vec::new(),
            finished: Vec::new(),
            unknown_total: 0,
        };
        Session {
            hs,
            api,
            ctx,
            turns: 0,
        }
    }

    fn message(&mut self, m: WsMessage) {
        match m.side {
            Side::Request => self.ctx.info.messages_sent += 1,
            Side::Response => self.ctx.info.messages_received += 1,
        }
        if matches!(self.api, Api::Other) {
            self.ctx.unknown_total += 1;
            return;
        }
        match m.kind {
            WsKind::Close { .. } => return,
            WsKind::Binary => return self.ctx.unknown("(binary message)"),
            WsKind::Text => {}
        }
        let Ok(v) = serde_json::from_slice::<Value>(&m.payload) else {
            return self.ctx.unknown("(not JSON)");
        };
        let ty = v
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let ts = m.ts_end;
        // Valid JSON is valid UTF-8.
        let text = |p: Vec<u8>| String::from_utf8(p).unwrap_or_default();
        match (&mut self.api, m.side) {
            (Api::Realtime(r), Side::Request) => r.client(&ty, v, ts, &mut self.ctx),
            (Api::Realtime(r), Side::Response) => {
                r.server(&ty, text(m.payload), v, ts, &mut self.ctx)
            }
            (Api::Responses(r), Side::Request) => r.client(&ty, &v, m.payload, ts, &mut self.ctx),
            (Api::Responses(r), Side::Response) => {
                r.server(&ty, text(m.payload), ts, &mut self.ctx)
            }
            (Api::Other, _) => {}
        }
    }

    fn end(&mut self) {
        match &mut self.api {
            Api::Realtime(r) => r.end(&mut self.ctx),
            Api::Responses(r) => r.end(&mut self.ctx),
            Api::Other => {}
        }
    }

    fn drain(&mut self, out: &mut Vec<WsTurn>) {
        for p in std::mem::take(&mut self.ctx.finished) {
            let info = WsCallInfo {
                api: self.ctx.info.api,
                turn: self.turns,
                compressed: self.ctx.info.compressed,
                ..Default::default()
            };
            let info = std::mem::replace(&mut self.ctx.info, info);
            let exchange = p.into_exchange(&self.hs, &self.hs.path, self.turns);
            out.push(WsTurn {
                exchange,
                info: WsCallInfo {
                    turn: self.turns,
                    ..info
                },
                warnings: std::mem::take(&mut self.ctx.warnings),
            });
            self.turns = self.turns.saturating_add(1);
        }
    }
}

/// WebSocket sessions of live connections, turning messages into turns.
#[derive(Default)]
pub struct WsCalls {
    sessions: BTreeMap<u64, Session>,
    unmatched: u64,
}

impl WsCalls {
    /// Takes one output of the connection tracker; appends the turns it completes to `out`.
    pub fn push(&mut self, o: WsOutput, out: &mut Vec<WsTurn>) {
        let id = o.conn_id();
        match o {
            WsOutput::Message(m) => {
                if !self.sessions.contains_key(&id) && self.sessions.len() >= MAX_SESSIONS {
                    if let Some((_, mut s)) = self.sessions.pop_first() {
                        self.close(&mut s, out);
                    }
                }
                let s = self
                    .sessions
                    .entry(id)
                    .or_insert_with(|| Session::new(m.handshake.clone()));
                s.message(m);
                s.drain(out);
            }
            WsOutput::End { .. } => {
                if let Some(mut s) = self.sessions.remove(&id) {
                    self.close(&mut s, out);
                }
            }
        }
    }

    /// Messages not part of any call: on connections of no known API, binary, not JSON, or of
    /// an unknown `type`.
    pub fn unmatched(&self) -> u64 {
        self.unmatched
            + self
                .sessions
                .values()
                .map(|s| s.ctx.unknown_total)
                .sum::<u64>()
    }

    fn close(&mut self, s: &mut Session, out: &mut Vec<WsTurn>) {
        s.end();
        s.drain(out);
        self.unmatched += s.ctx.unknown_total;
    }
}

/// Decodes one turn like an HTTP exchange ([`decode_exchange`]); the call is marked streamed,
/// carries the turn's [`WsCallInfo`] and a warning per unknown message type.
pub fn decode_ws_turn(t: &WsTurn) -> Option<AiCall> {
    let mut call = decode_exchange(&t.exchange)?;
    call.request.streaming = true;
    call.warnings.extend(t.warnings.iter().cloned());
    for (ty, n) in &t.info.unknown_types {
        call.warnings
            .push(format!("websocket: {n} message(s) of unknown type `{ty}`"));
    }
    call.websocket = Some(t.info.clone());
    Some(call)
}
