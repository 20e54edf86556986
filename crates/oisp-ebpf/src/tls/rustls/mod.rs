//! rustls on AWS-LC (the `aws-lc-rs` crypto provider) linked into an executable: Codex, and most
//! Rust programs on reqwest/hyper-rustls. rustls itself is Rust whose functions the compiler
//! inlines and renames at will; what stays put is the C boundary under it. Every TLS record rustls
//! seals or opens goes through AWS-LC's `EVP_AEAD_CTX_seal` / `EVP_AEAD_CTX_open` (aws-lc-rs's
//! `seal_in_place_append_tag` / `open_in_place`), with the plaintext record and its header as the
//! additional data. The programs (`bpf/tls_rustls.bpf.c`) copy a record's plaintext only when
//! that header says a TLS application-data record (1.3: 5 bytes, `17 03 03 len`, and an inner
//! content type 0x17; 1.2: 13 bytes with type 0x17), so other AEAD uses in the process are
//! never read.
//!
//! Where the two functions are: by symbol when the executable keeps `.symtab` (AWS-LC's names
//! carry a version prefix, `aws_lc_0_47_0_EVP_AEAD_CTX_seal`), checked against the code's
//! structure when that also locates them (a disagreement is a refusal); else from the code's
//! structure alone (`locate.rs`: stripped executables such as Codex). Sessions: one AEAD
//! context per direction of a connection; the socket syscalls of the thread tie the sealing
//! context to its socket (the next write), and an opening context's records to the session of the
//! socket the thread last read, so both directions are one connection.
//!
//! Not covered: rustls on `ring` (no error sites to find its AEAD by), records a server pads (TLS
//! 1.3 padding after the inner type), the end of a session (sessions end with their process or
//! when their socket gets a new one).

mod locate;

use super::errsites::{with_code, with_regions};

use super::{Hook, HookGroup, Linkage, TlsStack};
use crate::elf::Elf;
use oisp_capture::DataSource;
use std::path::{Path, PathBuf};

pub(crate) struct Rustls;

/// Strings only rustls 0.23 carries: its crate path in panic locations, or (with remapped paths)
/// its message about crypto providers.
const RUSTLS_MARKS: &[&[u8]] = &[
    b"/rustls-0.23.",
    b"Call CryptoProvider::install_default() before this point",
];

/// Executables known to carry rustls on AWS-LC, looked up on PATH at start (so that their first
/// connection after the sensor starts is read too).
const KNOWN_EXES: &[&str] = &["codex"];

/// Whether the executable holds rustls and AWS-LC's AEAD code (reads its data segments only).
fn holds_rustls_on_aws_lc(elf: &mut Elf) -> bool {
    with_regions(elf, false, |regions| {
        locate::mentions_aead_c(regions)
            && regions.iter().any(|r| {
                RUSTLS_MARKS
                    .iter()
                    .any(|m| memchr::memmem::find(r.bytes, m).is_some())
            })
    })
}

/// The native executable behind `found` on PATH: itself when it is an ELF file, else, for npm's
/// launcher script (`…/node_modules/@openai/codex/bin/codex.js`), the platform package's binary
/// (`vendor/<target>/bin/<name>` in the package, or in its `-linux-<arch>` sibling package).
fn native_behind(found: &Path, name: &str) -> Option<PathBuf> {
    let real = std::fs::canonicalize(found).ok()?;
    if Elf::open(&real).is_some() {
        return Some(real);
    }
    let package = real.parent()?.parent()?;
    let arch = if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "x64"
    };
    let target = if cfg!(target_arch = "aarch64") {
        "aarch64-unknown-linux-musl"
    } else {
        "x86_64-unknown-linux-musl"
    };
    let platform = format!("{}-linux-{arch}", package.file_name()?.to_string_lossy());
    [
        package.to_path_buf(),
        package.with_file_name(&platform),
        package.join("node_modules/@openai").join(&platform),
    ]
    .into_iter()
    .map(|p| p.join("vendor").join(target).join("bin").join(name))
    .find(|p| p.is_file())
}

/// `EVP_AEAD_CTX_seal` and `EVP_AEAD_CTX_open` by name in `.symtab` (plain, or with a prefix
/// ending in `_`): `None` when the file has neither; an error when a name is ambiguous or only
/// one of the two is there.
fn by_symbol(elf: &mut Elf) -> Result<Option<locate::Found>, String> {
    let mut one = |name: &str| -> Result<Option<u64>, String> {
        let mut at: Vec<u64> = elf
            .static_symbols_ending(name)
            .into_iter()
            .filter(|(n, _)| n == name || n.ends_with(&format!("_{name}")))
            .map(|(_, s)| s.vaddr)
            .collect();
        at.sort_unstable();
        at.dedup();
        match at[..] {
            [] => Ok(None),
            [a] => Ok(Some(a)),
            _ => Err(format!("{} symbols named …{name}", at.len())),
        }
    };
    match (one("EVP_AEAD_CTX_seal")?, one("EVP_AEAD_CTX_open")?) {
        (Some(seal), Some(open)) => Ok(Some(locate::Found { seal, open })),
        (None, None) => Ok(None),
        _ => Err("only one of EVP_AEAD_CTX_seal/open has a symbol".into()),
    }
}

impl TlsStack for Rustls {
    fn well_known_files(&self) -> Vec<(PathBuf, Linkage)> {
        let dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        KNOWN_EXES
            .iter()
            .flat_map(|name| dirs.iter().map(move |d| (d.join(name), *name)))
            .filter(|(p, _)| p.exists())
            .filter_map(|(p, name)| native_behind(&p, name))
            .map(|p| (p, Linkage::LinkedIn))
            .collect()
    }

    fn is_library_name(&self, _path: &str) -> bool {
        false
    }

    fn is_linked_into(&self, _exe: &Path, elf: &mut Elf) -> bool {
        // An executable exporting OpenSSL's API is read through it.
        elf.symbol("SSL_write").is_none() && holds_rustls_on_aws_lc(elf)
    }

    fn locate(&self, elf: &mut Elf, _linkage: Linkage) -> Result<Vec<HookGroup>, String> {
        let refused = |why: String| format!("rustls on AWS-LC found but not located safely: {why}");
        let by_symbol = by_symbol(elf).map_err(refused)?;
        let by_structure = with_code(elf, locate::locate);
        let (found, how) = match (by_symbol, by_structure) {
            (Some(sym), Ok(st)) if sym == st => (sym, "by symbol, = structure"),
            (Some(sym), Ok(st)) => {
                return Err(refused(format!(
                    "symbols (seal 0x{:x}, open 0x{:x}) and structure (0x{:x}, 0x{:x}) disagree",
                    sym.seal, sym.open, st.seal, st.open
                )))
            }
            (Some(sym), Err(_)) => (sym, "by symbol"),
            (None, Ok(st)) => (st, "by structure"),
            (None, Err(why)) => return Err(refused(why.to_string())),
        };
        let (Some(seal), Some(open)) = (elf.offset_of(found.seal), elf.offset_of(found.open))
        else {
            return Err("rustls: located functions lie outside the file".into());
        };
        Ok(vec![
            HookGroup::one(vec![Hook {
                offset: seal,
                label: format!("EVP_AEAD_CTX_seal@0x{seal:x} (rustls on AWS-LC, {how})"),
                enter: "aead_seal_enter",
                exit: None,
                session: None,
                data: true,
            }]),
            HookGroup::one(vec![Hook {
                offset: open,
                label: format!("EVP_AEAD_CTX_open@0x{open:x} (rustls on AWS-LC, {how})"),
                enter: "aead_open_enter",
                exit: Some("aead_open_exit"),
                session: Some("aead_open_sess"),
                data: true,
            }]),
        ])
    }

    fn data_source(&self, _linkage: Linkage) -> DataSource {
        DataSource::Rustls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Codex build a test machine has (`OISP_CODEX_BIN`), located by structure.
    #[test]
    fn codex_build() {
        let Ok(path) = std::env::var("OISP_CODEX_BIN") else {
            eprintln!("skipped: OISP_CODEX_BIN is not set (scripts/test.sh sets it)");
            return;
        };
        let mut elf = Elf::open(Path::new(&path)).expect("codex is an ELF file");
        assert!(Rustls.is_linked_into(Path::new(&path), &mut elf));
        let found = with_code(&mut elf, locate::locate).expect("located");
        eprintln!(
            "{path}: EVP_AEAD_CTX_seal 0x{:x}, EVP_AEAD_CTX_open 0x{:x}",
            found.seal, found.open
        );
    }
}
