//! Just enough ELF64 (little-endian) reading for the probes: the exported symbols of a file
//! (OpenSSL linked statically, as in Node.js), the full symbol table `.symtab` when it is kept (Go
//! executables), named sections (`.gopclntab`, `.go.buildinfo`), where functions are and their
//! bytes, the loadable segments and the build id — reading only what is asked for.

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

/// A symbol table: (symbol entries, entry size, string table bytes).
type SymTable = (Vec<u8>, usize, Vec<u8>);

/// An open ELF64 little-endian file: its loadable segments and dynamic symbol table.
pub struct Elf {
    file: File,
    /// Each PT_LOAD segment.
    loads: Vec<Segment>,
    /// (symbol table bytes, entry size, string table bytes) of SHT_DYNSYM, when present
    dynsym: Option<SymTable>,
    /// The section headers, named.
    sections: Vec<Section>,
    /// `.symtab` as for `dynsym`, read on first use (`None` inside: the file has none).
    symtab: Option<Option<SymTable>>,
    /// The GNU build id (hex), when the file has one.
    build_id: Option<String>,
    /// PT_GNU_EH_FRAME: (file offset, vaddr, size) of `.eh_frame_hdr`, when present.
    eh_frame_hdr: Option<(u64, u64, u64)>,
    /// e_machine (62: x86-64, 183: AArch64).
    machine: u16,
}

/// The GNU build id (lowercase hex) in the notes `b` of a PT_NOTE segment.
fn gnu_build_id(b: &[u8]) -> Option<String> {
    let mut at = 0usize;
    while at + 12 <= b.len() {
        let (namesz, descsz, kind) = (
            u32le(b, at) as usize,
            u32le(b, at + 4) as usize,
            u32le(b, at + 8),
        );
        let name_end = at + 12 + namesz;
        let desc = name_end.next_multiple_of(4);
        let next = (desc + descsz).next_multiple_of(4);
        if next > b.len() || desc + descsz > b.len() {
            return None;
        }
        if kind == 3 && b.get(at + 12..name_end) == Some(b"GNU\0") {
            return Some(
                b[desc..desc + descsz]
                    .iter()
                    .map(|x| format!("{x:02x}"))
                    .collect(),
            );
        }
        at = next;
    }
    None
}

/// The defined symbol `name` of a symbol table (symbols, entry size, strings).
fn find_symbol((syms, entsize, strs): &SymTable, name: &str) -> Option<Symbol> {
    let want = name.as_bytes();
    syms.chunks_exact(*entsize).find_map(|e| {
        let at = u32le(e, 0) as usize;
        if u16le(e, 6) == 0 || at >= strs.len() {
            return None; // undefined: imported, not exported
        }
        let rest = &strs[at..];
        (rest.len() > want.len() && &rest[..want.len()] == want && rest[want.len()] == 0).then(
            || Symbol {
                vaddr: u64le(e, 8),
                size: u64le(e, 16),
            },
        )
    })
}

/// A PT_LOAD program header: where a range of virtual addresses sits in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub offset: u64,
    pub vaddr: u64,
    pub file_size: u64,
    /// PF_X: the segment holds code.
    pub executable: bool,
}

/// A section header: its name, address, file offset and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    /// SHT_* type.
    pub kind: u32,
    pub vaddr: u64,
    pub offset: u64,
    pub size: u64,
    /// sh_link (the string table of a symbol table).
    link: usize,
    entsize: usize,
}

/// Largest symbol or string table read (bytes).
const MAX_TABLE: u64 = 256 << 20;

/// A defined dynamic symbol: its virtual address and size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub vaddr: u64,
    pub size: u64,
}

impl Elf {
    /// Opens `path`; `None` when it cannot be read or is not a sane ELF64 LE file.
    pub fn open(path: &Path) -> Option<Elf> {
        let mut f = File::open(path).ok()?;
        let eh = read_at(&mut f, 0, 64)?;
        if &eh[0..4] != b"\x7fELF" || eh[4] != 2 || eh[5] != 1 {
            return None;
        }
        let (phoff, phentsize, phnum) = (
            u64le(&eh, 0x20),
            u16le(&eh, 0x36) as usize,
            u16le(&eh, 0x38) as usize,
        );
        let mut loads = Vec::new();
        let mut notes = Vec::new();
        let mut eh_frame_hdr = None;
        if phoff != 0 && phentsize >= 56 && phnum <= 4096 {
            let ph = read_at(&mut f, phoff, phentsize * phnum)?;
            for p in ph.chunks_exact(phentsize) {
                if u32le(p, 0) == 1 {
                    loads.push(Segment {
                        offset: u64le(p, 0x08),
                        vaddr: u64le(p, 0x10),
                        file_size: u64le(p, 0x20),
                        executable: u32le(p, 4) & 1 != 0,
                    });
                } else if u32le(p, 0) == 4 {
                    // PT_NOTE
                    notes.push((u64le(p, 0x08), u64le(p, 0x20)));
                } else if u32le(p, 0) == 0x6474_e550 {
                    // PT_GNU_EH_FRAME
                    eh_frame_hdr = Some((u64le(p, 0x08), u64le(p, 0x10), u64le(p, 0x20)));
                }
            }
        }
        let sections = Self::read_sections(&mut f, &eh).unwrap_or_default();
        let dynsym = sections
            .iter()
            .find(|s| s.kind == 11) // SHT_DYNSYM
            .and_then(|s| Self::read_symbols(&mut f, &sections, s));
        let build_id = notes
            .iter()
            .filter(|(_, size)| *size <= 1 << 16)
            .find_map(|(off, size)| gnu_build_id(&read_at(&mut f, *off, *size as usize)?));
        Some(Elf {
            file: f,
            loads,
            dynsym,
            sections,
            symtab: None,
            build_id,
            eh_frame_hdr,
            machine: u16le(&eh, 0x12) as u16,
        })
    }

    /// Every section header with its name (empty when the file has none or they are insane).
    fn read_sections(f: &mut File, eh: &[u8]) -> Option<Vec<Section>> {
        let shoff = u64le(eh, 0x28);
        let shentsize = u16le(eh, 0x3a) as usize;
        let shnum = u16le(eh, 0x3c) as usize;
        let shstrndx = u16le(eh, 0x3e) as usize;
        if shoff == 0 || shentsize < 64 || shnum == 0 || shnum > 4096 || shstrndx >= shnum {
            return None;
        }
        let sh = read_at(f, shoff, shentsize * shnum)?;
        let sec = |i: usize| &sh[i * shentsize..i * shentsize + 64];
        let names = sec(shstrndx);
        let (noff, nsize) = (u64le(names, 0x18), u64le(names, 0x20));
        let names = if nsize <= 1 << 20 {
            read_at(f, noff, nsize as usize).unwrap_or_default()
        } else {
            Vec::new()
        };
        Some(
            (0..shnum)
                .map(sec)
                .map(|s| {
                    let at = u32le(s, 0) as usize;
                    let name = names
                        .get(at..)
                        .and_then(|r| r.split(|b| *b == 0).next())
                        .map(|n| String::from_utf8_lossy(n).into_owned())
                        .unwrap_or_default();
                    Section {
                        name,
                        kind: u32le(s, 4) as u32,
                        vaddr: u64le(s, 0x10),
                        offset: u64le(s, 0x18),
                        size: u64le(s, 0x20),
                        link: u32le(s, 0x28) as usize,
                        entsize: u64le(s, 0x38) as usize,
                    }
                })
                .collect(),
        )
    }

    /// (symbols, entry size, strings) of the symbol table `s`.
    fn read_symbols(f: &mut File, sections: &[Section], s: &Section) -> Option<SymTable> {
        let strtab = sections.get(s.link)?;
        if s.entsize < 24 || s.size > MAX_TABLE || strtab.size > MAX_TABLE {
            return None;
        }
        let syms = read_at(f, s.offset, s.size as usize)?;
        let strs = read_at(f, strtab.offset, strtab.size as usize)?;
        Some((syms, s.entsize, strs))
    }

    /// Whether the file has section headers (stripping with `sstrip` removes them).
    pub fn has_sections(&self) -> bool {
        !self.sections.is_empty()
    }

    /// The section called `name`, if the file has section headers and one is so called.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The bytes of section `name` (at most `max` bytes; `None` when larger, absent or not in
    /// the file, as `.bss`).
    pub fn section_bytes(&mut self, name: &str, max: u64) -> Option<Vec<u8>> {
        let s = self.section(name)?.clone();
        if s.kind == 8 || s.size > max {
            return None; // SHT_NOBITS
        }
        read_at(&mut self.file, s.offset, s.size as usize)
    }

    /// The defined function or object `name` of the full symbol table `.symtab` (kept in
    /// unstripped executables, with local symbols: Go's functions), read on first use.
    pub fn static_symbol(&mut self, name: &str) -> Option<Symbol> {
        find_symbol(self.symtab()?, name)
    }

    /// Every defined symbol of `.symtab` whose name ends with `suffix` (C libraries vendored with
    /// a versioned prefix, e.g. AWS-LC's `aws_lc_0_47_0_EVP_AEAD_CTX_seal`), with its name.
    pub fn static_symbols_ending(&mut self, suffix: &str) -> Vec<(String, Symbol)> {
        let Some((syms, entsize, strs)) = self.symtab() else {
            return Vec::new();
        };
        let want = suffix.as_bytes();
        syms.chunks_exact(*entsize)
            .filter(|e| u16le(e, 6) != 0)
            .filter_map(|e| {
                let rest = strs.get(u32le(e, 0) as usize..)?;
                let name = &rest[..rest.iter().position(|b| *b == 0)?];
                name.ends_with(want).then(|| {
                    let sym = Symbol {
                        vaddr: u64le(e, 8),
                        size: u64le(e, 16),
                    };
                    (String::from_utf8_lossy(name).into_owned(), sym)
                })
            })
            .collect()
    }

    /// `.symtab`, read on first use (`None`: the file has none).
    fn symtab(&mut self) -> Option<&SymTable> {
        if self.symtab.is_none() {
            let table = self
                .sections
                .iter()
                .find(|s| s.kind == 2) // SHT_SYMTAB
                .cloned()
                .and_then(|s| Self::read_symbols(&mut self.file, &self.sections, &s));
            self.symtab = Some(table);
        }
        self.symtab.as_ref()?.as_ref()
    }

    /// The defined (exported) dynamic symbol `name`, if any.
    pub fn symbol(&self, name: &str) -> Option<Symbol> {
        find_symbol(self.dynsym.as_ref()?, name)
    }

    /// The ELF machine (`e_machine`: 62 for x86-64).
    pub fn machine(&self) -> u16 {
        self.machine
    }

    /// The GNU build id (lowercase hex), when the file has one.
    pub fn build_id(&self) -> Option<&str> {
        self.build_id.as_deref()
    }

    /// The start address of every function with unwind information, sorted: the binary-search
    /// table of `.eh_frame_hdr` (what unwinders use), present in stripped executables too. `None`
    /// when the file has no such table or it is in an encoding other than the usual
    /// (`DW_EH_PE_datarel | DW_EH_PE_sdata4` entries).
    pub fn function_starts(&mut self) -> Option<Vec<u64>> {
        let (off, vaddr, size) = self.eh_frame_hdr?;
        if !(12..=256 << 20).contains(&size) {
            return None;
        }
        let hdr = read_at(&mut self.file, off, size as usize)?;
        let (version, frame_ptr_enc, count_enc, table_enc) = (hdr[0], hdr[1], hdr[2], hdr[3]);
        // eh_frame_ptr as a 4-byte value, a udata4 count, datarel sdata4 table entries.
        if version != 1 || frame_ptr_enc & 0x0f != 0x0b || count_enc != 0x03 || table_enc != 0x3b {
            return None;
        }
        let count = u32le(&hdr, 8) as usize;
        let table = hdr.get(12..12 + count.checked_mul(8)?)?;
        let mut starts: Vec<u64> = table
            .chunks_exact(8)
            .map(|e| (vaddr as i64 + i32::from_le_bytes([e[0], e[1], e[2], e[3]]) as i64) as u64)
            .collect();
        starts.sort_unstable();
        starts.dedup();
        Some(starts)
    }

    /// The loadable segments.
    pub fn segments(&self) -> &[Segment] {
        &self.loads
    }

    /// The file offset of virtual address `vaddr` (what uprobes attach to), when a loadable
    /// segment holds it.
    pub fn offset_of(&self, vaddr: u64) -> Option<u64> {
        self.segment(vaddr).map(|s| vaddr - s.vaddr + s.offset)
    }

    /// The loadable segment whose file bytes hold `vaddr`.
    fn segment(&self, vaddr: u64) -> Option<Segment> {
        self.loads
            .iter()
            .find(|s| vaddr >= s.vaddr && vaddr < s.vaddr + s.file_size)
            .copied()
    }

    /// `len` bytes of the file from virtual address `vaddr` (fewer at the end of a segment).
    pub fn bytes_at(&mut self, vaddr: u64, len: usize) -> Option<Vec<u8>> {
        let s = self.segment(vaddr)?;
        let len = len.min((s.vaddr + s.file_size - vaddr) as usize);
        read_at(&mut self.file, vaddr - s.vaddr + s.offset, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn libc() -> Option<&'static Path> {
        [
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
        ]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())
    }

    #[test]
    fn libc_exports_malloc_not_ssl() {
        let Some(p) = libc() else {
            eprintln!("skipped: no x86-64 libc.so.6 on this machine");
            return;
        };
        let elf = Elf::open(p).expect("libc is ELF64");
        assert!(elf.symbol("malloc").is_some());
        assert!(elf.symbol("SSL_write").is_none());
        assert!(Elf::open(Path::new("/nonexistent")).is_none());
    }

    #[test]
    fn symbol_addresses_map_to_file_bytes() {
        let Some(p) = libc() else {
            eprintln!("skipped: no x86-64 libc.so.6 on this machine");
            return;
        };
        let mut elf = Elf::open(p).unwrap();
        let malloc = elf.symbol("malloc").unwrap();
        assert!(malloc.size > 0);
        let off = elf.offset_of(malloc.vaddr).unwrap();
        let via_vaddr = elf.bytes_at(malloc.vaddr, 16).unwrap();
        let via_file = read_at(&mut File::open(p).unwrap(), off, 16).unwrap();
        assert_eq!(via_vaddr, via_file);
        assert!(elf.symbol("malloc_but_not_really").is_none());
        assert!(Elf::open(Path::new("/etc/hostname")).is_none());
    }

    /// An executable whose segments sit at other file offsets than their addresses (non-PIE,
    /// like Node's): offsets and bytes come from the segment holding the address.
    #[test]
    fn segment_offsets_differ_from_addresses() {
        let mut f = vec![0u8; 0x1100];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2; // ELF64
        f[5] = 1; // little-endian
        f[0x20..0x28].copy_from_slice(&0x40u64.to_le_bytes()); // e_phoff
        f[0x36..0x38].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        f[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
        let ph = 0x40;
        f[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        f[ph + 0x08..ph + 0x10].copy_from_slice(&0x1000u64.to_le_bytes()); // p_offset
        f[ph + 0x10..ph + 0x18].copy_from_slice(&0x40_1000u64.to_le_bytes()); // p_vaddr
        f[ph + 0x20..ph + 0x28].copy_from_slice(&0x100u64.to_le_bytes()); // p_filesz
        f[0x1010..0x1014].copy_from_slice(&[0xf3, 0x0f, 0x1e, 0xfa]);
        let dir = std::env::temp_dir().join(format!("oisp-elf-{}", std::process::id()));
        std::fs::write(&dir, &f).unwrap();
        let mut elf = Elf::open(&dir).unwrap();
        assert_eq!(elf.offset_of(0x40_1010), Some(0x1010));
        assert_eq!(elf.offset_of(0x1010), None);
        assert_eq!(
            elf.bytes_at(0x40_1010, 4).unwrap(),
            [0xf3, 0x0f, 0x1e, 0xfa]
        );
        assert_eq!(
            elf.bytes_at(0x40_10fe, 16).unwrap().len(),
            2,
            "ends with the segment"
        );
        std::fs::remove_file(&dir).unwrap();
    }
}
