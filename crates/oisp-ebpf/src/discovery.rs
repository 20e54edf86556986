//! Which probes exist, attaching them, and finding the OpenSSL copies to attach to: the system
//! libssl, executables with OpenSSL linked in, and the libraries running processes map or open.

use crate::capture::EbpfCapture;
use crate::inner::{self, InnerProbes};
use crate::options::{Attachment, CaptureError, ProcNeeds};
use crate::{elf, procfs};
use libbpf_rs::{UprobeMultiOpts, UprobeOpts};
use std::path::{Path, PathBuf};

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
    /// Needed by TLS (library discovery, socket of a session) or files.
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
    (Group::Tls, "syscalls", "sys_enter_writev"),
    (Group::Tls, "syscalls", "sys_enter_sendmsg"),
    (Group::Open, "syscalls", "sys_enter_openat"),
    (Group::Open, "syscalls", "sys_exit_openat"),
    (Group::Open, "syscalls", "sys_enter_write"),
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

impl EbpfCapture {
    pub(crate) fn attach_tracepoints(&mut self) -> Result<(), CaptureError> {
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
            &p.tls_sys_writev,
            &p.tls_sys_sendmsg,
            &p.file_openat_enter,
            &p.file_openat_exit,
            &p.sys_write_enter,
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
    pub(crate) fn attach_ssl(&mut self, path: &Path, is_static: bool) -> bool {
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
        let inner = if is_static {
            InnerProbes::default()
        } else {
            elf::Elf::open(path)
                .map(|mut e| inner::find(&mut e))
                .unwrap_or_default()
        };
        let mut inner_done = (false, false); // (write, read) attached inside
        for (is_write, offset) in [(true, inner.write), (false, inner.read)] {
            let Some(offset) = offset else { continue };
            let links = self.attach_inner(path, offset, is_write, pid_filter);
            if links.is_empty() {
                continue;
            }
            let (name, covers) = if is_write {
                inner_done.0 = true;
                ("ssl_write_internal", "SSL_write, SSL_write_ex")
            } else {
                inner_done.1 = true;
                ("ssl_read_internal", "SSL_read, SSL_read_ex")
            };
            for (link, probe) in links {
                attached.push((link, format!("{name}@0x{offset:x} ({covers})"), probe));
            }
            any_data = true;
        }
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
            let data = sym.starts_with("SSL_read") || sym.starts_with("SSL_write");
            if (inner_done.0 && sym.starts_with("SSL_write"))
                || (inner_done.1 && sym.starts_with("SSL_read"))
            {
                continue; // probed inside, where both forms meet
            }
            if self.session && data && !is_static {
                // One session uprobe per data function replaces its uprobe/uretprobe pair. By
                // name pattern: libbpf-rs 0.27's symbol list fails to resolve (ENOENT), and a
                // pattern takes no attach cookie, so executables with OpenSSL linked in (which
                // need the cookie) keep the pairs.
                if *ret {
                    continue;
                }
                let sess = match *sym {
                    "SSL_write" => &p.ssl_write_sess,
                    "SSL_read" => &p.ssl_read_sess,
                    "SSL_write_ex" => &p.ssl_write_ex_sess,
                    _ => &p.ssl_read_ex_sess,
                };
                let opts = UprobeMultiOpts {
                    session: true,
                    ..Default::default()
                };
                if let Ok(link) = sess.attach_uprobe_multi_with_opts(pid_filter, path, *sym, opts) {
                    attached.push((link, sym.to_string(), "uprobe.session"));
                    any_data = true;
                }
                continue;
            }
            let opts = UprobeOpts {
                retprobe: *ret,
                func_name: Some((*sym).to_string()),
                cookie: is_static as u64,
                ..Default::default()
            };
            // Symbols a given OpenSSL lacks (the _ex forms before 1.1.1) are skipped.
            // With --pid the breakpoints go into that process only: others never trap.
            if let Ok(link) = prog.attach_uprobe_with_opts(pid_filter, path, 0, opts) {
                attached.push((
                    link,
                    sym.to_string(),
                    if *ret { "uretprobe" } else { "uprobe" },
                ));
                any_data |= data;
            }
        }
        if !any_data {
            return false;
        }
        for (link, sym, probe) in attached {
            self.links.push(link);
            self.attachments.push(Attachment {
                probe,
                path: shown.clone(),
                symbol: sym,
            });
        }
        self.stats.attachments = self.attachments.len();
        true
    }

    /// Attaches the `_ex` data programs at `offset` (an internal function with the `_ex`
    /// signature, see `inner`): one session uprobe, or an entry + return pair. Returns the
    /// links made (none when attaching failed: the caller then probes the exported functions).
    fn attach_inner(
        &self,
        path: &Path,
        offset: u64,
        is_write: bool,
        pid_filter: i32,
    ) -> Vec<(libbpf_rs::Link, &'static str)> {
        let p = &self.skel.progs;
        if self.session {
            let prog = if is_write {
                &p.ssl_write_ex_sess
            } else {
                &p.ssl_read_ex_sess
            };
            let opts = UprobeMultiOpts {
                offsets: vec![offset as usize],
                session: true,
                ..Default::default()
            };
            return prog
                .attach_uprobe_multi_with_opts(pid_filter, path, "", opts)
                .map(|l| vec![(l, "uprobe.session")])
                .unwrap_or_default();
        }
        let (enter, exit) = if is_write {
            (&p.ssl_write_ex_enter, &p.ssl_write_ex_exit)
        } else {
            (&p.ssl_read_ex_enter, &p.ssl_read_ex_exit)
        };
        let pair = |prog: &libbpf_rs::ProgramMut, retprobe: bool| {
            let opts = UprobeOpts {
                retprobe,
                ..Default::default()
            };
            prog.attach_uprobe_with_opts(pid_filter, path, offset as usize, opts)
        };
        match (pair(enter, false), pair(exit, true)) {
            (Ok(a), Ok(b)) => vec![(a, "uprobe"), (b, "uretprobe")],
            _ => Vec::new(),
        }
    }

    pub(crate) fn discover_at_start(&mut self) {
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

    pub(crate) fn discover_exe(&mut self, pid: u32) {
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
