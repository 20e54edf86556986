//! `permessage-deflate` (RFC 7692): the parameters the server accepted in the handshake and the
//! per-direction inflater (raw DEFLATE, the `00 00 ff ff` tail re-appended, sliding window kept
//! across messages unless that direction negotiated `*_no_context_takeover`).

use flate2::{Decompress, FlushDecompress, Status};

/// Parameters accepted in the 101 response's `Sec-WebSocket-Extensions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor after each message (server → client).
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message (client → server).
    pub client_no_context_takeover: bool,
    /// LZ77 window of server → client messages, 8..=15 (15 when not given).
    pub server_max_window_bits: u8,
    /// LZ77 window of client → server messages, 8..=15 (15 when not given).
    pub client_max_window_bits: u8,
}

/// Finds `permessage-deflate` among the accepted extensions (all `Sec-WebSocket-Extensions`
/// values of the 101 response, comma-separated) and reads its parameters. `Err` when it is
/// there with a parameter outside RFC 7692 §7.1; `Ok(None)` when it was not accepted.
pub fn negotiate<'a>(
    values: impl Iterator<Item = &'a str>,
) -> Result<Option<DeflateParams>, String> {
    for ext in values.flat_map(|v| v.split(',')) {
        let mut parts = ext.split(';').map(str::trim);
        if !parts
            .next()
            .is_some_and(|n| n.eq_ignore_ascii_case("permessage-deflate"))
        {
            continue;
        }
        let mut p = DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        };
        for param in parts.filter(|s| !s.is_empty()) {
            let (name, value) = match param.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
                None => (param, None),
            };
            let bits = || -> Result<u8, String> {
                value
                    .and_then(|v| v.parse::<u8>().ok())
                    .filter(|b| (8..=15).contains(b))
                    .ok_or_else(|| format!("permessage-deflate: bad {name}={value:?}"))
            };
            match name.to_ascii_lowercase().as_str() {
                "server_no_context_takeover" => p.server_no_context_takeover = true,
                "client_no_context_takeover" => p.client_no_context_takeover = true,
                "server_max_window_bits" => p.server_max_window_bits = bits()?,
                // A response may echo the offer's bare `client_max_window_bits`.
                "client_max_window_bits" if value.is_none() => {}
                "client_max_window_bits" => p.client_max_window_bits = bits()?,
                other => return Err(format!("permessage-deflate: unknown parameter `{other}`")),
            }
        }
        return Ok(Some(p));
    }
    Ok(None)
}

/// The `BFINAL=0` empty stored block every compressed message ends with, stripped by senders.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Inflater of one direction.
pub(crate) struct Inflater {
    z: Decompress,
    /// Reset after every message (`*_no_context_takeover`).
    reset_each: bool,
    scratch: Box<[u8; 16384]>,
}

impl Inflater {
    pub fn new(reset_each: bool) -> Self {
        // A 32 KiB window decodes any smaller negotiated window.
        Inflater {
            z: Decompress::new(false),
            reset_each,
            scratch: Box::new([0; 16384]),
        }
    }

    /// Inflates one whole compressed message (`input`, without the tail) and appends at most
    /// `max - out.len()` bytes to `out`. Returns whether output was cut at `max`; inflation
    /// continues past the cut so the window stays right for later messages.
    pub fn message(&mut self, input: &[u8], out: &mut Vec<u8>, max: usize) -> Result<bool, String> {
        let mut cut = false;
        for part in [input, &TAIL[..]] {
            let mut pos = 0usize;
            loop {
                let before_in = self.z.total_in();
                let before_out = self.z.total_out();
                let status = self
                    .z
                    .decompress(&part[pos..], &mut self.scratch[..], FlushDecompress::Sync)
                    .map_err(|e| format!("inflate: {e}"))?;
                let used = (self.z.total_in() - before_in) as usize;
                let made = (self.z.total_out() - before_out) as usize;
                pos += used;
                let room = max.saturating_sub(out.len());
                out.extend_from_slice(&self.scratch[..made.min(room)]);
                cut |= made > room;
                if status == Status::StreamEnd {
                    // BFINAL set: the sender ended its stream; a new one may follow.
                    self.z.reset(false);
                    if pos >= part.len() {
                        break;
                    }
                    continue;
                }
                if pos >= part.len() && made < self.scratch.len() {
                    break;
                }
                if used == 0 && made == 0 {
                    return Err("inflate: no progress (corrupt stream)".into());
                }
            }
        }
        if self.reset_each {
            self.z.reset(false);
        }
        Ok(cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, Compression, FlushCompress};

    /// What a permessage-deflate sender puts on the wire for `msgs` (one compressor).
    pub(crate) fn deflate_msgs(msgs: &[&[u8]], reset_each: bool) -> Vec<Vec<u8>> {
        let mut c = Compress::new(Compression::default(), false);
        msgs.iter()
            .map(|m| {
                let mut out = Vec::with_capacity(m.len() + 64);
                c.compress_vec(m, &mut out, FlushCompress::Sync).unwrap();
                while out.len() == out.capacity() {
                    out.reserve(64);
                    c.compress_vec(&[], &mut out, FlushCompress::Sync).unwrap();
                }
                assert!(out.ends_with(&TAIL));
                out.truncate(out.len() - 4);
                if reset_each {
                    c.reset();
                }
                out
            })
            .collect()
    }

    #[test]
    fn negotiation() {
        let p = negotiate(
            ["permessage-deflate; server_max_window_bits=12; client_max_window_bits"].into_iter(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (p.server_max_window_bits, p.client_max_window_bits),
            (12, 15)
        );
        let p = negotiate(["foo, permessage-deflate;client_no_context_takeover"].into_iter())
            .unwrap()
            .unwrap();
        assert!(p.client_no_context_takeover && !p.server_no_context_takeover);
        assert_eq!(negotiate(["x-webkit-deflate-frame"].into_iter()), Ok(None));
        assert!(negotiate(["permessage-deflate; server_max_window_bits=7"].into_iter()).is_err());
    }

    #[test]
    fn context_takeover_and_reset() {
        let m = br#"{"type":"response.output_text.delta","delta":"hello hello"}"#;
        for reset in [false, true] {
            let wire = deflate_msgs(&[m, m, m], reset);
            if !reset {
                assert!(
                    wire[1].len() < wire[0].len(),
                    "second message reuses the window"
                );
            }
            let mut inf = Inflater::new(reset);
            for w in &wire {
                let mut out = Vec::new();
                assert!(!inf.message(w, &mut out, 1 << 20).unwrap());
                assert_eq!(out, m);
            }
        }
    }

    #[test]
    fn output_cap_keeps_the_window() {
        let big = vec![b'a'; 100_000];
        let wire = deflate_msgs(&[&big, b"after"], false);
        let mut inf = Inflater::new(false);
        let mut out = Vec::new();
        assert!(inf.message(&wire[0], &mut out, 1000).unwrap());
        assert_eq!(out.len(), 1000);
        out.clear();
        assert!(!inf.message(&wire[1], &mut out, 1000).unwrap());
        assert_eq!(out, b"after");
        assert!(Inflater::new(false)
            .message(&[0xff; 8], &mut out, 10)
            .is_err());
    }
}
