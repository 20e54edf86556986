//! TLS session bookkeeping, the same for every TLS stack: which session (process, session key) is
//! which connection, its socket, addresses and role, its SNI/ALPN, and when it is reported and
//! closed. Data is held back until the session's socket is known (or given up on), so that a
//! connection is reported with its addresses and role before its first byte.
//!
//! Reporting a session can have effects outside this table (a client's process enters scope, a
//! server session is muted in the kernel): the caller passes them as a [`Reported`] hook, which
//! runs before the session's `ConnOpen` is output.

use crate::procfs;
use oisp_capture::{ConnClose, ConnOpen, ConnRole, DataChunk, DataSource, RawRecord, Timestamp};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long a TLS session may wait for its socket fd before it is reported without addresses.
const FD_WAIT: Duration = Duration::from_millis(300);
/// How long an SNI/ALPN waits for its session's first data (sessions that never carry data are
/// never freed in the kernel's view).
const NAME_TTL: Duration = Duration::from_secs(120);

/// A session: (process id, the stack's session key).
pub(crate) type SessionId = (u32, u64);

/// Called when a session is reported, with its role, before its `ConnOpen` is output (records
/// it pushes come first).
pub(crate) type Reported<'a> = &'a mut dyn FnMut(SessionId, ConnRole, &mut Vec<RawRecord>);

/// SNI and ALPN of a session, known before its data.
#[derive(Default)]
struct SessionNames {
    sni: Option<String>,
    alpn: Option<String>,
    seen: Option<Instant>,
}

struct Conn {
    id: u64,
    tid: u32,
    fd: Option<i32>,
    /// (local, remote) from the kernel when the fd became known.
    addrs: Option<(SocketAddr, SocketAddr)>,
    opened: bool,
    /// Decided when the connection is reported (`Unknown` before).
    role: ConnRole,
    /// Set by the first data record (`Unknown` for a session known only from its socket).
    source: DataSource,
    first_egress: Option<bool>,
    first_ts: Timestamp,
    seen: Instant,
    pending: Vec<RawRecord>,
}

/// Every live TLS session of the capture.
pub(crate) struct Sessions {
    conns: HashMap<SessionId, Conn>,
    names: HashMap<SessionId, SessionNames>,
    /// Server name and offered ALPN of the last ClientHello written on each (pid, fd): the names
    /// of a session on that socket whose stack gives none (rustls, Go's ALPN).
    hellos: HashMap<(u32, i32), (String, Option<String>)>,
    /// (pid, fd) of sessions a TLS stack reads, reported since the last
    /// [`take_read_sockets`](Sessions::take_read_sockets): their sockets need not be followed
    /// for metadata.
    read_sockets: Vec<(u32, i32)>,
    next_conn: u64,
}

/// ClientHellos remembered at most; past it the table starts afresh (a hello is used within
/// milliseconds of being written, when its session's first data comes).
const MAX_HELLOS: usize = 4096;

impl Sessions {
    pub(crate) fn new() -> Sessions {
        Sessions {
            conns: HashMap::new(),
            names: HashMap::new(),
            hellos: HashMap::new(),
            read_sockets: Vec::new(),
            next_conn: 1,
        }
    }

    /// The connection id of session `s`, made on first sight.
    fn conn_for(&mut self, s: SessionId, tid: u32, ts: Timestamp) -> &mut Conn {
        let next = &mut self.next_conn;
        self.conns.entry(s).or_insert_with(|| {
            let id = *next;
            *next += 1;
            Conn {
                id,
                tid,
                fd: None,
                addrs: None,
                opened: false,
                role: ConnRole::Unknown,
                source: DataSource::Unknown,
                first_egress: None,
                first_ts: ts,
                seen: Instant::now(),
                pending: Vec::new(),
            }
        })
    }

    /// The connection id data of session `s` goes to (made on first sight), after noting the
    /// socket fd seen during the call (-1: none) and the data's direction and source.
    pub(crate) fn data_conn(
        &mut self,
        s: SessionId,
        tid: u32,
        ts: Timestamp,
        fd: i32,
        egress: bool,
        source: DataSource,
    ) -> u64 {
        let conn = self.conn_for(s, tid, ts);
        if conn.fd.is_none() && fd >= 0 {
            conn.fd = Some(fd);
        }
        if conn.source == DataSource::Unknown {
            conn.source = source;
        }
        conn.first_egress.get_or_insert(egress);
        conn.id
    }

    /// A data record of session `s` (after [`data_conn`](Self::data_conn)): output now, or held
    /// until the session is reported.
    pub(crate) fn data(
        &mut self,
        s: SessionId,
        chunk: DataChunk,
        out: &mut Vec<RawRecord>,
        reported: Reported,
    ) {
        let Some(conn) = self.conns.get_mut(&s) else {
            return;
        };
        let egress = chunk.direction == oisp_capture::Direction::Egress;
        if conn.opened {
            out.push(RawRecord::Data(chunk));
            return;
        }
        conn.pending.push(RawRecord::Data(chunk));
        // Ingress data on a session whose fd we still lack: the socket write that would have
        // told us is over, so stop waiting.
        let give_up = !egress && conn.fd.is_none() && conn.first_egress == Some(true);
        if conn.fd.is_some() || give_up {
            self.open(s, out, reported);
        }
    }

    /// Session `s` was tied to socket `fd` with `addrs` (local, remote) as the kernel saw them
    /// (`None`: not a connected inet socket).
    pub(crate) fn socket(
        &mut self,
        s: SessionId,
        (tid, ts): (u32, Timestamp),
        (fd, addrs): (i32, Option<(SocketAddr, SocketAddr)>),
        out: &mut Vec<RawRecord>,
        reported: Reported,
    ) {
        if let Some(conn) = self.conns.get_mut(&s) {
            if conn.fd.is_none() {
                conn.fd = Some(fd);
            }
            if conn.addrs.is_none() {
                conn.addrs = addrs;
            }
            if !conn.opened && !conn.pending.is_empty() {
                self.open(s, out, reported);
            }
        } else {
            // The socket before any data: remembered for when data comes.
            let c = self.conn_for(s, tid, ts);
            c.fd = Some(fd);
            c.addrs = addrs;
        }
    }

    /// Forgets session `s`, known only from its socket, and returns that socket's (local, remote)
    /// addresses (a connection seen only through its ClientHello: no data will come).
    pub(crate) fn take_socket(&mut self, s: SessionId) -> Option<(SocketAddr, SocketAddr)> {
        match self.conns.get(&s) {
            Some(c) if !c.opened && c.pending.is_empty() => self.conns.remove(&s)?.addrs,
            _ => None,
        }
    }

    /// A ClientHello process `pid` wrote on socket `fd`, naming `sni` and offering `alpn`.
    pub(crate) fn hello(&mut self, pid: u32, fd: i32, sni: String, alpn: Option<String>) {
        if self.hellos.len() >= MAX_HELLOS {
            self.hellos.clear();
        }
        self.hellos.insert((pid, fd), (sni, alpn));
    }

    /// The (pid, fd) of the sessions a TLS stack reads that were reported since the last call.
    pub(crate) fn take_read_sockets(&mut self) -> Vec<(u32, i32)> {
        std::mem::take(&mut self.read_sockets)
    }

    /// A fresh connection id (for a connection this capture reports without a session).
    pub(crate) fn new_conn_id(&mut self) -> u64 {
        let id = self.next_conn;
        self.next_conn += 1;
        id
    }

    /// The SNI host name a client set: a new host name on a session key means a new session
    /// (keys such as `SSL*` addresses are reused).
    pub(crate) fn sni(&mut self, s: SessionId, name: String) {
        let n = self.names.entry(s).or_default();
        n.sni = (!name.is_empty()).then_some(name);
        n.alpn = None;
        n.seen = Some(Instant::now());
    }

    /// The ALPN protocol negotiated on a session.
    pub(crate) fn alpn(&mut self, s: SessionId, name: String) {
        let n = self.names.entry(s).or_default();
        n.alpn = (!name.is_empty()).then_some(name);
        n.seen = Some(Instant::now());
    }

    /// Reports a session: addresses and role from its socket, then the data held back.
    fn open(&mut self, s: SessionId, out: &mut Vec<RawRecord>, reported: Reported) {
        let (pid, _) = s;
        let Some(conn) = self.conns.get_mut(&s) else {
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
        let mut names = self.names.remove(&s).unwrap_or_default();
        // A TLS stack that gives no server name: the ClientHello written on its socket does.
        if conn.source != DataSource::Socket {
            if let Some(fd) = conn.fd {
                self.read_sockets.push((pid, fd));
            }
            if let Some((sni, alpn)) = conn.fd.and_then(|fd| self.hellos.remove(&(pid, fd))) {
                names.sni.get_or_insert(sni);
                if names.alpn.is_none() && role == ConnRole::Client {
                    // offered, not negotiated: only a single offer is certain
                    names.alpn = alpn.filter(|a| !a.contains(','));
                }
            }
        }
        let open = ConnOpen {
            conn_id: conn.id,
            ts: conn.first_ts,
            pid,
            tid: conn.tid,
            role,
            source: match conn.source {
                DataSource::Unknown => DataSource::OpenSsl,
                known => known,
            },
            local: info.as_ref().map(|i| i.local),
            remote: info.as_ref().map(|i| i.remote),
            sni: names.sni,
            alpn: names.alpn,
        };
        let pending = std::mem::take(&mut conn.pending);
        reported(s, role, out);
        out.push(RawRecord::ConnOpen(open));
        out.extend(pending);
    }

    /// The session `conn_id` when it is a reported client connection (what may be ignored).
    pub(crate) fn open_client(&self, conn_id: u64) -> Option<SessionId> {
        self.conns
            .iter()
            .find(|(_, c)| c.id == conn_id && c.opened && c.role == ConnRole::Client)
            .map(|(k, _)| *k)
    }

    /// The session ends (e.g. `SSL_free`): reported first if it held data, then closed.
    pub(crate) fn free(
        &mut self,
        s: SessionId,
        ts: Timestamp,
        out: &mut Vec<RawRecord>,
        reported: Reported,
    ) {
        self.close(s, ts, out, reported);
        self.names.remove(&s);
    }

    fn close(&mut self, s: SessionId, ts: Timestamp, out: &mut Vec<RawRecord>, reported: Reported) {
        let Some(conn) = self.conns.get(&s) else {
            return;
        };
        if !conn.opened && !conn.pending.is_empty() {
            self.open(s, out, reported);
        }
        if let Some(conn) = self.conns.remove(&s) {
            if conn.opened {
                out.push(RawRecord::ConnClose(ConnClose {
                    conn_id: conn.id,
                    ts,
                    pid: s.0,
                }));
            }
        }
    }

    /// Process `pid` exited: every session of it ends.
    pub(crate) fn process_exit(
        &mut self,
        pid: u32,
        ts: Timestamp,
        out: &mut Vec<RawRecord>,
        reported: Reported,
    ) {
        let mut keys: Vec<SessionId> = self.conns.keys().filter(|k| k.0 == pid).copied().collect();
        keys.sort_by_key(|k| self.conns.get(k).map(|c| c.id));
        for s in keys {
            self.close(s, ts, out, reported);
        }
        self.names.retain(|(p, _), _| *p != pid);
    }

    /// Reports sessions that waited too long for their fd (or all of them at the end), and
    /// forgets names whose session never carried data.
    pub(crate) fn flush_waiting(
        &mut self,
        all: bool,
        out: &mut Vec<RawRecord>,
        reported: Reported,
    ) {
        self.names
            .retain(|_, n| n.seen.is_some_and(|t| t.elapsed() < NAME_TTL));
        let mut late: Vec<(u64, SessionId)> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                !c.opened && !c.pending.is_empty() && (all || c.seen.elapsed() > FD_WAIT)
            })
            .map(|(k, c)| (c.id, *k))
            .collect();
        late.sort();
        for (_, s) in late {
            self.open(s, out, reported);
        }
    }
}
