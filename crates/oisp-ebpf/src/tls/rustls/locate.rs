//! Finding AWS-LC's `EVP_AEAD_CTX_seal` and `EVP_AEAD_CTX_open` in a stripped executable (Codex),
//! from the code's structure (functions delimited by the unwind table): the anchors are AWS-LC's error reports in
//! `crypto/fipsmodule/cipher/aead.c` (`OPENSSL_PUT_ERROR(CIPHER, …)`, library 30; see
//! `errsites.rs`). The checks, all of which must pass:
//! 1. exactly one `…/crypto/fipsmodule/cipher/aead.c` string, and error sites that load it with
//!    library 30, at least three in four calling one and the same function;
//! 2. `EVP_AEAD_CTX_seal`: the one function whose sites are `CIPHER_R_TOO_LARGE`,
//!    `CIPHER_R_BUFFER_TOO_SMALL`, `CIPHER_R_OUTPUT_ALIASES_INPUT`, in that source order (a
//!    reason may appear twice where the compiler duplicated its block) and nothing else;
//! 3. `EVP_AEAD_CTX_open`: the one function whose sites begin with
//!    `CIPHER_R_OUTPUT_ALIASES_INPUT`, then `CIPHER_R_BAD_DECRYPT`, then
//!    `CIPHER_R_BUFFER_TOO_SMALL` by line (sites of `EVP_AEAD_CTX_open_gather`, which it calls
//!    and the compiler may inline, can follow at later lines);
//! 4. `EVP_AEAD_CTX_seal_scatter` (`CIPHER_R_OUTPUT_ALIASES_INPUT`, `CIPHER_R_INVALID_OPERATION`)
//!    exists, and source order is `seal` < `seal_scatter` < `open`, as in `aead.c`.
//!
//! Anything ambiguous — two candidates, none, a line order that disagrees — is a refusal.

use crate::tls::errsites::{self, Code, Refusal, Region, Site};

/// `ERR_LIB_CIPHER`.
const LIB_CIPHER: u32 = 30;
/// The source file whose error sites are the anchors.
const AEAD_C: &[u8] = b"/crypto/fipsmodule/cipher/aead.c\0";
const BAD_DECRYPT: u32 = 101;
const BUFFER_TOO_SMALL: u32 = 103;
const INVALID_OPERATION: u32 = 112;
const OUTPUT_ALIASES_INPUT: u32 = 115;
const TOO_LARGE: u32 = 117;

/// The functions found, as virtual addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    pub seal: u64,
    pub open: u64,
}

/// Whether `regions` hold AWS-LC's (or BoringSSL's) `aead.c` at all (a cheap first test).
pub(crate) fn mentions_aead_c(regions: &[Region]) -> bool {
    errsites::mentions(regions, AEAD_C)
}

/// The function's reasons in source-line order, consecutive repeats folded (a block the
/// compiler duplicated reports the same line twice).
fn reasons_by_line(sites: &[Site]) -> Vec<(u32, u32)> {
    let mut v: Vec<(u32, u32)> = sites.iter().map(|s| (s.line, s.reason)).collect();
    v.sort_unstable();
    v.dedup();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (line, reason) in v {
        if out.last().map(|(r, _)| *r) != Some(reason) {
            out.push((reason, line));
        }
    }
    out
}

/// Locates `EVP_AEAD_CTX_seal` and `EVP_AEAD_CTX_open` (see the module docs).
pub(crate) fn locate(code: &Code) -> Result<Found, Refusal> {
    let by_fn = errsites::sites_by_function(code, AEAD_C, LIB_CIPHER)
        .map_err(|why| Refusal::Sites("AWS-LC aead.c", why))?;
    let shaped = |want: &[u32], exact: bool| -> Vec<(u64, u32)> {
        by_fn
            .iter()
            .filter_map(|(entry, sites)| {
                let got = reasons_by_line(sites);
                let reasons: Vec<u32> = got.iter().map(|(r, _)| *r).collect();
                let fits = if exact {
                    reasons == want
                } else {
                    reasons.starts_with(want)
                };
                fits.then(|| (*entry, got[0].1))
            })
            .collect()
    };
    let seals = shaped(&[TOO_LARGE, BUFFER_TOO_SMALL, OUTPUT_ALIASES_INPUT], true);
    let [(seal, seal_line)] = seals[..] else {
        return Err(Refusal::Ambiguous("EVP_AEAD_CTX_seal", seals.len()));
    };
    let opens = shaped(
        &[OUTPUT_ALIASES_INPUT, BAD_DECRYPT, BUFFER_TOO_SMALL],
        false,
    );
    let [(open, open_line)] = opens[..] else {
        return Err(Refusal::Ambiguous("EVP_AEAD_CTX_open", opens.len()));
    };
    let scatters = shaped(&[OUTPUT_ALIASES_INPUT, INVALID_OPERATION], true);
    let [(_, scatter_line)] = scatters[..] else {
        return Err(Refusal::Ambiguous(
            "EVP_AEAD_CTX_seal_scatter",
            scatters.len(),
        ));
    };
    if !(seal_line < scatter_line && scatter_line < open_line) {
        return Err(Refusal::LineOrder("AWS-LC aead.c"));
    }
    Ok(Found { seal, open })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(line: u32, reason: u32) -> Site {
        Site {
            at: 0,
            reason,
            line,
            calls: 0,
        }
    }

    #[test]
    fn duplicated_blocks_fold() {
        let sites = [
            site(172, TOO_LARGE),
            site(172, TOO_LARGE),
            site(177, BUFFER_TOO_SMALL),
            site(182, OUTPUT_ALIASES_INPUT),
        ];
        assert_eq!(
            reasons_by_line(&sites),
            vec![
                (TOO_LARGE, 172),
                (BUFFER_TOO_SMALL, 177),
                (OUTPUT_ALIASES_INPUT, 182)
            ]
        );
    }

    #[test]
    fn no_aead_c_is_refused() {
        let none = [Region {
            vaddr: 0x1000,
            bytes: b"nothing here",
            code: false,
        }];
        assert!(!mentions_aead_c(&none));
        let code = Code {
            regions: none.to_vec(),
            starts: None,
        };
        assert_eq!(
            locate(&code),
            Err(Refusal::Sites(
                "AWS-LC aead.c",
                errsites::SiteRefusal::NoSourceString
            ))
        );
    }
}
