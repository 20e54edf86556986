//! BoringSSL linked into a stripped executable: Bun, and so Claude Code. Its `SSL_read` and
//! `SSL_write` have OpenSSL's C ABI, so OpenSSL's plain data programs
//! (`bpf/tls_openssl.bpf.c`: `ssl_read_*`, `ssl_write_*`) attach to them by offset; the origin
//! cookie marks the records as BoringSSL's.
//!
//! Where they are comes from the code's structure (`locate.rs`), checked against a cache of
//! builds already verified by hand (`KNOWN_BUILDS`, by GNU build id): when both answer they must
//! agree; when structure refuses, a cached build is still found. Otherwise nothing is attached
//! and the refusal is reported.
//!
//! Not yet: the session's end (`SSL_free`) and its SNI, which have no error site to find them
//! by; sessions end with their process, and the decoder reads the host from the request.

mod locate;

use super::errsites::{with_regions, Refusal, SiteRefusal};
use super::{Hook, HookGroup, Linkage, TlsStack};
use crate::elf::Elf;
use locate::Found;
use oisp_capture::DataSource;
use std::path::{Path, PathBuf};

pub(crate) struct BoringSsl;

/// Builds verified by hand: (GNU build id, file offset of `SSL_read`, of `SSL_write`, what).
const KNOWN_BUILDS: &[(&str, u64, u64, &str)] = &[
    (
        "d11007948a6167b426d967c295579e51ded8d0b6",
        0x21535c0,
        0x21539b0,
        "Claude Code 2.1.237",
    ),
    (
        "6301513d79d19413199b2f9305bb2a7542fb5aae",
        0x30baa00,
        0x30ba850,
        "Claude Code 2.1.335",
    ),
];

/// Executables known to carry stripped BoringSSL, looked up on PATH at start.
const KNOWN_EXES: &[&str] = &["claude"];

/// How `SSL_read`/`SSL_write` were found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Located {
    /// By structure, and the build is in the cache with the same answer.
    StructureAndCache(&'static str),
    Structure,
    /// Structure refused (the reason), the build id is in the cache.
    Cache(&'static str, String),
}

/// `SSL_read`/`SSL_write` file offsets in `elf`, and how they were found; `Err` says why not.
pub(crate) fn find(elf: &mut Elf) -> Result<(u64, u64, Located), String> {
    let structure = with_regions(elf, true, locate::locate);
    let cached = elf
        .build_id()
        .and_then(|id| KNOWN_BUILDS.iter().find(|(b, ..)| *b == id));
    let structure = structure.and_then(|Found { read, write }| {
        match (elf.offset_of(read), elf.offset_of(write)) {
            (Some(r), Some(w)) => Ok((r, w)),
            _ => Err(Refusal::Sites("ssl/ssl_lib.cc", SiteRefusal::NoErrorSites)),
        }
    });
    match (structure, cached) {
        (Ok((r, w)), Some((_, cr, cw, what))) if (r, w) == (*cr, *cw) => {
            Ok((r, w, Located::StructureAndCache(what)))
        }
        (Ok(_), Some((_, _, _, what))) => Err(format!(
            "structure and the build-id cache ({what}) disagree: nothing attached"
        )),
        (Ok((r, w)), None) => Ok((r, w, Located::Structure)),
        (Err(why), Some((_, cr, cw, what))) => {
            Ok((*cr, *cw, Located::Cache(what, why.to_string())))
        }
        (Err(why), None) => Err(format!("BoringSSL found but not located safely: {why}")),
    }
}

impl TlsStack for BoringSsl {
    fn well_known_files(&self) -> Vec<(PathBuf, Linkage)> {
        let dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        KNOWN_EXES
            .iter()
            .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
            .filter_map(|p| std::fs::canonicalize(p).ok())
            .map(|p| (p, Linkage::LinkedIn))
            .collect()
    }

    fn is_library_name(&self, _path: &str) -> bool {
        false
    }

    fn is_linked_into(&self, _exe: &Path, elf: &mut Elf) -> bool {
        // With symbols, OpenSSL's stack probes the exported functions (same ABI).
        if elf.symbol("SSL_write").is_some() {
            return false;
        }
        with_regions(elf, false, locate::mentions_ssl_lib)
    }

    fn locate(&self, elf: &mut Elf, _linkage: Linkage) -> Result<Vec<HookGroup>, String> {
        let (read, write, how) = find(elf)?;
        let how = match how {
            Located::StructureAndCache(what) => format!("by structure, = build-id cache: {what}"),
            Located::Structure => "by structure".to_string(),
            Located::Cache(what, why) => format!("build-id cache: {what}; structure: {why}"),
        };
        let hook = |offset: u64, name: &str, enter, exit, session| Hook {
            offset,
            label: format!("{name}@0x{offset:x} (BoringSSL, {how})"),
            enter,
            exit: Some(exit),
            session: Some(session),
            data: true,
        };
        Ok(vec![
            HookGroup::one(vec![hook(
                write,
                "SSL_write",
                "ssl_write_enter",
                "ssl_write_exit",
                "ssl_write_sess",
            )]),
            HookGroup::one(vec![hook(
                read,
                "SSL_read",
                "ssl_read_enter",
                "ssl_read_exit",
                "ssl_read_sess",
            )]),
        ])
    }

    fn data_source(&self, _linkage: Linkage) -> DataSource {
        DataSource::BoringSsl
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Claude Code builds a test machine has (`OISP_CLAUDE_BINARIES`: paths separated by
    /// `:`), located by structure and agreeing with the cache where it knows the build.
    #[test]
    fn claude_code_builds() {
        let Ok(list) = std::env::var("OISP_CLAUDE_BINARIES") else {
            eprintln!("skipped: OISP_CLAUDE_BINARIES is not set (scripts/test.sh sets it)");
            return;
        };
        for path in list.split(':').filter(|p| !p.is_empty()) {
            let mut elf = Elf::open(Path::new(path)).expect(path);
            assert!(
                BoringSsl.is_linked_into(Path::new(path), &mut elf),
                "{path}"
            );
            let (read, write, how) = find(&mut elf).unwrap_or_else(|e| panic!("{path}: {e}"));
            eprintln!("{path}: SSL_read 0x{read:x}, SSL_write 0x{write:x}, {how:?}");
            assert!(
                matches!(how, Located::StructureAndCache(_) | Located::Structure),
                "{path}: {how:?}"
            );
        }
    }
}
