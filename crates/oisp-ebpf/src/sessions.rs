//! TLS session bookkeeping: which `SSL*` of which process is which connection, its socket,
//! addresses and role, its SNI/ALPN, and when it is opened, muted and closed.

use crate::capture::EbpfCapture;
use crate::{procfs, wire};
use libbpf_rs::{MapCore, MapFlags};
use oisp_capture::{ConnClose, ConnOpen, ConnRole, DataSource, RawRecord, Timestamp};
use std::time::{Duration, Instant};

/// How long a TLS session may wait for its socket fd before it is reported without addresses.
const FD_WAIT: Duration = Duration::from_millis(300);
/// How long an SNI/ALPN waits for its session's first data (sessions that never carry data are
/// never freed in the kernel's view).
const NAME_TTL: Duration = Duration::from_secs(120);

/// SNI and ALPN of a session, known before its data.
#[derive(Default)]
pub(crate) struct SessionNames {
    pub(crate) sni: Option<String>,
    pub(crate) alpn: Option<String>,
    pub(crate) seen: Option<Instant>,
}

pub(crate) struct Conn {
    pub(crate) id: u64,
    pub(crate) pid: u32,
    pub(crate) tid: u32,
    pub(crate) fd: Option<i32>,
    /// (local, remote) from the kernel when the fd became known.
    pub(crate) addrs: Option<(std::net::SocketAddr, std::net::SocketAddr)>,
    pub(crate) opened: bool,
    /// Decided when the connection is reported (`Unknown` before).
    pub(crate) role: ConnRole,
    pub(crate) is_static: bool,
    pub(crate) first_egress: Option<bool>,
    pub(crate) first_ts: Timestamp,
    pub(crate) seen: Instant,
    pub(crate) pending: Vec<RawRecord>,
}

impl EbpfCapture {
    pub(crate) fn conn_for(
        &mut self,
        pid: u32,
        tid: u32,
        ssl: u64,
        is_static: bool,
        ts: Timestamp,
    ) -> u64 {
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
                role: ConnRole::Unknown,
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
    pub(crate) fn open_conn(&mut self, pid: u32, ssl: u64) {
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
        conn.role = role;
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
            self.mute(pid, ssl, wire::SKIP_SERVER);
        }
        self.out.push(RawRecord::ConnOpen(open));
        self.out.extend(pending);
    }

    /// Stops the copying of a server-side session's plaintext in the kernel: the decoder drops
    /// a local server's view anyway, and for a busy TLS server (nginx) the copies are most of
    /// the capture's cost. What was captured before stays in the output.
    fn mute(&mut self, pid: u32, ssl: u64, why: u32) -> bool {
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&ssl.to_ne_bytes());
        key[8..12].copy_from_slice(&pid.to_ne_bytes());
        self.skel
            .maps
            .muted
            .update(&key, &[why as u8], MapFlags::ANY)
            .is_ok()
    }

    /// Stops the copying of a client connection's plaintext in the kernel, from its next
    /// SSL_read/SSL_write on, until the session is freed (`SSL_free`) or its SSL object is given
    /// a new socket (`SSL_set_fd`). For connections the decoder found to carry no AI traffic
    /// (`oisp_decode::Decoder::drain_ignorable`); what was captured before stays in the output,
    /// records already in the ring still arrive. Returns false when `conn_id` is not an open
    /// client connection of this capture (closed meanwhile, or never a client).
    pub fn ignore_connection(&mut self, conn_id: u64) -> bool {
        let found = self
            .conns
            .iter()
            .find(|(_, c)| c.id == conn_id && c.opened && c.role == ConnRole::Client)
            .map(|(k, _)| *k);
        let Some((pid, ssl)) = found else {
            return false;
        };
        if !self.mute(pid, ssl, wire::SKIP_IGNORED) {
            return false;
        }
        self.stats.ignored_sessions += 1;
        true
    }

    pub(crate) fn close_conn(&mut self, pid: u32, ssl: u64, ts: Timestamp) {
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

    pub(crate) fn close_pid_conns(&mut self, pid: u32, ts: Timestamp) {
        let mut keys: Vec<(u32, u64)> = self.conns.keys().filter(|k| k.0 == pid).copied().collect();
        keys.sort_by_key(|k| self.conns.get(k).map(|c| c.id));
        for (p, ssl) in keys {
            self.close_conn(p, ssl, ts);
        }
    }

    /// Reports sessions that waited too long for their fd (or all of them at the end).
    pub(crate) fn flush_waiting(&mut self, all: bool) {
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
