//! Just enough ELF64 reading to tell whether an executable exports a symbol (OpenSSL linked
//! statically, as in Node.js) without loading the whole file.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

fn read_at(f: &mut File, off: u64, len: usize) -> Option<Vec<u8>> {
    f.seek(SeekFrom::Start(off)).ok()?;
    let mut v = vec![0u8; len];
    f.read_exact(&mut v).ok()?;
    Some(v)
}

fn u16le(b: &[u8], o: usize) -> u64 {
    u16::from_le_bytes([b[o], b[o + 1]]) as u64
}
fn u32le(b: &[u8], o: usize) -> u64 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as u64
}
fn u64le(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

/// True when the ELF64 little-endian file at `path` defines `symbol` in its dynamic symbol
/// table.
pub fn exports_symbol(path: &Path, symbol: &str) -> bool {
    exports(path, symbol).unwrap_or(false)
}

fn exports(path: &Path, symbol: &str) -> Option<bool> {
    let mut f = File::open(path).ok()?;
    let eh = read_at(&mut f, 0, 64)?;
    if &eh[0..4] != b"\x7fELF" || eh[4] != 2 || eh[5] != 1 {
        return Some(false);
    }
    let shoff = u64le(&eh, 0x28);
    let shentsize = u16le(&eh, 0x3a) as usize;
    let shnum = u16le(&eh, 0x3c) as usize;
    if shoff == 0 || shentsize < 64 || shnum == 0 || shnum > 4096 {
        return Some(false);
    }
    let sh = read_at(&mut f, shoff, shentsize * shnum)?;
    let sec = |i: usize| &sh[i * shentsize..i * shentsize + 64];
    for i in 0..shnum {
        let s = sec(i);
        if u32le(s, 4) != 11 {
            continue; // SHT_DYNSYM
        }
        let (off, size, link, entsize) = (
            u64le(s, 0x18),
            u64le(s, 0x20),
            u32le(s, 0x28),
            u64le(s, 0x38),
        );
        if link as usize >= shnum || entsize < 24 || size > 256 << 20 {
            return Some(false);
        }
        let st = sec(link as usize);
        let (stroff, strsize) = (u64le(st, 0x18), u64le(st, 0x20));
        if strsize > 256 << 20 {
            return Some(false);
        }
        let syms = read_at(&mut f, off, size as usize)?;
        let strs = read_at(&mut f, stroff, strsize as usize)?;
        let want = symbol.as_bytes();
        for e in syms.chunks_exact(entsize as usize) {
            let name = u32le(e, 0) as usize;
            let shndx = u16le(e, 6);
            if shndx == 0 || name >= strs.len() {
                continue; // undefined: imported, not exported
            }
            let rest = &strs[name..];
            if rest.len() > want.len() && &rest[..want.len()] == want && rest[want.len()] == 0 {
                return Some(true);
            }
        }
        return Some(false);
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libc_exports_malloc_not_ssl() {
        let libc = [
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
        ]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists());
        if let Some(p) = libc {
            assert!(exports_symbol(p, "malloc"));
            assert!(!exports_symbol(p, "SSL_write"));
        }
        assert!(!exports_symbol(Path::new("/nonexistent"), "x"));
    }
}
