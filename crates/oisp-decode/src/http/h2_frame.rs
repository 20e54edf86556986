//! HTTP/2 frame reader for one direction (RFC 9113 §4): optional client preface, 9-byte frame
//! headers, DATA payloads streamed without buffering (padding stripped), other interesting
//! frames delivered whole, uninteresting ones (PING, WINDOW_UPDATE, PRIORITY, unknown) skipped.

use super::common::Leftover;
use crate::conn::codes;
use oisp_capture::Timestamp;

/// The HTTP/2 client connection preface.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

pub(crate) const DATA: u8 = 0;
pub(crate) const HEADERS: u8 = 1;
pub(crate) const RST_STREAM: u8 = 3;
pub(crate) const SETTINGS: u8 = 4;
pub(crate) const PUSH_PROMISE: u8 = 5;
pub(crate) const GOAWAY: u8 = 7;
pub(crate) const CONTINUATION: u8 = 9;

pub(crate) const FLAG_END_STREAM: u8 = 0x1;
pub(crate) const FLAG_ACK: u8 = 0x1;
pub(crate) const FLAG_END_HEADERS: u8 = 0x4;
pub(crate) const FLAG_PADDED: u8 = 0x8;
pub(crate) const FLAG_PRIORITY: u8 = 0x20;

/// A frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    pub len: u32,
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
}

/// What the reader found.
pub(crate) enum FrameEvent<'a> {
    /// The client side did not start with the connection preface.
    PrefaceMissing,
    /// Payload bytes of a DATA frame (padding removed).
    Data { stream: u32, bytes: &'a [u8] },
    /// A DATA frame ended.
    DataEnd { stream: u32, end_stream: bool },
    /// A complete HEADERS, CONTINUATION, PUSH_PROMISE, SETTINGS, RST_STREAM or GOAWAY frame.
    Frame { hdr: FrameHeader, payload: &'a [u8] },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Preface,
    Header,
    /// Padded DATA frame: the pad-length byte is next.
    DataPad(FrameHeader),
    Data {
        stream: u32,
        data_left: u32,
        pad_left: u32,
        end_stream: bool,
    },
    Skip(u32),
}

/// Result of trying to step over lost bytes.
pub(crate) enum GapSkip {
    /// The gap fell inside this stream's DATA payload.
    Data(u32),
    /// The gap fell inside a frame that is ignored anyway.
    Ignored,
    /// Framing is lost.
    Lost,
}

/// Frame reader for one direction.
pub(crate) struct FrameReader {
    left: Leftover,
    state: State,
}

impl FrameReader {
    /// `preface`: this direction starts with the client connection preface.
    pub fn new(preface: bool) -> Self {
        FrameReader {
            left: Leftover::default(),
            state: if preface {
                State::Preface
            } else {
                State::Header
            },
        }
    }

    /// Reads in-order bytes; `f(event, ts)` gets each event with the capture time of the
    /// frame's first byte (DATA bytes: of the chunk carrying them). An `Err` from `f` stops
    /// reading and is returned. `max_frame` bounds buffered (non-DATA) frames.
    pub fn feed<E>(
        &mut self,
        data: &[u8],
        ts: Timestamp,
        max_frame: usize,
        mut f: impl FnMut(FrameEvent<'_>, Timestamp) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut left = std::mem::take(&mut self.left);
        let mut result = Ok(());
        left.feed(data, ts, |input, first_ts| {
            let (n, r) = self.process(input, first_ts, ts, max_frame, &mut f);
            result = r;
            n
        });
        self.left = left;
        result
    }

    /// Steps over `len` lost bytes if framing survives it.
    pub fn skip_gap(&mut self, len: u64) -> GapSkip {
        if !self.left.buf.is_empty() {
            return GapSkip::Lost;
        }
        match &mut self.state {
            State::Data {
                stream,
                data_left,
                pad_left,
                ..
            } => {
                let total = u64::from(*data_left) + u64::from(*pad_left);
                if len > total {
                    return GapSkip::Lost;
                }
                let from_data = len.min(u64::from(*data_left)) as u32;
                *data_left -= from_data;
                *pad_left -= (len - u64::from(from_data)) as u32;
                GapSkip::Data(*stream)
            }
            State::Skip(n) if len <= u64::from(*n) => {
                *n -= len as u32;
                GapSkip::Ignored
            }
            _ => GapSkip::Lost,
        }
    }

    fn process<E>(
        &mut self,
        input: &[u8],
        first_ts: Timestamp,
        ts: Timestamp,
        max_frame: usize,
        f: &mut impl FnMut(FrameEvent<'_>, Timestamp) -> Result<(), E>,
    ) -> (usize, Result<(), E>) {
        let mut pos = 0;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            let unit_ts = if pos == 0 { first_ts } else { ts };
            match self.state {
                State::Preface => {
                    if rest.starts_with(PREFACE) {
                        pos += PREFACE.len();
                        self.state = State::Header;
                    } else if PREFACE.starts_with(rest) {
                        return (pos, Ok(()));
                    } else {
                        self.state = State::Header;
                        if let Err(e) = f(FrameEvent::PrefaceMissing, unit_ts) {
                            return (pos, Err(e));
                        }
                    }
                }
                State::Header => {
                    let Some(h) = rest.get(..9) else {
                        return (pos, Ok(()));
                    };
                    let hdr = FrameHeader {
                        len: u32::from_be_bytes([0, h[0], h[1], h[2]]),
                        kind: h[3],
                        flags: h[4],
                        stream: u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff,
                    };
                    let len = hdr.len as usize;
                    match hdr.kind {
                        DATA => {
                            pos += 9;
                            self.state = if hdr.flags & FLAG_PADDED != 0 {
                                State::DataPad(hdr)
                            } else {
                                State::Data {
                                    stream: hdr.stream,
                                    data_left: hdr.len,
                                    pad_left: 0,
                                    end_stream: hdr.flags & FLAG_END_STREAM != 0,
                                }
                            };
                        }
                        HEADERS | CONTINUATION | PUSH_PROMISE | SETTINGS | RST_STREAM | GOAWAY
                            if len <= max_frame =>
                        {
                            let Some(payload) = rest.get(9..9 + len) else {
                                return (pos, Ok(()));
                            };
                            pos += 9 + len;
                            if let Err(e) = f(FrameEvent::Frame { hdr, payload }, unit_ts) {
                                return (pos, Err(e));
                            }
                        }
                        HEADERS | CONTINUATION | PUSH_PROMISE => {
                            // Too large to buffer; HPACK state would be lost: report as a
                            // zero-payload frame so the caller sees the oversize via `len`.
                            pos += 9;
                            self.state = State::Skip(hdr.len);
                            let ev = FrameEvent::Frame { hdr, payload: &[] };
                            if let Err(e) = f(ev, unit_ts) {
                                return (pos, Err(e));
                            }
                        }
                        _ => {
                            pos += 9;
                            self.state = State::Skip(hdr.len);
                        }
                    }
                }
                State::DataPad(hdr) => {
                    let Some(&pad) = rest.first() else {
                        return (pos, Ok(()));
                    };
                    pos += 1;
                    let pad = u32::from(pad);
                    let data_left = hdr.len.saturating_sub(1).saturating_sub(pad);
                    self.state = State::Data {
                        stream: hdr.stream,
                        data_left,
                        pad_left: hdr.len.saturating_sub(1) - data_left,
                        end_stream: hdr.flags & FLAG_END_STREAM != 0,
                    };
                }
                State::Data {
                    stream,
                    data_left,
                    pad_left,
                    end_stream,
                } => {
                    if data_left == 0 && pad_left == 0 {
                        self.state = State::Header;
                        if let Err(e) = f(FrameEvent::DataEnd { stream, end_stream }, ts) {
                            return (pos, Err(e));
                        }
                        continue;
                    }
                    if rest.is_empty() {
                        return (pos, Ok(()));
                    }
                    let avail = u32::try_from(rest.len()).unwrap_or(u32::MAX);
                    if data_left > 0 {
                        let take = data_left.min(avail);
                        let bytes = &rest[..take as usize];
                        pos += take as usize;
                        self.state = State::Data {
                            stream,
                            data_left: data_left - take,
                            pad_left,
                            end_stream,
                        };
                        if let Err(e) = f(FrameEvent::Data { stream, bytes }, ts) {
                            return (pos, Err(e));
                        }
                    } else {
                        let take = pad_left.min(avail);
                        pos += take as usize;
                        self.state = State::Data {
                            stream,
                            data_left,
                            pad_left: pad_left - take,
                            end_stream,
                        };
                    }
                }
                State::Skip(n) => {
                    if n == 0 {
                        self.state = State::Header;
                        continue;
                    }
                    if rest.is_empty() {
                        return (pos, Ok(()));
                    }
                    let take = n.min(u32::try_from(rest.len()).unwrap_or(u32::MAX));
                    pos += take as usize;
                    self.state = State::Skip(n - take);
                }
            }
        }
    }
}

/// A fatal decoding problem: (warning code, message).
pub(crate) type Fatal = (&'static str, String);

pub(crate) fn protocol(msg: impl Into<String>) -> Fatal {
    (codes::H2_PROTOCOL_ERROR, msg.into())
}

/// Name of an HTTP/2 error code.
pub(crate) fn error_name(code: u32) -> String {
    const NAMES: [&str; 14] = [
        "NO_ERROR",
        "PROTOCOL_ERROR",
        "INTERNAL_ERROR",
        "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT",
        "STREAM_CLOSED",
        "FRAME_SIZE_ERROR",
        "REFUSED_STREAM",
        "CANCEL",
        "COMPRESSION_ERROR",
        "CONNECT_ERROR",
        "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY",
        "HTTP_1_1_REQUIRED",
    ];
    match NAMES.get(code as usize) {
        Some(n) => (*n).to_string(),
        None => format!("0x{code:x}"),
    }
}

pub(crate) fn be32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

/// Removes padding (and the priority block when `priority`) from a HEADERS-like payload.
pub(crate) fn strip(payload: &[u8], flags: u8, priority: bool) -> Result<&[u8], Fatal> {
    let mut p = payload;
    if flags & FLAG_PADDED != 0 {
        let (&pad, rest) = p
            .split_first()
            .ok_or_else(|| protocol("missing pad length"))?;
        let keep = rest
            .len()
            .checked_sub(pad as usize)
            .ok_or_else(|| protocol("padding exceeds frame"))?;
        p = &rest[..keep];
    }
    if priority && flags & FLAG_PRIORITY != 0 {
        p = p.get(5..).ok_or_else(|| protocol("short priority block"))?;
    }
    Ok(p)
}
