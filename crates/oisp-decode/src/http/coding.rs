//! Streaming `Content-Encoding` decoders (gzip, deflate as zlib or raw, br, zstd) with a hard
//! cap on produced output, so decompression bombs cannot exhaust memory.

use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};
use std::io::{self, Write};

/// Output sink that refuses to grow beyond `cap` bytes in total (over its whole life).
#[derive(Debug, Default)]
struct Sink {
    buf: Vec<u8>,
    total: usize,
    cap: usize,
    over: bool,
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.cap.saturating_sub(self.total);
        let n = data.len().min(room);
        if n == 0 && !data.is_empty() {
            self.over = true;
            return Err(io::Error::other("decoded body exceeds limit"));
        }
        self.buf.extend_from_slice(&data[..n]);
        self.total += n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Kind {
    Gzip(Box<GzDecoder<Sink>>),
    Zlib(Box<ZlibDecoder<Sink>>),
    Raw(Box<DeflateDecoder<Sink>>),
    /// "deflate" whose first byte is known but not the second (zlib vs raw undecided).
    Deflate(Option<u8>),
    Br(Box<brotli::DecompressorWriter<Sink>>),
    Zstd(Box<zstd::stream::write::Decoder<'static, Sink>>),
}

/// Why decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CodingError {
    /// The output cap was reached; output so far is valid.
    Limit,
    /// The input is not valid for the coding (message names the coding).
    Invalid(String),
}

/// One content coding, decoded incrementally.
pub(crate) struct Stage {
    name: &'static str,
    kind: Kind,
    cap: usize,
}

impl Stage {
    /// A decoder for coding `token` (lower-case), or `None` if the coding is unsupported.
    pub fn new(token: &str, cap: usize) -> Option<Stage> {
        let sink = Sink {
            cap,
            ..Default::default()
        };
        let (name, kind) = match token {
            "gzip" | "x-gzip" => ("gzip", Kind::Gzip(Box::new(GzDecoder::new(sink)))),
            "deflate" => ("deflate", Kind::Deflate(None)),
            "br" => (
                "br",
                Kind::Br(Box::new(brotli::DecompressorWriter::new(sink, 4096))),
            ),
            "zstd" => {
                let dec = zstd::stream::write::Decoder::new(sink).ok()?;
                ("zstd", Kind::Zstd(Box::new(dec)))
            }
            _ => return None,
        };
        Some(Stage { name, kind, cap })
    }

    /// Decodes `input`, appending produced bytes to `out`.
    pub fn write(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), CodingError> {
        if let Kind::Deflate(first) = self.kind {
            let mut hdr = [0u8; 2];
            let have = match first {
                Some(b) => {
                    hdr[0] = b;
                    1
                }
                None => 0,
            };
            let need = 2 - have;
            if input.len() < need {
                if let Some(&b) = input.first() {
                    self.kind = Kind::Deflate(Some(b));
                }
                return Ok(());
            }
            hdr[have..].copy_from_slice(&input[..need]);
            input = &input[need..];
            let sink = Sink {
                cap: self.cap,
                ..Default::default()
            };
            let zlib = hdr[0] & 0x0f == 8
                && hdr[0] >> 4 <= 7
                && (u16::from(hdr[0]) << 8 | u16::from(hdr[1])) % 31 == 0;
            self.kind = if zlib {
                Kind::Zlib(Box::new(ZlibDecoder::new(sink)))
            } else {
                Kind::Raw(Box::new(DeflateDecoder::new(sink)))
            };
            self.write_inner(&hdr, out)?;
        }
        self.write_inner(input, out)
    }

    fn write_inner(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), CodingError> {
        let res = match &mut self.kind {
            Kind::Gzip(d) => d.write_all(input),
            Kind::Zlib(d) => d.write_all(input),
            Kind::Raw(d) => d.write_all(input),
            Kind::Br(d) => d.write_all(input),
            Kind::Zstd(d) => d.write_all(input),
            Kind::Deflate(_) => Ok(()),
        };
        self.drain(out);
        self.check(res)
    }

    /// Signals end of input; reports a stream that ended before its end marker.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), CodingError> {
        let res = match &mut self.kind {
            Kind::Gzip(d) => d.try_finish(),
            Kind::Zlib(d) => d.try_finish(),
            Kind::Raw(d) => d.try_finish(),
            Kind::Br(d) => d.close(),
            Kind::Zstd(d) => d.do_finish(),
            Kind::Deflate(None) => Ok(()),
            Kind::Deflate(Some(_)) => Err(io::Error::other("stream ends after one byte")),
        };
        self.drain(out);
        self.check(res)
    }

    fn sink(&mut self) -> Option<&mut Sink> {
        match &mut self.kind {
            Kind::Gzip(d) => Some(d.get_mut()),
            Kind::Zlib(d) => Some(d.get_mut()),
            Kind::Raw(d) => Some(d.get_mut()),
            Kind::Br(d) => Some(d.get_mut()),
            Kind::Zstd(d) => Some(d.get_mut()),
            Kind::Deflate(_) => None,
        }
    }

    fn drain(&mut self, out: &mut Vec<u8>) {
        if let Some(s) = self.sink() {
            out.append(&mut s.buf);
        }
    }

    fn check(&mut self, res: io::Result<()>) -> Result<(), CodingError> {
        let over = self.sink().is_some_and(|s| s.over);
        match res {
            Ok(()) => Ok(()),
            Err(_) if over => Err(CodingError::Limit),
            Err(e) => Err(CodingError::Invalid(format!("{}: {e}", self.name))),
        }
    }
}

/// Decoders for a `Content-Encoding` header value, in decoding order (last coding applied is
/// decoded first). `identity` is skipped. Returns `Err(token)` for an unsupported coding.
pub(crate) fn stages_for(header: &str, cap: usize) -> Result<Vec<Stage>, String> {
    let mut stages = Vec::new();
    for token in header.rsplit(',') {
        let token = token.trim().to_ascii_lowercase();
        if token.is_empty() || token == "identity" {
            continue;
        }
        match Stage::new(&token, cap) {
            Some(s) => stages.push(s),
            None => return Err(token),
        }
    }
    Ok(stages)
}
