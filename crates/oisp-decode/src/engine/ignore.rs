//! Which client connections the capture may stop copying because they carry no AI traffic.
//!
//! The rule, deliberately conservative (a missed AI call is worse than a copied byte):
//! a connection becomes *ignorable* after [`IGNORE_AFTER`] consecutive complete exchanges that
//! are each clearly not AI traffic, and it is never ignorable once any of its exchanges looks
//! AI-ish. An exchange is clearly not AI traffic when all of these hold:
//! - it was seen from the client side (`ConnRole::Client`);
//! - it has a response, no protocol upgrade (WebSocket: realtime APIs), and no body was cut
//!   short or failed to decode;
//! - provider detection finds nothing: the `Host`/`:authority` and the SNI are not in the
//!   provider domain list or patterns, the port is not a local model server's, and the path and
//!   body match no inference fingerprint;
//! - its path has no AI API shape (`/chat/completions`, `/v1/messages`, `:generateContent`,
//!   `/api/chat`, `/embeddings`, ...), whatever the host;
//! - no request header an AI SDK or gateway sends (`x-stainless-*`, `anthropic-version`,
//!   `openai-*`, `x-api-key`, `api-key`, `x-goog-api-key`, a `Bearer sk-` token) and no
//!   `text/event-stream` response.
//!
//! An exchange that is neither AI-ish nor clean (no response, incomplete body, server side)
//! resets the count. Connections are forgotten when they close; at most [`MAX_TRACKED`] are
//! followed at once (beyond that new ones are simply never ignored).

use crate::http::HttpExchange;
use crate::providers;
use oisp_capture::ConnRole;
use std::collections::{HashMap, HashSet};

/// Consecutive clearly-non-AI exchanges after which a connection is ignorable.
pub const IGNORE_AFTER: u32 = 4;
/// Most connections followed at once.
pub const MAX_TRACKED: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// This many consecutive clean exchanges so far.
    Clean(u32),
    /// Looked AI-ish once: never ignorable.
    Never,
    /// Handed out as ignorable.
    Ignored,
}

/// Per-connection verdicts and the connections ready to be ignored.
#[derive(Debug, Default)]
pub(crate) struct IgnoreTracker {
    verdicts: HashMap<u64, Verdict>,
    ready: Vec<u64>,
    /// Ignored connections still open: their later records are dropped unread.
    ignored: HashSet<u64>,
}

impl IgnoreTracker {
    /// Takes note of one exchange of connection `conn_id`; `ai_call` is whether the provider
    /// decoders turned it into an AI call.
    pub(crate) fn exchange(&mut self, ex: &HttpExchange, ai_call: bool) {
        let id = ex.conn.conn_id;
        let known = self.verdicts.contains_key(&id);
        if !known && self.verdicts.len() >= MAX_TRACKED {
            return;
        }
        let verdict = self.verdicts.entry(id).or_insert(Verdict::Clean(0));
        if matches!(*verdict, Verdict::Never | Verdict::Ignored) {
            return;
        }
        if ai_call || looks_ai(ex) {
            *verdict = Verdict::Never;
            return;
        }
        let n = match *verdict {
            Verdict::Clean(n) if clean(ex) => n + 1,
            _ => 0,
        };
        if n >= IGNORE_AFTER {
            *verdict = Verdict::Ignored;
            self.ready.push(id);
            self.ignored.insert(id);
        } else {
            *verdict = Verdict::Clean(n);
        }
    }

    /// Whether `conn_id` was handed out as ignorable and is still open.
    pub(crate) fn is_ignored(&self, conn_id: u64) -> bool {
        self.ignored.contains(&conn_id)
    }

    /// The connection closed: forget it.
    pub(crate) fn closed(&mut self, conn_id: u64) {
        self.verdicts.remove(&conn_id);
        self.ignored.remove(&conn_id);
    }

    /// Moves the connections that became ignorable since the last call into `out`.
    pub(crate) fn drain(&mut self, out: &mut Vec<u64>) {
        out.append(&mut self.ready);
    }
}

/// A complete client-side exchange with nothing missing.
fn clean(ex: &HttpExchange) -> bool {
    let Some(resp) = &ex.response else {
        return false;
    };
    ex.conn.role == Some(ConnRole::Client)
        && ex.upgrade.is_none()
        && !ex.request.body.incomplete
        && ex.request.body.decode_error.is_none()
        && !resp.body.incomplete
        && resp.body.decode_error.is_none()
}

/// Anything about the exchange that an AI call could look like.
fn looks_ai(ex: &HttpExchange) -> bool {
    if ex.upgrade.is_some() || providers::detect(ex).is_some() {
        return true;
    }
    let (_, path) = providers::split_request_target(&ex.request.path);
    let path = path.split(['?', '#']).next().unwrap_or(path);
    if providers::path_has_ai_shape(path) {
        return true;
    }
    let ai_header = ex.request.headers.0.iter().any(|(k, v)| {
        k.starts_with("x-stainless-")
            || k.starts_with("openai-")
            || k.starts_with("anthropic-")
            || matches!(k.as_str(), "x-api-key" | "api-key" | "x-goog-api-key")
            || (k == "authorization"
                && v.trim_start()
                    .get(7..)
                    .is_some_and(|t| t.starts_with("sk-")))
    });
    let streamed = ex.response.as_ref().is_some_and(|r| {
        r.headers
            .get("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().contains("event-stream"))
    });
    ai_header || streamed
}
