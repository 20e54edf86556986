//! HTTP/2 connection decoder: frames of both directions → one exchange per client stream.
//!
//! Contract: one HPACK decoder per direction (header blocks, including PUSH_PROMISE ones, are
//! always decoded so the dynamic tables stay in sync); a stream is emitted when both its
//! request and response have ended (END_STREAM), immediately with a note when reset, and at
//! `end` otherwise. Server-pushed streams are ignored. Pseudo-headers fill method, path,
//! authority and status and are not repeated in `headers`; trailers are appended to `headers`.
//! An HPACK error or lost framing abandons the connection (reported, never silent).

use super::build::{body_for, Assembly, ReqPart, RespPart};
use super::common::{ChunkMeta, Emit, End, Note, Phase, Side, MAX_PENDING};
use super::exchange::{Headers, HttpVersion};
use super::h1::Flow;
use super::h2_frame::*;
use super::h2_frame::{be32, error_name, protocol, strip, Fatal};
use super::hpack::Decoder;
use crate::conn::codes;
use oisp_capture::Timestamp;
use std::collections::BTreeMap;

/// Upper bound on any HPACK dynamic table we agree to keep.
const HPACK_MAX_TABLE: usize = 1 << 20;
/// HPACK default table size (RFC 7541 §4.2 / SETTINGS_HEADER_TABLE_SIZE initial value).
const HPACK_DEFAULT_TABLE: usize = 4096;

#[derive(Default)]
struct Stream {
    index: u32,
    req: Option<ReqPart>,
    req_end: bool,
    resp: Option<RespPart>,
    resp_end: bool,
    notes: Vec<Note>,
}

/// A header block awaiting CONTINUATION frames.
struct Pending {
    stream: u32,
    promise: bool,
    end_stream: bool,
    frag: Vec<u8>,
    ts: Timestamp,
}

struct Core {
    hpack: [Decoder; 2],
    cont: [Option<Pending>; 2],
    streams: BTreeMap<u32, Stream>,
    /// Highest client stream id whose request HEADERS were seen.
    max_req_stream: u32,
    next_index: u32,
}

/// HTTP/2 decoder for one connection.
pub(crate) struct H2Conn {
    readers: [FrameReader; 2],
    core: Core,
}

fn new_decoder() -> Decoder {
    // Table starts at the default size; size updates are allowed up to HPACK_MAX_TABLE until
    // the peer's SETTINGS say otherwise.
    Decoder::new(HPACK_MAX_TABLE)
}

impl H2Conn {
    /// `preface`: expect the client preface at the start of the request side.
    pub fn new(preface: bool) -> Self {
        H2Conn {
            readers: [FrameReader::new(preface), FrameReader::new(false)],
            core: Core {
                hpack: [new_decoder(), new_decoder()],
                cont: [None, None],
                streams: BTreeMap::new(),
                max_req_stream: 0,
                next_index: 0,
            },
        }
    }

    /// Streams started and not yet emitted.
    pub fn pending(&self) -> usize {
        self.core.streams.len()
    }

    /// In-order bytes of `side`.
    pub fn data(&mut self, side: Side, data: &[u8], meta: ChunkMeta, em: &mut Emit) -> Flow {
        let max = em.limits.max_head;
        let core = &mut self.core;
        let res = self.readers[side.idx()].feed(data, meta.ts, max, |ev, ts| {
            core.on_event(side, ev, ts, meta, em)
        });
        match res {
            Ok(()) => Flow::Continue,
            Err((code, msg)) => {
                em.warn(meta.ts, code, msg.clone());
                self.abandon(meta.ts, em, msg)
            }
        }
    }

    /// `len` bytes of `side` were lost.
    pub fn gap(&mut self, side: Side, len: u64, ts: Timestamp, em: &mut Emit) -> Flow {
        match self.readers[side.idx()].skip_gap(len) {
            GapSkip::Data(id) => {
                if let Some(st) = self.core.streams.get_mut(&id) {
                    match side {
                        Side::Request => st.req.as_mut().map(|r| r.body.gap(len)),
                        Side::Response => st.resp.as_mut().map(|r| r.body.gap(len)),
                    };
                }
                Flow::Continue
            }
            GapSkip::Ignored => Flow::Continue,
            GapSkip::Lost => self.abandon(ts, em, format!("{len} bytes lost outside DATA payload")),
        }
    }

    /// Flushes every open stream, in stream-id order.
    pub fn end(&mut self, end: End, ts: Timestamp, em: &mut Emit) {
        let streams = std::mem::take(&mut self.core.streams);
        for (id, mut st) in streams {
            if !st.req_end {
                st.notes.push(end.note(Phase::Request));
            }
            if st.resp.is_none() {
                st.notes.push(end.note(Phase::NoResponse));
            } else if !st.resp_end {
                st.notes.push(end.note(Phase::Response));
            }
            emit_stream(id, st, ts, em);
        }
    }

    fn abandon(&mut self, ts: Timestamp, em: &mut Emit, why: String) -> Flow {
        em.warn(
            ts,
            codes::DECODE_ABANDONED,
            format!("HTTP/2 decoding abandoned: {why}"),
        );
        self.end(End::Abandoned, ts, em);
        Flow::Abandoned
    }
}

fn emit_stream(id: u32, st: Stream, ts: Timestamp, em: &mut Emit) {
    let Some(req) = st.req else {
        em.warn(
            ts,
            codes::UNPAIRED_RESPONSE,
            format!("HTTP/2 stream {id}: response without request headers"),
        );
        return;
    };
    let resp_end = st.resp_end;
    let asm = Assembly {
        version: HttpVersion::Http2,
        stream_id: Some(id),
        index: st.index,
        req,
        req_complete: st.req_end,
        resp: st.resp.map(|r| (r, resp_end)),
        upgrade: None,
        notes: st.notes,
    };
    let (x, notes) = asm.build(em.info);
    em.exchange(x, notes, ts);
}

impl Core {
    fn on_event(
        &mut self,
        side: Side,
        ev: FrameEvent<'_>,
        ts: Timestamp,
        meta: ChunkMeta,
        em: &mut Emit,
    ) -> Result<(), Fatal> {
        match ev {
            FrameEvent::PrefaceMissing => {
                em.warn(
                    ts,
                    codes::H2_PREFACE_MISSING,
                    "HTTP/2 client preface missing; decoding frames anyway".into(),
                );
                Ok(())
            }
            FrameEvent::Data { stream, bytes } => {
                if self.cont[side.idx()].is_some() {
                    return Err(protocol("DATA inside a header block"));
                }
                if let Some(st) = self.streams.get_mut(&stream) {
                    let part = match side {
                        Side::Request => st.req.as_mut().map(|r| (&mut r.body, &mut r.ts_end)),
                        Side::Response => st.resp.as_mut().map(|r| (&mut r.body, &mut r.ts_end)),
                    };
                    if let Some((body, ts_end)) = part {
                        body.push(bytes, ts);
                        *ts_end = ts;
                    }
                }
                Ok(())
            }
            FrameEvent::DataEnd { stream, end_stream } => {
                if end_stream {
                    self.end_side(side, stream, ts, em);
                }
                Ok(())
            }
            FrameEvent::Frame { hdr, payload } => self.on_frame(side, hdr, payload, ts, meta, em),
        }
    }

    fn on_frame(
        &mut self,
        side: Side,
        hdr: FrameHeader,
        payload: &[u8],
        ts: Timestamp,
        meta: ChunkMeta,
        em: &mut Emit,
    ) -> Result<(), Fatal> {
        if payload.len() != hdr.len as usize {
            return Err(protocol(format!(
                "header frame of {} bytes too large",
                hdr.len
            )));
        }
        let i = side.idx();
        if self.cont[i].is_some() && hdr.kind != CONTINUATION {
            return Err(protocol("expected CONTINUATION"));
        }
        let end_headers = hdr.flags & FLAG_END_HEADERS != 0;
        match hdr.kind {
            HEADERS | PUSH_PROMISE => {
                if hdr.stream == 0 {
                    return Err(protocol("header block on stream 0"));
                }
                let promise = hdr.kind == PUSH_PROMISE;
                let mut frag = strip(payload, hdr.flags, !promise)?;
                if promise {
                    frag = frag
                        .get(4..)
                        .ok_or_else(|| protocol("short PUSH_PROMISE"))?;
                }
                let p = Pending {
                    stream: hdr.stream,
                    promise,
                    end_stream: !promise && hdr.flags & FLAG_END_STREAM != 0,
                    frag: frag.to_vec(),
                    ts,
                };
                if end_headers {
                    self.header_block(side, p, meta, em)?;
                } else {
                    self.cont[i] = Some(p);
                }
            }
            CONTINUATION => {
                let Some(mut p) = self.cont[i].take() else {
                    return Err(protocol("CONTINUATION without header block"));
                };
                if p.stream != hdr.stream {
                    return Err(protocol("CONTINUATION on another stream"));
                }
                if p.frag.len() + payload.len() > em.limits.max_head {
                    return Err(protocol("header block too large"));
                }
                p.frag.extend_from_slice(payload);
                if end_headers {
                    self.header_block(side, p, meta, em)?;
                } else {
                    self.cont[i] = Some(p);
                }
            }
            SETTINGS if hdr.flags & FLAG_ACK == 0 => {
                if !payload.len().is_multiple_of(6) {
                    em.warn(
                        ts,
                        codes::H2_PROTOCOL_ERROR,
                        "SETTINGS length not 6n".into(),
                    );
                }
                for e in payload.chunks_exact(6) {
                    if e[..2] == [0, 1] {
                        let v = be32(&e[2..]).unwrap_or_default() as usize;
                        let allowed = v.clamp(HPACK_DEFAULT_TABLE, HPACK_MAX_TABLE);
                        // Sent by `side`: bounds the table of the peer's encoder.
                        self.hpack[side.other().idx()].set_max_allowed_table_size(allowed);
                    }
                }
            }
            RST_STREAM => {
                let code = be32(payload).unwrap_or_default();
                self.reset(side, hdr.stream, code, ts, em);
            }
            GOAWAY => self.goaway(side, payload, ts, em),
            _ => {}
        }
        Ok(())
    }

    fn header_block(
        &mut self,
        side: Side,
        p: Pending,
        meta: ChunkMeta,
        em: &mut Emit,
    ) -> Result<(), Fatal> {
        let mut fields: Vec<(String, String)> = Vec::new();
        self.hpack[side.idx()]
            .decode(&p.frag, |n, v| {
                fields.push((
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                ))
            })
            .map_err(|e| (codes::H2_HPACK_ERROR, format!("HPACK decoding failed: {e}")))?;
        if p.promise || p.stream.is_multiple_of(2) {
            return Ok(()); // server push: decoded for HPACK state only
        }
        let id = p.stream;
        let (pseudo, regular): (Vec<_>, Vec<_>) =
            fields.into_iter().partition(|(n, _)| n.starts_with(':'));
        let headers = Headers(regular);
        let pget = |name: &str| {
            pseudo
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let fresh = id > self.max_req_stream;
        if !self.streams.contains_key(&id) {
            if !fresh {
                return Ok(()); // late frame of a finished stream
            }
            if self.streams.len() >= MAX_PENDING {
                return Err(protocol(format!("more than {MAX_PENDING} open streams")));
            }
            let index = self.next_index;
            self.next_index = self.next_index.wrapping_add(1);
            self.streams.insert(
                id,
                Stream {
                    index,
                    ..Default::default()
                },
            );
        }
        let Some(st) = self.streams.get_mut(&id) else {
            return Ok(());
        };
        match side {
            Side::Request => {
                if let Some(req) = &mut st.req {
                    req.headers.0.extend(headers.0);
                    req.ts_end = p.ts;
                } else {
                    self.max_req_stream = self.max_req_stream.max(id);
                    let authority =
                        pget(":authority").or_else(|| headers.get("host").map(Into::into));
                    st.req = Some(ReqPart {
                        method: pget(":method").unwrap_or_default(),
                        path: pget(":path").unwrap_or_default(),
                        authority,
                        body: body_for(&headers, false, em.limits),
                        headers,
                        ts_start: p.ts,
                        ts_end: p.ts,
                        meta: ChunkMeta { ts: p.ts, ..meta },
                    });
                }
            }
            Side::Response => {
                if let Some(resp) = &mut st.resp {
                    resp.headers.0.extend(headers.0);
                    resp.ts_end = p.ts;
                } else {
                    let status = pget(":status").and_then(|s| s.parse::<u16>().ok());
                    let Some(status) = status else {
                        em.warn(
                            p.ts,
                            codes::H2_PROTOCOL_ERROR,
                            format!("stream {id}: response without valid :status"),
                        );
                        return Ok(());
                    };
                    if (100..200).contains(&status) && status != 101 {
                        return Ok(()); // interim response
                    }
                    st.resp = Some(RespPart::new(status, headers, p.ts, em.limits));
                }
            }
        }
        if p.end_stream {
            self.end_side(side, id, p.ts, em);
        }
        Ok(())
    }

    /// `side` of stream `id` sent END_STREAM.
    fn end_side(&mut self, side: Side, id: u32, ts: Timestamp, em: &mut Emit) {
        let Some(st) = self.streams.get_mut(&id) else {
            return;
        };
        match side {
            Side::Request => st.req_end = st.req.is_some(),
            Side::Response => st.resp_end = st.resp.is_some(),
        }
        if st.req_end && st.resp_end {
            if let Some(st) = self.streams.remove(&id) {
                emit_stream(id, st, ts, em);
            }
        }
    }

    fn reset(&mut self, side: Side, id: u32, code: u32, ts: Timestamp, em: &mut Emit) {
        let Some(mut st) = self.streams.remove(&id) else {
            return;
        };
        if code != 0 || !st.resp_end {
            let who = match side {
                Side::Request => "client",
                Side::Response => "server",
            };
            st.notes.push((
                codes::H2_STREAM_RESET,
                format!("stream {id} reset by {who} with {}", error_name(code)),
            ));
        }
        emit_stream(id, st, ts, em);
    }

    fn goaway(&mut self, side: Side, payload: &[u8], ts: Timestamp, em: &mut Emit) {
        let last = be32(payload).unwrap_or(u32::MAX) & 0x7fff_ffff;
        let code = payload.get(4..).and_then(be32).unwrap_or_default();
        if code != 0 {
            em.warn(
                ts,
                codes::H2_GOAWAY,
                format!("GOAWAY with {} (last stream {last})", error_name(code)),
            );
        }
        if side != Side::Response {
            return;
        }
        let refused: Vec<u32> = self
            .streams
            .range(last.saturating_add(1)..)
            .filter(|(_, st)| st.resp.is_none())
            .map(|(&id, _)| id)
            .collect();
        for id in refused {
            if let Some(mut st) = self.streams.remove(&id) {
                st.notes.push((
                    codes::H2_GOAWAY,
                    format!("stream {id} not processed: GOAWAY last stream {last}"),
                ));
                emit_stream(id, st, ts, em);
            }
        }
    }
}
