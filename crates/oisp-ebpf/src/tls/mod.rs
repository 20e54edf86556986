//! The TLS-stack seam: each TLS library the sensor reads plaintext from is one [`TlsStack`] — how
//! to recognise it in a mapped file, where its probes attach, and what its data records are.
//!
//! Discovery (`discovery.rs`) asks every stack of [`STACKS`] in turn about each candidate file
//! (well-known libraries at start, files processes map, executables they run, libraries they
//! open); [`Probes::attach_tls`](crate::probes::Probes::attach_tls) attaches what the stack
//! located. The BPF side of a stack is one `bpf/tls_<stack>.bpf.c` whose programs call the shared
//! machinery of `bpf/tls.bpf.h`, so every stack's records look alike: sessions are keyed by
//! (process, session key) where the key is whatever the stack keeps per connection (OpenSSL: the
//! `SSL*`), and every data record carries the probe's attach cookie, an [`Origin`], which says
//! which stack wrote it.
//!
//! Adding a stack: a module here implementing [`TlsStack`], its BPF file included by
//! `bpf/oisp.bpf.c`, and a line in [`STACKS`] (see `docs/extending.md`).

pub(crate) mod boringssl;
mod errsites;
pub(crate) mod gnutls;
pub(crate) mod go;
pub(crate) mod nss;
pub(crate) mod openssl;
pub(crate) mod rustls;

use crate::elf::Elf;
use oisp_capture::DataSource;
use std::path::{Path, PathBuf};

/// Every TLS stack, in the order discovery asks them. A stack's position is its id in the
/// [`Origin`] of its records: append, never reorder.
pub(crate) static STACKS: &[&(dyn TlsStack + Sync)] = &[
    &openssl::OpenSsl,
    &boringssl::BoringSsl,
    &gnutls::GnuTls,
    &rustls::Rustls,
    &go::GoTls,
    &nss::Nss,
];

/// How a stack's code is present in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Linkage {
    /// A shared library of the stack (`libssl.so.3`).
    Shared,
    /// The stack linked into an executable (Node's OpenSSL, Bun's BoringSSL).
    LinkedIn,
}

/// One TLS library the sensor can read plaintext from.
pub(crate) trait TlsStack {
    /// Files to probe at start, before any process maps them (a library loaded lazily, long
    /// after exec, or an executable whose first session would otherwise start before the exec
    /// record reaches userspace), with how the stack is present in each.
    fn well_known_files(&self) -> Vec<(PathBuf, Linkage)>;

    /// Whether a file a process maps or opens is, by its name, a shared library of this stack
    /// (cheap: called for every library a process maps or opens).
    fn is_library_name(&self, path: &str) -> bool;

    /// Whether an executable holds this stack linked in (called once per executable file).
    fn is_linked_into(&self, exe: &Path, elf: &mut Elf) -> bool;

    /// Where to attach in `elf`, a file holding this stack as `linkage` says; `Err` says why
    /// nothing could be located safely (shown by `status`). Never returns a doubtful location: a
    /// probe on the wrong function reports garbage.
    fn locate(&self, elf: &mut Elf, linkage: Linkage) -> Result<Vec<HookGroup>, String>;

    /// The record source of plaintext read from this stack.
    fn data_source(&self, linkage: Linkage) -> DataSource;
}

/// A function to probe: BPF programs from the stack's BPF file and where they go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hook {
    /// File offset of the probed instruction.
    pub offset: u64,
    /// What `status` shows, e.g. `SSL_write` or `ssl_write_internal@0x355e0 (SSL_write, …)`.
    pub label: String,
    /// Entry program.
    pub enter: &'static str,
    /// Return program, when the function's results are needed.
    pub exit: Option<&'static str>,
    /// One program for entry and return (session uprobes, kernel 6.13+), used instead of
    /// `enter` + `exit` where the kernel has them.
    pub session: Option<&'static str>,
    /// The function carries plaintext: a file gets its probes only if at least one data hook
    /// attached.
    pub data: bool,
}

/// Ways to probe one thing, best first: the first alternative of which at least one hook
/// attaches is kept (e.g. OpenSSL's internal write function, else `SSL_write` + `SSL_write_ex`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HookGroup {
    pub alternatives: Vec<Vec<Hook>>,
}

impl HookGroup {
    /// A group with one way to probe.
    pub(crate) fn one(hooks: Vec<Hook>) -> HookGroup {
        HookGroup {
            alternatives: vec![hooks],
        }
    }
}

/// The attach cookie of a TLS probe, copied into each data record (`oisp_tls_data.origin`):
/// the stack's index in [`STACKS`] and whether it is linked into an executable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Origin(pub u8);

impl Origin {
    pub(crate) fn new(stack: usize, linkage: Linkage) -> Origin {
        Origin(((stack as u8) << 1) | (linkage == Linkage::LinkedIn) as u8)
    }

    pub(crate) fn linkage(self) -> Linkage {
        if self.0 & 1 == 1 {
            Linkage::LinkedIn
        } else {
            Linkage::Shared
        }
    }

    /// The record source this origin stands for: a stack's, [`DataSource::Socket`] for plaintext
    /// read at the socket syscalls, `Unknown` for a cookie nothing wrote.
    pub(crate) fn data_source(self) -> DataSource {
        if self.0 == crate::wire::ORIGIN_SOCKET {
            return DataSource::Socket;
        }
        STACKS
            .get((self.0 >> 1) as usize)
            .map(|s| s.data_source(self.linkage()))
            .unwrap_or(DataSource::Unknown)
    }
}

/// An exported function to probe by name, and the programs that go there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Export {
    pub symbol: &'static str,
    pub enter: &'static str,
    pub exit: Option<&'static str>,
    pub session: Option<&'static str>,
    pub data: bool,
}

impl Export {
    /// A data function (`data: true`) with entry, return and session programs.
    pub(crate) const fn data(
        symbol: &'static str,
        enter: &'static str,
        exit: &'static str,
        session: &'static str,
    ) -> Export {
        Export {
            symbol,
            enter,
            exit: Some(exit),
            session: Some(session),
            data: true,
        }
    }

    /// The hook for this function in `elf`, when `elf` defines it.
    pub(crate) fn hook(&self, elf: &Elf) -> Option<Hook> {
        let offset = elf
            .symbol(self.symbol)
            .and_then(|s| elf.offset_of(s.vaddr))?;
        Some(Hook {
            offset,
            label: self.symbol.to_string(),
            enter: self.enter,
            exit: self.exit,
            session: self.session,
            data: self.data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_round_trip() {
        let shared = Origin::new(0, Linkage::Shared);
        let linked = Origin::new(0, Linkage::LinkedIn);
        // The values OpenSSL records carried before stacks had ids (is_static 0/1).
        assert_eq!((shared.0, linked.0), (0, 1));
        assert_eq!(shared.data_source(), DataSource::OpenSsl);
        assert_eq!(linked.data_source(), DataSource::OpenSslStatic);
        assert_eq!(Origin(200).data_source(), DataSource::Unknown);
        assert_eq!(
            Origin(crate::wire::ORIGIN_SOCKET).data_source(),
            DataSource::Socket
        );
        assert_eq!(
            Origin::new(1, Linkage::LinkedIn).data_source(),
            DataSource::BoringSsl
        );
        assert_eq!(
            Origin::new(2, Linkage::Shared).data_source(),
            DataSource::GnuTls
        );
        assert_eq!(
            Origin::new(5, Linkage::Shared).data_source(),
            DataSource::Nss
        );
    }
}
