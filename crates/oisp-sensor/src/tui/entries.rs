//! The event list's entries: one per AI call (a request with its response) or other event, each
//! one line of text as `show` prints it (the response half of a call joined onto the request's
//! line).
//!
//! Pairing follows `timeline::items`: a request takes the last response with its `request_id`;
//! a response is listed on its own only when no request before it took it.

use super::feed::Row;
use crate::style::Style;
use crate::timeline::{self, Item};
use oisp_event::{Event, EventData};
use std::collections::{HashMap, HashSet};

/// What an entry is, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An AI call answered with success (or not yet answered).
    Call,
    /// An AI call that failed (HTTP error, `success: false`).
    Failed,
    /// `agent.*`: sessions, tool calls and results.
    Agent,
    /// `sensor.warning`.
    Warning,
    Other,
}

fn kind_of(ev: &Event, response: Option<&Event>) -> Kind {
    let failed = |e: &Event| match &e.data {
        EventData::AiResponse(r) => {
            r.success == Some(false) || r.status_code.is_some_and(|c| c >= 400)
        }
        _ => false,
    };
    match &ev.data {
        EventData::AiRequest(_) if response.is_some_and(failed) => Kind::Failed,
        EventData::AiResponse(_) if failed(ev) => Kind::Failed,
        EventData::AiRequest(_) | EventData::AiResponse(_) => Kind::Call,
        EventData::SensorWarning(_) => Kind::Warning,
        _ if ev.event_type().starts_with("agent.") => Kind::Agent,
        _ => Kind::Other,
    }
}

/// One line of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Row id of its first event: the selection follows it when the list is rebuilt.
    pub key: i64,
    /// Index in the rows of the request (of a call) or of the event.
    pub main: usize,
    /// Index of the response of a call, when captured.
    pub response: Option<usize>,
    pub line: String,
    /// The agent session's trace the event belongs to, if any.
    pub trace_id: Option<String>,
    pub kind: Kind,
}

fn request_id(ev: &Event) -> Option<&str> {
    match &ev.data {
        EventData::AiRequest(r) => r.request_id.as_deref(),
        EventData::AiResponse(r) => r.request_id.as_deref(),
        _ => None,
    }
}

fn trace_of(ev: &Event) -> Option<String> {
    ev.trace_context.as_ref().and_then(|t| t.trace_id.clone())
}

/// The entries of `rows`, in their order.
pub fn build(rows: &[Row]) -> Vec<Entry> {
    let mut responses: HashMap<&str, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let (EventData::AiResponse(_), Some(id)) = (&r.event.data, request_id(&r.event)) {
            responses.insert(id, i);
        }
    }
    let style = Style::plain();
    let mut paired: HashSet<&str> = HashSet::new();
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let ev = &r.event;
        let (response, item) = match &ev.data {
            EventData::AiRequest(_) => {
                let resp = request_id(ev).and_then(|id| responses.get(id).copied());
                if let Some(id) = request_id(ev).filter(|_| resp.is_some()) {
                    paired.insert(id);
                }
                let item = Item::Call {
                    request: ev,
                    response: resp.map(|j| &rows[j].event),
                };
                (resp, item)
            }
            EventData::AiResponse(_) => {
                if request_id(ev).is_some_and(|id| paired.contains(id)) {
                    continue;
                }
                (None, Item::Orphan(ev))
            }
            _ => (None, Item::Single(ev)),
        };
        out.push(Entry {
            key: r.id,
            main: i,
            response,
            line: one_line(&timeline::render(&item, &style)),
            trace_id: trace_of(ev).or_else(|| response.and_then(|j| trace_of(&rows[j].event))),
            kind: kind_of(ev, response.map(|j| &rows[j].event)),
        });
    }
    out
}

/// The timeline's text on one line: continuation lines joined with two spaces.
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("  ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use oisp_event::{AiRequest, AiResponse, SensorWarning, Timestamp};

    fn row(id: i64, data: impl Into<oisp_event::EventData>) -> Row {
        Row {
            id,
            event: Event::new(data, Timestamp::default(), "t"),
        }
    }

    fn req(id: &str) -> AiRequest {
        AiRequest {
            request_id: Some(id.into()),
            ..AiRequest::default()
        }
    }

    fn resp(id: &str) -> AiResponse {
        AiResponse {
            request_id: Some(id.into()),
            ..AiResponse::default()
        }
    }

    #[test]
    fn a_call_is_one_entry_with_its_response_and_orphans_stand_alone() {
        let rows = vec![
            row(1, req("a")),
            row(2, SensorWarning::new("w", "careful")),
            row(3, resp("a")),
            row(4, resp("zz")),
        ];
        let e = build(&rows);
        assert_eq!(e.len(), 3, "{e:?}");
        assert_eq!((e[0].key, e[0].main, e[0].response), (1, 0, Some(2)));
        assert!(e[0].line.contains('‹'), "{}", e[0].line);
        assert!(!e[0].line.contains('\n'));
        assert!(e[1].line.contains("careful"));
        assert_eq!(
            (e[0].kind, e[1].kind, e[2].kind),
            (Kind::Call, Kind::Warning, Kind::Call)
        );
        assert_eq!((e[2].key, e[2].response), (4, None));
    }

    #[test]
    fn one_line_joins_continuations() {
        assert_eq!(one_line("a b\n      c\n"), "a b  c");
    }
}
