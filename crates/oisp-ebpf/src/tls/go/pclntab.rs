//! Go's function table `.gopclntab`, which the runtime needs (stack traces, garbage collection)
//! and which therefore stays in stripped executables (`go build -ldflags="-s -w"`): it names
//! every function and gives where each starts; a function ends where the next begins.
//!
//! Layout read here (Go 1.18 and later: magic `0xfffffff0` for 1.18/1.19, `0xfffffff1` for 1.20
//! and later), all offsets relative to the table's start, little-endian, 8-byte pointers:
//!
//! | offset | field |
//! |---|---|
//! | 0 | magic (u32), then two zero bytes, `minLC` (1 on x86), `ptrSize` (8) |
//! | 8 | `nfunc`: number of functions |
//! | 16 | `nfiles` |
//! | 24 | `textStart`: the address function entries are relative to (`runtime.text`) |
//! | 32 | `funcnameOffset`: the function name table (NUL-terminated names) |
//! | 40, 48, 56 | compilation units, file table, pc tables (not read) |
//! | 64 | `pclnOffset`: the function table: `nfunc + 1` pairs `(entryOff u32, funcOff u32)`, the last pair's `entryOff` the end of the last function; `funcOff` is relative to the function table and leads to the function's `_func`, which begins `(entryOff u32, nameOff i32)` |
//!
//! Older layouts (`0xfffffffa`: Go 1.16/1.17, `0xfffffffb`: 1.2–1.15) are recognised and refused:
//! their entries are absolute addresses, and Go before 1.17 passes arguments on the stack.
//!
//! Every check is strict: entries strictly increasing, each `_func` agreeing with its table
//! entry, names inside the name table; anything else is an error saying what disagreed.

/// Magic of Go 1.18/1.19.
pub(crate) const MAGIC_118: u32 = 0xffff_fff0;
/// Magic of Go 1.20 and later.
pub(crate) const MAGIC_120: u32 = 0xffff_fff1;
const MAGIC_116: u32 = 0xffff_fffa;
const MAGIC_12: u32 = 0xffff_fffb;
/// More functions than this is not a Go executable's table.
const MAX_FUNCS: u64 = 10_000_000;

/// A parsed `.gopclntab` (borrowing its bytes).
#[derive(Debug)]
pub(crate) struct Pclntab<'a> {
    data: &'a [u8],
    nfunc: usize,
    /// Address function entries are relative to.
    pub text_start: u64,
    funcnames: usize,
    functab: usize,
}

/// A function of the table: its name and address range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Func {
    pub start: u64,
    pub end: u64,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// An offset of the header, as an index into `data` (`None` when beyond it).
fn offset(data: &[u8], at: usize) -> Result<usize, String> {
    let v = u64_at(data, at).ok_or(".gopclntab header truncated")?;
    if v >= data.len() as u64 {
        return Err(format!(
            ".gopclntab header offset at {at} (0x{v:x}) beyond the table"
        ));
    }
    Ok(v as usize)
}

impl<'a> Pclntab<'a> {
    /// Parses the header of the table in `data`. `text_fallback` is used when the header's
    /// `textStart` is 0 (position-independent executables leave it to a relocation): the
    /// address of the `.text` section, when known.
    pub(crate) fn parse(data: &'a [u8], text_fallback: Option<u64>) -> Result<Self, String> {
        let magic = u32_at(data, 0).ok_or(".gopclntab too short")?;
        match magic {
            MAGIC_118 | MAGIC_120 => {}
            MAGIC_116 => {
                return Err(".gopclntab of Go 1.16/1.17 (absolute entries): layout not read".into())
            }
            MAGIC_12 => return Err(".gopclntab of Go 1.2–1.15: stack calling convention".into()),
            m => return Err(format!(".gopclntab magic 0x{m:08x} unknown")),
        }
        if data.get(4..8) != Some(&[0, 0, 1, 8]) {
            return Err(format!(
                ".gopclntab header {:02x?}: not x86-64 with 8-byte pointers",
                data.get(4..8)
            ));
        }
        let nfunc = u64_at(data, 8).ok_or(".gopclntab header truncated")?;
        if nfunc == 0 || nfunc > MAX_FUNCS {
            return Err(format!(".gopclntab claims {nfunc} functions"));
        }
        let mut text_start = u64_at(data, 24).ok_or(".gopclntab header truncated")?;
        if text_start == 0 {
            text_start = text_fallback.ok_or(".gopclntab textStart is 0 and no .text section")?;
        }
        let funcnames = offset(data, 32)?;
        let functab = offset(data, 64)?;
        let table_len = (nfunc as usize + 1) * 8;
        if functab + table_len > data.len() {
            return Err(".gopclntab function table runs past the end".into());
        }
        Ok(Pclntab {
            data,
            nfunc: nfunc as usize,
            text_start,
            funcnames,
            functab,
        })
    }

    /// (entryOff, funcOff) of function table entry `i` (`i == nfunc`: the end entry).
    fn entry(&self, i: usize) -> (u32, u32) {
        let at = self.functab + i * 8;
        // In bounds: checked by `parse` for every i ≤ nfunc.
        (
            u32_at(self.data, at).unwrap_or(0),
            u32_at(self.data, at + 4).unwrap_or(0),
        )
    }

    /// The name of function `i`, checking its `_func` against the table.
    fn name(&self, i: usize) -> Result<&'a [u8], String> {
        let (entry, funcoff) = self.entry(i);
        let func = self
            .functab
            .checked_add(funcoff as usize)
            .filter(|f| f + 8 <= self.data.len())
            .ok_or_else(|| format!("function {i}: _func offset 0x{funcoff:x} out of the table"))?;
        let own_entry = u32_at(self.data, func).unwrap_or(u32::MAX);
        if own_entry != entry {
            return Err(format!(
                "function {i}: _func entry 0x{own_entry:x} disagrees with the table's 0x{entry:x}"
            ));
        }
        let name_off = u32_at(self.data, func + 4).unwrap_or(u32::MAX) as i32;
        let at = usize::try_from(name_off)
            .ok()
            .and_then(|n| self.funcnames.checked_add(n))
            .filter(|a| *a < self.data.len())
            .ok_or_else(|| format!("function {i}: name offset {name_off} out of the table"))?;
        let rest = &self.data[at..];
        let len = memchr::memchr(0, rest).ok_or("function name without its NUL")?;
        Ok(&rest[..len])
    }

    /// The one function called `name`, with its range. An error when the table is inconsistent
    /// anywhere, when no function or more than one has that name.
    pub(crate) fn find(&self, name: &str) -> Result<Func, String> {
        let mut found: Vec<usize> = Vec::new();
        let mut prev: Option<u32> = None;
        for i in 0..self.nfunc {
            let (entry, _) = self.entry(i);
            if prev.is_some_and(|p| entry <= p) {
                return Err(format!("function {i}: entries not increasing"));
            }
            prev = Some(entry);
            if self.name(i)? == name.as_bytes() {
                found.push(i);
            }
        }
        let (end, _) = self.entry(self.nfunc);
        if prev.is_some_and(|p| end <= p) {
            return Err("end of text before the last function".into());
        }
        match found[..] {
            [i] => {
                let (start, _) = self.entry(i);
                let (next, _) = self.entry(i + 1);
                Ok(Func {
                    start: self.text_start + start as u64,
                    end: self.text_start + next as u64,
                })
            }
            [] => Err(format!("no {name} in .gopclntab")),
            _ => Err(format!("{} functions named {name}", found.len())),
        }
    }
}

/// Whether `data` at `at` begins a Go ≥ 1.18 x86-64 table header (magic, zero pads, minLC 1,
/// 8-byte pointers): how a table is found in an executable without section headers.
pub(crate) fn header_at(data: &[u8], at: usize) -> bool {
    let Some(h) = data.get(at..at + 8) else {
        return false;
    };
    let magic = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    (magic == MAGIC_118 || magic == MAGIC_120) && h[4..8] == [0, 0, 1, 8]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of functions `names` at entries `entries` (the last: end of text).
    fn table(names: &[&str], entries: &[u32]) -> Vec<u8> {
        let n = names.len();
        let mut t = vec![0u8; 72];
        t[..8].copy_from_slice(&[0xf0, 0xff, 0xff, 0xff, 0, 0, 1, 8]);
        t[8..16].copy_from_slice(&(n as u64).to_le_bytes());
        t[24..32].copy_from_slice(&0x40_1000u64.to_le_bytes());
        let funcnames = t.len();
        let mut name_offs = Vec::new();
        for name in names {
            name_offs.push((t.len() - funcnames) as u32);
            t.extend_from_slice(name.as_bytes());
            t.push(0);
        }
        let functab = t.len();
        t[32..40].copy_from_slice(&(funcnames as u64).to_le_bytes());
        t[64..72].copy_from_slice(&(functab as u64).to_le_bytes());
        let funcs_at = (n + 1) * 8;
        for (i, e) in entries.iter().enumerate() {
            t.extend_from_slice(&e.to_le_bytes());
            t.extend_from_slice(&((funcs_at + i * 8) as u32).to_le_bytes());
        }
        for (i, e) in entries[..n].iter().enumerate() {
            t.extend_from_slice(&e.to_le_bytes());
            t.extend_from_slice(&name_offs[i].to_le_bytes());
        }
        t
    }

    #[test]
    fn finds_a_function_and_its_end() {
        let t = table(
            &["main.main", "crypto/tls.(*Conn).Write", "x"],
            &[0, 0x40, 0x90, 0xa0],
        );
        let p = Pclntab::parse(&t, None).unwrap();
        assert_eq!(
            p.find("crypto/tls.(*Conn).Write").unwrap(),
            Func {
                start: 0x40_1040,
                end: 0x40_1090
            }
        );
        assert!(p.find("crypto/tls.(*Conn).Read").is_err());
        assert!(header_at(&t, 0) && !header_at(&t, 1));
    }

    #[test]
    fn inconsistencies_are_refused() {
        let good = table(&["a", "b"], &[0, 0x10, 0x20]);
        // Entries not increasing.
        let t = table(&["a", "b"], &[0x10, 0x10, 0x20]);
        assert!(Pclntab::parse(&t, None).unwrap().find("b").is_err());
        // Two functions of one name.
        let t = table(&["a", "a"], &[0, 0x10, 0x20]);
        let e = Pclntab::parse(&t, None).unwrap().find("a").unwrap_err();
        assert!(e.contains("2 functions"), "{e}");
        // A _func whose entry disagrees with the table.
        let mut t = good.clone();
        let last = t.len() - 8;
        t[last] ^= 1;
        assert!(Pclntab::parse(&t, None).unwrap().find("b").is_err());
        // Old layouts, other architectures, garbage, truncation: refused, never a panic.
        for (at, b) in [(0, 0xfa), (0, 0xfb), (0, 0x00), (7, 4), (6, 4)] {
            let mut t = good.clone();
            t[at] = b;
            assert!(Pclntab::parse(&t, None).is_err(), "byte {at} = {b:x}");
        }
        for len in 0..good.len() {
            if let Ok(p) = Pclntab::parse(&good[..len], None) {
                let _ = p.find("b");
            }
        }
        // textStart 0: the fallback, or a refusal.
        let mut t = good;
        t[24..32].fill(0);
        assert!(Pclntab::parse(&t, None).is_err());
        let p = Pclntab::parse(&t, Some(0x1000)).unwrap();
        assert_eq!(p.find("b").unwrap().start, 0x1010);
    }
}
