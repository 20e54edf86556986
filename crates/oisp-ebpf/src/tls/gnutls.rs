//! GnuTLS: the shared `libgnutls.so*` (Debian's `wget`, `gnutls-cli`, …) and executables that
//! export its symbols. Programs: `bpf/tls_gnutls.bpf.c`.
//!
//! Data: `gnutls_record_send2`, which `gnutls_record_send` tail-calls with no padding since
//! GnuTLS 3.6.3 (one probe sees both), else `gnutls_record_send`; `gnutls_record_recv` and
//! `gnutls_record_recv_seq`. All return an `ssize_t`: bytes, or ≤ 0 (end, GnuTLS error). Names:
//! `gnutls_server_name_set` (SNI, `GNUTLS_NAME_DNS` only), `gnutls_alpn_get_selected_protocol`
//! (ALPN, when the client asks for it). Sessions: `gnutls_deinit` ends one; they are keyed by the
//! `gnutls_session_t`. The socket comes from the syscalls GnuTLS's default transport makes inside
//! the data calls (no probe on `gnutls_transport_set_ptr`: its argument is not surely an fd).
//!
//! Not covered: `gnutls_record_send_range`, `gnutls_record_recv_packet` (zero-copy), and a
//! `gnutls_record_send` retried after `GNUTLS_E_AGAIN` with a NULL buffer (the retry's bytes are
//! counted lost, not copied).

use super::{Export, Hook, HookGroup, Linkage, TlsStack};
use crate::elf::Elf;
use oisp_capture::DataSource;
use std::path::{Path, PathBuf};

pub(crate) struct GnuTls;

/// Well-known places of the system GnuTLS, probed at start even if no process maps it yet.
const SYSTEM_LIBGNUTLS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/libgnutls.so.30",
    "/usr/lib/aarch64-linux-gnu/libgnutls.so.30",
    "/usr/lib64/libgnutls.so.30",
    "/usr/lib/libgnutls.so.30",
];

/// `gnutls_record_send2(session, data, size, pad, flags)`: where `gnutls_record_send` goes.
const SEND2: Export = Export::data(
    "gnutls_record_send2",
    "gnutls_send_enter",
    "gnutls_send_exit",
    "gnutls_send_sess",
);

/// `gnutls_record_send(session, data, size)`: GnuTLS before 3.6.3 (no `gnutls_record_send2`).
const SEND: Export = Export::data(
    "gnutls_record_send",
    "gnutls_send_enter",
    "gnutls_send_exit",
    "gnutls_send_sess",
);

/// `gnutls_record_recv(session, data, size)` and `gnutls_record_recv_seq(session, data, size,
/// seq)`: neither calls the other.
const RECVS: [Export; 2] = [
    Export::data(
        "gnutls_record_recv",
        "gnutls_recv_enter",
        "gnutls_recv_exit",
        "gnutls_recv_sess",
    ),
    Export::data(
        "gnutls_record_recv_seq",
        "gnutls_recv_enter",
        "gnutls_recv_exit",
        "gnutls_recv_sess",
    ),
];

/// Session end and names: entry programs, plus a return program for the ALPN (its result comes
/// back through a `gnutls_datum_t *`).
const CONTROL: [Export; 3] = [
    Export {
        symbol: "gnutls_deinit",
        enter: "gnutls_deinit_enter",
        exit: None,
        session: None,
        data: false,
    },
    Export {
        symbol: "gnutls_server_name_set",
        enter: "gnutls_sni_enter",
        exit: None,
        session: None,
        data: false,
    },
    Export {
        symbol: "gnutls_alpn_get_selected_protocol",
        enter: "gnutls_alpn_enter",
        exit: Some("gnutls_alpn_exit"),
        session: None,
        data: false,
    },
];

/// Whether `gnutls_record_send` is GnuTLS ≥ 3.6.3's `return gnutls_record_send2(session, data,
/// size, 0, 0)` compiled as a tail call, so that a probe on `gnutls_record_send2` sees every send:
/// its code is `xor r8d,r8d; xor ecx,ecx` (either order, after an optional `endbr64`) then `jmp`
/// to `gnutls_record_send2` itself or to a PLT stub (`jmp *GOT(%rip)`), and the library exports
/// `gnutls_record_send2`. Anything else keeps the probe on `gnutls_record_send`.
fn send_forwards_to_send2(elf: &mut Elf) -> bool {
    let (Some(send), Some(send2)) = (elf.symbol(SEND.symbol), elf.symbol(SEND2.symbol)) else {
        return false;
    };
    let Some(code) = elf.bytes_at(send.vaddr, 16) else {
        return false;
    };
    let (mut at, mut vaddr) = (&code[..], send.vaddr);
    if at.starts_with(&[0xf3, 0x0f, 0x1e, 0xfa]) {
        (at, vaddr) = (&at[4..], vaddr + 4);
    }
    const XOR_R8: [u8; 3] = [0x45, 0x31, 0xc0];
    const XOR_ECX: [u8; 2] = [0x31, 0xc9];
    let zeroes = (at.starts_with(&XOR_R8) && at[3..].starts_with(&XOR_ECX))
        || (at.starts_with(&XOR_ECX) && at[2..].starts_with(&XOR_R8));
    if !zeroes || at[5] != 0xe9 {
        return false;
    }
    let rel = i32::from_le_bytes([at[6], at[7], at[8], at[9]]) as i64;
    let target = (vaddr as i64 + 10 + rel) as u64;
    if target == send2.vaddr {
        return true;
    }
    let Some(stub) = elf.bytes_at(target, 10) else {
        return false;
    };
    let stub = stub
        .strip_prefix(&[0xf3, 0x0f, 0x1e, 0xfa])
        .unwrap_or(&stub);
    let stub = stub.strip_prefix(&[0xf2]).unwrap_or(stub); // bnd
    stub.starts_with(&[0xff, 0x25])
}

impl TlsStack for GnuTls {
    fn well_known_files(&self) -> Vec<(PathBuf, Linkage)> {
        SYSTEM_LIBGNUTLS
            .iter()
            .map(|p| (PathBuf::from(p), Linkage::Shared))
            .collect()
    }

    /// `libgnutls.so*`, not its companions (`libgnutls-openssl.so`, `libgnutlsxx.so`,
    /// `libgnutls-dane.so`), which call into it.
    fn is_library_name(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        name.starts_with("libgnutls.so")
    }

    /// An executable exporting GnuTLS's data functions (GnuTLS linked in with its symbols).
    fn is_linked_into(&self, _exe: &Path, elf: &mut Elf) -> bool {
        elf.symbol("gnutls_record_recv").is_some()
            && (elf.symbol("gnutls_record_send").is_some()
                || elf.symbol("gnutls_record_send2").is_some())
    }

    fn locate(&self, elf: &mut Elf, linkage: Linkage) -> Result<Vec<HookGroup>, String> {
        let forwards = send_forwards_to_send2(elf);
        let hook = |e: &Export| {
            e.hook(elf).map(|mut h| {
                if linkage == Linkage::LinkedIn {
                    // As for OpenSSL linked in: executables keep the uprobe/uretprobe pairs.
                    h.session = None;
                }
                h
            })
        };
        let mut send: Vec<Vec<Hook>> = Vec::new();
        if forwards {
            if let Some(mut h) = hook(&SEND2) {
                h.label = "gnutls_record_send2 (gnutls_record_send, gnutls_record_send2)".into();
                send.push(vec![h]);
            }
        }
        send.extend(hook(&SEND).map(|h| vec![h]));
        let recv: Vec<Hook> = RECVS.iter().filter_map(hook).collect();
        if send.is_empty() || recv.is_empty() {
            return Err(format!(
                "GnuTLS without exported {}",
                if send.is_empty() {
                    "gnutls_record_send"
                } else {
                    "gnutls_record_recv"
                }
            ));
        }
        let mut groups = vec![HookGroup { alternatives: send }, HookGroup::one(recv)];
        groups.extend(
            CONTROL
                .iter()
                .filter_map(hook)
                .map(|h| HookGroup::one(vec![h])),
        );
        Ok(groups)
    }

    fn data_source(&self, _linkage: Linkage) -> DataSource {
        DataSource::GnuTls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The system libgnutls: the send path on `gnutls_record_send2` (GnuTLS ≥ 3.6.3) with
    /// `gnutls_record_send` as the fallback, both receive functions, and every control function.
    #[test]
    fn system_libgnutls_hooks() {
        let path = Path::new("/usr/lib/x86_64-linux-gnu/libgnutls.so.30");
        let Some(mut elf) = Elf::open(path) else {
            eprintln!(
                "skipped: no {} (apt-get install libgnutls30)",
                path.display()
            );
            return;
        };
        assert!(GnuTls.is_library_name(&path.to_string_lossy()));
        let groups = GnuTls.locate(&mut elf, Linkage::Shared).unwrap();
        assert_eq!(groups.len(), 5, "{groups:#?}");
        let send = &groups[0].alternatives;
        assert_eq!(send.len(), 2, "{send:#?}");
        assert!(send[0][0].label.starts_with("gnutls_record_send2 "));
        assert_eq!(send[1][0].label, "gnutls_record_send");
        let recv = &groups[1].alternatives;
        assert_eq!(recv.len(), 1);
        let labels: Vec<&str> = recv[0].iter().map(|h| h.label.as_str()).collect();
        assert_eq!(labels, ["gnutls_record_recv", "gnutls_record_recv_seq"]);
        for h in send.iter().chain(recv).flatten() {
            assert!(h.data && h.exit.is_some() && h.session.is_some(), "{h:?}");
            assert_ne!(h.offset, 0);
        }
        let labels: Vec<&str> = groups[2..]
            .iter()
            .map(|g| g.alternatives[0][0].label.as_str())
            .collect();
        assert_eq!(
            labels,
            [
                "gnutls_deinit",
                "gnutls_server_name_set",
                "gnutls_alpn_get_selected_protocol"
            ]
        );
        assert!(groups[2..]
            .iter()
            .all(|g| !g.alternatives[0][0].data && g.alternatives[0][0].session.is_none()));
        let linked = GnuTls.locate(&mut elf, Linkage::LinkedIn).unwrap();
        assert!(linked
            .iter()
            .flat_map(|g| g.alternatives.iter().flatten())
            .all(|h| h.session.is_none()));
    }

    /// `wget` imports GnuTLS: it is not an executable with GnuTLS linked in.
    #[test]
    fn wget_imports_gnutls() {
        let path = Path::new("/usr/bin/wget");
        let Some(mut elf) = Elf::open(path) else {
            eprintln!("skipped: no {}", path.display());
            return;
        };
        assert!(!GnuTls.is_linked_into(path, &mut elf));
    }

    #[test]
    fn library_names() {
        assert!(GnuTls.is_library_name("/usr/lib/x86_64-linux-gnu/libgnutls.so.30"));
        assert!(GnuTls.is_library_name("libgnutls.so.30.34.3"));
        assert!(!GnuTls.is_library_name("/usr/lib/x86_64-linux-gnu/libgnutls-openssl.so.27"));
        assert!(!GnuTls.is_library_name("/usr/lib/x86_64-linux-gnu/libgnutlsxx.so.30"));
        assert!(!GnuTls.is_library_name("/usr/lib/x86_64-linux-gnu/libgnutls-dane.so.0"));
        assert!(!GnuTls.is_library_name("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
    }
}
