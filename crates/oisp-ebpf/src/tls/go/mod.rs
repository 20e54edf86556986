//! Go's `crypto/tls`, compiled into every Go executable that speaks TLS (net/http clients, SDKs,
//! CLIs). Programs: `bpf/tls_go.bpf.c`.
//!
//! Data: `crypto/tls.(*Conn).Write(b []byte) (int, error)` and `(*Conn).Read`, whose plaintext
//! is the caller's buffer. Go ≥ 1.17 on x86-64 passes arguments in registers (ABIInternal): at
//! entry RAX = the `*Conn`, RBX = `b`'s pointer, RCX = its length; at return RAX = the bytes
//! written or read. R14 always holds the running goroutine (`g`). `(*Conn).Close` ends a session.
//! SNI: `(*Conn).makeClientHello` (entry: the `*Conn`) calls `hostnameInSNI(config.ServerName)`
//! on the same goroutine, whose result is the name sent (probed at its returns).
//!
//! Where: by name in `.symtab` when the executable keeps it, else in Go's own function table
//! `.gopclntab`, which stripped executables keep (`pclntab.rs`; `.data.rel.ro.gopclntab` in
//! position-independent ones; found by its header in a data segment when there are no section
//! headers): start, and end where the next function begins. Both must agree when both are there
//! (same start, the symbol's end not past the next function). The code must decode and begin
//! with Go's stack check on R14 (`code.rs`); the Go version (`.go.buildinfo`) must be ≥ 1.17 and
//! the executable x86-64. Anything else is a refusal that `status` shows.
//!
//! Returns: goroutines move between threads and Go moves their stacks, so return probes
//! (uretprobes, which rewrite the return address on the stack) must never be used. Instead an
//! entry uprobe sits on every `ret` instruction of the function, found by decoding the function's
//! instructions (`code.rs`). Calls in flight are keyed by (process, goroutine), not thread.
//!
//! Sessions: keyed by the `*Conn`, the same pointer for both directions whichever goroutine
//! reads or writes (HTTP/2's read loop reads, callers write). Its socket comes from the socket
//! syscalls made inside a `Write`/`Read` call by the same goroutine (R14 of the syscall's user
//! registers): what the kernel sees, independent of `net.Conn` layouts that change between Go
//! versions or of the connection being wrapped. A `*Conn` address seen on another socket than
//! before was freed and reused: its session starts afresh.
//!
//! A function's entry and return probes are one alternative of one hook group: a return probe
//! that failed to attach loses that return's data (its call stays in flight until the goroutine's
//! next call replaces it), never misattributes it.
//!
//! Not covered: Go before 1.17 (stack calling convention), other architectures, Go's 1.16/1.17
//! table layout in stripped executables, ALPN (not read from Go's structures, whose layout
//! changes between versions; `checkALPN` is inlined; HTTP/2 is recognised by its preface), SNI
//! where `hostnameInSNI` is inlined, a buffer on the goroutine's own stack that Go moves during
//! the call (net/http's buffers are on the heap), and calls made before the probes attach (a Go
//! program started after `record` is probed once its exec is seen).

mod buildinfo;
mod code;
mod pclntab;
#[cfg(test)]
pub(crate) mod testbin;

use super::{Hook, HookGroup, Linkage, TlsStack};
use crate::elf::Elf;
use oisp_capture::DataSource;
use pclntab::Pclntab;
use std::path::{Path, PathBuf};

pub(crate) struct GoTls;

const WRITE: &str = "crypto/tls.(*Conn).Write";
const READ: &str = "crypto/tls.(*Conn).Read";
const CLOSE: &str = "crypto/tls.(*Conn).Close";
/// `(c *Conn) makeClientHello()`: builds the ClientHello of `c` and calls [`SNI`].
const HELLO: &str = "crypto/tls.(*Conn).makeClientHello";
/// `hostnameInSNI(name string) string`: the server name the ClientHello carries.
const SNI: &str = "crypto/tls.hostnameInSNI";
/// `EM_X86_64`.
const X86_64: u16 = 62;
/// Largest `.gopclntab` read (bytes).
const MAX_PCLNTAB: u64 = 512 << 20;
/// Longest function probed (bytes): the data functions are a few hundred bytes.
const MAX_FUNCTION: u64 = 64 << 10;

/// How a function was located (shown in its probes' labels, and so by `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    Symbol,
    Pclntab,
}

impl How {
    fn label(self) -> &'static str {
        match self {
            How::Symbol => "by symbol",
            How::Pclntab => "by .gopclntab",
        }
    }
}

/// A located function: the file offsets of its entry and returns, and how it was located.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Located {
    entry: u64,
    rets: Vec<u64>,
    how: How,
}

/// Names of the section holding Go's function table: `.gopclntab`, or in position-independent
/// executables `.data.rel.ro.gopclntab`.
const PCLNTAB_SECTIONS: [&str; 2] = [".gopclntab", ".data.rel.ro.gopclntab"];

/// `.gopclntab`: the section, else (no section headers) the one table header found in a
/// read-only segment; with the `.text` address for position-independent executables.
fn pclntab_bytes(elf: &mut Elf) -> Option<(Vec<u8>, Option<u64>)> {
    let text = elf.section(".text").map(|s| s.vaddr);
    if let Some(name) = PCLNTAB_SECTIONS.iter().find(|n| elf.section(n).is_some()) {
        return elf.section_bytes(name, MAX_PCLNTAB).map(|b| (b, text));
    }
    if elf.has_sections() {
        return None;
    }
    let found = search_segments(elf, |bytes, at| {
        let start = at.checked_sub(1)?;
        if !start.is_multiple_of(8) || !pclntab::header_at(bytes, start) {
            return None;
        }
        let table = &bytes[start..];
        Pclntab::parse(table, text).ok().map(|_| table.to_vec())
    });
    match <[Vec<u8>; 1]>::try_from(found) {
        Ok([t]) => Some((t, text)),
        Err(_) => None,
    }
}

/// What `accept` makes of each place in a non-executable loadable segment where the bytes
/// `ff ff ff 00 00 01 08` (a table header after its magic's first byte) begin.
fn search_segments(
    elf: &mut Elf,
    accept: impl Fn(&[u8], usize) -> Option<Vec<u8>>,
) -> Vec<Vec<u8>> {
    let segments: Vec<_> = elf
        .segments()
        .iter()
        .filter(|s| !s.executable && s.file_size <= MAX_PCLNTAB)
        .copied()
        .collect();
    let mut found = Vec::new();
    for s in segments {
        let Some(bytes) = elf.bytes_at(s.vaddr, s.file_size as usize) else {
            continue;
        };
        found.extend(
            memchr::memmem::find_iter(&bytes, b"\xff\xff\xff\x00\x00\x01\x08")
                .filter_map(|at| accept(&bytes, at)),
        );
    }
    found
}

/// Whether the executable was built by Go: Go's function table or build information, by
/// section, or (no section headers) Go's build information header in a data segment.
fn is_go(elf: &mut Elf) -> bool {
    if PCLNTAB_SECTIONS
        .iter()
        .chain(&[".go.buildinfo"])
        .any(|n| elf.section(n).is_some())
    {
        return true;
    }
    !elf.has_sections() && buildinfo::version_string(elf).is_some()
}

/// Where `name` is: by symbol when `.symtab` has it (checked against the table when there is
/// one), else from the table; then its code checked and its returns found.
fn locate_function(
    elf: &mut Elf,
    table: &Result<Pclntab, String>,
    name: &str,
) -> Result<Located, String> {
    let from_table = table
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|t| t.find(name));
    let (start, end, how) = match elf.static_symbol(name).filter(|s| s.size > 0) {
        Some(sym) => {
            if let Ok(f) = &from_table {
                if f.start != sym.vaddr || sym.vaddr + sym.size > f.end {
                    return Err(format!(
                        "{name}: symbol at 0x{:x}+0x{:x}, .gopclntab at 0x{:x}..0x{:x}",
                        sym.vaddr, sym.size, f.start, f.end
                    ));
                }
            }
            (sym.vaddr, sym.vaddr + sym.size, How::Symbol)
        }
        None => {
            let f = from_table?;
            (f.start, f.end, How::Pclntab)
        }
    };
    if end <= start || end - start > MAX_FUNCTION {
        return Err(format!(
            "{name}: implausible size {}",
            end.wrapping_sub(start)
        ));
    }
    let len = (end - start) as usize;
    let bytes = elf
        .bytes_at(start, len)
        .filter(|b| b.len() == len)
        .ok_or_else(|| format!("{name}: code at 0x{start:x} not in the file"))?;
    if !elf
        .segments()
        .iter()
        .any(|s| s.executable && start >= s.vaddr && end <= s.vaddr + s.file_size)
    {
        return Err(format!("{name}: 0x{start:x} not in an executable segment"));
    }
    let rets = code::returns(&bytes, start).map_err(|e| format!("{name}: {e}"))?;
    let entry = elf.offset_of(start).ok_or("entry outside the file")?;
    let rets = rets
        .iter()
        .map(|r| elf.offset_of(*r))
        .collect::<Option<Vec<u64>>>()
        .ok_or("return outside the file")?;
    Ok(Located { entry, rets, how })
}

/// The hooks of a located function: `enter` at its entry and `ret` at each of its returns
/// (each when given); `data` says whether they carry plaintext.
fn hooks(
    name: &str,
    f: &Located,
    enter: Option<&'static str>,
    ret: Option<&'static str>,
    data: bool,
    version: &str,
) -> Vec<Hook> {
    let how = format!("{}, {version}", f.how.label());
    let hook = |offset: u64, label: String, program: &'static str| Hook {
        offset,
        label,
        enter: program,
        exit: None,
        session: None,
        data,
    };
    let mut out: Vec<Hook> = enter
        .map(|p| hook(f.entry, format!("{name}@0x{:x} ({how})", f.entry), p))
        .into_iter()
        .collect();
    if let Some(p) = ret {
        out.extend(
            f.rets
                .iter()
                .map(|r| hook(*r, format!("{name} ret@0x{r:x} ({how})"), p)),
        );
    }
    out
}

impl TlsStack for GoTls {
    fn well_known_files(&self) -> Vec<(PathBuf, Linkage)> {
        Vec::new()
    }

    fn is_library_name(&self, _path: &str) -> bool {
        false
    }

    /// A Go executable whose function names include `crypto/tls.(*Conn).Write`.
    fn is_linked_into(&self, _exe: &Path, elf: &mut Elf) -> bool {
        if !is_go(elf) {
            return false;
        }
        if elf.static_symbol(WRITE).is_some() {
            return true;
        }
        let mut want = WRITE.as_bytes().to_vec();
        want.push(0);
        pclntab_bytes(elf).is_some_and(|(t, _)| memchr::memmem::find(&t, &want).is_some())
    }

    fn locate(&self, elf: &mut Elf, _linkage: Linkage) -> Result<Vec<HookGroup>, String> {
        let refuse = |why: String| format!("Go crypto/tls found but not located safely: {why}");
        if elf.machine() != X86_64 {
            return Err(refuse(format!("machine {} is not x86-64", elf.machine())));
        }
        let version = buildinfo::version_string(elf)
            .ok_or_else(|| refuse("no Go version in .go.buildinfo".into()))?;
        match buildinfo::parse(&version) {
            Some(v) if v >= (1, 17) => {}
            _ => {
                return Err(refuse(format!(
                    "{version}: not Go ≥ 1.17 (register calling convention)"
                )))
            }
        }
        let bytes = pclntab_bytes(elf);
        let table = match &bytes {
            Some((b, text)) => Pclntab::parse(b, *text),
            None => Err("no .gopclntab".into()),
        };
        let write = locate_function(elf, &table, WRITE).map_err(refuse)?;
        let read = locate_function(elf, &table, READ).map_err(refuse)?;
        if write.how != read.how {
            return Err(refuse("Write and Read located differently".into()));
        }
        let mut groups = vec![
            HookGroup::one(hooks(
                WRITE,
                &write,
                Some("go_write_enter"),
                Some("go_tls_ret"),
                true,
                &version,
            )),
            HookGroup::one(hooks(
                READ,
                &read,
                Some("go_read_enter"),
                Some("go_tls_ret"),
                true,
                &version,
            )),
        ];
        if let Ok(close) = locate_function(elf, &table, CLOSE) {
            let h = hooks(CLOSE, &close, Some("go_close_enter"), None, false, &version);
            groups.push(HookGroup::one(h));
        }
        // SNI: both functions, or neither (see `bpf/tls_go.bpf.c`).
        if let (Ok(hello), Ok(sni)) = (
            locate_function(elf, &table, HELLO),
            locate_function(elf, &table, SNI),
        ) {
            let mut h = hooks(HELLO, &hello, Some("go_hello_enter"), None, false, &version);
            h.extend(hooks(SNI, &sni, None, Some("go_sni_ret"), false, &version));
            groups.push(HookGroup::one(h));
        }
        Ok(groups)
    }

    fn data_source(&self, _linkage: Linkage) -> DataSource {
        DataSource::GoTls
    }
}

#[cfg(test)]
mod tests;
