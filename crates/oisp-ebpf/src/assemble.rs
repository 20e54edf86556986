//! Turning kernel records into `RawRecord`s: timestamps, process scope, and the handling of
//! each record kind (TLS data and names, process, file and connect records).

use crate::capture::EbpfCapture;
use crate::procfs;
use crate::wire::{self, Ev};
use oisp_capture::{
    DataChunk, DataSource, Direction, FileOp, FileOpKind, NetConnect, ProcessExec, ProcessExit,
    ProcessFork, RawRecord, Timestamp, Transport,
};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

/// Connections remembered per process while it is not (yet) in scope.
const BUFFERED_CONNECTS: usize = 16;

#[derive(Default)]
pub(crate) struct ProcInfo {
    pub(crate) ppid: u32,
    pub(crate) exec: Option<ProcessExec>,
    pub(crate) exec_emitted: bool,
    pub(crate) connects: VecDeque<NetConnect>,
}

impl EbpfCapture {
    pub(crate) fn ts(&self, mono_ns: u64) -> Timestamp {
        Timestamp {
            wall_ns: (mono_ns as i128 + self.wall_offset).max(0) as u64,
            mono_ns,
        }
    }

    fn scoped(&self, pid: u32) -> bool {
        self.opts.all_processes
            || self.opts.pid.is_some()
            || self.opts.comm.is_some()
            || self.in_scope.contains(&pid)
    }

    /// A process became interesting (it used TLS as a client): report what was held back about
    /// it and its ancestors (exec records) and its earlier connections.
    pub(crate) fn enter_scope(&mut self, pid: u32) {
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

    pub(crate) fn handle(&mut self, ev: Ev<'_>) {
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
}
