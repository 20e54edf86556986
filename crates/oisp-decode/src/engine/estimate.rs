//! AI-level estimates for a connection whose content nothing read (metadata only): from the
//! sizes and times of its reads and writes alone, how many calls it carried, which of them
//! streamed, and roughly how many tokens went each way. Pure and incremental: activity is fed in
//! capture order, one read or write at a time, and memory stays per call, not per read.
//!
//! The rules (all numbers are in [`Rules`], the defaults documented there):
//! - **Calls.** A call starts with a client write burst of at least `min_request_bytes` (smaller
//!   writes are TLS handshake messages, HTTP/2 control frames, alerts) after the server has sent
//!   something (the handshake) or after the previous call's response; it ends when the next call
//!   starts or the connection ends. Reads before the first call (the rest of the handshake)
//!   belong to no call; a "call" answered with fewer than `min_response_bytes` (HTTP/2's
//!   SETTINGS exchange; `min_first_response_bytes` for the first, whose writes may be answered
//!   by SETTINGS and TLS 1.3 session tickets before the request body goes out) is the start of
//!   the next one.
//! - **Streaming.** A response whose reads arrive spread out — at least `stream_min_arrivals`
//!   arrivals (reads after a pause of `arrival_gap_ns` or more) whose average size is under
//!   `stream_max_arrival_bytes` — is streamed: a model sends tokens as it makes them, a
//!   non-streamed response arrives at once (or in large bulk reads).
//! - **Bytes of content.** TLS adds about `tls_record_overhead` bytes per record (header, AEAD
//!   tag, content type); each write is counted as one record, each read that is not a lone
//!   5-byte record header (OpenSSL reads the header first) as one. HTTP adds headers and the
//!   JSON around the content: `request_overhead` per request, `response_overhead` per response,
//!   plus `first_response_extra` on the first response (TLS 1.3 session tickets read with it).
//! - **Tokens.** Input ≈ request content bytes / `bytes_per_token`. Output of a non-streamed
//!   response ≈ its content bytes / `bytes_per_token`; of a streamed one, each event wraps a token
//!   or a few in a JSON chunk: ≈ the larger of its arrivals and its content bytes /
//!   `stream_bytes_per_token`. At least one token each way for a call that got a response.
//!   The real counts are typically within a factor of 2 for prompts over a kilobyte; short
//!   exchanges are dominated by the assumed overheads.

use oisp_capture::Direction;

/// The constants of the estimates (see the module documentation for how each is used).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// 120: a TLS 1.3 client Finished (74), an HTTP/2 SETTINGS ack (31) or WINDOW_UPDATE (35)
    /// are smaller; an HTTP request with a JSON body is larger.
    pub min_request_bytes: u64,
    /// 150: a call whose answer is smaller (an HTTP/2 SETTINGS frame, 30–70 bytes) was not a
    /// call: its writes belong to the next one. A real response's headers alone are larger.
    pub min_response_bytes: u64,
    /// 800: the same for a connection's first call, whose "answer" may be the server's SETTINGS
    /// and TLS 1.3 session tickets (≈ 600 bytes) read before the client sent the request body.
    /// A first real response carries full headers and a body: larger (a tiny error answer may
    /// not be, and is then counted with the next call).
    pub min_first_response_bytes: u64,
    /// 4 ms between two reads makes the second a new arrival.
    pub arrival_gap_ns: u64,
    /// 4 arrivals at least for a streamed response (a non-streamed HTTP/2 answer may come in 2–3:
    /// a WINDOW_UPDATE, the headers, the body).
    pub stream_min_arrivals: u32,
    /// 4096: streamed events are small; bulk reads of a large response are up to 16 KiB.
    pub stream_max_arrival_bytes: u64,
    /// 22: TLS 1.3 record header (5) + AEAD tag (16) + content type (1).
    pub tls_record_overhead: u64,
    /// 500: request line and headers (an SDK's are 300–700 bytes) and the JSON around messages.
    pub request_overhead: u64,
    /// 1100: status line and headers (400–900 bytes) and the JSON around a completion.
    pub response_overhead: u64,
    /// 500: two TLS 1.3 session tickets, read with the first response.
    pub first_response_extra: u64,
    /// 4 bytes of English text or JSON per token.
    pub bytes_per_token: u64,
    /// 250 bytes per token in a stream (OpenAI's chunk of one token is about 230–260 bytes).
    pub stream_bytes_per_token: u64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            min_request_bytes: 120,
            min_response_bytes: 150,
            min_first_response_bytes: 800,
            arrival_gap_ns: 4_000_000,
            stream_min_arrivals: 4,
            stream_max_arrival_bytes: 4096,
            tls_record_overhead: 22,
            request_overhead: 500,
            response_overhead: 1100,
            first_response_extra: 500,
            bytes_per_token: 4,
            stream_bytes_per_token: 250,
        }
    }
}

/// One call as seen from its sizes and times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallShape {
    /// Capture times (monotonic ns) of the request's first and last write.
    pub request_start_ns: u64,
    pub request_end_ns: u64,
    pub request_bytes: u64,
    pub request_writes: u32,
    /// Times of the response's first and last read (0 when none).
    pub response_start_ns: u64,
    pub response_end_ns: u64,
    pub response_bytes: u64,
    pub response_reads: u32,
    /// Reads of exactly 5 bytes (a TLS record header read on its own).
    pub header_reads: u32,
    /// Reads after a pause (see [`Rules::arrival_gap_ns`]).
    pub arrivals: u32,
    /// Bytes read in answer to writes that turned out to start this request (see
    /// [`Rules::min_response_bytes`]): not part of its response.
    pub absorbed_bytes: u64,
}

/// What one call is estimated to have been.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEstimate {
    pub shape: CallShape,
    pub streaming: bool,
    /// From the request's last write to the response's first read.
    pub time_to_first_byte_ms: Option<u64>,
    /// From the request's first write to the response's last read.
    pub duration_ms: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// Follows one connection's reads and writes and cuts them into calls.
#[derive(Debug, Clone, Default)]
pub struct Segmenter {
    rules: Rules,
    /// The client wrote and then read something: the handshake is under way or over.
    server_spoke: bool,
    /// A write burst not yet long enough to be a request: (start, bytes, writes).
    pending: Option<(u64, u64, u32)>,
    /// In a read burst (the last activity was a read).
    reading: bool,
    last_read_ns: Option<u64>,
    current: Option<CallShape>,
    done: Vec<CallShape>,
}

impl Segmenter {
    pub fn new(rules: Rules) -> Segmenter {
        Segmenter {
            rules,
            ..Segmenter::default()
        }
    }

    /// One read (`Ingress`) or write (`Egress`) of `bytes` at capture time `ts_ns`.
    pub fn push(&mut self, dir: Direction, ts_ns: u64, bytes: u64) {
        match dir {
            Direction::Egress => self.write(ts_ns, bytes),
            Direction::Ingress => self.read(ts_ns, bytes),
        }
    }

    fn write(&mut self, ts: u64, bytes: u64) {
        let continuing = !self.reading;
        self.reading = false;
        // A write right after earlier writes adds to the request under way.
        if continuing {
            if let Some(c) = self.current.as_mut().filter(|c| c.response_reads == 0) {
                c.request_bytes = c.request_bytes.saturating_add(bytes);
                c.request_writes = c.request_writes.saturating_add(1);
                c.request_end_ns = ts;
                return;
            }
        }
        let (start, total, writes) = match self.pending.take() {
            Some((s, b, w)) if continuing => (s, b.saturating_add(bytes), w.saturating_add(1)),
            _ => (ts, bytes, 1),
        };
        if self.server_spoke && total >= self.rules.min_request_bytes {
            let mut next = CallShape {
                request_start_ns: start,
                request_end_ns: ts,
                request_bytes: total,
                request_writes: writes,
                ..CallShape::default()
            };
            let min = if self.done.is_empty() {
                self.rules.min_first_response_bytes
            } else {
                self.rules.min_response_bytes
            };
            match self.current.take() {
                // What the server answered was too small for a response (HTTP/2 SETTINGS, TLS
                // session tickets): those writes were the start of this request.
                Some(c) if c.response_bytes < min => {
                    next.request_start_ns = c.request_start_ns;
                    next.request_bytes = next.request_bytes.saturating_add(c.request_bytes);
                    next.request_writes = next.request_writes.saturating_add(c.request_writes);
                    next.absorbed_bytes = c.absorbed_bytes.saturating_add(c.response_bytes);
                }
                Some(c) => self.done.push(c),
                None => {}
            }
            self.current = Some(next);
        } else {
            self.pending = Some((start, total, writes));
        }
    }

    fn read(&mut self, ts: u64, bytes: u64) {
        self.reading = true;
        self.server_spoke = true;
        self.pending = None;
        let arrival = self
            .last_read_ns
            .is_none_or(|t| ts.saturating_sub(t) >= self.rules.arrival_gap_ns);
        self.last_read_ns = Some(ts);
        let Some(c) = self.current.as_mut() else {
            return; // handshake
        };
        if c.response_reads == 0 {
            c.response_start_ns = ts;
            c.arrivals = c.arrivals.saturating_add(1);
        } else if arrival {
            c.arrivals = c.arrivals.saturating_add(1);
        }
        c.response_end_ns = ts;
        c.response_bytes = c.response_bytes.saturating_add(bytes);
        c.response_reads = c.response_reads.saturating_add(1);
        c.header_reads = c.header_reads.saturating_add(u32::from(bytes == 5));
    }

    /// The calls so far, the one under way included, estimated.
    pub fn estimates(&self) -> Vec<CallEstimate> {
        self.done
            .iter()
            .chain(self.current.as_ref())
            .enumerate()
            .map(|(i, c)| estimate(&self.rules, c, i == 0))
            .collect()
    }
}

/// Estimates one call (`first`: the connection's first, whose response carries the session
/// tickets).
pub fn estimate(r: &Rules, c: &CallShape, first: bool) -> CallEstimate {
    let arrival_bytes = c.response_bytes / u64::from(c.arrivals.max(1));
    let streaming =
        c.arrivals >= r.stream_min_arrivals && arrival_bytes < r.stream_max_arrival_bytes;
    let req_content = c
        .request_bytes
        .saturating_sub(
            r.tls_record_overhead
                .saturating_mul(u64::from(c.request_writes)),
        )
        .saturating_sub(r.request_overhead);
    let body_reads = c
        .response_reads
        .saturating_sub(c.header_reads)
        .max(c.header_reads);
    let resp_content = c
        .response_bytes
        .saturating_sub(r.tls_record_overhead.saturating_mul(u64::from(body_reads)))
        .saturating_sub(r.response_overhead)
        // the session tickets, unless they were read before the request was complete
        .saturating_sub(if first {
            r.first_response_extra.saturating_sub(c.absorbed_bytes)
        } else {
            0
        });
    let answered = c.response_reads > 0;
    let output_tokens = if !answered {
        0
    } else if streaming {
        (resp_content / r.stream_bytes_per_token.max(1))
            .max(u64::from(c.arrivals))
            .max(1)
    } else {
        (resp_content / r.bytes_per_token.max(1)).max(1)
    };
    let input_tokens = (req_content / r.bytes_per_token.max(1)).max(u64::from(answered));
    let ms = |a: u64, b: u64| b.saturating_sub(a) / 1_000_000;
    CallEstimate {
        shape: c.clone(),
        streaming,
        time_to_first_byte_ms: answered.then(|| ms(c.request_end_ns, c.response_start_ns)),
        duration_ms: ms(
            c.request_start_ns,
            if answered {
                c.response_end_ns
            } else {
                c.request_end_ns
            },
        ),
        input_tokens,
        output_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{Egress as W, Ingress as R};

    const MS: u64 = 1_000_000;

    /// A TLS 1.3 handshake as OpenSSL's client does it: hello, server flight (header + body
    /// reads), Finished.
    fn handshake(s: &mut Segmenter, t: u64) {
        s.push(W, t, 517);
        s.push(R, t + MS, 5);
        s.push(R, t + MS, 2800);
        s.push(W, t + 2 * MS, 74);
    }

    #[test]
    fn a_non_streamed_and_a_streamed_call_on_one_connection() {
        let mut s = Segmenter::new(Rules::default());
        handshake(&mut s, 0);
        // call 1: 4 KB prompt, one bulk response
        s.push(W, 10 * MS, 700);
        s.push(W, 10 * MS + 1000, 4100);
        s.push(R, 300 * MS, 5);
        s.push(R, 300 * MS + 1000, 1800);
        // call 2: streamed, 20 events 10 ms apart
        s.push(W, 400 * MS, 900);
        for i in 0..20 {
            s.push(R, (500 + 10 * i) * MS, 5);
            s.push(R, (500 + 10 * i) * MS + 500, 270);
        }
        let e = s.estimates();
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(!e[0].streaming);
        assert_eq!(e[0].time_to_first_byte_ms, Some(289));
        // (Finished 74 + 4800 − 3·22 − 500) / 4
        assert_eq!(e[0].input_tokens, 1077);
        assert!(
            e[0].output_tokens >= 1 && e[0].output_tokens < 60,
            "{:?}",
            e[0]
        );
        assert!(e[1].streaming, "{:?}", e[1]);
        assert_eq!(e[1].shape.arrivals, 20);
        assert_eq!(e[1].output_tokens, 20);
        assert_eq!(e[1].duration_ms, 290);
    }

    #[test]
    fn small_writes_do_not_start_calls_nor_split_responses() {
        let mut s = Segmenter::new(Rules::default());
        handshake(&mut s, 0);
        s.push(W, 5 * MS, 100); // h2 preface + SETTINGS
        s.push(R, 6 * MS, 60); // server SETTINGS
        s.push(W, 7 * MS, 31); // SETTINGS ack
        s.push(W, 8 * MS, 600); // HEADERS + DATA: the request
        s.push(R, 50 * MS, 3000);
        s.push(W, 51 * MS, 35); // WINDOW_UPDATE
        s.push(R, 52 * MS, 3000);
        s.push(W, 60 * MS, 24); // close_notify
        let e = s.estimates();
        assert_eq!(e.len(), 1, "{e:#?}");
        assert_eq!(e[0].shape.response_bytes, 6000);
        // Finished + preface + ack + request
        assert_eq!(e[0].shape.request_bytes, 74 + 100 + 31 + 600);
    }

    #[test]
    fn session_tickets_read_before_the_body_do_not_make_a_call() {
        let mut s = Segmenter::new(Rules::default());
        handshake(&mut s, 0);
        s.push(W, 3 * MS, 100); // preface, SETTINGS
        s.push(W, 3 * MS, 137); // HEADERS
        s.push(R, 4 * MS, 660); // SETTINGS, two session tickets
        s.push(W, 5 * MS, 6164); // DATA: the body
        s.push(R, 60 * MS, 1217);
        s.push(W, 70 * MS, 3000); // the next call
        s.push(R, 90 * MS, 700); // a small second answer is still an answer
        let e = s.estimates();
        assert_eq!(e.len(), 2, "{e:#?}");
        assert_eq!(e[0].shape.request_bytes, 74 + 100 + 137 + 6164);
        assert_eq!(e[0].shape.response_bytes, 1217);
        assert_eq!(e[1].shape.response_bytes, 700);
    }

    #[test]
    fn no_activity_or_no_answer_gives_no_tokens_out() {
        let mut s = Segmenter::new(Rules::default());
        assert!(s.estimates().is_empty());
        s.push(W, 0, 517);
        assert!(s.estimates().is_empty(), "a ClientHello alone is no call");
        s.push(R, MS, 3000);
        s.push(W, 2 * MS, 2000);
        let e = s.estimates();
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].output_tokens, e[0].time_to_first_byte_ms), (0, None));
        // extreme values never overflow
        s.push(R, u64::MAX, u64::MAX);
        s.push(R, 0, u64::MAX);
        let _ = s.estimates();
    }
}
