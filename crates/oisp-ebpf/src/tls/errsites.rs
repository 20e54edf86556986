//! Error-report sites in stripped C code, the anchors the structure locators of BoringSSL (in Bun)
//! and AWS-LC (under rustls) stand on.
//!
//! BoringSSL and AWS-LC report errors with `OPENSSL_PUT_ERROR(LIB, reason)`, which compiles to a
//! call `ERR_put_error(lib, 0, reason, __FILE__, __LINE__)`: every error site loads the address
//! of its source file's name into the fourth argument register (`mov $addr,%ecx` in a non-PIE
//! executable, `lea addr(%rip),%rcx` otherwise), next to the library, the reason code and the
//! line. [`sites_by_function`] finds them for one source file and groups them by the function
//! that holds them (entries: 16-byte aligned targets of direct calls); a locator then recognises
//! its functions by their (reason, line) sets and refuses anything ambiguous.

use crate::elf::Elf;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A loaded segment of the executable: its address, bytes and whether it holds code.
#[derive(Clone, Copy)]
pub(crate) struct Region<'a> {
    pub vaddr: u64,
    pub bytes: &'a [u8],
    pub code: bool,
}

/// One error report: where, its reason code and source line, and the function it calls.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Site {
    pub at: u64,
    pub reason: u32,
    pub line: u32,
    pub calls: u64,
}

/// Why no sites could be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SiteRefusal {
    NoSourceString,
    SourceStringTwice,
    NoErrorSites,
    ErrorCallsDisagree,
}

impl std::fmt::Display for SiteRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SiteRefusal::NoSourceString => write!(f, "no error strings of the source file"),
            SiteRefusal::SourceStringTwice => write!(f, "the source file is named twice"),
            SiteRefusal::NoErrorSites => write!(f, "no error sites in the code"),
            SiteRefusal::ErrorCallsDisagree => write!(f, "error sites call different functions"),
        }
    }
}

/// The code of an executable as the locators see it: its loaded segments and, when it has an
/// unwind table, where its functions start.
pub(crate) struct Code<'a> {
    pub regions: Vec<Region<'a>>,
    pub starts: Option<Vec<u64>>,
}

/// Why a structure locator placed nothing (for `status`): the error sites of `source` (the
/// anchors' source file) were refused, a function had not exactly one candidate, or the
/// candidates' source lines are not in the file's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    Sites(&'static str, SiteRefusal),
    /// `(function, how many candidates)`
    Ambiguous(&'static str, usize),
    LineOrder(&'static str),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Sites(source, why) => write!(f, "{source}: {why}"),
            Refusal::Ambiguous(what, n) => write!(f, "{n} candidates for {what}"),
            Refusal::LineOrder(source) => write!(f, "{source} line order disagrees"),
        }
    }
}

/// Runs `f` on the code of `elf` (read once, for the locators).
pub(crate) fn with_code<T>(elf: &mut Elf, f: impl FnOnce(&Code) -> T) -> T {
    let starts = elf.function_starts();
    with_regions(elf, true, |regions| {
        f(&Code {
            regions: regions.to_vec(),
            starts,
        })
    })
}

/// Runs `f` on the loaded segments of `elf`: all of them, or only those without code (`code`
/// false: what a cheap "does it mention…" test needs).
pub(crate) fn with_regions<T>(elf: &mut Elf, code: bool, f: impl FnOnce(&[Region]) -> T) -> T {
    let segments: Vec<_> = elf
        .segments()
        .iter()
        .filter(|s| code || !s.executable)
        .copied()
        .collect();
    let bytes: Vec<Vec<u8>> = segments
        .iter()
        .map(|s| {
            elf.bytes_at(s.vaddr, s.file_size as usize)
                .unwrap_or_default()
        })
        .collect();
    let regions: Vec<Region> = segments
        .iter()
        .zip(&bytes)
        .map(|(s, b)| Region {
            vaddr: s.vaddr,
            bytes: b,
            code: s.executable,
        })
        .collect();
    f(&regions)
}

/// Whether a data segment holds `needle` (a source path ending in NUL, e.g. `b"/ssl/ssl_lib.cc\0"`).
pub(crate) fn mentions(regions: &[Region], needle: &[u8]) -> bool {
    regions
        .iter()
        .any(|r| !r.code && memchr::memmem::find(r.bytes, needle).is_some())
}

/// The error sites of library `lib` in the source file whose name ends with `needle` (which
/// must be named exactly once), grouped by the function holding them: the function starts of the
/// unwind table when `code` has them, else the 16-byte aligned targets of direct calls before
/// the sites (callers reaching a function only through the GOT, as Rust code calls C, leave no
/// such target). Sites whose call goes
/// elsewhere than the one most of them call (`ERR_put_error`) are left out; if fewer than three
/// in four agree, the anchors themselves are in doubt and nothing is returned.
pub(crate) fn sites_by_function(
    code: &Code,
    needle: &[u8],
    lib: u32,
) -> Result<BTreeMap<u64, Vec<Site>>, SiteRefusal> {
    let regions = &code.regions[..];
    let file = source_string(regions, needle)?;
    let sites = error_sites(regions, file, lib);
    if sites.is_empty() {
        return Err(SiteRefusal::NoErrorSites);
    }
    let mut err_fns: HashMap<u64, usize> = HashMap::new();
    for s in &sites {
        *err_fns.entry(s.calls).or_default() += 1;
    }
    let (err_fn, agreeing) = err_fns
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(f, n)| (*f, *n))
        .unwrap_or((0, 0));
    if agreeing * 4 < sites.len() * 3 {
        return Err(SiteRefusal::ErrorCallsDisagree);
    }
    let sites: Vec<Site> = sites.into_iter().filter(|s| s.calls == err_fn).collect();
    let lo = sites.iter().map(|s| s.at).min().unwrap_or(0);
    let hi = sites.iter().map(|s| s.at).max().unwrap_or(0);
    let entries: BTreeSet<u64> = match &code.starts {
        Some(starts) => starts.iter().copied().collect(),
        None => call_targets(regions, lo.saturating_sub(1 << 20), hi),
    };
    let mut by_fn: BTreeMap<u64, Vec<Site>> = BTreeMap::new();
    for s in sites {
        let Some(&entry) = entries.range(..=s.at).next_back() else {
            continue;
        };
        by_fn.entry(entry).or_default().push(s);
    }
    if std::env::var_os("OISP_DEBUG_LOCATE").is_some() {
        // For a new build that is refused: every function with its (reason, line) sites.
        let name = String::from_utf8_lossy(needle);
        for (entry, v) in &by_fn {
            let sites: Vec<(u32, u32)> = v.iter().map(|s| (s.reason, s.line)).collect();
            eprintln!("oisp-sensor: {name} sites of the function at {entry:#x}: {sites:?}");
        }
    }
    Ok(by_fn)
}

/// The address of the one string ending with `needle`.
fn source_string(regions: &[Region], needle: &[u8]) -> Result<u64, SiteRefusal> {
    let mut found = Vec::new();
    for r in regions.iter().filter(|r| !r.code) {
        for at in memchr::memmem::find_iter(r.bytes, needle) {
            let start = r.bytes[..at]
                .iter()
                .rposition(|&b| b == 0)
                .map(|p| p + 1)
                .unwrap_or(0);
            found.push(r.vaddr + start as u64);
        }
    }
    found.dedup();
    match found[..] {
        [] => Err(SiteRefusal::NoSourceString),
        [one] => Ok(one),
        _ => Err(SiteRefusal::SourceStringTwice),
    }
}

/// Every place code loads `file` into `%ecx`/`%rcx` next to an error report of library `lib`.
fn error_sites(regions: &[Region], file: u64, lib: u32) -> Vec<Site> {
    let mut out = Vec::new();
    for r in regions.iter().filter(|r| r.code) {
        let b = r.bytes;
        let mut loads: Vec<usize> = Vec::new();
        if let Ok(abs) = u32::try_from(file) {
            let mut pat = [0xb9u8, 0, 0, 0, 0]; // mov $imm32,%ecx
            pat[1..].copy_from_slice(&abs.to_le_bytes());
            loads.extend(memchr::memmem::find_iter(b, &pat));
        }
        for at in memchr::memmem::find_iter(b, &[0x48, 0x8d, 0x0d]) {
            // lea disp32(%rip),%rcx
            if let Some(d) = b.get(at + 3..at + 7) {
                let disp = i32::from_le_bytes(d.try_into().unwrap_or([0; 4])) as i64;
                if (r.vaddr as i64 + at as i64 + 7 + disp) as u64 == file {
                    loads.push(at);
                }
            }
        }
        for at in loads {
            if let Some(site) = parse_site(b, r.vaddr, at, lib) {
                out.push(site);
            }
        }
    }
    out.sort_by_key(|s| s.at);
    out
}

/// What one decoded instruction of an error site's argument setup does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Insn {
    /// `mov $imm32, reg32` (register number, 0 = eax … 8 = r8d)
    SetReg(u8, u32),
    /// `xor reg32, reg32`
    Zero(u8),
    /// `call rel32`: the target
    Call(u64),
    /// `jmp rel32` / `jmp rel8`: the target (error sites often share one call, jumping to it)
    Jump(u64),
    /// Register-to-register moves and the file-name load itself: allowed, no effect here.
    Other,
}

/// Decodes the instruction at `b[i..]` (at `vaddr + i`) when it is one of the few forms an
/// error site's argument setup uses; `None` otherwise. Returns its length too.
fn decode(b: &[u8], vaddr: u64, i: usize) -> Option<(usize, Insn)> {
    let imm = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let op = *b.get(i)?;
    let next = b.get(i + 1).copied();
    Some(match (op, next) {
        (0xb8..=0xbf, _) => (5, Insn::SetReg(op - 0xb8, imm(i + 1)?)),
        (0x41, Some(n @ 0xb8..=0xbf)) => (6, Insn::SetReg(n - 0xb8 + 8, imm(i + 2)?)),
        (0x31 | 0x33, Some(m)) if m >> 6 == 3 && (m >> 3) & 7 == m & 7 => (2, Insn::Zero(m & 7)),
        (0x45, Some(0x31 | 0x33)) => {
            let m = *b.get(i + 2)?;
            if m >> 6 != 3 || (m >> 3) & 7 != m & 7 {
                return None;
            }
            (3, Insn::Zero((m & 7) + 8))
        }
        (0x89 | 0x8b, Some(m)) if m >> 6 == 3 => (2, Insn::Other),
        (0x48 | 0x49 | 0x4c | 0x4d, Some(0x89 | 0x8b)) if b.get(i + 2)? >> 6 == 3 => {
            (3, Insn::Other)
        }
        (0x48 | 0x4c, Some(0x8d)) if b.get(i + 2)? & 0xc7 == 0x05 => (7, Insn::Other),
        (0xe8 | 0xe9, _) => {
            let rel = imm(i + 1)? as i32 as i64;
            let target = (vaddr as i64 + i as i64 + 5 + rel) as u64;
            (
                5,
                if op == 0xe8 {
                    Insn::Call(target)
                } else {
                    Insn::Jump(target)
                },
            )
        }
        (0xeb, Some(rel)) => {
            let target = (vaddr as i64 + i as i64 + 2 + rel as i8 as i64) as u64;
            (2, Insn::Jump(target))
        }
        _ => return None,
    })
}

/// The error report whose file-name load is at `at`: the instructions from there to the call,
/// and those just before it (decoded backwards while one of the known forms ends exactly where
/// the next begins) must set `%edi` = `lib`, `%edx` = the reason, `%r8d` = the line.
fn parse_site(b: &[u8], vaddr: u64, at: usize, lib: u32) -> Option<Site> {
    let mut set: HashMap<u8, u32> = HashMap::new();
    let mut note = |insn: Insn| match insn {
        Insn::SetReg(r, v) => {
            set.entry(r).or_insert(v);
        }
        Insn::Zero(r) => {
            set.entry(r).or_insert(0);
        }
        _ => {}
    };
    let (load_len, _) = decode(b, vaddr, at)?;
    let mut i = at + load_len;
    let mut calls = None;
    for _ in 0..12 {
        let (len, insn) = decode(b, vaddr, i)?;
        match insn {
            Insn::Call(t) => {
                calls = Some(t);
                break;
            }
            Insn::Jump(t) => {
                i = usize::try_from(t.checked_sub(vaddr)?).ok()?;
                continue;
            }
            _ => note(insn),
        }
        i += len;
    }
    let mut start = at;
    for _ in 0..6 {
        // Longer forms first: `41 b8 imm32` (mov $imm,%r8d) ends with `b8 imm32`, which alone
        // reads as a mov to %eax, never an argument of an error report.
        let prev = [6usize, 5, 3, 2].into_iter().find_map(|len| {
            let from = start.checked_sub(len)?;
            match decode(b, vaddr, from)? {
                (l, insn @ (Insn::SetReg(..) | Insn::Zero(_))) if l == len => Some((from, insn)),
                _ => None,
            }
        });
        let Some((from, insn)) = prev else { break };
        note(insn);
        start = from;
    }
    if set.get(&7) != Some(&lib) {
        return None;
    }
    Some(Site {
        at: vaddr + at as u64,
        reason: *set.get(&2)?,
        line: *set.get(&8)?,
        calls: calls?,
    })
}

/// 16-byte aligned targets of direct calls (`call rel32`) that fall in `lo..=hi`: function entries.
fn call_targets(regions: &[Region], lo: u64, hi: u64) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for r in regions.iter().filter(|r| r.code) {
        let b = r.bytes;
        for i in memchr::memchr_iter(0xe8, b) {
            let Some(rel) = b.get(i + 1..i + 5) else {
                continue;
            };
            let rel = i32::from_le_bytes([rel[0], rel[1], rel[2], rel[3]]) as i64;
            let t = (r.vaddr as i64 + i as i64 + 5 + rel) as u64;
            if t.is_multiple_of(16) && t >= lo && t <= hi {
                out.insert(t);
            }
        }
    }
    out
}

/// The targets of every `call rel32` byte pattern in `code` (at `vaddr`).
pub(crate) fn direct_calls(code: &[u8], vaddr: u64) -> Vec<u64> {
    memchr::memchr_iter(0xe8, code)
        .filter_map(|i| {
            let rel = i32::from_le_bytes(code.get(i + 1..i + 5)?.try_into().ok()?) as i64;
            Some((vaddr as i64 + i as i64 + 5 + rel) as u64)
        })
        .collect()
}

pub(crate) fn bytes_at<'a>(regions: &[Region<'a>], vaddr: u64, len: usize) -> Option<&'a [u8]> {
    let r = regions
        .iter()
        .find(|r| vaddr >= r.vaddr && vaddr < r.vaddr + r.bytes.len() as u64)?;
    let start = (vaddr - r.vaddr) as usize;
    Some(&r.bytes[start..(start + len).min(r.bytes.len())])
}
