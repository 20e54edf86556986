//! The public option, error, attachment and counter types of a capture, and which process
//! tracepoints a set of options needs.

/// What to capture.
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    pub ssl: bool,
    pub process: bool,
    pub file: bool,
    pub network: bool,
    /// Read plaintext HTTP on TCP sockets the process connected (local model servers, any
    /// OpenAI-compatible API over http://).
    pub plaintext: bool,
    /// Report every process, not only those that used TLS and their relatives.
    pub all_processes: bool,
    /// Only this process (filtered in the kernel).
    pub pid: Option<u32>,
    /// Only processes with this `comm` (first 15 bytes; filtered in the kernel).
    pub comm: Option<String>,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            ssl: true,
            process: true,
            file: true,
            network: true,
            plaintext: true,
            all_processes: false,
            pid: None,
            comm: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("eBPF capture needs root, or the capabilities CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN); this process lacks {0}: run it with sudo (or give the binary those capabilities with setcap)")]
    NotRoot(String),
    #[error("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): use a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 5.4)")]
    NoBtf,
    #[error("tracefs is not available and could not be mounted ({0}): mount it with `mount -t tracefs nodev /sys/kernel/tracing`")]
    NoTracefs(String),
    #[error("loading the BPF programs failed: {0} (check `oisp-sensor status` for what this kernel lacks)")]
    Load(String),
    #[error("attaching {what} failed: {err} (check `oisp-sensor status`)")]
    Attach { what: String, err: String },
    #[error("reading the ring buffers failed: {0}")]
    Poll(String),
}

/// One probe attached somewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// `uprobe`, `uretprobe`, `uprobe.session` (entry and return in one), `tracepoint` or `tp_btf`.
    pub probe: &'static str,
    /// The file (uprobes) or the tracepoint category (tracepoints).
    pub path: String,
    /// The symbol or tracepoint name.
    pub symbol: String,
}

/// A file that holds a TLS stack whose functions could not be located safely: nothing was
/// attached there, so its plaintext is not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlocated {
    pub path: String,
    /// Why, e.g. `BoringSSL found but not located safely: 2 candidates for SSL_read`.
    pub why: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Records handed to the sink.
    pub records: u64,
    /// Ring records lost because the TLS ring was full.
    pub lost_tls: u64,
    /// Ring records lost because the process/file/network ring was full.
    pub lost_sys: u64,
    /// Plaintext bytes cut off calls larger than 16 MiB.
    pub truncated_bytes: u64,
    /// Probes attached.
    pub attachments: usize,
    /// Client sessions handed to [`EbpfCapture::ignore_connection`](crate::EbpfCapture::ignore_connection)
    /// (the kernel no longer copies their plaintext).
    pub ignored_sessions: u64,
    /// SSL_read/SSL_write calls the kernel skipped without a copy: server-side sessions.
    pub skipped_server_calls: u64,
    /// SSL_read/SSL_write calls the kernel skipped without a copy: ignored client sessions.
    pub skipped_ignored_calls: u64,
    /// The data functions are probed with session uprobes (kernel 6.13+: no return trap for
    /// skipped calls) rather than uprobe/uretprobe pairs.
    pub session_uprobes: bool,
}

/// Which process tracepoints a capture needs. Process records are reported with `process`, but
/// also serve others: exec finds executables with OpenSSL linked in (TLS) and, like fork, puts
/// the descendants of an AI client in scope for file/network records; exit ends a process's TLS
/// sessions. With `--no-process` the ones nothing needs are neither loaded nor attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcNeeds {
    pub(crate) exec: bool,
    pub(crate) exit: bool,
    pub(crate) fork: bool,
}

impl ProcNeeds {
    pub(crate) fn of(o: &CaptureOptions) -> ProcNeeds {
        // Without a kernel-side filter or --all-processes, file and network records are kept for
        // AI clients and their relatives, which exec and fork tell.
        let scoping =
            (o.file || o.network) && !o.all_processes && o.pid.is_none() && o.comm.is_none();
        ProcNeeds {
            exec: o.process || o.ssl || scoping,
            exit: o.process || o.ssl || scoping,
            fork: o.process || scoping,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_probes_only_when_needed() {
        let all = ProcNeeds {
            exec: true,
            exit: true,
            fork: true,
        };
        assert_eq!(ProcNeeds::of(&CaptureOptions::default()), all);
        let no_proc = CaptureOptions {
            process: false,
            ..Default::default()
        };
        // default scope: exec/fork still place AI clients' relatives in scope
        assert_eq!(ProcNeeds::of(&no_proc), all);
        let filtered = CaptureOptions {
            process: false,
            comm: Some("curl".into()),
            ..Default::default()
        };
        assert_eq!(
            ProcNeeds::of(&filtered),
            ProcNeeds {
                exec: true,
                exit: true,
                fork: false
            }
        );
        let nothing = CaptureOptions {
            process: false,
            ssl: false,
            all_processes: true,
            ..Default::default()
        };
        assert_eq!(
            ProcNeeds::of(&nothing),
            ProcNeeds {
                exec: false,
                exit: false,
                fork: false
            }
        );
    }
}
