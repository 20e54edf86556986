//! The server name and offered protocols of a TLS ClientHello, from the bytes a client wrote on its
//! socket (`bpf/sock_plain.bpf.h` copies the start of each one): what a connection is, even where
//! no TLS stack of the process is hooked.
//!
//! Only what is needed is parsed (RFC 8446 §4.1.2, RFC 6066 §3, RFC 7301 §3.1), with every length
//! checked: bytes cut short or malformed give `None` for what they would have held, never a panic.

/// What a ClientHello says about its connection.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Hello {
    /// The `server_name` extension's host name.
    pub sni: Option<String>,
    /// The ALPN protocols offered, in the client's order.
    pub alpn: Vec<String>,
}

/// A cursor over bytes that may end early.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<usize> {
        self.take(1).map(|b| b[0] as usize)
    }

    fn u16(&mut self) -> Option<usize> {
        self.take(2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
    }

    fn u24(&mut self) -> Option<usize> {
        self.take(3)
            .map(|b| (b[0] as usize) << 16 | (b[1] as usize) << 8 | b[2] as usize)
    }

    /// A vector with a `width`-byte length prefix (1 or 2).
    fn vec(&mut self, width: usize) -> Option<&'a [u8]> {
        let n = if width == 1 { self.u8()? } else { self.u16()? };
        self.take(n)
    }
}

/// Parses `bytes`, the start of a client's first TLS record; `None` when it is not a ClientHello.
/// Extensions past the end of the bytes are missing from the result.
pub(crate) fn parse(bytes: &[u8]) -> Option<Hello> {
    let mut r = Reader(bytes);
    // record header: handshake (22), legacy version 3.x, length
    if r.u8()? != 22 || r.u8()? != 3 {
        return None;
    }
    r.take(1)?;
    r.u16()?;
    // handshake header: client_hello (1), length
    if r.u8()? != 1 {
        return None;
    }
    r.u24()?;
    let mut hello = Hello::default();
    let mut body = || -> Option<()> {
        r.take(2 + 32)?; // legacy_version, random
        r.vec(1)?; // legacy_session_id
        r.vec(2)?; // cipher_suites
        r.vec(1)?; // legacy_compression_methods
        let ext_len = r.u16()?;
        let mut exts = Reader(&r.0[..ext_len.min(r.0.len())]);
        while let (Some(kind), Some(data)) = (exts.u16(), exts.vec(2)) {
            match kind {
                0 => hello.sni = server_name(data),
                16 => hello.alpn = protocols(data),
                _ => {}
            }
        }
        Some(())
    };
    body();
    Some(hello)
}

/// The host name of a `server_name` extension (name type 0), if it is a plausible DNS name.
fn server_name(data: &[u8]) -> Option<String> {
    let mut list = Reader(Reader(data).vec(2)?);
    while let Some(kind) = list.u8() {
        let name = list.vec(2)?;
        if kind == 0 {
            let ok = !name.is_empty()
                && name.len() <= 253
                && name
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
            return ok.then(|| String::from_utf8_lossy(name).to_ascii_lowercase());
        }
    }
    None
}

/// The protocol names of an ALPN extension.
fn protocols(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(list) = Reader(data).vec(2) else {
        return out;
    };
    let mut list = Reader(list);
    while let Some(p) = list.vec(1) {
        out.push(String::from_utf8_lossy(p).into_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello as a client writes it: `exts` are (type, data) pairs.
    fn client_hello(exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut ext_bytes = Vec::new();
        for (t, d) in exts {
            ext_bytes.extend(t.to_be_bytes());
            ext_bytes.extend((d.len() as u16).to_be_bytes());
            ext_bytes.extend(d);
        }
        let mut body = vec![3, 3];
        body.extend([7u8; 32]);
        body.push(32);
        body.extend([1u8; 32]);
        body.extend(4u16.to_be_bytes());
        body.extend([0x13, 0x01, 0x13, 0x02]);
        body.extend([1, 0]);
        body.extend((ext_bytes.len() as u16).to_be_bytes());
        body.extend(ext_bytes);
        let mut hs = vec![1];
        hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend(body);
        let mut rec = vec![22, 3, 1];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    fn sni_ext(name: &str) -> (u16, Vec<u8>) {
        let mut entry = vec![0];
        entry.extend((name.len() as u16).to_be_bytes());
        entry.extend(name.as_bytes());
        let mut d = (entry.len() as u16).to_be_bytes().to_vec();
        d.extend(entry);
        (0, d)
    }

    fn alpn_ext(protos: &[&str]) -> (u16, Vec<u8>) {
        let mut list = Vec::new();
        for p in protos {
            list.push(p.len() as u8);
            list.extend(p.as_bytes());
        }
        let mut d = (list.len() as u16).to_be_bytes().to_vec();
        d.extend(list);
        (16, d)
    }

    #[test]
    fn reads_server_name_and_alpn_wherever_they_are() {
        let big_key_share = (51u16, vec![0u8; 1250]);
        let bytes = client_hello(&[
            (10, vec![0, 2, 0, 29]),
            big_key_share,
            alpn_ext(&["h2", "http/1.1"]),
            sni_ext("API.Anthropic.com"),
        ]);
        let h = parse(&bytes).unwrap();
        assert_eq!(h.sni.as_deref(), Some("api.anthropic.com"));
        assert_eq!(h.alpn, ["h2", "http/1.1"]);
    }

    #[test]
    fn cut_short_or_not_a_hello_never_panics() {
        let bytes = client_hello(&[alpn_ext(&["h2"]), sni_ext("api.openai.com")]);
        for n in 0..bytes.len() {
            let _ = parse(&bytes[..n]);
        }
        assert_eq!(
            parse(&bytes).unwrap().sni.as_deref(),
            Some("api.openai.com")
        );
        // cut inside the server name: the ALPN before it is kept, the name is not guessed
        let cut = parse(&bytes[..bytes.len() - 3]).unwrap();
        assert_eq!((cut.sni, cut.alpn), (None, vec!["h2".to_string()]));
        assert_eq!(parse(b"POST / HTTP/1.1\r\n"), None);
        // a ServerHello (type 2) is not a ClientHello
        let mut server = bytes.clone();
        server[5] = 2;
        assert_eq!(parse(&server), None);
        // garbage
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for _ in 0..2000 {
            let mut b = bytes.clone();
            for _ in 0..4 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = (x as usize) % b.len();
                b[i] = (x >> 32) as u8;
            }
            let _ = parse(&b);
        }
    }

    #[test]
    fn an_implausible_server_name_is_refused() {
        let bytes = client_hello(&[sni_ext("bad name\u{1}")]);
        assert_eq!(parse(&bytes).unwrap().sni, None);
    }
}
