//! HTTP/1.x connection decoder: keep-alive and pipelined exchanges paired FIFO, interim 1xx
//! responses skipped, HEAD/204/304 without body, upgrades (101, CONNECT 2xx) detected.
//!
//! Contract: bytes of each side arrive in order (gaps announced through `gap`); an exchange is
//! emitted as soon as both its request and its response are complete, in request order; after
//! `end` every exchange still held has been emitted (marked incomplete where applicable).

use super::build::{body_for, Assembly, ReqPart, RespPart};
use super::common::{ChunkMeta, Emit, End, Leftover, Note, Phase, Side, MAX_PENDING};
use super::exchange::HttpVersion;
use super::h1_framing::Framing;
use super::h1_head::{
    find_head_end, has_token, parse_request, parse_response, request_framing, response_framing,
};
use crate::conn::codes;
use oisp_capture::Timestamp;
use std::collections::VecDeque;

/// What the connection should do after a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    /// The connection switched protocols; later bytes are not HTTP.
    Upgraded,
    /// Decoding gave up; later bytes should be ignored.
    Abandoned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Body(Framing),
}

struct SideParser {
    left: Leftover,
    state: State,
    /// How far the pending head in `left` has been scanned for its end.
    scanned: usize,
}

struct Exch {
    index: u32,
    version: HttpVersion,
    req: ReqPart,
    req_done: bool,
    is_head: bool,
    /// CONNECT or an Upgrade request: the request side pauses until the response head.
    switching: bool,
    resp: Option<RespPart>,
    resp_done: bool,
    upgrade: Option<String>,
    notes: Vec<Note>,
}

/// HTTP/1.x decoder for one connection.
pub(crate) struct H1Conn {
    sides: [SideParser; 2],
    queue: VecDeque<Exch>,
    /// Position in `queue` of the exchange the next response bytes belong to.
    resp_idx: usize,
    next_index: u32,
}

impl Default for H1Conn {
    fn default() -> Self {
        let side = || SideParser {
            left: Leftover::default(),
            state: State::Head,
            scanned: 0,
        };
        H1Conn {
            sides: [side(), side()],
            queue: VecDeque::new(),
            resp_idx: 0,
            next_index: 0,
        }
    }
}

impl H1Conn {
    /// Number of exchanges started and not yet emitted.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// In-order bytes of `side`.
    pub fn data(&mut self, side: Side, data: &[u8], meta: ChunkMeta, em: &mut Emit) -> Flow {
        let mut flow = self.feed(side, data, meta, em);
        // Progress on one side can unblock the other (a response waiting for its request, a
        // request side paused by an upgrade attempt); iterate until nothing moves.
        let mut cur = side;
        for _ in 0..64 {
            if flow != Flow::Continue {
                break;
            }
            cur = cur.other();
            let before = self.sides[cur.idx()].left.buf.len();
            if before == 0 {
                break;
            }
            flow = self.feed(cur, &[], meta, em);
            if self.sides[cur.idx()].left.buf.len() == before {
                break;
            }
        }
        flow
    }

    /// `len` bytes of `side` were lost.
    pub fn gap(&mut self, side: Side, len: u64, ts: Timestamp, em: &mut Emit) -> Flow {
        let i = side.idx();
        let sp = &mut self.sides[i];
        if sp.left.buf.is_empty() {
            if let State::Body(mut framing) = sp.state {
                if framing.skip_gap(len) {
                    sp.state = State::Body(framing);
                    let done = framing.is_done();
                    if let Some(ex) = self.current(side) {
                        match side {
                            Side::Request => ex.req.body.gap(len),
                            Side::Response => {
                                if let Some(r) = &mut ex.resp {
                                    r.body.gap(len);
                                }
                            }
                        }
                    }
                    if done {
                        self.complete(side, ts, em);
                    }
                    return Flow::Continue;
                }
            }
        }
        self.abandon(
            ts,
            em,
            format!("{len} bytes lost outside a body of known length"),
        )
    }

    /// Flushes every held exchange.
    pub fn end(&mut self, end: End, ts: Timestamp, em: &mut Emit) {
        let resp_state = self.sides[Side::Response.idx()].state;
        if !self.sides[Side::Response.idx()].left.buf.is_empty()
            && self.resp_idx >= self.queue.len()
        {
            em.warn(
                ts,
                codes::UNPAIRED_RESPONSE,
                "response bytes without a matching request".into(),
            );
        }
        let mut i = 0;
        while let Some(mut ex) = self.queue.pop_front() {
            let mut resp_complete = ex.resp_done;
            if i == self.resp_idx && !ex.resp_done && ex.resp.is_some() {
                // A close-delimited body ends exactly at connection close.
                if resp_state == State::Body(Framing::Close) && end == End::Closed {
                    resp_complete = true;
                }
            }
            if !ex.req_done {
                ex.notes.push(end.note(Phase::Request));
            }
            if ex.resp.is_none() {
                ex.notes.push(end.note(Phase::NoResponse));
            } else if !resp_complete {
                ex.notes.push(end.note(Phase::Response));
            }
            ex.resp_done = resp_complete;
            emit_exch(ex, ts, em);
            i += 1;
        }
        self.resp_idx = 0;
    }

    fn abandon(&mut self, ts: Timestamp, em: &mut Emit, why: String) -> Flow {
        em.warn(
            ts,
            codes::DECODE_ABANDONED,
            format!("HTTP/1 decoding abandoned: {why}"),
        );
        self.end(End::Abandoned, ts, em);
        Flow::Abandoned
    }

    /// The exchange `side`'s body bytes currently belong to.
    fn current(&mut self, side: Side) -> Option<&mut Exch> {
        match side {
            Side::Request => self.queue.back_mut().filter(|e| !e.req_done),
            Side::Response => self.queue.get_mut(self.resp_idx),
        }
    }

    fn feed(&mut self, side: Side, data: &[u8], meta: ChunkMeta, em: &mut Emit) -> Flow {
        let i = side.idx();
        let mut left = std::mem::take(&mut self.sides[i].left);
        let mut flow = Flow::Continue;
        left.feed(data, meta.ts, |input, first_ts| {
            let (n, f) = self.process(side, input, first_ts, meta, em);
            flow = f;
            n
        });
        if flow != Flow::Abandoned {
            self.sides[i].left = left;
        }
        flow
    }

    /// After [`Flow::Upgraded`]: the bytes of each side (by `Side::idx`) that followed the
    /// handshake and belong to the new protocol.
    pub fn take_leftovers(&mut self) -> [Vec<u8>; 2] {
        let [a, b] = &mut self.sides;
        [
            std::mem::take(&mut a.left.buf),
            std::mem::take(&mut b.left.buf),
        ]
    }

    /// Consumes what it can of `input`; returns the count and the resulting flow.
    fn process(
        &mut self,
        side: Side,
        input: &[u8],
        first_ts: Timestamp,
        meta: ChunkMeta,
        em: &mut Emit,
    ) -> (usize, Flow) {
        let i = side.idx();
        let mut pos = 0;
        while let Some(rest) = input.get(pos..).filter(|r| !r.is_empty()) {
            match self.sides[i].state {
                State::Head => {
                    let blank = rest
                        .iter()
                        .take_while(|&&b| b == b'\r' || b == b'\n')
                        .count();
                    if blank > 0 {
                        pos += blank;
                        continue;
                    }
                    let waiting = match side {
                        Side::Request => self.queue.back().is_some_and(|e| e.switching),
                        Side::Response => self.resp_idx >= self.queue.len(),
                    };
                    if waiting {
                        if rest.len() > em.limits.max_head {
                            let why = match side {
                                Side::Request => "request bytes after an unanswered upgrade",
                                Side::Response => "response bytes without a request",
                            };
                            return (pos, self.abandon(meta.ts, em, why.into()));
                        }
                        break;
                    }
                    let from = if pos == 0 { self.sides[i].scanned } else { 0 };
                    let Some(end) = find_head_end(rest, from) else {
                        if rest.len() > em.limits.max_head {
                            let f = self.abandon(meta.ts, em, "message head too large".into());
                            return (pos, f);
                        }
                        self.sides[i].scanned = rest.len().saturating_sub(3);
                        break;
                    };
                    self.sides[i].scanned = 0;
                    let ts = if pos == 0 { first_ts } else { meta.ts };
                    let head = &rest[..end];
                    pos += end;
                    let res = match side {
                        Side::Request => self.on_request_head(head, ts, meta, em),
                        Side::Response => self.on_response_head(head, ts, meta, em),
                    };
                    match res {
                        Ok(Flow::Continue) => {}
                        Ok(f) => return (pos, f),
                        Err(e) => {
                            em.warn(meta.ts, codes::H1_PARSE_ERROR, e.clone());
                            return (pos, self.abandon(meta.ts, em, e));
                        }
                    }
                }
                State::Body(mut framing) => {
                    let max_head = em.limits.max_head;
                    let Some(ex) = self.current(side) else {
                        let f = self.abandon(meta.ts, em, "body without a message".into());
                        return (pos, f);
                    };
                    let res = match side {
                        Side::Request => {
                            let r = &mut ex.req;
                            framing.advance(rest, &mut r.body, &mut r.headers, meta.ts, max_head)
                        }
                        Side::Response => match &mut ex.resp {
                            Some(r) => framing.advance(
                                rest,
                                &mut r.body,
                                &mut r.headers,
                                meta.ts,
                                max_head,
                            ),
                            None => Err("response body without head".into()),
                        },
                    };
                    let adv = match res {
                        Ok(a) => a,
                        Err(e) => {
                            em.warn(meta.ts, codes::H1_PARSE_ERROR, e.clone());
                            return (pos, self.abandon(meta.ts, em, e));
                        }
                    };
                    if adv.consumed > 0 {
                        match side {
                            Side::Request => ex.req.ts_end = meta.ts,
                            Side::Response => {
                                if let Some(r) = &mut ex.resp {
                                    r.ts_end = meta.ts;
                                }
                            }
                        }
                    }
                    self.sides[i].state = State::Body(framing);
                    pos += adv.consumed;
                    if adv.done {
                        self.complete(side, meta.ts, em);
                    } else if adv.consumed == 0 {
                        break;
                    }
                }
            }
        }
        (pos, Flow::Continue)
    }

    fn on_request_head(
        &mut self,
        head: &[u8],
        ts: Timestamp,
        meta: ChunkMeta,
        em: &mut Emit,
    ) -> Result<Flow, String> {
        if self.queue.len() >= MAX_PENDING {
            let why = format!("more than {MAX_PENDING} requests awaiting responses");
            return Ok(self.abandon(meta.ts, em, why));
        }
        let h = parse_request(head)?;
        let framing = request_framing(&h.headers)?;
        let is_connect = h.method.eq_ignore_ascii_case("CONNECT");
        let wants_upgrade =
            h.headers.get("upgrade").is_some() && has_token(&h.headers, "connection", "upgrade");
        let req = ReqPart {
            authority: h.headers.get("host").map(str::to_string),
            body: body_for(&h.headers, false, em.limits),
            method: h.method,
            path: h.path,
            headers: h.headers,
            ts_start: ts,
            ts_end: meta.ts,
            meta: ChunkMeta { ts, ..meta },
        };
        self.queue.push_back(Exch {
            index: self.next_index,
            version: h.version,
            is_head: req.method.eq_ignore_ascii_case("HEAD"),
            req,
            req_done: false,
            switching: is_connect || wants_upgrade,
            resp: None,
            resp_done: false,
            upgrade: None,
            notes: Vec::new(),
        });
        self.next_index = self.next_index.wrapping_add(1);
        self.sides[Side::Request.idx()].state = State::Body(framing);
        if framing.is_done() {
            self.complete(Side::Request, meta.ts, em);
        }
        Ok(Flow::Continue)
    }

    fn on_response_head(
        &mut self,
        head: &[u8],
        ts: Timestamp,
        meta: ChunkMeta,
        em: &mut Emit,
    ) -> Result<Flow, String> {
        let h = parse_response(head)?;
        let limits = em.limits;
        let Some(ex) = self.queue.get_mut(self.resp_idx) else {
            return Err("response without request".into());
        };
        let status = h.status;
        if (100..200).contains(&status) && status != 101 {
            return Ok(Flow::Continue); // interim response (e.g. 100 Continue)
        }
        let connect_ok = ex.req.method.eq_ignore_ascii_case("CONNECT") && status / 100 == 2;
        if status == 101 || connect_ok {
            let proto = h
                .headers
                .get("upgrade")
                .or_else(|| ex.req.headers.get("upgrade"))
                .map(|s| s.trim().to_string());
            ex.upgrade = Some(if connect_ok {
                "connect".to_string()
            } else {
                proto.unwrap_or_else(|| "unknown".into())
            });
            let mut resp = RespPart::new(status, h.headers, ts, limits);
            resp.ts_end = meta.ts;
            ex.resp = Some(resp);
            ex.resp_done = true;
            self.end(End::Closed, meta.ts, em);
            return Ok(Flow::Upgraded);
        }
        ex.switching = false;
        let framing = response_framing(&h.headers, status, ex.is_head)?;
        let mut resp = RespPart::new(status, h.headers, ts, limits);
        resp.ts_end = meta.ts;
        ex.resp = Some(resp);
        self.sides[Side::Response.idx()].state = State::Body(framing);
        if framing.is_done() {
            self.complete(Side::Response, meta.ts, em);
        }
        Ok(Flow::Continue)
    }

    /// The message `side` was decoding is complete.
    fn complete(&mut self, side: Side, ts: Timestamp, em: &mut Emit) {
        self.sides[side.idx()].state = State::Head;
        match side {
            Side::Request => {
                if let Some(ex) = self.queue.back_mut() {
                    ex.req_done = true;
                    ex.req.ts_end = ts;
                }
            }
            Side::Response => {
                if let Some(ex) = self.queue.get_mut(self.resp_idx) {
                    ex.resp_done = true;
                    if let Some(r) = &mut ex.resp {
                        r.ts_end = ts;
                    }
                    self.resp_idx += 1;
                }
            }
        }
        while self
            .queue
            .front()
            .is_some_and(|e| e.req_done && e.resp_done)
        {
            if let Some(ex) = self.queue.pop_front() {
                self.resp_idx = self.resp_idx.saturating_sub(1);
                emit_exch(ex, ts, em);
            }
        }
    }
}

fn emit_exch(ex: Exch, ts: Timestamp, em: &mut Emit) {
    let resp_done = ex.resp_done;
    let asm = Assembly {
        version: ex.version,
        stream_id: None,
        index: ex.index,
        req_complete: ex.req_done,
        req: ex.req,
        resp: ex.resp.map(|r| (r, resp_done)),
        upgrade: ex.upgrade,
        notes: ex.notes,
    };
    let (x, notes) = asm.build(em.info);
    em.exchange(x, notes, ts);
}
