//! Loading and attaching, and the capture loop: [`EbpfCapture`] start, poll and finish.

use crate::assemble::ProcInfo;
use crate::options::{Attachment, CaptureError, CaptureOptions, CaptureStats, ProcNeeds};
use crate::sessions::{Conn, SessionNames};
use crate::skel::{OispSkel, OispSkelBuilder};
use crate::wire;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{Link, MapCore, MapFlags, OpenObject, RingBuffer, RingBufferBuilder};
use oisp_capture::{Lost, RawRecord};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::mem::MaybeUninit;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A running capture. Dropping it detaches every probe.
pub struct EbpfCapture {
    pub(crate) opts: CaptureOptions,
    pub(crate) skel: OispSkel<'static>,
    pub(crate) rings: RingBuffer<'static>,
    pub(crate) queue: Rc<RefCell<VecDeque<Vec<u8>>>>,
    pub(crate) links: Vec<Link>,
    pub(crate) attachments: Vec<Attachment>,
    pub(crate) probed_files: HashSet<(u64, u64)>,
    pub(crate) wall_offset: i128,
    pub(crate) conns: HashMap<(u32, u64), Conn>,
    pub(crate) names: HashMap<(u32, u64), SessionNames>,
    pub(crate) next_conn: u64,
    pub(crate) fd_paths: HashMap<(u32, i32), String>,
    pub(crate) procs: HashMap<u32, ProcInfo>,
    pub(crate) in_scope: HashSet<u32>,
    pub(crate) stats: CaptureStats,
    pub(crate) lost_seen: [u64; 3],
    pub(crate) last_lost_check: Instant,
    pub(crate) out: Vec<RawRecord>,
    /// SSL_read/SSL_write(_ex) are probed with session uprobes (entry + return in one program,
    /// the return skipped for calls of no interest) rather than uprobe/uretprobe pairs.
    pub(crate) session: bool,
}

/// Whether the running kernel has session uprobes (6.13+), unless `OISP_NO_UPROBE_SESSION=1`
/// asks for the uprobe/uretprobe pairs (for comparisons).
fn want_session_uprobes() -> bool {
    if std::env::var("OISP_NO_UPROBE_SESSION").as_deref() == Ok("1") {
        return false;
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    kernel_at_least(&release, (6, 13))
}

/// `release` (`uname -r`, e.g. "6.18.44-fc") is at least `min` (major, minor).
fn kernel_at_least(release: &str, min: (u32, u32)) -> bool {
    let mut parts = release.trim().split(['.', '-']);
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    match (major, minor) {
        (Some(a), Some(b)) => (a, b) >= min,
        _ => false,
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

/// Opens and loads the BPF object for `opts`: the data probes as session uprobes (`session`) or
/// as uprobe/uretprobe pairs.
fn load(opts: &CaptureOptions, session: bool) -> Result<OispSkel<'static>, CaptureError> {
    // The skeleton borrows its object storage for its whole life; a capture lives until the
    // process ends, so the storage is leaked (once per capture).
    let storage: &'static mut MaybeUninit<OpenObject> = Box::leak(Box::new(MaybeUninit::uninit()));
    let builder = OispSkelBuilder::default();
    let mut open = builder
        .open(storage)
        .map_err(|e| CaptureError::Load(e.to_string()))?;
    if let Some(ro) = open.maps.rodata_data.as_deref_mut() {
        ro.self_tgid = std::process::id();
        ro.targ_tgid = opts.pid.unwrap_or(0);
        ro.write_notes_tls = opts.ssl as u8;
        ro.write_reports_files = opts.file as u8;
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
        &mut p.tls_sys_writev,
        &mut p.tls_sys_sendmsg,
    ] {
        prog.set_autoload(tls);
    }
    p.file_openat_enter.set_autoload(tls || opts.file);
    p.file_openat_exit.set_autoload(tls || opts.file);
    p.sys_write_enter.set_autoload(tls || opts.file);
    for prog in [
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
    for prog in [
        &mut p.ssl_write_enter,
        &mut p.ssl_write_exit,
        &mut p.ssl_read_enter,
        &mut p.ssl_read_exit,
        &mut p.ssl_write_ex_enter,
        &mut p.ssl_write_ex_exit,
        &mut p.ssl_read_ex_enter,
        &mut p.ssl_read_ex_exit,
    ] {
        // Also with session uprobes: executables with OpenSSL linked in keep the pairs.
        prog.set_autoload(tls);
    }
    for prog in [
        &mut p.ssl_write_sess,
        &mut p.ssl_read_sess,
        &mut p.ssl_write_ex_sess,
        &mut p.ssl_read_ex_sess,
    ] {
        prog.set_autoload(tls && session);
    }
    let need = ProcNeeds::of(opts);
    p.proc_exec.set_autoload(need.exec);
    p.proc_exit.set_autoload(need.exit);
    p.proc_fork.set_autoload(need.fork);
    open.load()
        .map_err(|e| CaptureError::Load(format!("{e:#}")))
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

        let mut session = opts.ssl && want_session_uprobes();
        let skel = match load(opts, session) {
            Ok(s) => s,
            // A kernel that reports 6.13+ but lacks session uprobes (backports, configs): the
            // uprobe/uretprobe pairs work everywhere.
            Err(_) if session => {
                session = false;
                load(opts, false)?
            }
            Err(e) => return Err(e),
        };

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
            session,
        };
        cap.attach_tracepoints()?;
        if opts.ssl {
            cap.discover_at_start();
        }
        cap.stats.attachments = cap.attachments.len();
        cap.stats.session_uprobes = cap.session;
        Ok(cap)
    }

    /// Every probe attached so far.
    pub fn attachments(&self) -> &[Attachment] {
        &self.attachments
    }

    pub fn stats(&self) -> CaptureStats {
        self.stats.clone()
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
        let skipped = |slot: u32| -> u64 {
            match self
                .skel
                .maps
                .skips
                .lookup_percpu(&slot.to_ne_bytes(), MapFlags::ANY)
            {
                Ok(Some(cpus)) => cpus
                    .iter()
                    .filter_map(|b| b.get(..8).and_then(|b| b.try_into().ok()))
                    .map(u64::from_ne_bytes)
                    .sum(),
                _ => 0,
            }
        };
        self.stats.skipped_server_calls = skipped(wire::SKIP_SERVER);
        self.stats.skipped_ignored_calls = skipped(wire::SKIP_IGNORED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_versions() {
        assert!(kernel_at_least("6.18.44-fc-v669\n", (6, 13)));
        assert!(kernel_at_least("6.13", (6, 13)));
        assert!(kernel_at_least("7.0.1", (6, 13)));
        assert!(!kernel_at_least("6.12.9-amd64", (6, 13)));
        assert!(!kernel_at_least("5.15.0-91-generic", (6, 13)));
        assert!(!kernel_at_least("garbage", (6, 13)));
    }

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
}
