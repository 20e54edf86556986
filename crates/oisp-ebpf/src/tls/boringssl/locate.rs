//! Finding `SSL_read` and `SSL_write` in an executable with BoringSSL linked in and its symbols
//! stripped (Bun, hence Claude Code), from the code's structure rather than from one byte
//! pattern, so that a new compiler or a new BoringSSL moves the answer or refuses — never guesses.
//!
//! BoringSSL reports errors with `OPENSSL_PUT_ERROR(SSL, reason)`, which compiles to a call
//! `ERR_put_error(ERR_LIB_SSL /*16*/, 0, reason, __FILE__, __LINE__)`: every error site in
//! `ssl/ssl_lib.cc` loads the address of that file name into the fourth argument register
//! (`mov $addr,%ecx` in a non-PIE executable, `lea addr(%rip),%rcx` otherwise), next to the
//! library, the reason code and the line. Those sites are the anchors; the checks, all of which
//! must pass:
//! 1. exactly one `…/ssl/ssl_lib.cc` string, and error sites that load it with library 16, at
//!    least three in four calling one and the same function (`ERR_put_error`; the others are
//!    left out);
//! 2. functions (entries: 16-byte aligned targets of direct calls) grouped by the sites they hold;
//! 3. `SSL_write`: the one function whose reasons include `ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED`
//!    (QUIC connection), `SSL_R_PROTOCOL_IS_SHUTDOWN` and `SSL_R_BAD_LENGTH`;
//! 4. `SSL_read`: the one function whose only site is `ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED` and which
//!    calls a function with an `SSL_R_UNINITIALIZED` site (`ssl_read_impl`);
//! 5. source order: `ssl_read_impl` < `SSL_read` < `SSL_write` by line, as in `ssl_lib.cc`.
//!
//! Anything ambiguous — two candidates, none, a line order that disagrees — is a refusal.
//! `OISP_DEBUG_LOCATE=1` prints every function's error sites, to study a build that is refused.

use std::collections::{BTreeMap, HashMap};

/// `ERR_LIB_SSL`.
const LIB_SSL: u32 = 16;
/// `ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED`.
const SHOULD_NOT_HAVE_BEEN_CALLED: u32 = 66;
/// `SSL_R_BAD_LENGTH`.
const BAD_LENGTH: u32 = 111;
/// `SSL_R_PROTOCOL_IS_SHUTDOWN`.
const PROTOCOL_IS_SHUTDOWN: u32 = 215;
/// `SSL_R_UNINITIALIZED`.
const UNINITIALIZED: u32 = 226;

/// A loaded segment of the executable: its address, bytes and whether it holds code.
pub(crate) struct Region<'a> {
    pub vaddr: u64,
    pub bytes: &'a [u8],
    pub code: bool,
}

/// The functions found, as virtual addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    pub read: u64,
    pub write: u64,
}

/// Why nothing was located (for `status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    NoSourceString,
    SourceStringTwice,
    NoErrorSites,
    ErrorCallsDisagree,
    /// `(function, how many candidates)`
    Ambiguous(&'static str, usize),
    LineOrder,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NoSourceString => write!(f, "no ssl/ssl_lib.cc error strings"),
            Refusal::SourceStringTwice => write!(f, "ssl/ssl_lib.cc named twice"),
            Refusal::NoErrorSites => write!(f, "no ssl_lib.cc error sites in the code"),
            Refusal::ErrorCallsDisagree => write!(f, "error sites call different functions"),
            Refusal::Ambiguous(what, n) => write!(f, "{n} candidates for {what}"),
            Refusal::LineOrder => write!(f, "source line order disagrees"),
        }
    }
}

/// One `OPENSSL_PUT_ERROR(SSL, reason)` in `ssl_lib.cc`.
#[derive(Debug, Clone, Copy)]
struct Site {
    at: u64,
    reason: u32,
    line: u32,
    calls: u64,
}

/// Whether `regions` hold BoringSSL's `ssl_lib.cc` at all (a cheap first test).
pub(crate) fn mentions_ssl_lib(regions: &[Region]) -> bool {
    regions
        .iter()
        .any(|r| !r.code && memchr::memmem::find(r.bytes, b"/ssl/ssl_lib.cc\0").is_some())
}

/// Locates `SSL_read` and `SSL_write` (see the module docs).
pub(crate) fn locate(regions: &[Region]) -> Result<Found, Refusal> {
    let file = source_string(regions)?;
    let sites = error_sites(regions, file);
    if sites.is_empty() {
        return Err(Refusal::NoErrorSites);
    }
    // The sites' calls: one function (ERR_put_error) for nearly all of them. A site whose next
    // call is elsewhere (arguments set up around another call) is left out; more than a few such
    // and the anchors themselves are in doubt.
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
        return Err(Refusal::ErrorCallsDisagree);
    }
    let sites: Vec<Site> = sites.into_iter().filter(|s| s.calls == err_fn).collect();
    let lo = sites.iter().map(|s| s.at).min().unwrap_or(0);
    let hi = sites.iter().map(|s| s.at).max().unwrap_or(0);
    let entries = call_targets(regions, lo.saturating_sub(1 << 20), hi);
    let mut by_fn: BTreeMap<u64, Vec<Site>> = BTreeMap::new();
    for s in sites {
        let Some(&entry) = entries.range(..=s.at).next_back() else {
            continue;
        };
        by_fn.entry(entry).or_default().push(s);
    }
    if std::env::var_os("OISP_DEBUG_LOCATE").is_some() {
        // For a new build that is refused: every function with its (reason, line) sites.
        for (entry, v) in &by_fn {
            let sites: Vec<(u32, u32)> = v.iter().map(|s| (s.reason, s.line)).collect();
            eprintln!("oisp-sensor: ssl_lib.cc sites of the function at {entry:#x}: {sites:?}");
        }
    }
    let reasons = |v: &[Site], r: u32| v.iter().filter(|s| s.reason == r).count();

    let writes: Vec<(&u64, &Vec<Site>)> = by_fn
        .iter()
        .filter(|(_, v)| {
            reasons(v, SHOULD_NOT_HAVE_BEEN_CALLED) > 0
                && reasons(v, BAD_LENGTH) > 0
                && reasons(v, PROTOCOL_IS_SHUTDOWN) > 0
        })
        .collect();
    let [(write, write_sites)] = writes[..] else {
        return Err(Refusal::Ambiguous("SSL_write", writes.len()));
    };

    let read_impls: Vec<(u64, u32)> = by_fn
        .iter()
        .filter_map(|(e, v)| {
            v.iter()
                .find(|s| s.reason == UNINITIALIZED)
                .map(|s| (*e, s.line))
        })
        .collect();
    let mut reads = Vec::new();
    for (entry, v) in &by_fn {
        if v.len() != 1 || v[0].reason != SHOULD_NOT_HAVE_BEEN_CALLED {
            continue;
        }
        let end = by_fn
            .range(entry + 1..)
            .next()
            .map(|(e, _)| *e)
            .unwrap_or(entry + 0x400)
            .min(entry + 0x400);
        let Some(code) = bytes_at(regions, *entry, (end - entry) as usize) else {
            continue;
        };
        let called: Vec<u64> = direct_calls(code, *entry);
        if let Some((_, impl_line)) = read_impls.iter().find(|(e, _)| called.contains(e)) {
            reads.push((*entry, v[0].line, *impl_line));
        }
    }
    let [(read, read_line, impl_line)] = reads[..] else {
        return Err(Refusal::Ambiguous("SSL_read", reads.len()));
    };
    let write_line = write_sites
        .iter()
        .filter(|s| s.reason == SHOULD_NOT_HAVE_BEEN_CALLED)
        .map(|s| s.line)
        .min()
        .unwrap_or(0);
    if !(impl_line < read_line && read_line < write_line) {
        return Err(Refusal::LineOrder);
    }
    Ok(Found {
        read,
        write: *write,
    })
}

/// The address of the one `…/ssl/ssl_lib.cc` string.
fn source_string(regions: &[Region]) -> Result<u64, Refusal> {
    let needle = b"/ssl/ssl_lib.cc\0";
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
        [] => Err(Refusal::NoSourceString),
        [one] => Ok(one),
        _ => Err(Refusal::SourceStringTwice),
    }
}

/// Every place code loads `file` into `%ecx`/`%rcx` next to an `ERR_LIB_SSL` error report.
fn error_sites(regions: &[Region], file: u64) -> Vec<Site> {
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
            if let Some(site) = parse_site(b, r.vaddr, at) {
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
/// the next begins) must set `%edi` = 16, `%edx` = the reason, `%r8d` = the line.
fn parse_site(b: &[u8], vaddr: u64, at: usize) -> Option<Site> {
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
        let prev = [5usize, 6, 2, 3].into_iter().find_map(|len| {
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
    if set.get(&7) != Some(&LIB_SSL) {
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
fn call_targets(regions: &[Region], lo: u64, hi: u64) -> std::collections::BTreeSet<u64> {
    let mut out = std::collections::BTreeSet::new();
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
fn direct_calls(code: &[u8], vaddr: u64) -> Vec<u64> {
    memchr::memchr_iter(0xe8, code)
        .filter_map(|i| {
            let rel = i32::from_le_bytes(code.get(i + 1..i + 5)?.try_into().ok()?) as i64;
            Some((vaddr as i64 + i as i64 + 5 + rel) as u64)
        })
        .collect()
}

fn bytes_at<'a>(regions: &[Region<'a>], vaddr: u64, len: usize) -> Option<&'a [u8]> {
    let r = regions
        .iter()
        .find(|r| vaddr >= r.vaddr && vaddr < r.vaddr + r.bytes.len() as u64)?;
    let start = (vaddr - r.vaddr) as usize;
    Some(&r.bytes[start..(start + len).min(r.bytes.len())])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A non-PIE error site: `mov $file,%ecx; mov $16,%edi; xor %esi,%esi; mov $reason,%edx;
    /// mov $line,%r8d; call err`.
    fn site(code: &mut Vec<u8>, file: u32, reason: u32, line: u32, err: u64, vaddr: u64) {
        code.push(0xb9);
        code.extend_from_slice(&file.to_le_bytes());
        code.extend_from_slice(&[0xbf, 16, 0, 0, 0, 0x31, 0xf6, 0xba]);
        code.extend_from_slice(&reason.to_le_bytes());
        code.extend_from_slice(&[0x41, 0xb8]);
        code.extend_from_slice(&line.to_le_bytes());
        let at = vaddr + code.len() as u64 + 5;
        code.push(0xe8);
        code.extend_from_slice(&((err as i64 - at as i64) as i32).to_le_bytes());
    }

    #[test]
    fn refusals() {
        let data = b"\0../../vendor/boringssl/ssl/ssl_lib.cc\0".to_vec();
        let twice = [data.clone(), data.clone()].concat();
        let none = [Region {
            vaddr: 0x1000,
            bytes: b"nothing here",
            code: false,
        }];
        assert_eq!(locate(&none), Err(Refusal::NoSourceString));
        let two = [Region {
            vaddr: 0x1000,
            bytes: &twice,
            code: false,
        }];
        assert_eq!(locate(&two), Err(Refusal::SourceStringTwice));
        let no_code = [Region {
            vaddr: 0x1000,
            bytes: &data,
            code: false,
        }];
        assert_eq!(locate(&no_code), Err(Refusal::NoErrorSites));
        assert!(mentions_ssl_lib(&no_code));
        assert!(!mentions_ssl_lib(&none));
    }

    /// Sites the right shape but only one function with SSL_write's fingerprint twice: refused.
    #[test]
    fn two_write_candidates_are_refused() {
        let data = b"\0../../vendor/boringssl/ssl/ssl_lib.cc\0".to_vec();
        let file = 0x1001u32;
        let (vaddr, err) = (0x10_0000u64, 0x10_8000u64);
        let mut code = Vec::new();
        for base in [0x0usize, 0x100] {
            code.resize(base, 0xcc);
            for (reason, line) in [
                (SHOULD_NOT_HAVE_BEEN_CALLED, 955),
                (PROTOCOL_IS_SHUTDOWN, 975),
                (BAD_LENGTH, 981),
            ] {
                site(&mut code, file, reason, line, err, vaddr);
            }
        }
        // Both functions are call targets (entries), from a caller after them.
        code.resize(0x200, 0xcc);
        for target in [vaddr, vaddr + 0x100] {
            let at = vaddr + code.len() as u64 + 5;
            code.push(0xe8);
            code.extend_from_slice(&((target as i64 - at as i64) as i32).to_le_bytes());
        }
        let regions = [
            Region {
                vaddr: 0x1000,
                bytes: &data,
                code: false,
            },
            Region {
                vaddr,
                bytes: &code,
                code: true,
            },
        ];
        assert_eq!(locate(&regions), Err(Refusal::Ambiguous("SSL_write", 2)));
    }
}
