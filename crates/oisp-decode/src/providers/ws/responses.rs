//! The OpenAI Responses API over WebSocket (the mode Codex calls `supports_websockets`): each
//! client `response.create` message carries a normal Responses request body (its `type` key
//! aside) and the server answers with the same JSON events as the SSE stream, ending with
//! `response.completed` / `response.failed` / `response.incomplete` / `error`. The turn is
//! handed to the Responses decoder as it is.

use super::turn::Pending;
use super::Ctx;
use oisp_capture::Timestamp;

#[derive(Default)]
pub(crate) struct ResponsesWs {
    pending: Option<Pending>,
}

const TERMINAL: &[&str] = &[
    "response.completed",
    "response.failed",
    "response.incomplete",
    "error",
];

impl ResponsesWs {
    /// A client message; `raw` is its JSON text.
    pub fn client(&mut self, ty: &str, raw: Vec<u8>, ts: Timestamp, ctx: &mut Ctx) {
        match ty {
            "response.create" => {
                if let Some(p) = self.pending.take() {
                    ctx.warnings.push(
                        "responses websocket: response.create before the previous response ended"
                            .into(),
                    );
                    ctx.finish(p);
                }
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
                ctx.finish(p);
            }
        }
    }

    pub fn end(&mut self, ctx: &mut Ctx) {
        if let Some(p) = self.pending.take() {
            ctx.finish(p);
        }
    }
}
