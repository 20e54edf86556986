//! Where to put the OpenSSL data probes so that a hit costs a trap and not a single-step.
//!
//! A uprobe replaces the probed instruction with `int3`; unless the kernel can emulate that
//! instruction it is then executed out of line and single-stepped, a second trap. Debian's
//! `SSL_read`/`SSL_write`/`SSL_read_ex`/`SSL_write_ex` all begin with `sub $imm,%rsp`, which is
//! single-stepped: about 10 µs per hit on a KVM guest, against 1.2–1.6 µs for an emulated
//! instruction (`docs/capture-overhead.md`). In OpenSSL 1.1.1 to 3.2 both forms of each call go
//! through one internal function with the `_ex` signature —
//! `ssl_write_internal(SSL *, const void *buf, size_t num, size_t *written)` and
//! `ssl_read_internal(SSL *, void *buf, size_t num, size_t *readbytes)`, returning 1 on success —
//! which begins with `push` (emulated). So one probe there replaces the two exported ones.
//!
//! The internal functions are not exported: they are found from the bytes of the exported ones,
//! and only when everything agrees: `SSL_x_ex` is exactly `sub $imm8,%rsp; call T`, the plain
//! `SSL_x` calls the same `T` early on, and `T` starts with a `push` (after an optional
//! `endbr64`). Anything else — another compiler's layout, a wrapper that does more, OpenSSL 3.3+
//! whose `ssl_write_internal` takes an extra `flags` argument (detected by `SSL_write_ex2`) — keeps
//! the probes on the exported functions. `OISP_NO_INNER_PROBES=1` forces that too.

use crate::elf::Elf;

/// How far into the plain `SSL_read`/`SSL_write` the call to the internal function may be.
const PLAIN_SCAN: usize = 96;

/// Probe points found for one library: file offsets for uprobes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InnerProbes {
    /// `ssl_write_internal` (replaces `SSL_write` + `SSL_write_ex`)
    pub write: Option<u64>,
    /// `ssl_read_internal` (replaces `SSL_read` + `SSL_read_ex`)
    pub read: Option<u64>,
}

/// Finds the internal write/read functions of the OpenSSL in `elf` (see the module docs).
pub fn find(elf: &mut Elf) -> InnerProbes {
    if std::env::var("OISP_NO_INNER_PROBES").as_deref() == Ok("1") {
        return InnerProbes::default();
    }
    let write = if elf.symbol("SSL_write_ex2").is_some() {
        None // 3.3+: ssl_write_internal(s, buf, num, flags, written)
    } else {
        find_one(elf, "SSL_write", "SSL_write_ex")
    };
    InnerProbes {
        write,
        read: find_one(elf, "SSL_read", "SSL_read_ex"),
    }
}

fn find_one(elf: &mut Elf, plain: &str, ex: &str) -> Option<u64> {
    let (p, e) = (elf.symbol(plain)?, elf.symbol(ex)?);
    let ex_code = elf.bytes_at(e.vaddr, 16)?;
    let plain_code = elf.bytes_at(p.vaddr, PLAIN_SCAN.min(p.size.max(16) as usize))?;
    let target = thin_wrapper_target(&ex_code, e.vaddr)?;
    if !calls(&plain_code, p.vaddr, target) {
        return None;
    }
    let entry = elf.bytes_at(target, 8)?;
    let at = target + push_at(&entry)? as u64;
    elf.offset_of(at)
}

const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];

/// `code` (at `vaddr`) is `sub $imm8,%rsp; call rel32` (optionally after `endbr64`): the
/// call's target.
fn thin_wrapper_target(code: &[u8], vaddr: u64) -> Option<u64> {
    let start = if code.starts_with(&ENDBR64) { 4 } else { 0 };
    match code.get(start..)? {
        [0x48, 0x83, 0xec, _, 0xe8, r0, r1, r2, r3, ..] => {
            let rel = i32::from_le_bytes([*r0, *r1, *r2, *r3]) as i64;
            Some((vaddr as i64 + start as i64 + 9 + rel) as u64)
        }
        _ => None,
    }
}

/// True when some `call rel32` in `code` (at `vaddr`) targets `target`.
fn calls(code: &[u8], vaddr: u64, target: u64) -> bool {
    code.windows(5).enumerate().any(|(i, w)| {
        w[0] == 0xe8
            && (vaddr as i64 + i as i64 + 5 + i32::from_le_bytes([w[1], w[2], w[3], w[4]]) as i64)
                as u64
                == target
    })
}

/// Offset of the first instruction of a function entry `code` when it is a `push` of a
/// general register (optionally after `endbr64`), which the kernel emulates; probing there
/// leaves the return address on top of the stack, as a return probe needs.
fn push_at(code: &[u8]) -> Option<usize> {
    let start = if code.starts_with(&ENDBR64) { 4 } else { 0 };
    match code.get(start..)? {
        [0x50..=0x57, ..] | [0x41, 0x50..=0x57, ..] => Some(start),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Debian 12's libssl.so.3 (OpenSSL 3.0.x): SSL_write_ex at 0x35a50, SSL_write at 0x359c0,
    // ssl_write_internal at 0x355e0.
    const EX: [u8; 16] = [
        0x48, 0x83, 0xec, 0x08, 0xe8, 0x87, 0xfb, 0xff, 0xff, 0x31, 0xd2, 0x85, 0xc0, 0x0f, 0x48,
        0xc2,
    ];

    #[test]
    fn thin_wrapper_call_target() {
        assert_eq!(thin_wrapper_target(&EX, 0x35a50), Some(0x355e0));
        let mut other = EX;
        other[4] = 0xe9; // jmp, not call
        assert_eq!(thin_wrapper_target(&other, 0x35a50), None);
        assert_eq!(thin_wrapper_target(&EX[..6], 0x35a50), None);
        let mut cet = ENDBR64.to_vec();
        cet.extend_from_slice(&EX[..12]);
        assert_eq!(thin_wrapper_target(&cet, 0x35a50 - 4), Some(0x355e0));
    }

    #[test]
    fn plain_form_must_call_the_same_target() {
        // SSL_write+0x1e: call 0x355e0 (e8 fd fb ff ff)
        let mut plain = vec![0x90u8; 64];
        plain[0x1e..0x23].copy_from_slice(&[0xe8, 0xfd, 0xfb, 0xff, 0xff]);
        assert!(calls(&plain, 0x359c0, 0x355e0));
        assert!(!calls(&plain, 0x359c0, 0x352d0));
        assert!(!calls(&plain[..0x20], 0x359c0, 0x355e0));
    }

    #[test]
    fn only_pushes_are_probe_points() {
        assert_eq!(push_at(&[0x41, 0x56, 0x41, 0x55]), Some(0)); // push %r14
        assert_eq!(push_at(&[0x55, 0x48, 0x89, 0xe5]), Some(0)); // push %rbp
        assert_eq!(push_at(&[0xf3, 0x0f, 0x1e, 0xfa, 0x41, 0x57]), Some(4)); // endbr64; push %r15
        assert_eq!(push_at(&[0x48, 0x83, 0xec, 0x18]), None); // sub $0x18,%rsp
        assert_eq!(push_at(&[0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83]), None);
        assert_eq!(push_at(&[]), None);
    }

    /// On a machine with the system OpenSSL 3.0/3.1/3.2 (Debian 12, Ubuntu 22.04/24.04), both
    /// internal functions are found; elsewhere the test says why it checked less.
    #[test]
    fn system_libssl() {
        let path = std::path::Path::new("/usr/lib/x86_64-linux-gnu/libssl.so.3");
        let Some(mut elf) = Elf::open(path) else {
            eprintln!("skipped: no {}", path.display());
            return;
        };
        let found = find(&mut elf);
        if elf.symbol("SSL_write_ex2").is_some() {
            eprintln!("OpenSSL 3.3+: write probe stays on the exported functions");
            assert_eq!(found.write, None);
        } else {
            assert!(found.write.is_some(), "{found:?}");
        }
        assert!(found.read.is_some(), "{found:?}");
        assert_ne!(found.read, found.write);
    }
}
