//! Finding `SSL_read` and `SSL_write` in an executable with BoringSSL linked in and its symbols
//! stripped (Bun, hence Claude Code), from the code's structure rather than from one byte
//! pattern, so that a new compiler or a new BoringSSL moves the answer or refuses — never guesses.
//!
//! The anchors are BoringSSL's error reports in `ssl/ssl_lib.cc` (`OPENSSL_PUT_ERROR(SSL, …)`,
//! see `errsites.rs`); the checks, all of which must pass:
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

use crate::tls::errsites::{self, bytes_at, direct_calls, Code, Refusal, Region, Site};

/// `ERR_LIB_SSL`.
const LIB_SSL: u32 = 16;
/// The source file whose error sites are the anchors.
const SSL_LIB: &[u8] = b"/ssl/ssl_lib.cc\0";
/// `ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED`.
const SHOULD_NOT_HAVE_BEEN_CALLED: u32 = 66;
/// `SSL_R_BAD_LENGTH`.
const BAD_LENGTH: u32 = 111;
/// `SSL_R_PROTOCOL_IS_SHUTDOWN`.
const PROTOCOL_IS_SHUTDOWN: u32 = 215;
/// `SSL_R_UNINITIALIZED`.
const UNINITIALIZED: u32 = 226;

/// The functions found, as virtual addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    pub read: u64,
    pub write: u64,
}

/// Whether `regions` hold BoringSSL's `ssl_lib.cc` at all (a cheap first test).
pub(crate) fn mentions_ssl_lib(regions: &[Region]) -> bool {
    errsites::mentions(regions, SSL_LIB)
}

/// Locates `SSL_read` and `SSL_write` (see the module docs).
pub(crate) fn locate(regions: &[Region]) -> Result<Found, Refusal> {
    // Functions by call targets, as verified on the Claude Code builds (see `errsites.rs`).
    let code = Code {
        regions: regions.to_vec(),
        starts: None,
    };
    let by_fn = errsites::sites_by_function(&code, SSL_LIB, LIB_SSL)
        .map_err(|why| Refusal::Sites("ssl/ssl_lib.cc", why))?;
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
        return Err(Refusal::LineOrder("ssl/ssl_lib.cc"));
    }
    Ok(Found {
        read,
        write: *write,
    })
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
        assert_eq!(
            locate(&none),
            Err(Refusal::Sites(
                "ssl/ssl_lib.cc",
                errsites::SiteRefusal::NoSourceString
            ))
        );
        let two = [Region {
            vaddr: 0x1000,
            bytes: &twice,
            code: false,
        }];
        assert_eq!(
            locate(&two),
            Err(Refusal::Sites(
                "ssl/ssl_lib.cc",
                errsites::SiteRefusal::SourceStringTwice
            ))
        );
        let no_code = [Region {
            vaddr: 0x1000,
            bytes: &data,
            code: false,
        }];
        assert_eq!(
            locate(&no_code),
            Err(Refusal::Sites(
                "ssl/ssl_lib.cc",
                errsites::SiteRefusal::NoErrorSites
            ))
        );
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
