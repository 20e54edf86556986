//! Incremental `text/event-stream` parser following the WHATWG "event stream interpretation"
//! rules: UTF-8 BOM stripped at stream start; lines end with CRLF, LF or CR (a CRLF split
//! across pushes counts once); `:` lines are comments; `event`, `data`, `id` and `retry` fields
//! (one optional space after the colon is removed); a blank line dispatches the event unless its
//! data buffer is empty; an unterminated event at end of stream is discarded. An event's `id`
//! is the stream's "last event ID" at dispatch time, which persists across events until another
//! `id:` field changes it; `event` is `None` when no `event:` field was given ("message").
//!
//! Contract: `push` never panics, memory is bounded by the bytes pushed, and every dispatched
//! event carries the timestamp of the push holding the blank line that completed it.

use super::exchange::SseEvent;
use oisp_capture::Timestamp;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Streaming SSE parser; feed it decoded body bytes in arrival order.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the current, not yet terminated line.
    line: Vec<u8>,
    /// True until the first line has been seen (BOM handling).
    at_start: bool,
    /// The previous push ended with CR: a leading LF in the next push belongs to it.
    after_cr: bool,
    /// After a gap: ignore bytes up to the next line end (we are mid-line).
    resync: bool,
    data: String,
    event: String,
    last_id: String,
    retry: Option<u64>,
    events: Vec<SseEvent>,
}

impl SseParser {
    pub fn new() -> Self {
        SseParser {
            at_start: true,
            ..Default::default()
        }
    }

    /// Feeds the next piece of the body, captured at `ts`.
    pub fn push(&mut self, mut bytes: &[u8], ts: Timestamp) {
        if bytes.is_empty() {
            return;
        }
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while !bytes.is_empty() {
            match bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
                None => {
                    if !self.resync {
                        self.line.extend_from_slice(bytes);
                    }
                    return;
                }
                Some(i) => {
                    let (head, tail) = bytes.split_at(i);
                    let cr = tail.first() == Some(&b'\r');
                    let mut rest = tail.get(1..).unwrap_or_default();
                    if cr {
                        if rest.is_empty() {
                            self.after_cr = true;
                        } else if let Some(r) = rest.strip_prefix(b"\n") {
                            rest = r;
                        }
                    }
                    if self.resync {
                        self.resync = false;
                        self.line.clear();
                    } else if self.line.is_empty() {
                        self.process_line(head, ts);
                    } else {
                        let mut line = std::mem::take(&mut self.line);
                        line.extend_from_slice(head);
                        self.process_line(&line, ts);
                        line.clear();
                        self.line = line;
                    }
                    bytes = rest;
                }
            }
        }
    }

    /// Bytes were lost: drop the partial line and the event being assembled, and skip to the
    /// next line end.
    pub fn gap(&mut self) {
        self.line.clear();
        self.data.clear();
        self.event.clear();
        self.after_cr = false;
        self.resync = true;
    }

    /// Events dispatched so far.
    pub fn events(&self) -> &[SseEvent] {
        &self.events
    }

    /// The last valid `retry:` value seen, in milliseconds.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Ends the stream: an event without its terminating blank line is discarded (per spec).
    pub fn finish(self) -> Vec<SseEvent> {
        self.events
    }

    fn process_line(&mut self, mut line: &[u8], ts: Timestamp) {
        if self.at_start {
            self.at_start = false;
            if let Some(rest) = line.strip_prefix(BOM) {
                line = rest;
            }
        }
        if line.is_empty() {
            self.dispatch(ts);
            return;
        }
        if line.first() == Some(&b':') {
            return;
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = line.get(i + 1..).unwrap_or_default();
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"event" => {
                self.event.clear();
                self.event.push_str(&String::from_utf8_lossy(value));
            }
            b"data" => {
                self.data.push_str(&String::from_utf8_lossy(value));
                self.data.push('\n');
            }
            b"id" if !value.contains(&0) => {
                self.last_id.clear();
                self.last_id.push_str(&String::from_utf8_lossy(value));
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                self.retry = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok());
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, ts: Timestamp) {
        if self.data.is_empty() {
            self.event.clear();
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        let event = std::mem::take(&mut self.event);
        self.events.push(SseEvent {
            event: (!event.is_empty()).then_some(event),
            data,
            id: (!self.last_id.is_empty()).then(|| self.last_id.clone()),
            ts,
        });
    }
}
