//! RFC 6455 §5.2 frame headers: parsing (FIN, RSV bits, opcode, 7/16/64-bit payload length,
//! masking key) and unmasking.

/// Frame opcodes (RFC 6455 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Opcode {
    fn from_bits(b: u8) -> Option<Opcode> {
        Some(match b {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    /// Close, ping and pong.
    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    pub fin: bool,
    /// RSV1: "per-message compressed" under permessage-deflate (first frame of a message only).
    pub rsv1: bool,
    pub opcode: Opcode,
    pub mask: Option<[u8; 4]>,
    pub len: u64,
}

/// Longest header: 2 + 8 (64-bit length) + 4 (masking key).
pub(crate) const MAX_HEADER: usize = 14;

/// Bytes the header starting with `b0, b1` occupies.
pub(crate) fn header_len(b1: u8) -> usize {
    let ext = match b1 & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + if b1 & 0x80 != 0 { 4 } else { 0 }
}

/// Parses a complete header (`h.len() == header_len(h[1])`). Errors name the violated rule:
/// reserved opcode, RSV2/RSV3 set, 64-bit length with the top bit set, or a control frame that
/// is fragmented or longer than 125 bytes.
pub(crate) fn parse_header(h: &[u8]) -> Result<FrameHeader, String> {
    let (b0, b1) = match h {
        [b0, b1, ..] => (*b0, *b1),
        _ => return Err("frame header shorter than 2 bytes".into()),
    };
    if h.len() != header_len(b1) {
        return Err("frame header length mismatch".into());
    }
    let opcode =
        Opcode::from_bits(b0 & 0x0f).ok_or_else(|| format!("reserved opcode 0x{:x}", b0 & 0x0f))?;
    if b0 & 0x30 != 0 {
        return Err("RSV2/RSV3 bit set (no extension defines them)".into());
    }
    let mut at = 2;
    let len = match b1 & 0x7f {
        126 => {
            at += 2;
            u16::from_be_bytes([h[2], h[3]]) as u64
        }
        127 => {
            at += 8;
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[2..10]);
            let v = u64::from_be_bytes(b);
            if v >> 63 != 0 {
                return Err("64-bit payload length with the most significant bit set".into());
            }
            v
        }
        n => n as u64,
    };
    let mask = (b1 & 0x80 != 0).then(|| [h[at], h[at + 1], h[at + 2], h[at + 3]]);
    let fh = FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        opcode,
        mask,
        len,
    };
    if opcode.is_control() && (!fh.fin || len > 125) {
        return Err(format!(
            "{opcode:?} frame fragmented or longer than 125 bytes ({len})"
        ));
    }
    Ok(fh)
}

/// XORs `data` with `key`, `data[0]` being payload byte number `offset` of its frame.
pub(crate) fn unmask(data: &mut [u8], key: [u8; 4], offset: u64) {
    let start = (offset % 4) as usize;
    let mut k = [0u8; 4];
    for (i, b) in k.iter_mut().enumerate() {
        *b = key[(start + i) % 4];
    }
    let word = u32::from_ne_bytes(k);
    let mut chunks = data.chunks_exact_mut(4);
    for c in &mut chunks {
        let v = u32::from_ne_bytes([c[0], c[1], c[2], c[3]]) ^ word;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= k[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_7_16_64() {
        let h = parse_header(&[0x81, 5]).unwrap();
        assert_eq!(
            (h.fin, h.opcode, h.len, h.mask),
            (true, Opcode::Text, 5, None)
        );
        let h = parse_header(&[0x02, 126, 0x01, 0x00]).unwrap();
        assert_eq!((h.fin, h.opcode, h.len), (false, Opcode::Binary, 256));
        let h = parse_header(&[0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0]).unwrap();
        assert_eq!(h.len, 1 << 32);
        let mut big = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert!(parse_header(&big).is_err());
        big[2] = 0;
        assert!(parse_header(&big).is_ok());
        let h = parse_header(&[0x81, 0x85, 1, 2, 3, 4]).unwrap();
        assert_eq!(h.mask, Some([1, 2, 3, 4]));
        assert_eq!(header_len(0x85), 6);
        assert_eq!(header_len(0xfe), 8);
        assert_eq!(header_len(0xff), MAX_HEADER);
    }

    #[test]
    fn rejects_reserved_bits_and_bad_control_frames() {
        assert!(parse_header(&[0x83, 0]).is_err()); // opcode 3
        assert!(parse_header(&[0x91, 0]).is_err()); // RSV3
        assert!(parse_header(&[0xa1, 0]).is_err()); // RSV2
        assert!(parse_header(&[0x09, 0]).is_err()); // fragmented ping
        assert!(parse_header(&[0x89, 126, 0, 126]).is_err()); // long ping
        assert!(parse_header(&[0xc1, 0]).unwrap().rsv1);
    }

    #[test]
    fn unmask_at_any_offset() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        // RFC 6455 §5.7: masked "Hello".
        let mut d = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        unmask(&mut d, key, 0);
        assert_eq!(&d, b"Hello");
        let mut whole = *b"0123456789abcdef!";
        unmask(&mut whole, key, 0);
        for split in 0..whole.len() {
            let mut parts = whole;
            let (a, b) = parts.split_at_mut(split);
            unmask(a, key, 0);
            unmask(b, key, split as u64);
            assert_eq!(&parts, b"0123456789abcdef!");
        }
    }
}
