//! Live capture with eBPF.
//!
//! BPF programs (C, `bpf/`: one file per probe family, one shared record header `bpf/oisp.h`)
//! are compiled by `build.rs` as one object with clang against the kernel's BTF (CO-RE) and
//! loaded through a libbpf-rs skeleton, with libbpf linked statically. They capture:
//! - TLS plaintext through uprobes on each TLS stack of [`tls`]'s list — OpenSSL's
//!   `SSL_read`/`SSL_write` (or the internal functions both forms meet in), `SSL_set_fd`,
//!   `SSL_free`, `SSL_ctrl` (SNI) and `SSL_get0_alpn_selected` (ALPN), in every `libssl.so*` and
//!   every executable that exports them (Node.js); BoringSSL located by structure in stripped
//!   executables (Bun → Claude Code); GnuTLS; rustls at AWS-LC's AEAD boundary (Codex); on
//!   kernels 6.13+ the data functions use session uprobes, whose return probe is skipped for
//!   calls of no interest;
//! - plaintext HTTP on TCP sockets a process connected (local model servers, http:// APIs), and
//!   the server name of every TLS ClientHello a client writes (hooked stack or not), at the socket
//!   syscalls (`bpf/sock_plain.bpf.*`, [`hello`]);
//! - sessions whose plaintext is not wanted are skipped in the kernel before any copy: server
//!   sessions, and client connections the decoder found to carry no AI traffic
//!   ([`EbpfCapture::ignore_connection`]);
//! - processes (`sched_process_exec/exit/fork`), files (`openat`, writes to regular files,
//!   `rename*`, `unlinkat`) and `connect` via tracepoints (no kprobes); processes already
//!   running at start are read from /proc ([`snapshot`]) and reported like the others when they
//!   or a descendant come into scope.
//!
//! [`EbpfCapture`] turns what the kernel reports into [`oisp_capture::RawRecord`]s.
//!
//! Linux only: on every other target this crate is empty, so the workspace builds there too
//! (`oisp-sensor` depends on it only on Linux, behind its `ebpf` feature).
#![cfg(target_os = "linux")]

mod assemble;
mod capture;
mod discovery;
mod elf;
mod flows;
mod hello;
mod kernel;
mod load;
mod options;
mod probes;
mod procfs;
mod scope;
mod sessions;
mod snapshot;
mod source;
mod tls;
mod wire;

#[allow(clippy::all, clippy::pedantic, missing_docs, dead_code, unused_imports)]
mod skel {
    include!(concat!(env!("OUT_DIR"), "/oisp.skel.rs"));
}

pub use capture::EbpfCapture;
pub use options::{Attachment, CaptureError, CaptureOptions, CaptureStats, Unlocated};
