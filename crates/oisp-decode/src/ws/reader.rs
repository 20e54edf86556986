//! One direction of a WebSocket connection: frames in (any split across reads), messages out.
//!
//! Contract: `feed` takes the direction's bytes in order and calls `emit` once per complete data
//! message (fragments joined, client masking removed, permessage-deflate inflated), per close
//! frame and per ping/pong. Memory is bounded: a message keeps at most `max` bytes (the rest is
//! counted and the message marked truncated), a partial header at most 14 bytes, a control
//! payload at most 125. A protocol violation returns `Err` with a sentence; the caller stops
//! reading the direction. Nothing here panics on any input.

use super::deflate::Inflater;
use super::frame::{header_len, parse_header, unmask, FrameHeader, Opcode, MAX_HEADER};
use super::WsKind;
use oisp_capture::Timestamp;

/// What the reader hands out.
#[derive(Debug, PartialEq)]
pub(crate) enum ReadEvent {
    Message(RawMessage),
    Ping,
    Pong,
}

/// A complete message (or a close frame, `kind` Close).
#[derive(Debug, PartialEq)]
pub(crate) struct RawMessage {
    pub kind: WsKind,
    pub payload: Vec<u8>,
    pub compressed: bool,
    /// Payload bytes on the wire over all its frames (compressed size when compressed).
    pub wire_bytes: u64,
    pub frames: u32,
    /// `payload` was cut at the size limit.
    pub truncated: bool,
    pub ts_start: Timestamp,
}

struct Msg {
    opcode: Opcode,
    compressed: bool,
    data: Vec<u8>,
    wire: u64,
    frames: u32,
    truncated: bool,
    ts_start: Timestamp,
}

struct Cur {
    h: FrameHeader,
    seen: u64,
}

/// Frame reader of one direction.
pub(crate) struct Reader {
    /// Frames of this direction must be masked (client → server) or must not be.
    masked: bool,
    inflater: Option<Inflater>,
    hdr: [u8; MAX_HEADER],
    hdr_len: usize,
    frame: Option<Cur>,
    msg: Option<Msg>,
    ctrl: Vec<u8>,
    pub frames: u64,
}

impl Reader {
    /// `masked`: this is the client → server direction. `inflater`: permessage-deflate was
    /// negotiated (with this direction's context-takeover rule).
    pub fn new(masked: bool, inflater: Option<Inflater>) -> Self {
        Reader {
            masked,
            inflater,
            hdr: [0; MAX_HEADER],
            hdr_len: 0,
            frame: None,
            msg: None,
            ctrl: Vec::new(),
            frames: 0,
        }
    }

    /// Whether the direction stopped inside a frame or a fragmented message; the description
    /// says where.
    pub fn unfinished(&self) -> Option<String> {
        if let Some(c) = &self.frame {
            return Some(format!(
                "inside a {:?} frame ({} of {} payload bytes)",
                c.h.opcode, c.seen, c.h.len
            ));
        }
        if self.hdr_len > 0 {
            return Some(format!("inside a frame header ({} bytes)", self.hdr_len));
        }
        self.msg.as_ref().map(|m| {
            format!(
                "inside a fragmented {:?} message ({} frames, {} bytes)",
                m.opcode, m.frames, m.wire
            )
        })
    }

    /// Reads `data` (captured at `ts`); messages keep at most `max` payload bytes. On a
    /// violation returns the sentence and how many bytes of `data` were left unread.
    pub fn feed(
        &mut self,
        data: &[u8],
        ts: Timestamp,
        max: usize,
        emit: &mut dyn FnMut(ReadEvent),
    ) -> Result<(), (String, usize)> {
        let mut rest = data;
        self.feed_inner(&mut rest, ts, max, emit)
            .map_err(|e| (e, rest.len()))
    }

    fn feed_inner(
        &mut self,
        data: &mut &[u8],
        ts: Timestamp,
        max: usize,
        emit: &mut dyn FnMut(ReadEvent),
    ) -> Result<(), String> {
        while !data.is_empty() {
            let Some(cur) = &mut self.frame else {
                let need = if self.hdr_len < 2 {
                    2
                } else {
                    header_len(self.hdr[1])
                };
                let take = (need - self.hdr_len).min(data.len());
                self.hdr[self.hdr_len..self.hdr_len + take].copy_from_slice(&data[..take]);
                self.hdr_len += take;
                *data = &data[take..];
                if self.hdr_len < 2 || self.hdr_len < header_len(self.hdr[1]) {
                    continue;
                }
                let h = parse_header(&self.hdr[..self.hdr_len])?;
                self.hdr_len = 0;
                self.start_frame(h, ts)?;
                if h.len == 0 {
                    self.end_frame(max, emit)?;
                }
                continue;
            };
            let left = cur.h.len - cur.seen;
            let n = (left.min(data.len() as u64)) as usize;
            let (chunk, rest) = data.split_at(n);
            *data = rest;
            let (mask, offset) = (cur.h.mask, cur.seen);
            cur.seen += n as u64;
            let done = cur.seen == cur.h.len;
            let control = cur.h.opcode.is_control();
            let buf = if control {
                Some(&mut self.ctrl)
            } else {
                self.msg.as_mut().map(|m| {
                    m.wire += n as u64;
                    let room = max.saturating_sub(m.data.len());
                    if n > room {
                        m.truncated = true;
                    }
                    &mut m.data
                })
            };
            if let Some(buf) = buf {
                let keep = if control {
                    n
                } else {
                    n.min(max.saturating_sub(buf.len()))
                };
                let at = buf.len();
                buf.extend_from_slice(&chunk[..keep]);
                if let Some(key) = mask {
                    unmask(&mut buf[at..], key, offset);
                }
            }
            if done {
                self.end_frame(max, emit)?;
            }
        }
        Ok(())
    }

    fn start_frame(&mut self, h: FrameHeader, ts: Timestamp) -> Result<(), String> {
        if self.masked != h.mask.is_some() {
            return Err(if self.masked {
                "client frame not masked".into()
            } else {
                "server frame masked".into()
            });
        }
        match h.opcode {
            Opcode::Text | Opcode::Binary => {
                if self.msg.is_some() {
                    return Err(format!("{:?} frame inside a fragmented message", h.opcode));
                }
                if h.rsv1 && self.inflater.is_none() {
                    return Err("RSV1 set but permessage-deflate was not negotiated".into());
                }
                self.msg = Some(Msg {
                    opcode: h.opcode,
                    compressed: h.rsv1,
                    data: Vec::new(),
                    wire: 0,
                    frames: 0,
                    truncated: false,
                    ts_start: ts,
                });
            }
            Opcode::Continuation => {
                if self.msg.is_none() {
                    return Err("continuation frame without a message to continue".into());
                }
                if h.rsv1 {
                    return Err("RSV1 set on a continuation frame".into());
                }
            }
            _ => {
                if h.rsv1 {
                    return Err(format!("RSV1 set on a {:?} frame", h.opcode));
                }
                self.ctrl.clear();
            }
        }
        if let Some(m) = self.msg.as_mut().filter(|_| !h.opcode.is_control()) {
            m.frames = m.frames.saturating_add(1);
        }
        self.frames += 1;
        self.frame = Some(Cur { h, seen: 0 });
        Ok(())
    }

    fn end_frame(&mut self, max: usize, emit: &mut dyn FnMut(ReadEvent)) -> Result<(), String> {
        let Some(cur) = self.frame.take() else {
            return Ok(());
        };
        match cur.h.opcode {
            Opcode::Ping => emit(ReadEvent::Ping),
            Opcode::Pong => emit(ReadEvent::Pong),
            Opcode::Close => {
                let p = &self.ctrl;
                if p.len() == 1 {
                    return Err("close frame with a 1-byte payload".into());
                }
                let code = (p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]]));
                let reason = String::from_utf8_lossy(p.get(2..).unwrap_or_default()).into_owned();
                emit(ReadEvent::Message(RawMessage {
                    kind: WsKind::Close { code, reason },
                    payload: Vec::new(),
                    compressed: false,
                    wire_bytes: p.len() as u64,
                    frames: 1,
                    truncated: false,
                    ts_start: Timestamp::default(),
                }));
            }
            _ if cur.h.fin => {
                let Some(m) = self.msg.take() else {
                    return Ok(());
                };
                let mut payload = m.data;
                let mut truncated = m.truncated;
                if m.compressed {
                    let mut out = Vec::with_capacity((payload.len() * 4).min(max));
                    if let Some(inf) = self.inflater.as_mut().filter(|_| !truncated) {
                        truncated |= inf.message(&payload, &mut out, max)?;
                    }
                    payload = out;
                }
                emit(ReadEvent::Message(RawMessage {
                    kind: if m.opcode == Opcode::Binary {
                        WsKind::Binary
                    } else {
                        WsKind::Text
                    },
                    payload,
                    compressed: m.compressed,
                    wire_bytes: m.wire,
                    frames: m.frames,
                    truncated,
                    ts_start: m.ts_start,
                }));
            }
            _ => {}
        }
        Ok(())
    }
}
