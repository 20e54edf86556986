//! `BodyBuilder`: transfer-decoded body bytes in (in arrival order, with capture times) →
//! content-decoded `Body`, arrival offsets and, for event streams, `SseEvent`s.
//!
//! Contract: stored bytes never exceed the body limit (raw and decoded each); exceeding it
//! marks the body incomplete and adds a `body_truncated` note. A content-decoding failure keeps
//! the raw (still encoded) bytes as `Body.bytes` and sets `decode_error`.

use super::coding::{stages_for, CodingError, Stage};
use super::common::Note;
use super::exchange::{Body, SseEvent};
use super::sse::SseParser;
use crate::conn::codes;
use oisp_capture::Timestamp;

/// Incremental body assembly for one message.
pub(crate) struct BodyBuilder {
    bytes: Vec<u8>,
    arrivals: Vec<(usize, Timestamp)>,
    /// Encoded bytes as received; only kept while `stages` is non-empty or decoding failed.
    raw: Vec<u8>,
    raw_arrivals: Vec<(usize, Timestamp)>,
    stages: Vec<Stage>,
    encoded: bool,
    /// Decoding stopped after a gap: later bytes are dropped.
    stopped: bool,
    decode_error: Option<String>,
    incomplete: bool,
    truncated: bool,
    sse: Option<SseParser>,
    limit: usize,
    notes: Vec<Note>,
}

fn note_arrival(arrivals: &mut Vec<(usize, Timestamp)>, offset: usize, ts: Timestamp) {
    if arrivals.last().is_none_or(|&(_, t)| t != ts) {
        arrivals.push((offset, ts));
    }
}

impl BodyBuilder {
    /// A builder for a body with `Content-Encoding` value `encoding`; `sse` enables event-stream
    /// parsing of the decoded bytes.
    pub fn new(encoding: Option<&str>, sse: bool, limit: usize) -> Self {
        let mut b = BodyBuilder {
            bytes: Vec::new(),
            arrivals: Vec::new(),
            raw: Vec::new(),
            raw_arrivals: Vec::new(),
            stages: Vec::new(),
            encoded: false,
            stopped: false,
            decode_error: None,
            incomplete: false,
            truncated: false,
            sse: sse.then(SseParser::new),
            limit,
            notes: Vec::new(),
        };
        if let Some(enc) = encoding {
            match stages_for(enc, limit) {
                Ok(stages) => {
                    b.encoded = !stages.is_empty();
                    b.stages = stages;
                }
                Err(token) => {
                    b.encoded = true;
                    b.fail(format!("unsupported content-encoding {token:?}"));
                }
            }
        }
        b
    }

    /// Appends body bytes captured at `ts`.
    pub fn push(&mut self, data: &[u8], ts: Timestamp) {
        if data.is_empty() || self.truncated || self.stopped {
            return;
        }
        if !self.encoded {
            self.store_decoded(data, ts);
            return;
        }
        let room = self.limit.saturating_sub(self.raw.len());
        let take = data.len().min(room);
        note_arrival(&mut self.raw_arrivals, self.raw.len(), ts);
        self.raw.extend_from_slice(&data[..take]);
        if take < data.len() {
            self.truncate();
        }
        if self.decode_error.is_some() || self.stages.is_empty() {
            return;
        }
        let mut out = Vec::new();
        let res = run_stages(&mut self.stages, &data[..take], &mut out, false);
        self.store_decoded(&out, ts);
        self.on_coding_result(res);
    }

    /// `len` bytes of this body were lost in capture.
    pub fn gap(&mut self, len: u64) {
        self.incomplete = true;
        if let Some(sse) = &mut self.sse {
            sse.gap();
        }
        if self.encoded && self.decode_error.is_none() && !self.stopped {
            self.stopped = true;
            self.stages.clear();
            self.raw = Vec::new();
            self.raw_arrivals = Vec::new();
            self.notes.push((
                codes::STREAM_GAP,
                format!("{len} bytes of a compressed body lost; decoded prefix kept"),
            ));
        }
    }

    /// Completes the body; `complete` is false when its end was not seen.
    pub fn finish(mut self, complete: bool) -> (Body, Option<Vec<SseEvent>>, Vec<Note>) {
        if !complete {
            self.incomplete = true;
        }
        if complete && !self.stopped && !self.truncated && self.decode_error.is_none() {
            let mut out = Vec::new();
            let res = run_stages(&mut self.stages, &[], &mut out, true);
            let ts = self.arrivals.last().map(|a| a.1).unwrap_or_default();
            self.store_decoded(&out, ts);
            self.on_coding_result(res);
        }
        let (bytes, arrivals) = if self.decode_error.is_some() {
            (self.raw, self.raw_arrivals)
        } else {
            (self.bytes, self.arrivals)
        };
        let body = Body {
            bytes,
            incomplete: self.incomplete,
            decode_error: self.decode_error,
            arrivals,
        };
        (body, self.sse.map(SseParser::finish), self.notes)
    }

    fn store_decoded(&mut self, data: &[u8], ts: Timestamp) {
        if data.is_empty() || self.truncated {
            return;
        }
        let room = self.limit.saturating_sub(self.bytes.len());
        let take = data.len().min(room);
        if take > 0 {
            let part = &data[..take];
            note_arrival(&mut self.arrivals, self.bytes.len(), ts);
            self.bytes.extend_from_slice(part);
            if let Some(sse) = &mut self.sse {
                sse.push(part, ts);
            }
        }
        if take < data.len() {
            self.truncate();
        }
    }

    fn on_coding_result(&mut self, res: Result<(), CodingError>) {
        match res {
            Ok(()) => {}
            Err(CodingError::Limit) => self.truncate(),
            Err(CodingError::Invalid(msg)) => self.fail(msg),
        }
    }

    fn fail(&mut self, msg: String) {
        self.notes.push((codes::CONTENT_DECODE_ERROR, msg.clone()));
        self.decode_error = Some(msg);
        self.stages.clear();
    }

    fn truncate(&mut self) {
        if !self.truncated {
            self.truncated = true;
            self.incomplete = true;
            self.notes.push((
                codes::BODY_TRUNCATED,
                format!(
                    "body exceeds the {} byte limit; the rest is dropped",
                    self.limit
                ),
            ));
        }
    }
}

/// Feeds `input` through the decoding stages in order (and finishes them when `last`).
fn run_stages(
    stages: &mut [Stage],
    input: &[u8],
    out: &mut Vec<u8>,
    last: bool,
) -> Result<(), CodingError> {
    let mut cur: Option<Vec<u8>> = None;
    for stage in stages.iter_mut() {
        let mut next = Vec::new();
        let r = stage.write(cur.as_deref().unwrap_or(input), &mut next);
        let r = r.and_then(|()| {
            if last {
                stage.finish(&mut next)
            } else {
                Ok(())
            }
        });
        cur = Some(next);
        if r.is_err() {
            out.extend_from_slice(cur.as_deref().unwrap_or_default());
            return r;
        }
    }
    out.extend_from_slice(cur.as_deref().unwrap_or(input));
    Ok(())
}
