//! Loading, attaching and the userspace half of capture: ring buffer records → `RawRecord`s.

use crate::skel::{OispSkel, OispSkelBuilder};
use crate::wire::{self, Ev};
use crate::{elf, procfs};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{Link, MapCore, MapFlags, OpenObject, RingBuffer, RingBufferBuilder, UprobeOpts};
use oisp_capture::{
    ConnClose, ConnOpen, ConnRole, DataChunk, DataSource, Direction, FileOp, FileOpKind, Lost,
    NetConnect, ProcessExec, ProcessExit, ProcessFork, RawRecord, Timestamp, Transport,
};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// What to capture.
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    pub ssl: bool,
    pub process: bool,
    pub file: bool,
    pub network: bool,
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
    /// `uprobe`, `uretprobe`, `tracepoint` or `tp_btf`.
    pub probe: &'static str,
    /// The file (uprobes) or the tracepoint category (tracepoints).
    pub path: String,
    /// The symbol or tracepoint name.
    pub symbol: String,
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
}

/// The programs compiled into this build: (kind, what they hook).
pub fn compiled_probes() -> Vec<(&'static str, &'static str)> {
    let mut v = Vec::new();
    for (_, sym, ret) in SSL_PROBES {
        v.push((if *ret { "uretprobe" } else { "uprobe" }, *sym));
    }
    for (_, cat, name) in TRACEPOINTS {
        let _ = cat;
        v.push(("tracepoint", *name));
    }
    for (_, name) in BTF_TRACEPOINTS {
        v.push(("tp_btf", *name));
    }
    v
}

/// (program, symbol, is return probe)
const SSL_PROBES: &[(&str, &str, bool)] = &[
    ("ssl_write_enter", "SSL_write", false),
    ("ssl_write_exit", "SSL_write", true),
    ("ssl_read_enter", "SSL_read", false),
    ("ssl_read_exit", "SSL_read", true),
    ("ssl_write_ex_enter", "SSL_write_ex", false),
    ("ssl_write_ex_exit", "SSL_write_ex", true),
    ("ssl_read_ex_enter", "SSL_read_ex", false),
    ("ssl_read_ex_exit", "SSL_read_ex", true),
    ("ssl_set_fd_enter", "SSL_set_fd", false),
    ("ssl_free_enter", "SSL_free", false),
    ("ssl_ctrl_enter", "SSL_ctrl", false),
    ("ssl_alpn_enter", "SSL_get0_alpn_selected", false),
    ("ssl_alpn_exit", "SSL_get0_alpn_selected", true),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Tls,
    /// Needed by TLS (library discovery) or files.
    Open,
    File,
    Net,
}

/// (group, category, tracepoint) for the syscall tracepoint programs, in skeleton order below.
const TRACEPOINTS: &[(Group, &str, &str)] = &[
    (Group::Tls, "syscalls", "sys_enter_read"),
    (Group::Tls, "syscalls", "sys_enter_recvfrom"),
    (Group::Tls, "syscalls", "sys_enter_readv"),
    (Group::Tls, "syscalls", "sys_enter_recvmsg"),
    (Group::Tls, "syscalls", "sys_enter_sendto"),
    (Group::Tls, "syscalls", "sys_enter_write"),
    (Group::Tls, "syscalls", "sys_enter_writev"),
    (Group::Tls, "syscalls", "sys_enter_sendmsg"),
    (Group::Open, "syscalls", "sys_enter_openat"),
    (Group::Open, "syscalls", "sys_exit_openat"),
    (Group::File, "syscalls", "sys_enter_write"),
    (Group::File, "syscalls", "sys_enter_renameat2"),
    (Group::File, "syscalls", "sys_exit_renameat2"),
    (Group::File, "syscalls", "sys_enter_renameat"),
    (Group::File, "syscalls", "sys_exit_renameat"),
    (Group::File, "syscalls", "sys_enter_rename"),
    (Group::File, "syscalls", "sys_exit_rename"),
    (Group::File, "syscalls", "sys_enter_unlinkat"),
    (Group::File, "syscalls", "sys_exit_unlinkat"),
    (Group::Net, "syscalls", "sys_enter_connect"),
    (Group::Net, "syscalls", "sys_exit_connect"),
];

const BTF_TRACEPOINTS: &[(&str, &str)] = &[
    ("proc_exec", "sched_process_exec"),
    ("proc_exit", "sched_process_exit"),
    ("proc_fork", "sched_process_fork"),
];

/// Well-known places of the system OpenSSL, attached at start even if no process maps them yet
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

/// How long a TLS session may wait for its socket fd before it is reported without addresses.
const FD_WAIT: Duration = Duration::from_millis(300);
/// Connections remembered per process while it is not (yet) in scope.
const BUFFERED_CONNECTS: usize = 16;
/// How long an SNI/ALPN waits for its session's first data (sessions that never carry data are
/// never freed in the kernel's view).
const NAME_TTL: Duration = Duration::from_secs(120);

/// SNI and ALPN of a session, known before its data.
#[derive(Default)]
struct SessionNames {
    sni: Option<String>,
    alpn: Option<String>,
    seen: Option<Instant>,
}

struct Conn {
    id: u64,
    pid: u32,
    tid: u32,
    fd: Option<i32>,
    /// (local, remote) from the kernel when the fd became known.
    addrs: Option<(std::net::SocketAddr, std::net::SocketAddr)>,
    opened: bool,
    is_static: bool,
    first_egress: Option<bool>,
    first_ts: Timestamp,
    seen: Instant,
    pending: Vec<RawRecord>,
}

#[derive(Default)]
struct ProcInfo {
    ppid: u32,
    exec: Option<ProcessExec>,
    exec_emitted: bool,
    connects: VecDeque<NetConnect>,
}

/// A running capture. Dropping it detaches every probe.
pub struct EbpfCapture {
    opts: CaptureOptions,
    skel: OispSkel<'static>,
    rings: RingBuffer<'static>,
    queue: Rc<RefCell<VecDeque<Vec<u8>>>>,
    links: Vec<Link>,
    attachments: Vec<Attachment>,
    probed_files: HashSet<(u64, u64)>,
    wall_offset: i128,
    conns: HashMap<(u32, u64), Conn>,
    names: HashMap<(u32, u64), SessionNames>,
    next_conn: u64,
    fd_paths: HashMap<(u32, i32), String>,
    procs: HashMap<u32, ProcInfo>,
    in_scope: HashSet<u32>,
    stats: CaptureStats,
    lost_seen: [u64; 3],
    last_lost_check: Instant,
    out: Vec<RawRecord>,
}

/// Which process tracepoints a capture needs. Process records are reported with `process`, but
/// also serve others: exec finds executables with OpenSSL linked in (TLS) and, like fork, puts
/// the descendants of an AI client in scope for file/network records; exit ends a process's TLS
/// sessions. With `--no-process` the ones nothing needs are neither loaded nor attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ProcNeeds {
    exec: bool,
    exit: bool,
    fork: bool,
}

impl ProcNeeds {
    fn of(o: &CaptureOptions) -> ProcNeeds {
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

/// What this process lacks for eBPF capture, from the `CapEff` line of /proc/self/status:
/// `None` when it has CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON.
fn missing_capabilities(status: &str) -> Option<String> {
    const CAP_SYS_ADMIN: u32 = 21;
    const CAP_PERFMON: u32 = 38;
    const CAP_BPF: u32 = 39;
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    let has = |c: u32| eff & (1u64 << c) != 0;
    if has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON)) {
        return None;
    }
    let missing: Vec<&str> = [(CAP_BPF, "CAP_BPF"), (CAP_PERFMON, "CAP_PERFMON")]
        .iter()
        .filter(|(c, _)| !has(*c))
        .map(|(_, n)| *n)
        .collect();
    Some(missing.join(" + "))
}

fn clock_ns(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128
}

fn ensure_tracefs() -> Result<(), CaptureError> {
    if Path::new("/sys/kernel/tracing/events").is_dir()
        || Path::new("/sys/kernel/debug/tracing/events").is_dir()
    {
        return Ok(());
    }
    let target = c"/sys/kernel/tracing";
    let fstype = c"tracefs";
    let src = c"nodev";
    // SAFETY: valid NUL-terminated strings; a plain mount without data.
    let rc = unsafe {
        libc::mount(
            src.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(CaptureError::NoTracefs(
            std::io::Error::last_os_error().to_string(),
        ));
    }
    Ok(())
}

impl EbpfCapture {
    /// Loads the programs, attaches every probe and scans running processes for OpenSSL.
    pub fn start(opts: &CaptureOptions) -> Result<EbpfCapture, CaptureError> {
        if let Some(missing) =
            missing_capabilities(&std::fs::read_to_string("/proc/self/status").unwrap_or_default())
        {
            return Err(CaptureError::NotRoot(missing));
        }
        if !Path::new("/sys/kernel/btf/vmlinux").exists() {
            return Err(CaptureError::NoBtf);
        }
        ensure_tracefs()?;
        // libbpf's own messages would interleave with our output; errors come back as values.
        libbpf_rs::set_print(None);

        // The skeleton borrows its object storage for its whole life; a capture lives until the
        // process ends, so the storage is leaked (once per capture).
        let storage: &'static mut MaybeUninit<OpenObject> =
            Box::leak(Box::new(MaybeUninit::uninit()));
        let builder = OispSkelBuilder::default();
        let mut open = builder
            .open(storage)
            .map_err(|e| CaptureError::Load(e.to_string()))?;
        if let Some(ro) = open.maps.rodata_data.as_deref_mut() {
            ro.self_tgid = std::process::id();
            ro.targ_tgid = opts.pid.unwrap_or(0);
            if let Some(c) = &opts.comm {
                ro.filter_comm = 1;
                for (i, b) in c.bytes().take(15).enumerate() {
                    ro.targ_comm[i] = b as _;
                }
            }
        }
        let tls = opts.ssl;
        let p = &mut open.progs;
        for prog in [
            &mut p.ssl_write_enter,
            &mut p.ssl_write_exit,
            &mut p.ssl_read_enter,
            &mut p.ssl_read_exit,
            &mut p.ssl_write_ex_enter,
            &mut p.ssl_write_ex_exit,
            &mut p.ssl_read_ex_enter,
            &mut p.ssl_read_ex_exit,
            &mut p.ssl_set_fd_enter,
            &mut p.ssl_free_enter,
            &mut p.ssl_ctrl_enter,
            &mut p.ssl_alpn_enter,
            &mut p.ssl_alpn_exit,
            &mut p.tls_sys_read,
            &mut p.tls_sys_recvfrom,
            &mut p.tls_sys_readv,
            &mut p.tls_sys_recvmsg,
            &mut p.tls_sys_sendto,
            &mut p.tls_sys_write,
            &mut p.tls_sys_writev,
            &mut p.tls_sys_sendmsg,
        ] {
            prog.set_autoload(tls);
        }
        p.file_openat_enter.set_autoload(tls || opts.file);
        p.file_openat_exit.set_autoload(tls || opts.file);
        for prog in [
            &mut p.file_write_enter,
            &mut p.file_renameat2_enter,
            &mut p.file_renameat2_exit,
            &mut p.file_renameat_enter,
            &mut p.file_renameat_exit,
            &mut p.file_rename_enter,
            &mut p.file_rename_exit,
            &mut p.file_unlinkat_enter,
            &mut p.file_unlinkat_exit,
        ] {
            prog.set_autoload(opts.file);
        }
        p.net_connect_enter.set_autoload(opts.network);
        p.net_connect_exit.set_autoload(opts.network);
        let need = ProcNeeds::of(opts);
        p.proc_exec.set_autoload(need.exec);
        p.proc_exit.set_autoload(need.exit);
        p.proc_fork.set_autoload(need.fork);
        let skel = open
            .load()
            .map_err(|e| CaptureError::Load(format!("{e:#}")))?;

        let queue: Rc<RefCell<VecDeque<Vec<u8>>>> = Rc::default();
        let mut rb = RingBufferBuilder::new();
        for map in [&skel.maps.tls_ring, &skel.maps.sys_ring] {
            let q = Rc::clone(&queue);
            rb.add(map, move |data: &[u8]| {
                q.borrow_mut().push_back(data.to_vec());
                0
            })
            .map_err(|e| CaptureError::Load(e.to_string()))?;
        }
        let rings = rb.build().map_err(|e| CaptureError::Load(e.to_string()))?;

        let wall_offset = clock_ns(libc::CLOCK_REALTIME) - clock_ns(libc::CLOCK_MONOTONIC);
        let mut cap = EbpfCapture {
            opts: opts.clone(),
            skel,
            rings,
            queue,
            links: Vec::new(),
            attachments: Vec::new(),
            probed_files: HashSet::new(),
            wall_offset,
            conns: HashMap::new(),
            names: HashMap::new(),
            next_conn: 1,
            fd_paths: HashMap::new(),
            procs: HashMap::new(),
            in_scope: HashSet::new(),
            stats: CaptureStats::default(),
            lost_seen: [0; 3],
            last_lost_check: Instant::now(),
            out: Vec::new(),
        };
        cap.attach_tracepoints()?;
        if opts.ssl {
            cap.discover_at_start();
        }
        cap.stats.attachments = cap.attachments.len();
        Ok(cap)
    }

    fn attach_tracepoints(&mut self) -> Result<(), CaptureError> {
        let o = &self.opts;
        let want = |g: Group| match g {
            Group::Tls => o.ssl,
            Group::Open => o.ssl || o.file,
            Group::File => o.file,
            Group::Net => o.network,
        };
        let p = &self.skel.progs;
        let progs = [
            &p.tls_sys_read,
            &p.tls_sys_recvfrom,
            &p.tls_sys_readv,
            &p.tls_sys_recvmsg,
            &p.tls_sys_sendto,
            &p.tls_sys_write,
            &p.tls_sys_writev,
            &p.tls_sys_sendmsg,
            &p.file_openat_enter,
            &p.file_openat_exit,
            &p.file_write_enter,
            &p.file_renameat2_enter,
            &p.file_renameat2_exit,
            &p.file_renameat_enter,
            &p.file_renameat_exit,
            &p.file_rename_enter,
            &p.file_rename_exit,
            &p.file_unlinkat_enter,
            &p.file_unlinkat_exit,
            &p.net_connect_enter,
            &p.net_connect_exit,
        ];
        let mut links = Vec::new();
        let mut atts = Vec::new();
        for (prog, (group, cat, name)) in progs.into_iter().zip(TRACEPOINTS) {
            if !want(*group) {
                continue;
            }
            let link = prog.attach().map_err(|e| CaptureError::Attach {
                what: format!("tracepoint {cat}:{name}"),
                err: e.to_string(),
            })?;
            links.push(link);
            atts.push(Attachment {
                probe: "tracepoint",
                path: cat.to_string(),
                symbol: name.to_string(),
            });
        }
        let need = ProcNeeds::of(o);
        for ((prog, (_, name)), wanted) in [&p.proc_exec, &p.proc_exit, &p.proc_fork]
            .into_iter()
            .zip(BTF_TRACEPOINTS)
            .zip([need.exec, need.exit, need.fork])
        {
            if !wanted {
                continue;
            }
            let link = prog.attach().map_err(|e| CaptureError::Attach {
                what: format!("tp_btf {name}"),
                err: e.to_string(),
            })?;
            links.push(link);
            atts.push(Attachment {
                probe: "tp_btf",
                path: "sched".to_string(),
                symbol: name.to_string(),
            });
        }
        self.links.extend(links);
        self.attachments.extend(atts);
        Ok(())
    }

    /// Attaches the OpenSSL probes to `path` once per file (dev, inode). `is_static`: OpenSSL is
    /// linked into this executable. Returns whether probes were attached now.
    fn attach_ssl(&mut self, path: &Path, is_static: bool) -> bool {
        let Some(id) = procfs::file_id(path) else {
            return false;
        };
        if self.probed_files.contains(&id) {
            return false;
        }
        self.probed_files.insert(id);
        let shown = display_path(path);
        let mut attached = Vec::new();
        let mut any_data = false;
        let pid_filter = self.opts.pid.map(|p| p as i32).unwrap_or(-1);
        let p = &self.skel.progs;
        let progs = [
            &p.ssl_write_enter,
            &p.ssl_write_exit,
            &p.ssl_read_enter,
            &p.ssl_read_exit,
            &p.ssl_write_ex_enter,
            &p.ssl_write_ex_exit,
            &p.ssl_read_ex_enter,
            &p.ssl_read_ex_exit,
            &p.ssl_set_fd_enter,
            &p.ssl_free_enter,
            &p.ssl_ctrl_enter,
            &p.ssl_alpn_enter,
            &p.ssl_alpn_exit,
        ];
        for (prog, (_, sym, ret)) in progs.into_iter().zip(SSL_PROBES) {
            let opts = UprobeOpts {
                retprobe: *ret,
                func_name: Some((*sym).to_string()),
                cookie: is_static as u64,
                ..Default::default()
            };
            // Symbols a given OpenSSL lacks (the _ex forms before 1.1.1) are skipped.
            // With --pid the breakpoints go into that process only: others never trap.
            if let Ok(link) = prog.attach_uprobe_with_opts(pid_filter, path, 0, opts) {
                attached.push((link, *sym, *ret));
                any_data |= sym.starts_with("SSL_read") || sym.starts_with("SSL_write");
            }
        }
        if !any_data {
            return false;
        }
        for (link, sym, ret) in attached {
            self.links.push(link);
            self.attachments.push(Attachment {
                probe: if ret { "uretprobe" } else { "uprobe" },
                path: shown.clone(),
                symbol: sym.to_string(),
            });
        }
        self.stats.attachments = self.attachments.len();
        true
    }

    fn discover_at_start(&mut self) {
        for p in SYSTEM_LIBSSL {
            let path = Path::new(p);
            if path.exists() {
                self.attach_ssl(path, false);
            }
        }
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        for d in ["/usr/local/bin", "/usr/bin"] {
            dirs.push(PathBuf::from(d));
        }
        for name in STATIC_OPENSSL_EXES {
            for d in &dirs {
                let exe = d.join(name);
                let Ok(real) = std::fs::canonicalize(&exe) else {
                    continue;
                };
                if procfs::file_id(&real).is_some_and(|id| !self.probed_files.contains(&id))
                    && elf::exports_symbol(&real, "SSL_write")
                {
                    self.attach_ssl(&real, true);
                }
            }
        }
        let me = std::process::id();
        for pid in procfs::pids() {
            if pid == me {
                continue;
            }
            self.discover_pid(pid);
        }
    }

    /// Attaches to the libssl files a process maps and to its executable when it exports
    /// OpenSSL itself.
    fn discover_pid(&mut self, pid: u32) {
        for lib in procfs::mapped_libssl(pid) {
            self.attach_ssl(&lib, false);
        }
        self.discover_exe(pid);
    }

    fn discover_exe(&mut self, pid: u32) {
        let exe = PathBuf::from(format!("/proc/{pid}/exe"));
        let Some(id) = procfs::file_id(&exe) else {
            return;
        };
        if self.probed_files.contains(&id) {
            return;
        }
        if elf::exports_symbol(&exe, "SSL_write") {
            // Attach through the real path so `status` shows something readable.
            let real = std::fs::read_link(&exe)
                .ok()
                .map(|p| PathBuf::from(format!("/proc/{pid}/root{}", p.display())))
                .filter(|p| procfs::file_id(p) == Some(id))
                .unwrap_or(exe);
            self.attach_ssl(&real, true);
        } else {
            self.probed_files.insert(id);
        }
    }

    /// Every probe attached so far.
    pub fn attachments(&self) -> &[Attachment] {
        &self.attachments
    }

    pub fn stats(&self) -> CaptureStats {
        self.stats.clone()
    }

    fn ts(&self, mono_ns: u64) -> Timestamp {
        Timestamp {
            wall_ns: (mono_ns as i128 + self.wall_offset).max(0) as u64,
            mono_ns,
        }
    }

    /// Waits up to `timeout` for kernel records and hands the resulting records to `sink`.
    pub fn poll(
        &mut self,
        timeout: Duration,
        sink: &mut dyn FnMut(RawRecord),
    ) -> Result<(), CaptureError> {
        if let Err(e) = self.rings.poll(timeout) {
            if e.kind() != libbpf_rs::ErrorKind::Interrupted {
                return Err(CaptureError::Poll(e.to_string()));
            }
        }
        // TLS records do not wake us one by one (see WAKE_BYTES in the BPF code): drain both
        // rings after every wakeup or timeout.
        if let Err(e) = self.rings.consume() {
            if e.kind() != libbpf_rs::ErrorKind::Interrupted {
                return Err(CaptureError::Poll(e.to_string()));
            }
        }
        // The two rings are read one after the other: restore the kernel's order by timestamp
        // (an exec must precede the TLS records of the process it started).
        let mut batch: Vec<Vec<u8>> = self.queue.borrow_mut().drain(..).collect();
        batch.sort_by_key(|r| wire::ts_of(r));
        for raw in batch {
            if let Some(ev) = wire::parse(&raw) {
                self.handle(ev);
            }
            self.drain(sink);
        }
        self.flush_waiting(false);
        if self.last_lost_check.elapsed() >= Duration::from_millis(500) {
            self.check_lost();
        }
        self.drain(sink);
        Ok(())
    }

    /// Ends the capture: reports sessions still waiting for their socket and the final loss
    /// counters. Call once after the last [`poll`](Self::poll).
    pub fn finish(&mut self, sink: &mut dyn FnMut(RawRecord)) {
        let _ = self.rings.consume();
        let mut batch: Vec<Vec<u8>> = self.queue.borrow_mut().drain(..).collect();
        batch.sort_by_key(|r| wire::ts_of(r));
        for raw in batch {
            if let Some(ev) = wire::parse(&raw) {
                self.handle(ev);
            }
        }
        self.flush_waiting(true);
        self.check_lost();
        self.drain(sink);
    }

    fn drain(&mut self, sink: &mut dyn FnMut(RawRecord)) {
        for r in self.out.drain(..) {
            self.stats.records += 1;
            sink(r);
        }
    }

    fn check_lost(&mut self) {
        self.last_lost_check = Instant::now();
        let mut vals = [0u64; 3];
        for (slot, v) in vals.iter_mut().enumerate() {
            let key = (slot as u32).to_ne_bytes();
            if let Ok(Some(bytes)) = self.skel.maps.lost.lookup(&key, MapFlags::ANY) {
                if bytes.len() >= 8 {
                    *v = u64::from_ne_bytes(bytes[..8].try_into().unwrap_or([0; 8]));
                }
            }
        }
        let now = clock_ns(libc::CLOCK_MONOTONIC).max(0) as u64;
        for (slot, origin) in [(wire::LOST_TLS, "tls_ring"), (wire::LOST_SYS, "sys_ring")] {
            let i = slot as usize;
            if vals[i] > self.lost_seen[i] {
                let count = vals[i] - self.lost_seen[i];
                self.out.push(RawRecord::Lost(Lost {
                    ts: self.ts(now),
                    origin: origin.to_string(),
                    count,
                }));
            }
        }
        self.lost_seen = vals;
        self.stats.lost_tls = vals[wire::LOST_TLS as usize];
        self.stats.lost_sys = vals[wire::LOST_SYS as usize];
        self.stats.truncated_bytes = vals[wire::LOST_TRUNCATED_BYTES as usize];
    }

    fn scoped(&self, pid: u32) -> bool {
        self.opts.all_processes
            || self.opts.pid.is_some()
            || self.opts.comm.is_some()
            || self.in_scope.contains(&pid)
    }

    /// A process became interesting (it used TLS as a client): report what was held back about
    /// it and its ancestors (exec records) and its earlier connections.
    fn enter_scope(&mut self, pid: u32) {
        if self.in_scope.contains(&pid) {
            return;
        }
        self.in_scope.insert(pid);
        if self.opts.all_processes || self.opts.pid.is_some() || self.opts.comm.is_some() {
            return;
        }
        let mut chain = vec![pid];
        let mut cur = pid;
        while let Some(pp) = self.procs.get(&cur).map(|p| p.ppid) {
            if pp == 0 || chain.contains(&pp) || chain.len() > 64 {
                break;
            }
            chain.push(pp);
            cur = pp;
        }
        for p in chain.into_iter().rev() {
            let Some(info) = self.procs.get_mut(&p) else {
                continue;
            };
            if !info.exec_emitted {
                if let Some(ex) = info.exec.clone() {
                    info.exec_emitted = true;
                    if self.opts.process {
                        self.out.push(RawRecord::ProcessExec(ex));
                    }
                }
            }
        }
        if let Some(info) = self.procs.get_mut(&pid) {
            let held: Vec<NetConnect> = info.connects.drain(..).collect();
            self.out.extend(held.into_iter().map(RawRecord::NetConnect));
        }
    }

    fn handle(&mut self, ev: Ev<'_>) {
        match ev {
            Ev::TlsData {
                h,
                ssl,
                seq,
                truncated,
                fd,
                egress,
                is_static,
                data,
            } => {
                let ts = self.ts(h.ts_ns);
                let id = self.conn_for(h.pid, h.tid, ssl, is_static, ts);
                let conn = self.conns.get_mut(&(h.pid, ssl)).expect("conn just made");
                if conn.fd.is_none() && fd >= 0 {
                    conn.fd = Some(fd);
                }
                conn.first_egress.get_or_insert(egress);
                let rec = RawRecord::Data(DataChunk {
                    conn_id: id,
                    direction: if egress {
                        Direction::Egress
                    } else {
                        Direction::Ingress
                    },
                    seq,
                    ts,
                    pid: h.pid,
                    tid: h.tid,
                    source: if is_static {
                        DataSource::OpenSslStatic
                    } else {
                        DataSource::OpenSsl
                    },
                    truncated_len: truncated,
                    bytes: data.to_vec(),
                });
                if conn.opened {
                    self.out.push(rec);
                } else {
                    conn.pending.push(rec);
                    // Ingress data on a session whose fd we still lack: the socket write that
                    // would have told us is over, so stop waiting.
                    let give_up = !egress && conn.fd.is_none() && conn.first_egress == Some(true);
                    if conn.fd.is_some() || give_up {
                        self.open_conn(h.pid, ssl);
                    }
                }
            }
            Ev::TlsFd { h, ssl, fd, addrs } => {
                let ts = self.ts(h.ts_ns);
                if let Some(conn) = self.conns.get_mut(&(h.pid, ssl)) {
                    if conn.fd.is_none() {
                        conn.fd = Some(fd);
                    }
                    if conn.addrs.is_none() {
                        conn.addrs = addrs;
                    }
                    if !conn.opened && !conn.pending.is_empty() {
                        self.open_conn(h.pid, ssl);
                    }
                } else {
                    // SSL_set_fd before any data: remember the fd for when data comes.
                    self.conn_for(h.pid, h.tid, ssl, false, ts);
                    if let Some(c) = self.conns.get_mut(&(h.pid, ssl)) {
                        c.fd = Some(fd);
                        c.addrs = addrs;
                    }
                }
            }
            Ev::TlsFree { h, ssl } => {
                let ts = self.ts(h.ts_ns);
                self.close_conn(h.pid, ssl, ts);
                self.names.remove(&(h.pid, ssl));
            }
            Ev::TlsSni { h, ssl, name } => {
                // A new host name on this SSL*: a new session (SSL* addresses are reused).
                let n = self.names.entry((h.pid, ssl)).or_default();
                n.sni = (!name.is_empty()).then_some(name);
                n.alpn = None;
                n.seen = Some(Instant::now());
            }
            Ev::TlsAlpn { h, ssl, name } => {
                let n = self.names.entry((h.pid, ssl)).or_default();
                n.alpn = (!name.is_empty()).then_some(name);
                n.seen = Some(Instant::now());
            }
            Ev::Exec {
                h,
                ppid,
                uid,
                gid,
                comm,
                filename,
                args,
            } => {
                let ts = self.ts(h.ts_ns);
                let pid = h.pid;
                let exe = if filename.starts_with('/') {
                    filename
                } else {
                    procfs::exe(pid).unwrap_or(filename)
                };
                let rec = ProcessExec {
                    ts,
                    pid,
                    ppid,
                    uid,
                    gid,
                    comm,
                    exe,
                    args,
                    cwd: procfs::cwd(pid),
                    cgroup: procfs::cgroup(pid),
                };
                let parent_in = self.in_scope.contains(&ppid);
                let info = self.procs.entry(pid).or_default();
                info.ppid = ppid;
                info.exec = Some(rec.clone());
                info.exec_emitted = false;
                info.connects.clear();
                if parent_in {
                    self.in_scope.insert(pid);
                }
                if self.scoped(pid) {
                    if let Some(i) = self.procs.get_mut(&pid) {
                        i.exec_emitted = true;
                    }
                    if self.opts.process {
                        self.out.push(RawRecord::ProcessExec(rec));
                    }
                }
                if self.opts.ssl {
                    self.discover_exe(pid);
                }
            }
            Ev::Exit { h, exit_code } => {
                let ts = self.ts(h.ts_ns);
                self.close_pid_conns(h.pid, ts);
                let sig = (exit_code & 0x7f) as u32;
                if self.scoped(h.pid) && self.opts.process {
                    self.out.push(RawRecord::ProcessExit(ProcessExit {
                        ts,
                        pid: h.pid,
                        exit_code: (exit_code >> 8) & 0xff,
                        signal: if sig != 0 { Some(sig) } else { None },
                    }));
                }
                self.procs.remove(&h.pid);
                self.in_scope.remove(&h.pid);
                self.names.retain(|(p, _), _| *p != h.pid);
                self.fd_paths.retain(|(p, _), _| *p != h.pid);
            }
            Ev::Fork { h, parent, child } => {
                let ts = self.ts(h.ts_ns);
                let info = self.procs.entry(child).or_default();
                info.ppid = parent;
                if let Some(pinfo) = self.procs.get(&parent) {
                    let inherited = pinfo.exec.clone();
                    if let Some(c) = self.procs.get_mut(&child) {
                        if c.exec.is_none() {
                            c.exec = inherited.map(|mut e| {
                                e.pid = child;
                                e.ppid = parent;
                                e
                            });
                            c.exec_emitted = true; // the fork record covers it
                        }
                    }
                }
                if self.in_scope.contains(&parent) {
                    self.in_scope.insert(child);
                }
                if self.scoped(parent) && self.opts.process {
                    self.out.push(RawRecord::ProcessFork(ProcessFork {
                        ts,
                        parent_pid: parent,
                        child_pid: child,
                    }));
                }
            }
            Ev::File {
                h,
                result,
                bytes,
                fd,
                flags,
                dirfd,
                dirfd2,
                path,
                path2,
            } => self.handle_file(h, result, bytes, fd, flags, dirfd, dirfd2, path, path2),
            Ev::Connect {
                h,
                result,
                fd,
                sock_type,
                addr,
                ..
            } => {
                let Some(remote) = wire::sockaddr(&addr) else {
                    return;
                };
                let rec = NetConnect {
                    ts: self.ts(h.ts_ns),
                    pid: h.pid,
                    tid: h.tid,
                    fd: Some(fd),
                    transport: if sock_type == 2 {
                        Transport::Udp
                    } else {
                        Transport::Tcp
                    },
                    local: None,
                    remote,
                    result: Some(result as i32),
                };
                if self.scoped(h.pid) {
                    self.out.push(RawRecord::NetConnect(rec));
                } else {
                    let info = self.procs.entry(h.pid).or_default();
                    if info.connects.len() >= BUFFERED_CONNECTS {
                        info.connects.pop_front();
                    }
                    info.connects.push_back(rec);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn handle_file(
        &mut self,
        h: wire::Hdr,
        result: i64,
        bytes: u64,
        fd: i32,
        flags: u32,
        dirfd: i32,
        dirfd2: i32,
        path: String,
        path2: String,
    ) {
        let pid = h.pid;
        let ts = self.ts(h.ts_ns);
        let (kind, path, new_path, flags, bytes, result) = match h.kind {
            wire::EV_FILE_OPEN => {
                let full = procfs::resolve_at(pid, dirfd, &path);
                if self.opts.ssl && result >= 0 && procfs::is_libssl_name(&full) {
                    let p = PathBuf::from(format!("/proc/{pid}/root{full}"));
                    self.attach_ssl(&p, false);
                }
                if !self.opts.file {
                    return;
                }
                if fd >= 0 {
                    self.fd_paths.insert((pid, fd), full.clone());
                }
                (
                    FileOpKind::Open,
                    full,
                    None,
                    Some(flags),
                    None,
                    Some(result),
                )
            }
            wire::EV_FILE_WRITE => {
                let p = match self.fd_paths.get(&(pid, fd)) {
                    Some(p) => p.clone(),
                    None => match procfs::fd_path(pid, fd) {
                        Some(p) => {
                            self.fd_paths.insert((pid, fd), p.clone());
                            p
                        }
                        None => return,
                    },
                };
                (FileOpKind::Write, p, None, None, Some(bytes), None)
            }
            wire::EV_FILE_RENAME => (
                FileOpKind::Rename,
                procfs::resolve_at(pid, dirfd, &path),
                Some(procfs::resolve_at(pid, dirfd2, &path2)),
                Some(flags),
                None,
                Some(result),
            ),
            wire::EV_FILE_UNLINK => (
                FileOpKind::Delete,
                procfs::resolve_at(pid, dirfd, &path),
                None,
                Some(flags),
                None,
                Some(result),
            ),
            _ => return,
        };
        if !self.scoped(pid) {
            return;
        }
        self.out.push(RawRecord::File(FileOp {
            ts,
            pid,
            tid: h.tid,
            kind,
            path,
            new_path,
            flags,
            bytes,
            result,
        }));
    }

    fn conn_for(&mut self, pid: u32, tid: u32, ssl: u64, is_static: bool, ts: Timestamp) -> u64 {
        if let Some(c) = self.conns.get_mut(&(pid, ssl)) {
            c.is_static |= is_static;
            return c.id;
        }
        let id = self.next_conn;
        self.next_conn += 1;
        self.conns.insert(
            (pid, ssl),
            Conn {
                id,
                pid,
                tid,
                fd: None,
                addrs: None,
                opened: false,
                is_static,
                first_egress: None,
                first_ts: ts,
                seen: Instant::now(),
                pending: Vec::new(),
            },
        );
        id
    }

    /// Reports a session: addresses and role from its socket, then the data held back.
    fn open_conn(&mut self, pid: u32, ssl: u64) {
        let Some(conn) = self.conns.get_mut(&(pid, ssl)) else {
            return;
        };
        if conn.opened {
            return;
        }
        conn.opened = true;
        // Addresses the kernel reported when the fd became known beat /proc, which a
        // short-lived client may have left already.
        let info = match conn.addrs {
            Some((local, remote)) => Some(procfs::SockInfo {
                local,
                remote,
                accepted: procfs::has_listener(pid, local),
            }),
            None => conn.fd.and_then(|fd| procfs::sock_info(pid, fd)),
        };
        let role = match (&info, conn.first_egress) {
            (Some(i), _) if i.accepted => ConnRole::Server,
            (Some(_), _) => ConnRole::Client,
            // No socket to look at: a client speaks first, a server listens first.
            (None, Some(true)) => ConnRole::Client,
            (None, Some(false)) => ConnRole::Server,
            (None, None) => ConnRole::Unknown,
        };
        let names = self.names.remove(&(pid, ssl)).unwrap_or_default();
        let open = ConnOpen {
            conn_id: conn.id,
            ts: conn.first_ts,
            pid,
            tid: conn.tid,
            role,
            source: if conn.is_static {
                DataSource::OpenSslStatic
            } else {
                DataSource::OpenSsl
            },
            local: info.as_ref().map(|i| i.local),
            remote: info.as_ref().map(|i| i.remote),
            sni: names.sni,
            alpn: names.alpn,
        };
        let pending = std::mem::take(&mut conn.pending);
        let _ = conn.pid;
        if role == ConnRole::Client {
            self.enter_scope(pid);
        }
        if role == ConnRole::Server {
            self.mute(pid, ssl);
        }
        self.out.push(RawRecord::ConnOpen(open));
        self.out.extend(pending);
    }

    /// Stops the copying of a server-side session's plaintext in the kernel: the decoder drops
    /// a local server's view anyway, and for a busy TLS server (nginx) the copies are most of
    /// the capture's cost. What was captured before stays in the output.
    fn mute(&mut self, pid: u32, ssl: u64) {
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&ssl.to_ne_bytes());
        key[8..12].copy_from_slice(&pid.to_ne_bytes());
        let _ = self.skel.maps.muted.update(&key, &[1u8], MapFlags::ANY);
    }

    fn close_conn(&mut self, pid: u32, ssl: u64, ts: Timestamp) {
        let Some(conn) = self.conns.get(&(pid, ssl)) else {
            return;
        };
        if !conn.opened && !conn.pending.is_empty() {
            self.open_conn(pid, ssl);
        }
        if let Some(conn) = self.conns.remove(&(pid, ssl)) {
            if conn.opened {
                self.out.push(RawRecord::ConnClose(ConnClose {
                    conn_id: conn.id,
                    ts,
                    pid,
                }));
            }
        }
    }

    fn close_pid_conns(&mut self, pid: u32, ts: Timestamp) {
        let mut keys: Vec<(u32, u64)> = self.conns.keys().filter(|k| k.0 == pid).copied().collect();
        keys.sort_by_key(|k| self.conns.get(k).map(|c| c.id));
        for (p, ssl) in keys {
            self.close_conn(p, ssl, ts);
        }
    }

    /// Reports sessions that waited too long for their fd (or all of them at the end).
    fn flush_waiting(&mut self, all: bool) {
        self.names
            .retain(|_, n| n.seen.is_some_and(|t| t.elapsed() < NAME_TTL));
        let mut late: Vec<(u64, (u32, u64))> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                !c.opened && !c.pending.is_empty() && (all || c.seen.elapsed() > FD_WAIT)
            })
            .map(|(k, c)| (c.id, *k))
            .collect();
        late.sort();
        for (_, (pid, ssl)) in late {
            self.open_conn(pid, ssl);
        }
    }
}

fn display_path(p: &Path) -> String {
    // /proc/PID/root/usr/lib/... → /usr/lib/... for the host's own root
    let s = p.to_string_lossy();
    if let Some(rest) = s.strip_prefix("/proc/") {
        if let Some((pid, tail)) = rest.split_once("/root") {
            if pid.chars().all(|c| c.is_ascii_digit()) {
                let same_root = std::fs::read_link(format!("/proc/{pid}/root"))
                    .map(|r| r == Path::new("/"))
                    .unwrap_or(false);
                if same_root {
                    return tail.to_string();
                }
            }
        }
    }
    s.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities() {
        let st = |eff: &str| format!("Name:\tx\nCapInh:\t0\nCapEff:\t{eff}\n");
        assert_eq!(missing_capabilities(&st("000001ffffffffff")), None);
        // CAP_SYS_ADMIN alone
        assert_eq!(missing_capabilities(&st("0000000000200000")), None);
        // CAP_BPF + CAP_PERFMON
        assert_eq!(missing_capabilities(&st("000000c000000000")), None);
        assert_eq!(
            missing_capabilities(&st("0000004000000000")).as_deref(),
            Some("CAP_BPF")
        );
        assert_eq!(
            missing_capabilities(&st("0000000000000000")).as_deref(),
            Some("CAP_BPF + CAP_PERFMON")
        );
    }

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
