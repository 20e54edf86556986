//! HTTP/1.x message body framing (RFC 9112 §6-7): Content-Length, chunked (with extensions and
//! trailers) and close-delimited bodies. Input is consumed incrementally; body bytes go straight
//! to the `BodyBuilder`, trailers into the given header list.

use super::body::BodyBuilder;
use super::exchange::Headers;
use oisp_capture::Timestamp;

/// Longest accepted chunk-size line.
const MAX_SIZE_LINE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// Inside chunk data with this many bytes left.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// Reading trailer fields until the empty line; bytes of trailers seen so far.
    Trailers(usize),
}

/// How the end of a body is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Exactly this many bytes remain.
    Length(u64),
    Chunked(ChunkState),
    /// The body ends when the connection closes.
    Close,
}

/// Opaque chunked-decoder state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkState(Chunk);

/// Progress of one `advance` call.
pub(crate) struct Advance {
    pub consumed: usize,
    pub done: bool,
}

impl Framing {
    pub fn chunked() -> Framing {
        Framing::Chunked(ChunkState(Chunk::Size))
    }

    /// Consumes as much of `input` as possible. `max_head` bounds the trailer section.
    pub fn advance(
        &mut self,
        input: &[u8],
        body: &mut BodyBuilder,
        trailers: &mut Headers,
        ts: Timestamp,
        max_head: usize,
    ) -> Result<Advance, String> {
        match self {
            Framing::Length(rem) => {
                let take = usize::try_from(*rem).unwrap_or(usize::MAX).min(input.len());
                body.push(&input[..take], ts);
                *rem -= take as u64;
                Ok(Advance {
                    consumed: take,
                    done: *rem == 0,
                })
            }
            Framing::Close => {
                body.push(input, ts);
                Ok(Advance {
                    consumed: input.len(),
                    done: false,
                })
            }
            Framing::Chunked(ChunkState(st)) => chunked(st, input, body, trailers, ts, max_head),
        }
    }

    /// Tries to skip `len` lost bytes without losing framing; false if the gap is not inside
    /// body data of known extent.
    pub fn skip_gap(&mut self, len: u64) -> bool {
        match self {
            Framing::Length(rem) | Framing::Chunked(ChunkState(Chunk::Data(rem))) => {
                if len <= *rem {
                    *rem -= len;
                    if let Framing::Chunked(ChunkState(c)) = self {
                        if *c == Chunk::Data(0) {
                            *c = Chunk::DataEnd;
                        }
                    }
                    true
                } else {
                    false
                }
            }
            Framing::Close => true,
            Framing::Chunked(_) => false,
        }
    }

    /// True when nothing more is needed (a zero-length remainder).
    pub fn is_done(&self) -> bool {
        *self == Framing::Length(0)
    }
}

/// Position of the first LF in `input`.
fn find_lf(input: &[u8]) -> Option<usize> {
    input.iter().position(|&b| b == b'\n')
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn chunked(
    st: &mut Chunk,
    input: &[u8],
    body: &mut BodyBuilder,
    trailers: &mut Headers,
    ts: Timestamp,
    max_head: usize,
) -> Result<Advance, String> {
    let mut pos = 0;
    loop {
        let rest = input.get(pos..).unwrap_or_default();
        match *st {
            Chunk::Size => {
                let Some(lf) = find_lf(rest) else {
                    if rest.len() > MAX_SIZE_LINE {
                        return Err("chunk-size line too long".into());
                    }
                    return Ok(Advance {
                        consumed: pos,
                        done: false,
                    });
                };
                let size = parse_chunk_size(trim_cr(&rest[..lf]))?;
                pos += lf + 1;
                *st = if size == 0 {
                    Chunk::Trailers(0)
                } else {
                    Chunk::Data(size)
                };
            }
            Chunk::Data(n) => {
                if rest.is_empty() {
                    return Ok(Advance {
                        consumed: pos,
                        done: false,
                    });
                }
                let take = usize::try_from(n).unwrap_or(usize::MAX).min(rest.len());
                body.push(&rest[..take], ts);
                pos += take;
                let left = n - take as u64;
                *st = if left == 0 {
                    Chunk::DataEnd
                } else {
                    Chunk::Data(left)
                };
            }
            Chunk::DataEnd => match rest {
                [] | [b'\r'] => {
                    return Ok(Advance {
                        consumed: pos,
                        done: false,
                    })
                }
                [b'\n', ..] => {
                    pos += 1;
                    *st = Chunk::Size;
                }
                [b'\r', b'\n', ..] => {
                    pos += 2;
                    *st = Chunk::Size;
                }
                _ => return Err("missing CRLF after chunk data".into()),
            },
            Chunk::Trailers(seen) => {
                let Some(lf) = find_lf(rest) else {
                    if seen + rest.len() > max_head {
                        return Err("trailer section too large".into());
                    }
                    return Ok(Advance {
                        consumed: pos,
                        done: false,
                    });
                };
                let line = trim_cr(&rest[..lf]);
                pos += lf + 1;
                if line.is_empty() {
                    return Ok(Advance {
                        consumed: pos,
                        done: true,
                    });
                }
                if let Some(colon) = line.iter().position(|&b| b == b':') {
                    let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
                    let value = String::from_utf8_lossy(&line[colon + 1..]);
                    trailers.0.push((name, value.trim().to_string()));
                }
                *st = Chunk::Trailers(seen + lf + 1);
            }
        }
    }
}

/// Parses "1a3f[;ext...]" (hex, at most 16 digits).
fn parse_chunk_size(line: &[u8]) -> Result<u64, String> {
    let mut size: u64 = 0;
    let mut digits = 0;
    for &b in line {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            b';' | b' ' | b'\t' => break,
            _ => {
                return Err(format!(
                    "invalid chunk size {:?}",
                    String::from_utf8_lossy(line)
                ))
            }
        };
        digits += 1;
        if digits > 16 {
            return Err("chunk size too large".into());
        }
        size = size << 4 | u64::from(d);
    }
    if digits == 0 {
        return Err("empty chunk size".into());
    }
    Ok(size)
}
