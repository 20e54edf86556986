//! NSS: the shared `libssl3.so` over NSPR's `libnspr4.so` (Debian's `tstclnt`, Thunderbird,
//! LibreOffice, …). Programs: `bpf/tls_nss.bpf.c`.
//!
//! An application reads and writes an NSS SSL socket with NSPR's I/O functions on its
//! `PRFileDesc`, whose top layer is NSS's SSL layer: the plaintext is the buffer of
//! `PR_Write`/`PR_Send` and `PR_Read`/`PR_Recv` (`libnspr4.so`), while the SSL layer reaches the
//! TCP layer below through that layer's method table, not through these functions. The two files
//! are two sets of hooks of one stack:
//!
//! - `libnspr4.so`: the data functions (`PR_Write`, `PR_Send`, `PR_Read`, `PR_Recv`: a
//!   `PRInt32` of bytes, or ≤ 0) and `PR_Close` (the end of a session). They serve files, pipes and
//!   plain sockets too: the programs copy a call only when its descriptor is the SSL layer of
//!   its process — the descriptor's layer identity and method table are those of the SSL layer,
//!   and it has a layer below (the rule in `tls_nss.bpf.c`) — so a process mapping NSPR without
//!   NSS pays a trap (two before kernel 6.13, whose return probes are separate uretprobes) and a
//!   map lookup per call and is never copied.
//! - `libssl3.so`: `SSL_ImportFD`, at whose return the programs learn the process's SSL layer
//!   (identity and method table) — without it the data hooks copy nothing, so it counts as a
//!   data hook here (the file is not attached if it cannot be) — and `SSL_SetURL` (the SNI).
//!
//! Sessions are keyed by the top-layer `PRFileDesc*`; the socket comes from the syscalls the SSL
//! layer makes inside the data calls.
//!
//! Not covered: NSS and NSPR linked into one library (Firefox's `libnss3.so`) or an executable,
//! SSL sockets imported before the sensor started or, in a forked child, by its parent, a layer
//! pushed above the SSL layer, `PR_Writev`/`PR_TransmitFile`/`PR_SendFile`, DTLS, the ALPN.

use super::{Export, HookGroup, Linkage, TlsStack};
use crate::elf::Elf;
use oisp_capture::DataSource;
use std::path::{Path, PathBuf};

pub(crate) struct Nss;

/// Library directories where the system's NSS and NSPR live.
const SYSTEM_LIB_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
];

/// NSS's SSL library and NSPR's library, by file name.
const LIBSSL3: &str = "libssl3.so";
const LIBNSPR4: &str = "libnspr4.so";

/// NSPR's data functions on a descriptor: `(fd, buf, amount, …)` → `PRInt32`. None calls another
/// (each calls the descriptor's method).
const NSPR_DATA: [Export; 4] = [
    Export::data(
        "PR_Write",
        "nss_write_enter",
        "nss_write_exit",
        "nss_write_sess",
    ),
    Export::data(
        "PR_Send",
        "nss_write_enter",
        "nss_write_exit",
        "nss_write_sess",
    ),
    Export::data(
        "PR_Read",
        "nss_read_enter",
        "nss_read_exit",
        "nss_read_sess",
    ),
    Export::data(
        "PR_Recv",
        "nss_read_enter",
        "nss_read_exit",
        "nss_read_sess",
    ),
];

/// `PR_Close(fd)`: the end of an SSL descriptor's session.
const PR_CLOSE: Export = Export {
    symbol: "PR_Close",
    enter: "nss_close_enter",
    exit: None,
    session: None,
    data: false,
};

/// `SSL_ImportFD(model, fd)` → the SSL descriptor: where the SSL layer's identity is learnt (a
/// data hook in the sense of [`Hook::data`](super::Hook::data): nothing is copied without it).
const SSL_IMPORT_FD: Export = Export::data(
    "SSL_ImportFD",
    "nss_import_enter",
    "nss_import_exit",
    "nss_import_sess",
);

/// `SSL_SetURL(fd, url)`: the server name.
const SSL_SET_URL: Export = Export {
    symbol: "SSL_SetURL",
    enter: "nss_set_url_enter",
    exit: None,
    session: None,
    data: false,
};

/// The file name of `path` (after its last `/`).
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl TlsStack for Nss {
    fn well_known_files(&self) -> Vec<(PathBuf, Linkage)> {
        SYSTEM_LIB_DIRS
            .iter()
            .flat_map(|d| [LIBSSL3, LIBNSPR4].map(|f| Path::new(d).join(f)))
            .map(|p| (p, Linkage::Shared))
            .collect()
    }

    /// `libssl3.so` and `libnspr4.so` (not OpenSSL's `libssl.so*`, nor NSS's other libraries,
    /// which hold no function probed here).
    fn is_library_name(&self, path: &str) -> bool {
        let name = file_name(path);
        name.starts_with(LIBSSL3) || name.starts_with(LIBNSPR4)
    }

    /// NSS linked into an executable is not covered.
    fn is_linked_into(&self, _exe: &Path, _elf: &mut Elf) -> bool {
        false
    }

    /// NSPR's hooks in a file exporting `PR_Read` and `PR_Write`, NSS's in one exporting
    /// `SSL_ImportFD`; `Err` for a file exporting neither.
    fn locate(&self, elf: &mut Elf, _linkage: Linkage) -> Result<Vec<HookGroup>, String> {
        let mut groups = Vec::new();
        if elf.symbol("PR_Read").is_some() && elf.symbol("PR_Write").is_some() {
            groups.extend(
                NSPR_DATA
                    .iter()
                    .chain([&PR_CLOSE])
                    .filter_map(|e| e.hook(elf))
                    .map(|h| HookGroup::one(vec![h])),
            );
        }
        if let Some(import) = SSL_IMPORT_FD.hook(elf) {
            groups.push(HookGroup::one(vec![import]));
            groups.extend(SSL_SET_URL.hook(elf).map(|h| HookGroup::one(vec![h])));
        }
        if groups.is_empty() {
            return Err(
                "NSS/NSPR library without exported PR_Read/PR_Write or SSL_ImportFD".into(),
            );
        }
        Ok(groups)
    }

    fn data_source(&self, _linkage: Linkage) -> DataSource {
        DataSource::Nss
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(groups: &[HookGroup]) -> Vec<&str> {
        groups
            .iter()
            .map(|g| {
                assert_eq!(g.alternatives.len(), 1, "{g:?}");
                assert_eq!(g.alternatives[0].len(), 1, "{g:?}");
                g.alternatives[0][0].label.as_str()
            })
            .collect()
    }

    /// The system libnspr4: the four data functions (entry, return and session programs) and
    /// `PR_Close`.
    #[test]
    fn system_libnspr4_hooks() {
        let path = Path::new("/usr/lib/x86_64-linux-gnu/libnspr4.so");
        let Some(mut elf) = Elf::open(path) else {
            eprintln!("skipped: no {} (apt-get install libnspr4)", path.display());
            return;
        };
        assert!(Nss.is_library_name(&path.to_string_lossy()));
        let groups = Nss.locate(&mut elf, Linkage::Shared).unwrap();
        assert_eq!(
            labels(&groups),
            ["PR_Write", "PR_Send", "PR_Read", "PR_Recv", "PR_Close"]
        );
        for g in &groups[..4] {
            let h = &g.alternatives[0][0];
            assert!(h.data && h.exit.is_some() && h.session.is_some(), "{h:?}");
            assert_ne!(h.offset, 0);
        }
        let close = &groups[4].alternatives[0][0];
        assert!(!close.data && close.exit.is_none());
    }

    /// The system libssl3: `SSL_ImportFD` (what lets the data hooks copy) and `SSL_SetURL`.
    #[test]
    fn system_libssl3_hooks() {
        let path = Path::new("/usr/lib/x86_64-linux-gnu/libssl3.so");
        let Some(mut elf) = Elf::open(path) else {
            eprintln!("skipped: no {} (apt-get install libnss3)", path.display());
            return;
        };
        assert!(Nss.is_library_name(&path.to_string_lossy()));
        let groups = Nss.locate(&mut elf, Linkage::Shared).unwrap();
        assert_eq!(labels(&groups), ["SSL_ImportFD", "SSL_SetURL"]);
        let import = &groups[0].alternatives[0][0];
        assert!(import.data && import.exit.is_some() && import.session.is_some());
        assert!(!groups[1].alternatives[0][0].data);
    }

    /// NSS's other libraries export neither: refused, not probed at a guess.
    #[test]
    fn other_nss_library_refused() {
        let path = Path::new("/usr/lib/x86_64-linux-gnu/libnss3.so");
        let Some(mut elf) = Elf::open(path) else {
            eprintln!("skipped: no {} (apt-get install libnss3)", path.display());
            return;
        };
        assert!(Nss.locate(&mut elf, Linkage::Shared).is_err());
    }

    #[test]
    fn library_names() {
        assert!(Nss.is_library_name("/usr/lib/x86_64-linux-gnu/libssl3.so"));
        assert!(Nss.is_library_name("/usr/lib/x86_64-linux-gnu/libnspr4.so"));
        assert!(Nss.is_library_name("libnspr4.so"));
        assert!(!Nss.is_library_name("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
        assert!(!Nss.is_library_name("/usr/lib/x86_64-linux-gnu/libnss3.so"));
        assert!(!Nss.is_library_name("/usr/lib/x86_64-linux-gnu/libplc4.so"));
        assert!(!Nss.is_library_name("/usr/lib/x86_64-linux-gnu/libgnutls.so.30"));
    }

    #[test]
    fn well_known_files_cover_both_libraries() {
        let files = Nss.well_known_files();
        assert!(files
            .iter()
            .any(|(p, _)| p == Path::new("/usr/lib/x86_64-linux-gnu/libssl3.so")));
        assert!(files
            .iter()
            .any(|(p, _)| p == Path::new("/usr/lib/x86_64-linux-gnu/libnspr4.so")));
        assert!(files.iter().all(|(_, l)| *l == Linkage::Shared));
    }
}
