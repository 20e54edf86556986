//! Server-sent event streams of a response, each event's `data:` parsed as JSON: the one walk
//! over SSE events shared by the OpenAI Chat Completions, OpenAI Responses, Anthropic Messages
//! and Gemini (`alt=sse`) stream decoders.
//!
//! Contract of [`SseJson::iter`]: events come in stream order, numbered by their position among
//! *all* events (so warnings name the same event index whatever was skipped); events whose data
//! is empty (after trimming) are skipped, and so is `[DONE]` when the stream uses that marker
//! ([`DoneMarker::Used`]); anything else either parses as JSON ([`JsonEvent`]) or yields an
//! [`InvalidJson`] error whose `Display` is the warning the decoders record.

use super::common::{trim_ascii, ts_at};
use crate::http::{HttpResponse, SseEvent};
use oisp_capture::Timestamp;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// Whether a stream ends with OpenAI's `data: [DONE]` marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DoneMarker {
    /// `[DONE]` data is the end marker: skipped by the iterator, seen by [`SseJson::saw_done`].
    Used,
    /// The protocol has no such marker: `[DONE]` is ordinary (invalid JSON) data.
    NotUsed,
}

/// The SSE events of one response, ready to be walked as JSON.
pub(crate) struct SseJson<'a> {
    events: Cow<'a, [SseEvent]>,
    done_marker: DoneMarker,
}

/// One event whose data parsed as JSON.
#[derive(Debug)]
pub(crate) struct JsonEvent<'a> {
    /// Position among all the stream's events (skipped ones included), from 0.
    pub n: usize,
    /// The `event:` field, if present.
    pub name: Option<&'a str>,
    /// The parsed `data:`.
    pub value: Value,
    /// When the bytes completing this event were captured.
    pub ts: Timestamp,
}

/// An event whose data is not valid JSON.
#[derive(Debug)]
pub(crate) struct InvalidJson {
    /// Position among all the stream's events, as [`JsonEvent::n`].
    pub n: usize,
    pub error: serde_json::Error,
}

impl fmt::Display for InvalidJson {
    /// The warning recorded on the call: `stream event {n}: invalid JSON ({error})`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stream event {}: invalid JSON ({})", self.n, self.error)
    }
}

impl<'a> SseJson<'a> {
    /// The events of `resp`: the HTTP layer's when it parsed them, else parsed from the body
    /// (timestamps then come from `body.arrivals`).
    pub fn new(resp: &'a HttpResponse, done_marker: DoneMarker) -> Self {
        SseJson {
            events: sse_events(resp),
            done_marker,
        }
    }

    /// Number of events, skipped ones included (for truncation warnings).
    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    /// Every event counts as one chunk of the response (`AiResponse::chunk_count`), saturating.
    pub fn chunk_count(&self) -> u32 {
        u32::try_from(self.events.len()).unwrap_or(u32::MAX)
    }

    /// Whether some event was the `[DONE]` marker (always `false` with [`DoneMarker::NotUsed`]).
    pub fn saw_done(&self) -> bool {
        self.done_marker == DoneMarker::Used && self.events.iter().any(|e| is_done(&e.data))
    }

    /// The events with JSON data, in order; see the module docs for what is skipped.
    pub fn iter(&self) -> impl Iterator<Item = Result<JsonEvent<'_>, InvalidJson>> + '_ {
        self.events.iter().enumerate().filter_map(|(n, ev)| {
            let data = ev.data.trim();
            if data.is_empty() || (self.done_marker == DoneMarker::Used && is_done(data)) {
                return None;
            }
            Some(match serde_json::from_str(data) {
                Ok(value) => Ok(JsonEvent {
                    n,
                    name: ev.event.as_deref(),
                    value,
                    ts: ev.ts,
                }),
                Err(error) => Err(InvalidJson { n, error }),
            })
        })
    }
}

fn is_done(data: &str) -> bool {
    data.trim() == "[DONE]"
}

/// SSE events of a response: the HTTP layer's, or parsed here from the body when it did not
/// (timestamps then come from `body.arrivals`).
fn sse_events(resp: &HttpResponse) -> Cow<'_, [SseEvent]> {
    if let Some(ev) = &resp.sse {
        return Cow::Borrowed(ev);
    }
    let body = &resp.body;
    let mut out = Vec::new();
    let mut cur = SseEvent::default();
    let mut has_data = false;
    let mut pos = 0usize;
    let bytes = &body.bytes;
    while pos < bytes.len() {
        let end = bytes[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| pos + i);
        let line = String::from_utf8_lossy(&bytes[pos..end]);
        let line = line.strip_suffix('\r').unwrap_or(&line);
        if line.is_empty() {
            if has_data || cur.event.is_some() {
                cur.ts = ts_at(body, end.saturating_sub(1), resp.ts_end);
                out.push(std::mem::take(&mut cur));
                has_data = false;
            }
        } else if !line.starts_with(':') {
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => cur.event = Some(value.to_string()),
                "data" => {
                    if has_data {
                        cur.data.push('\n');
                    }
                    cur.data.push_str(value);
                    has_data = true;
                }
                "id" => cur.id = Some(value.to_string()),
                _ => {}
            }
        }
        pos = end + 1;
    }
    if has_data {
        cur.ts = ts_at(body, bytes.len().saturating_sub(1), resp.ts_end);
        out.push(cur);
    }
    Cow::Owned(out)
}

/// Whether a response is an event stream (by header, parsed events, or body prefix).
pub(crate) fn is_sse(resp: &HttpResponse) -> bool {
    resp.sse.is_some()
        || resp
            .headers
            .get("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().contains("text/event-stream"))
        || {
            let t = trim_ascii(&resp.body.bytes);
            t.starts_with(b"data:") || t.starts_with(b"event:")
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Body, Headers};

    fn ts(n: u64) -> Timestamp {
        Timestamp {
            wall_ns: n,
            mono_ns: n,
        }
    }

    fn response(sse: Option<Vec<SseEvent>>, body: &str) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: Headers::default(),
            body: Body {
                bytes: body.as_bytes().to_vec(),
                arrivals: vec![(0, ts(5))],
                ..Default::default()
            },
            sse,
            ts_start: ts(1),
            ts_end: ts(9),
        }
    }

    fn event(name: Option<&str>, data: &str, t: u64) -> SseEvent {
        SseEvent {
            event: name.map(str::to_string),
            data: data.to_string(),
            id: None,
            ts: ts(t),
        }
    }

    #[test]
    fn yields_json_skips_empty_and_done_and_numbers_by_position() {
        let resp = response(
            Some(vec![
                event(None, "{\"a\":1}", 2),
                event(Some("ping"), "  ", 3),
                event(Some("x"), " {\"b\":2} ", 4),
                event(None, "{oops", 5),
                event(None, "[DONE]", 6),
            ]),
            "",
        );
        let s = SseJson::new(&resp, DoneMarker::Used);
        assert_eq!(s.event_count(), 5);
        assert_eq!(s.chunk_count(), 5);
        assert!(s.saw_done());
        let items: Vec<_> = s.iter().collect();
        assert_eq!(items.len(), 3);
        let first = items[0].as_ref().unwrap();
        assert_eq!((first.n, first.name, first.ts), (0, None, ts(2)));
        assert_eq!(first.value["a"], 1);
        let second = items[1].as_ref().unwrap();
        assert_eq!((second.n, second.name, second.ts), (2, Some("x"), ts(4)));
        let bad = items[2].as_ref().unwrap_err();
        assert_eq!(bad.n, 3);
        assert!(bad
            .to_string()
            .starts_with("stream event 3: invalid JSON (key must be a string"));
    }

    #[test]
    fn done_is_data_when_the_protocol_has_no_marker() {
        let resp = response(Some(vec![event(None, "[DONE]", 2)]), "");
        let s = SseJson::new(&resp, DoneMarker::NotUsed);
        assert!(!s.saw_done());
        let items: Vec<_> = s.iter().collect();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].as_ref().unwrap_err().n, 0);
    }

    #[test]
    fn parses_the_body_when_the_http_layer_did_not() {
        let resp = response(
            None,
            "event: message_start\ndata: {\"type\":\"x\"}\n\n: comment\ndata: [1,\ndata: 2]\n",
        );
        let s = SseJson::new(&resp, DoneMarker::NotUsed);
        assert_eq!(s.event_count(), 2);
        let items: Vec<_> = s.iter().map(Result::unwrap).collect();
        assert_eq!(items[0].name, Some("message_start"));
        assert_eq!(items[0].ts, ts(5));
        assert_eq!(items[1].value, serde_json::json!([1, 2]));
    }
}
