//! Plain mappings from kernel records (`wire::Ev`) to `RawRecord`s: timestamps, the fields each
//! record carries, and what /proc adds (an exec's executable, cwd and cgroup; the paths behind
//! file descriptors). No decisions here: what is reported, and when, is `capture.rs`'s.

use crate::procfs;
use crate::wire::{self, ExecFields, FileFields, Hdr};
use oisp_capture::{
    DataChunk, DataSource, Direction, FileOp, FileOpKind, NetConnect, ProcessExec, ProcessExit,
    Timestamp, Transport,
};
use std::collections::HashMap;

/// Turns the kernel's monotonic timestamps into wall-clock ones.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// Wall clock minus monotonic clock, taken at start.
    wall_offset: i128,
}

impl Clock {
    pub(crate) fn now() -> Clock {
        Clock {
            wall_offset: clock_ns(libc::CLOCK_REALTIME) - clock_ns(libc::CLOCK_MONOTONIC),
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
        self.ts(clock_ns(libc::CLOCK_MONOTONIC).max(0) as u64)
    }
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

/// An exec, completed from /proc: the executable when the kernel's file name is relative, the
/// working directory and the cgroup.
pub(crate) fn process_exec(h: &Hdr, ts: Timestamp, e: ExecFields) -> ProcessExec {
    let pid = h.pid;
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
        cgroup: procfs::cgroup(pid),
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

/// The paths behind file descriptors, learnt from opens (and /proc for files opened before the
/// capture), so a write names its file.
#[derive(Default)]
pub(crate) struct FilePaths {
    by_fd: HashMap<(u32, i32), String>,
}

impl FilePaths {
    /// The absolute path an open/rename/unlink record names (relative paths resolved against
    /// its dirfd or cwd).
    pub(crate) fn resolve(pid: u32, dirfd: i32, path: &str) -> String {
        procfs::resolve_at(pid, dirfd, path)
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
                let full = open_path.unwrap_or_else(|| Self::resolve(pid, f.dirfd, &f.path));
                if f.fd >= 0 {
                    self.by_fd.insert((pid, f.fd), full.clone());
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
                let p = match self.by_fd.get(&(pid, f.fd)) {
                    Some(p) => p.clone(),
                    None => {
                        let p = procfs::fd_path(pid, f.fd)?;
                        self.by_fd.insert((pid, f.fd), p.clone());
                        p
                    }
                };
                (FileOpKind::Write, p, None, None, Some(f.bytes), None)
            }
            wire::EV_FILE_RENAME => (
                FileOpKind::Rename,
                Self::resolve(pid, f.dirfd, &f.path),
                Some(Self::resolve(pid, f.dirfd2, &f.path2)),
                Some(f.flags),
                None,
                Some(f.result),
            ),
            wire::EV_FILE_UNLINK => (
                FileOpKind::Delete,
                Self::resolve(pid, f.dirfd, &f.path),
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

    /// Process `pid` exited: its descriptors are gone.
    pub(crate) fn process_exit(&mut self, pid: u32) {
        self.by_fd.retain(|(p, _), _| *p != pid);
    }
}
