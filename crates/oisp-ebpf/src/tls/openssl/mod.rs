//! OpenSSL: the shared `libssl.so*` (system, containers) and OpenSSL linked into executables that
//! export its symbols (Node.js). Programs: `bpf/tls_openssl.bpf.c`.
//!
//! Data: `SSL_read`/`SSL_write` and their `_ex` forms, or — in a shared libssl whose code allows
//! it — the internal functions both forms meet in (`inner.rs`), which cost a trap instead of a
//! trap and a single-step per call. Names: `SSL_ctrl` (SNI), `SSL_get0_alpn_selected` (ALPN).
//! Sessions: `SSL_set_fd` ties one to a socket, `SSL_free` ends it. Sessions are keyed by the
//! `SSL*` (an address in the process; reused after `SSL_free`, which is why the free matters).

mod inner;

use super::{Export, Hook, HookGroup, Linkage, TlsStack};
use crate::elf::Elf;
use oisp_capture::DataSource;
use std::path::{Path, PathBuf};

pub(crate) struct OpenSsl;

/// Well-known places of the system OpenSSL, probed at start even if no process maps them yet
/// (Python loads libssl lazily, long after exec).
const SYSTEM_LIBSSL: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/libssl.so.3",
    "/usr/lib/x86_64-linux-gnu/libssl.so.1.1",
    "/usr/lib/aarch64-linux-gnu/libssl.so.3",
    "/usr/lib/aarch64-linux-gnu/libssl.so.1.1",
    "/usr/lib64/libssl.so.3",
    "/usr/lib64/libssl.so.1.1",
    "/usr/lib/libssl.so.3",
    "/usr/lib/libssl.so.1.1",
];

/// Executables known to link OpenSSL statically, looked up on PATH at start: attaching before
/// their first run avoids missing the start of their first session (the SNI is set before any
/// data, while the exec record is still on its way to userspace).
const STATIC_OPENSSL_EXES: &[&str] = &["node", "nodejs"];

const WRITES: [Export; 2] = [
    Export::data(
        "SSL_write",
        "ssl_write_enter",
        "ssl_write_exit",
        "ssl_write_sess",
    ),
    Export::data(
        "SSL_write_ex",
        "ssl_write_ex_enter",
        "ssl_write_ex_exit",
        "ssl_write_ex_sess",
    ),
];

const READS: [Export; 2] = [
    Export::data(
        "SSL_read",
        "ssl_read_enter",
        "ssl_read_exit",
        "ssl_read_sess",
    ),
    Export::data(
        "SSL_read_ex",
        "ssl_read_ex_enter",
        "ssl_read_ex_exit",
        "ssl_read_ex_sess",
    ),
];

/// Session bookkeeping and names: entry programs, plus a return program for the ALPN (its
/// results come back through out-pointers).
const CONTROL: [Export; 4] = [
    Export {
        symbol: "SSL_set_fd",
        enter: "ssl_set_fd_enter",
        exit: None,
        session: None,
        data: false,
    },
    Export {
        symbol: "SSL_free",
        enter: "ssl_free_enter",
        exit: None,
        session: None,
        data: false,
    },
    Export {
        symbol: "SSL_ctrl",
        enter: "ssl_ctrl_enter",
        exit: None,
        session: None,
        data: false,
    },
    Export {
        symbol: "SSL_get0_alpn_selected",
        enter: "ssl_alpn_enter",
        exit: Some("ssl_alpn_exit"),
        session: None,
        data: false,
    },
];

impl TlsStack for OpenSsl {
    fn well_known_files(&self) -> Vec<(PathBuf, Linkage)> {
        let mut out: Vec<(PathBuf, Linkage)> = SYSTEM_LIBSSL
            .iter()
            .map(|p| (PathBuf::from(p), Linkage::Shared))
            .collect();
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        for d in ["/usr/local/bin", "/usr/bin"] {
            dirs.push(PathBuf::from(d));
        }
        for name in STATIC_OPENSSL_EXES {
            for d in &dirs {
                if let Ok(real) = std::fs::canonicalize(d.join(name)) {
                    out.push((real, Linkage::LinkedIn));
                }
            }
        }
        out
    }

    fn is_library_name(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        name.starts_with("libssl.so")
    }

    fn is_linked_into(&self, _exe: &Path, elf: &mut Elf) -> bool {
        elf.symbol("SSL_write").is_some()
    }

    fn locate(&self, elf: &mut Elf, linkage: Linkage) -> Result<Vec<HookGroup>, String> {
        let inner = match linkage {
            Linkage::Shared => inner::find(elf),
            // Node's OpenSSL functions already begin with a push: nothing to gain inside.
            Linkage::LinkedIn => inner::InnerProbes::default(),
        };
        let exported = |list: &[Export]| -> Vec<Hook> {
            list.iter()
                .filter_map(|e| e.hook(elf))
                .map(|mut h| {
                    if linkage == Linkage::LinkedIn {
                        // Executables with OpenSSL linked in keep the uprobe/uretprobe pairs.
                        h.session = None;
                    }
                    h
                })
                .collect()
        };
        let mut groups = Vec::new();
        for (found, list, name, covers) in [
            (
                inner.write,
                &WRITES,
                "ssl_write_internal",
                "SSL_write, SSL_write_ex",
            ),
            (
                inner.read,
                &READS,
                "ssl_read_internal",
                "SSL_read, SSL_read_ex",
            ),
        ] {
            let mut alternatives = Vec::new();
            if let Some(offset) = found {
                // Same signature as the _ex form: (SSL *, buf, num, size_t *out), 1 on success.
                let ex = &list[1];
                alternatives.push(vec![Hook {
                    offset,
                    label: format!("{name}@0x{offset:x} ({covers})"),
                    enter: ex.enter,
                    exit: ex.exit,
                    session: ex.session,
                    data: true,
                }]);
            }
            alternatives.push(exported(list));
            groups.push(HookGroup { alternatives });
        }
        groups.extend(
            CONTROL
                .iter()
                .filter_map(|e| e.hook(elf))
                .map(|h| HookGroup::one(vec![h])),
        );
        Ok(groups)
    }

    fn data_source(&self, linkage: Linkage) -> DataSource {
        match linkage {
            Linkage::Shared => DataSource::OpenSsl,
            Linkage::LinkedIn => DataSource::OpenSslStatic,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The system libssl: both data functions located inside (OpenSSL 3.0–3.2) or on the
    /// exported functions, and every control function found.
    #[test]
    fn system_libssl_hooks() {
        let path = Path::new("/usr/lib/x86_64-linux-gnu/libssl.so.3");
        let Some(mut elf) = Elf::open(path) else {
            eprintln!("skipped: no {}", path.display());
            return;
        };
        let groups = OpenSsl.locate(&mut elf, Linkage::Shared).unwrap();
        assert_eq!(groups.len(), 6, "{groups:#?}");
        for g in &groups[..2] {
            let last = g.alternatives.last().unwrap();
            assert_eq!(last.len(), 2, "both exported forms: {last:?}");
            assert!(last.iter().all(|h| h.data && h.session.is_some()));
        }
        let labels: Vec<&str> = groups[2..]
            .iter()
            .map(|g| g.alternatives[0][0].label.as_str())
            .collect();
        assert_eq!(
            labels,
            [
                "SSL_set_fd",
                "SSL_free",
                "SSL_ctrl",
                "SSL_get0_alpn_selected"
            ]
        );
        let linked = OpenSsl.locate(&mut elf, Linkage::LinkedIn).unwrap();
        assert!(linked
            .iter()
            .flat_map(|g| g.alternatives.iter().flatten())
            .all(|h| h.session.is_none()));
        assert_eq!(
            linked[0].alternatives.len(),
            1,
            "no inner probes when linked in"
        );
    }

    #[test]
    fn library_names() {
        assert!(OpenSsl.is_library_name("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
        assert!(OpenSsl.is_library_name("libssl.so.1.1"));
        assert!(!OpenSsl.is_library_name("/usr/lib/libcrypto.so.3"));
        assert!(!OpenSsl.is_library_name("/usr/lib/x86_64-linux-gnu/libssl3.so"));
    }
}
