//! Plain mappings from kernel records (`wire::Ev`) to `RawRecord`s: timestamps, the fields each
//! record carries, and what /proc adds (an exec's executable, cwd and cgroup — the cgroup from
//! the kernel's cgroup id first; the paths behind file descriptors). No decisions here: what is
//! reported, and when, is `capture.rs`'s.

use crate::hello;
use crate::procfs;
use crate::wire::{self, ExecFields, FileFields, Hdr};
use oisp_capture::{
    ConnOpen, ConnRole, DataChunk, DataSource, Direction, FileOp, FileOpKind, NetConnect,
    ProcessExec, ProcessExit, RawRecord, Timestamp, Transport,
};
use oisp_container::CgroupPaths;
use std::collections::HashMap;
use std::net::SocketAddr;

/// Turns the kernel's monotonic timestamps into wall-clock ones.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// Wall clock minus monotonic clock, taken at start.
    wall_offset: i128,
}

impl Clock {
    pub(crate) fn now() -> Clock {
        Clock {
            wall_offset: oisp_os::clock_ns(libc::CLOCK_REALTIME)
                - oisp_os::clock_ns(libc::CLOCK_MONOTONIC),
        }
    }

    pub(crate) fn ts(&self, mono_ns: u64) -> Timestamp {
        Timestamp {
            wall_ns: (mono_ns as i128 + self.wall_offset).max(0) as u64,
            mono_ns,
        }
    }

    /// The current time.
    pub(crate) fn now_ts(&self) -> Timestamp {
        self.ts(oisp_os::clock_ns(libc::CLOCK_MONOTONIC).max(0) as u64)
    }
}

/// One chunk of a session's plaintext.
#[allow(clippy::too_many_arguments)]
pub(crate) fn data_chunk(
    h: &Hdr,
    ts: Timestamp,
    conn_id: u64,
    seq: u64,
    egress: bool,
    source: DataSource,
    truncated: u32,
    bytes: &[u8],
) -> DataChunk {
    DataChunk {
        conn_id,
        direction: if egress {
            Direction::Egress
        } else {
            Direction::Ingress
        },
        seq,
        ts,
        pid: h.pid,
        tid: h.tid,
        source,
        truncated_len: truncated,
        bytes: bytes.to_vec(),
    }
}

/// A client's TLS connection known only from its ClientHello (`bytes`) and its socket's
/// (local, remote) addresses: a `ConnOpen` of source `ClientHello` with the server name and
/// offered protocols (no data and no `ConnClose` follow it). `None` when the bytes name no server.
pub(crate) fn client_hello(
    h: &Hdr,
    ts: Timestamp,
    conn_id: u64,
    addrs: Option<(SocketAddr, SocketAddr)>,
    bytes: &[u8],
) -> Option<RawRecord> {
    let hello = hello::parse(bytes)?;
    let sni = hello.sni?;
    Some(RawRecord::ConnOpen(ConnOpen {
        conn_id,
        ts,
        pid: h.pid,
        tid: h.tid,
        role: ConnRole::Client,
        source: DataSource::ClientHello,
        local: addrs.map(|a| a.0),
        remote: addrs.map(|a| a.1),
        sni: Some(sni),
        alpn: (!hello.alpn.is_empty()).then(|| hello.alpn.join(",")),
    }))
}

/// An exec, completed from /proc: the executable when the kernel's file name is relative, the
/// working directory; the cgroup from the kernel's cgroup id when it names one below the root
/// (what the process was in at exec, even if it has ended since), else from /proc (v1
/// hierarchies of hybrid hosts).
pub(crate) fn process_exec(
    h: &Hdr,
    ts: Timestamp,
    e: ExecFields,
    cgroups: &mut CgroupPaths,
) -> ProcessExec {
    let pid = h.pid;
    let cgroup = cgroups
        .path(e.cgroup_id)
        .filter(|p| p != "/")
        .or_else(|| procfs::cgroup(pid));
    let exe = if e.filename.starts_with('/') {
        e.filename
    } else {
        procfs::exe(pid).unwrap_or(e.filename)
    };
    ProcessExec {
        ts,
        pid,
        ppid: e.ppid,
        uid: e.uid,
        gid: e.gid,
        comm: e.comm,
        exe,
        args: e.args,
        cwd: procfs::cwd(pid),
        cgroup,
        snapshot: false,
    }
}

/// An exit, from the kernel's `exit_code` (`(status << 8) | signal`).
pub(crate) fn process_exit(h: &Hdr, ts: Timestamp, exit_code: i32) -> ProcessExit {
    let sig = (exit_code & 0x7f) as u32;
    ProcessExit {
        ts,
        pid: h.pid,
        exit_code: (exit_code >> 8) & 0xff,
        signal: if sig != 0 { Some(sig) } else { None },
    }
}

/// A connect(2), when its address is an inet one.
pub(crate) fn net_connect(
    h: &Hdr,
    ts: Timestamp,
    result: i64,
    fd: i32,
    sock_type: u32,
    addr: &[u8; wire::SOCKADDR_LEN],
) -> Option<NetConnect> {
    Some(NetConnect {
        ts,
        pid: h.pid,
        tid: h.tid,
        fd: Some(fd),
        transport: if sock_type == 2 {
            Transport::Udp
        } else {
            Transport::Tcp
        },
        local: None,
        remote: wire::sockaddr(addr)?,
        result: Some(result as i32),
    })
}

/// The paths of files written, learnt from their opens by (device, inode) — which holds across
/// `dup2` (a shell's `> file`) and fd reuse — else from /proc while the process lives (files
/// opened before the capture), else the file's own name as the kernel gave it.
#[derive(Default)]
pub(crate) struct FilePaths {
    by_inode: HashMap<(u32, u64), String>,
    /// Each process's working directory as its exec saw it (inherited over forks), for relative
    /// paths of a process gone before its records are read.
    cwd: HashMap<u32, String>,
}

/// Files remembered at most; past it the table starts over (a write then falls back to /proc).
const MAX_REMEMBERED_FILES: usize = 200_000;

impl FilePaths {
    /// The absolute path an open/rename/unlink record names (relative paths resolved against
    /// its dirfd or cwd, from /proc, else the cwd remembered from the process's exec).
    pub(crate) fn resolve(&self, pid: u32, dirfd: i32, path: &str) -> String {
        let full = procfs::resolve_at(pid, dirfd, path);
        if full.starts_with('/') || dirfd != -100 {
            return full;
        }
        match self.cwd.get(&pid) {
            Some(cwd) => std::path::Path::new(cwd)
                .join(path)
                .to_string_lossy()
                .into_owned(),
            None => full,
        }
    }

    /// Process `pid` exec'd in `cwd`.
    pub(crate) fn exec(&mut self, pid: u32, cwd: Option<&str>) {
        if let Some(cwd) = cwd {
            self.cwd.insert(pid, cwd.to_string());
        }
    }

    /// `child` starts in its parent's directory.
    pub(crate) fn fork(&mut self, parent: u32, child: u32) {
        if let Some(cwd) = self.cwd.get(&parent).cloned() {
            self.cwd.insert(child, cwd);
        }
    }

    pub(crate) fn exit(&mut self, pid: u32) {
        self.cwd.remove(&pid);
    }

    /// A file operation; `None` for a write whose file is unknown. `open_path` is the resolved
    /// path of an open (see [`resolve`](Self::resolve)), remembered for its fd.
    pub(crate) fn file_op(
        &mut self,
        h: &Hdr,
        ts: Timestamp,
        f: FileFields,
        open_path: Option<String>,
    ) -> Option<FileOp> {
        let pid = h.pid;
        let (kind, path, new_path, flags, bytes, result) = match h.kind {
            wire::EV_FILE_OPEN => {
                let full = open_path.unwrap_or_else(|| self.resolve(pid, f.dirfd, &f.path));
                if f.dev_ino.1 != 0 {
                    if self.by_inode.len() >= MAX_REMEMBERED_FILES {
                        self.by_inode.clear();
                    }
                    self.by_inode.insert(f.dev_ino, full.clone());
                }
                (
                    FileOpKind::Open,
                    full,
                    None,
                    Some(f.flags),
                    None,
                    Some(f.result),
                )
            }
            wire::EV_FILE_WRITE => {
                let known = self.by_inode.get(&f.dev_ino).filter(|_| f.dev_ino.1 != 0);
                let p = match known {
                    Some(p) => p.clone(),
                    None => procfs::fd_path(pid, f.fd)
                        .filter(|p| p.starts_with('/'))
                        .or_else(|| (!f.name.is_empty()).then(|| f.name.clone()))?,
                };
                (FileOpKind::Write, p, None, None, Some(f.bytes), None)
            }
            wire::EV_FILE_RENAME => (
                FileOpKind::Rename,
                self.resolve(pid, f.dirfd, &f.path),
                Some(self.resolve(pid, f.dirfd2, &f.path2)),
                Some(f.flags),
                None,
                Some(f.result),
            ),
            wire::EV_FILE_UNLINK => (
                FileOpKind::Delete,
                self.resolve(pid, f.dirfd, &f.path),
                None,
                Some(f.flags),
                None,
                Some(f.result),
            ),
            _ => return None,
        };
        Some(FileOp {
            ts,
            pid,
            tid: h.tid,
            kind,
            path,
            new_path,
            flags,
            bytes,
            result,
        })
    }
}
