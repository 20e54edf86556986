//! The OpenAI Responses API over WebSocket (the mode Codex calls `supports_websockets`): each
//! client `response.create` message carries a normal Responses request body (its `type` key
//! aside) and the server answers with the same JSON events as the SSE stream, ending with
//! `response.completed` / `response.failed` / `response.incomplete` / `error`. The turn is
//! handed to the Responses decoder as it is. A `response.create` with `"generate": false` (Codex
//! sends one first to warm the connection up) generates nothing: it is counted
//! (`WsCallInfo::prewarms` of the next turn), not reported as a call.

use super::turn::Pending;
use super::Ctx;
use oisp_capture::Timestamp;
use serde_json::Value;

#[derive(Default)]
pub(crate) struct ResponsesWs {
    pending: Option<Pending>,
    /// The pending turn is a prewarm (`generate: false`).
    prewarm: bool,
}

const TERMINAL: &[&str] = &[
    "response.completed",
    "response.failed",
    "response.incomplete",
    "error",
];

impl ResponsesWs {
    /// A client message; `raw` is its JSON text.
    pub fn client(&mut self, ty: &str, v: &Value, raw: Vec<u8>, ts: Timestamp, ctx: &mut Ctx) {
        match ty {
            "response.create" => {
                if let Some(p) = self.pending.take() {
                    ctx.warnings.push(
                        "responses websocket: response.create before the previous response ended"
                            .into(),
                    );
                    self.close_turn(p, ctx);
                }
                self.prewarm = v.get("generate").and_then(Value::as_bool) == Some(false);
                self.pending = Some(Pending {
                    body: raw,
                    req_start: ts,
                    req_end: ts,
                    ..Default::default()
                });
            }
            "response.cancel" => {}
            t => ctx.unknown(t),
        }
    }

    /// A server message; every one inside a turn is an event of its stream (the Responses
    /// decoder judges the types).
    pub fn server(&mut self, ty: &str, text: String, ts: Timestamp, ctx: &mut Ctx) {
        let Some(p) = self.pending.as_mut() else {
            ctx.warnings
                .push(format!("responses websocket: `{ty}` outside a response"));
            return;
        };
        p.push_event(ty, text, ts);
        if TERMINAL.contains(&ty) {
            if let Some(p) = self.pending.take() {
                self.close_turn(p, ctx);
            }
        }
    }

    pub fn end(&mut self, ctx: &mut Ctx) {
        if let Some(p) = self.pending.take() {
            self.close_turn(p, ctx);
        }
    }

    fn close_turn(&mut self, p: Pending, ctx: &mut Ctx) {
        if std::mem::take(&mut self.prewarm) {
            ctx.info.prewarms += 1;
        } else {
            ctx.finish(p);
        }
    }
}
