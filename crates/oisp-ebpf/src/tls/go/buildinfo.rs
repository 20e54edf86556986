//! The Go version an executable was built with, from `.go.buildinfo` (kept by `-s -w`): a
//! 32-byte header `"\xff Go buildinf:"`, pointer size, flags; with flag 2 (Go 1.18 and later) the
//! version follows the header as a varint-length string, else (1.13–1.17) the header holds the
//! address of a Go string header `(pointer, length)` of the version.

use crate::elf::Elf;

const MAGIC: &[u8] = b"\xff Go buildinf:";

/// A Go release as (major, minor), e.g. (1, 19) for `go1.19.8`.
pub(crate) type GoVersion = (u32, u32);

/// The bytes of `.go.buildinfo`: the section, else (no section headers) the one 16-byte aligned
/// header in a writable data segment.
fn buildinfo_bytes(elf: &mut Elf) -> Option<Vec<u8>> {
    if elf.has_sections() {
        return elf.section_bytes(".go.buildinfo", 1 << 16);
    }
    let segments: Vec<_> = elf
        .segments()
        .iter()
        .filter(|s| !s.executable && s.file_size <= 512 << 20)
        .copied()
        .collect();
    let mut found = Vec::new();
    for s in segments {
        let Some(bytes) = elf.bytes_at(s.vaddr, s.file_size as usize) else {
            continue;
        };
        found.extend(
            memchr::memmem::find_iter(&bytes, MAGIC)
                .filter(|at| (s.vaddr + *at as u64).is_multiple_of(16))
                .map(|at| bytes[at..bytes.len().min(at + 4096)].to_vec()),
        );
    }
    match <[Vec<u8>; 1]>::try_from(found) {
        Ok([b]) => Some(b),
        Err(_) => None,
    }
}

/// The version string (`go1.19.8`) of an executable built by Go, if it says.
pub(crate) fn version_string(elf: &mut Elf) -> Option<String> {
    let data = buildinfo_bytes(elf)?;
    if data.len() < 32 || !data.starts_with(MAGIC) || data[14] != 8 {
        return None;
    }
    let flags = data[15];
    if flags & 1 != 0 {
        return None; // big-endian
    }
    let bytes = if flags & 2 != 0 {
        let (len, used) = varint(&data[32..])?;
        let start = 32 + used;
        data.get(start..start.checked_add(len as usize)?)?.to_vec()
    } else {
        let ptr = u64::from_le_bytes(data[16..24].try_into().ok()?);
        let hdr = elf.bytes_at(ptr, 16)?;
        let (at, len) = (
            u64::from_le_bytes(hdr.get(..8)?.try_into().ok()?),
            u64::from_le_bytes(hdr.get(8..16)?.try_into().ok()?),
        );
        if len > 64 {
            return None;
        }
        let s = elf.bytes_at(at, len as usize)?;
        (s.len() == len as usize).then_some(s)?
    };
    String::from_utf8(bytes).ok()
}

/// An unsigned LEB128 varint and its length in bytes.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, byte) in b.iter().take(9).enumerate() {
        v |= ((byte & 0x7f) as u64) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// `go1.19.8` → (1, 19); `go1.21rc2` → (1, 21); anything else (a `devel` build) → `None`.
pub(crate) fn parse(v: &str) -> Option<GoVersion> {
    let rest = v.strip_prefix("go")?;
    let mut parts = rest.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse("go1.19.8"), Some((1, 19)));
        assert_eq!(parse("go1.21rc2"), Some((1, 21)));
        assert_eq!(parse("go1.17"), Some((1, 17)));
        assert_eq!(parse("devel +abc"), None);
        assert_eq!(parse("go"), None);
        assert_eq!(varint(&[0x08]), Some((8, 1)));
        assert_eq!(varint(&[0x80, 0x01]), Some((128, 2)));
        assert_eq!(varint(&[0x80]), None);
    }
}
