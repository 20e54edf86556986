//! Encoding and decoding of record bodies. Field order and widths follow `docs/raw-format.md`.

use crate::container::ContainerInfo;
use crate::record::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub(crate) const TAG_DATA: u8 = 1;
pub(crate) const TAG_CONN_OPEN: u8 = 2;
pub(crate) const TAG_CONN_CLOSE: u8 = 3;
pub(crate) const TAG_PROCESS_EXEC: u8 = 4;
pub(crate) const TAG_PROCESS_EXIT: u8 = 5;
pub(crate) const TAG_PROCESS_FORK: u8 = 6;
pub(crate) const TAG_FILE: u8 = 7;
pub(crate) const TAG_NET_CONNECT: u8 = 8;
pub(crate) const TAG_LOST: u8 = 9;
/// A process exec record read from /proc at start (same body as [`TAG_PROCESS_EXEC`]).
pub(crate) const TAG_PROCESS_SNAPSHOT: u8 = 10;
/// The container behind a cgroup path (`ContainerInfo`).
pub(crate) const TAG_CONTAINER: u8 = 11;
pub(crate) const TAG_FLOW_ACTIVITY: u8 = 12;
pub(crate) const TAG_DNS_MESSAGE: u8 = 13;

/// Appends little-endian fields to a body buffer.
pub(crate) struct Enc<'a>(pub &'a mut Vec<u8>);

impl Enc<'_> {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, v: &[u8]) {
        // Bodies are capped far below u32::MAX by the writer.
        self.u32(v.len() as u32);
        self.0.extend_from_slice(v);
    }
    fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
    fn opt<T>(&mut self, v: &Option<T>, f: impl FnOnce(&mut Self, &T)) {
        match v {
            None => self.u8(0),
            Some(x) => {
                self.u8(1);
                f(self, x);
            }
        }
    }
    fn ts(&mut self, t: Timestamp) {
        self.u64(t.wall_ns);
        self.u64(t.mono_ns);
    }
    fn addr(&mut self, a: &SocketAddr) {
        match a.ip() {
            IpAddr::V4(ip) => {
                self.u8(4);
                self.0.extend_from_slice(&ip.octets());
            }
            IpAddr::V6(ip) => {
                self.u8(6);
                self.0.extend_from_slice(&ip.octets());
            }
        }
        self.u16(a.port());
    }
    fn opt_addr(&mut self, a: &Option<SocketAddr>) {
        match a {
            None => self.u8(0),
            Some(a) => self.addr(a),
        }
    }
    fn source(&mut self, s: DataSource) {
        self.u8(source_code(s));
    }
}

fn source_code(s: DataSource) -> u8 {
    match s {
        DataSource::OpenSsl => 0,
        DataSource::OpenSslStatic => 1,
        DataSource::BoringSsl => 2,
        DataSource::GnuTls => 3,
        DataSource::GoTls => 4,
        DataSource::Socket => 5,
        DataSource::Proxy => 6,
        DataSource::MockRecorder => 7,
        DataSource::Rustls => 8,
        DataSource::ClientHello => 9,
        DataSource::Nss => 10,
        DataSource::Unknown => 255,
    }
}

fn source_from(code: u8) -> DataSource {
    match code {
        0 => DataSource::OpenSsl,
        1 => DataSource::OpenSslStatic,
        2 => DataSource::BoringSsl,
        3 => DataSource::GnuTls,
        4 => DataSource::GoTls,
        5 => DataSource::Socket,
        6 => DataSource::Proxy,
        7 => DataSource::MockRecorder,
        8 => DataSource::Rustls,
        9 => DataSource::ClientHello,
        10 => DataSource::Nss,
        _ => DataSource::Unknown,
    }
}

/// Encodes `rec`'s body into `out` (cleared first) and returns its tag.
pub(crate) fn encode(rec: &RawRecord, out: &mut Vec<u8>) -> u8 {
    out.clear();
    let mut e = Enc(out);
    match rec {
        RawRecord::Data(d) => {
            e.u64(d.conn_id);
            e.u8(match d.direction {
                Direction::Egress => 0,
                Direction::Ingress => 1,
            });
            e.u64(d.seq);
            e.ts(d.ts);
            e.u32(d.pid);
            e.u32(d.tid);
            e.source(d.source);
            e.u32(d.truncated_len);
            e.bytes(&d.bytes);
            TAG_DATA
        }
        RawRecord::ConnOpen(c) => {
            e.u64(c.conn_id);
            e.ts(c.ts);
            e.u32(c.pid);
            e.u32(c.tid);
            e.u8(match c.role {
                ConnRole::Client => 0,
                ConnRole::Server => 1,
                ConnRole::Unknown => 2,
            });
            e.source(c.source);
            e.opt_addr(&c.local);
            e.opt_addr(&c.remote);
            e.opt(&c.sni, |e, s| e.str(s));
            e.opt(&c.alpn, |e, s| e.str(s));
            TAG_CONN_OPEN
        }
        RawRecord::ConnClose(c) => {
            e.u64(c.conn_id);
            e.ts(c.ts);
            e.u32(c.pid);
            TAG_CONN_CLOSE
        }
        RawRecord::ProcessExec(p) => {
            e.ts(p.ts);
            e.u32(p.pid);
            e.u32(p.ppid);
            e.u32(p.uid);
            e.u32(p.gid);
            e.str(&p.comm);
            e.str(&p.exe);
            e.u32(p.args.len() as u32);
            for a in &p.args {
                e.str(a);
            }
            e.opt(&p.cwd, |e, s| e.str(s));
            e.opt(&p.cgroup, |e, s| e.str(s));
            if p.snapshot {
                TAG_PROCESS_SNAPSHOT
            } else {
                TAG_PROCESS_EXEC
            }
        }
        RawRecord::ProcessExit(p) => {
            e.ts(p.ts);
            e.u32(p.pid);
            e.i32(p.exit_code);
            e.opt(&p.signal, |e, s| e.u32(*s));
            TAG_PROCESS_EXIT
        }
        RawRecord::ProcessFork(p) => {
            e.ts(p.ts);
            e.u32(p.parent_pid);
            e.u32(p.child_pid);
            TAG_PROCESS_FORK
        }
        RawRecord::File(f) => {
            e.ts(f.ts);
            e.u32(f.pid);
            e.u32(f.tid);
            e.u8(match f.kind {
                FileOpKind::Open => 0,
                FileOpKind::Read => 1,
                FileOpKind::Write => 2,
                FileOpKind::Delete => 3,
                FileOpKind::Rename => 4,
            });
            e.str(&f.path);
            e.opt(&f.new_path, |e, s| e.str(s));
            e.opt(&f.flags, |e, v| e.u32(*v));
            e.opt(&f.bytes, |e, v| e.u64(*v));
            e.opt(&f.result, |e, v| e.i64(*v));
            TAG_FILE
        }
        RawRecord::NetConnect(n) => {
            e.ts(n.ts);
            e.u32(n.pid);
            e.u32(n.tid);
            e.opt(&n.fd, |e, v| e.i32(*v));
            e.u8(match n.transport {
                Transport::Tcp => 0,
                Transport::Udp => 1,
            });
            e.opt_addr(&n.local);
            e.addr(&n.remote);
            e.opt(&n.result, |e, v| e.i32(*v));
            TAG_NET_CONNECT
        }
        RawRecord::Lost(l) => {
            e.ts(l.ts);
            e.str(&l.origin);
            e.u64(l.count);
            TAG_LOST
        }
        RawRecord::Container(c) => {
            e.ts(c.ts);
            e.str(&c.cgroup);
            e.str(&c.id);
            e.opt(&c.runtime, |e, s| e.str(s));
            e.opt(&c.name, |e, s| e.str(s));
            e.opt(&c.image, |e, s| e.str(s));
            e.opt(&c.pod_uid, |e, s| e.str(s));
            e.opt(&c.pod_name, |e, s| e.str(s));
            e.opt(&c.namespace, |e, s| e.str(s));
            e.u32(c.labels.len() as u32);
            for (k, v) in &c.labels {
                e.str(k);
                e.str(v);
            }
            TAG_CONTAINER
        }
        RawRecord::FlowActivity(f) => {
            e.u64(f.conn_id);
            e.ts(f.ts);
            e.u32(f.pid);
            e.u8(match f.direction {
                Direction::Egress => 0,
                Direction::Ingress => 1,
            });
            e.u64(f.bytes);
            TAG_FLOW_ACTIVITY
        }
        RawRecord::DnsMessage(m) => {
            e.ts(m.ts);
            e.u32(m.pid);
            e.u32(m.tid);
            e.opt_addr(&m.server);
            e.bytes(&m.bytes);
            TAG_DNS_MESSAGE
        }
    }
}

/// Reads fields from a record body; every accessor fails instead of reading past the end.
pub(crate) struct Dec<'a> {
    buf: &'a [u8],
    pos: usize,
}

type R<T> = Result<T, String>;

impl<'a> Dec<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Dec { buf, pos: 0 }
    }
    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| format!("field at body offset {} runs past the body", self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn arr<const N: usize>(&mut self) -> R<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    fn u8(&mut self) -> R<u8> {
        Ok(self.arr::<1>()?[0])
    }
    fn u16(&mut self) -> R<u16> {
        Ok(u16::from_le_bytes(self.arr()?))
    }
    fn u32(&mut self) -> R<u32> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    fn u64(&mut self) -> R<u64> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
    fn i32(&mut self) -> R<i32> {
        Ok(i32::from_le_bytes(self.arr()?))
    }
    fn i64(&mut self) -> R<i64> {
        Ok(i64::from_le_bytes(self.arr()?))
    }
    fn bytes(&mut self) -> R<Vec<u8>> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
    fn str(&mut self) -> R<String> {
        let b = self.bytes()?;
        String::from_utf8(b).map_err(|_| "string field is not UTF-8".to_string())
    }
    fn flag(&mut self) -> R<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(format!("option flag is {v}, expected 0 or 1")),
        }
    }
    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> R<T>) -> R<Option<T>> {
        if self.flag()? {
            f(self).map(Some)
        } else {
            Ok(None)
        }
    }
    fn ts(&mut self) -> R<Timestamp> {
        Ok(Timestamp {
            wall_ns: self.u64()?,
            mono_ns: self.u64()?,
        })
    }
    fn addr_of_family(&mut self, family: u8) -> R<SocketAddr> {
        let ip = match family {
            4 => IpAddr::V4(Ipv4Addr::from(self.arr::<4>()?)),
            6 => IpAddr::V6(Ipv6Addr::from(self.arr::<16>()?)),
            f => return Err(format!("address family {f} is not 4 or 6")),
        };
        Ok(SocketAddr::new(ip, self.u16()?))
    }
    fn addr(&mut self) -> R<SocketAddr> {
        let family = self.u8()?;
        self.addr_of_family(family)
    }
    fn opt_addr(&mut self) -> R<Option<SocketAddr>> {
        match self.u8()? {
            0 => Ok(None),
            f => self.addr_of_family(f).map(Some),
        }
    }
    fn source(&mut self) -> R<DataSource> {
        Ok(source_from(self.u8()?))
    }
    fn str_list(&mut self) -> R<Vec<String>> {
        let n = self.u32()? as usize;
        // Each string needs at least its 4-byte length: reject counts the body cannot hold.
        if n > self.buf.len().saturating_sub(self.pos) / 4 {
            return Err(format!(
                "list claims {n} strings, more than the body can hold"
            ));
        }
        (0..n).map(|_| self.str()).collect()
    }
    fn str_pairs(&mut self) -> R<Vec<(String, String)>> {
        let n = self.u32()? as usize;
        // Each pair needs at least its two 4-byte lengths.
        if n > self.buf.len().saturating_sub(self.pos) / 8 {
            return Err(format!(
                "list claims {n} pairs, more than the body can hold"
            ));
        }
        (0..n).map(|_| Ok((self.str()?, self.str()?))).collect()
    }
}

/// Decodes the body of a record with a known tag. `Ok(None)` means the tag is unknown.
pub(crate) fn decode(tag: u8, body: &[u8]) -> R<Option<RawRecord>> {
    let mut d = Dec::new(body);
    let rec = match tag {
        TAG_DATA => RawRecord::Data(DataChunk {
            conn_id: d.u64()?,
            direction: match d.u8()? {
                0 => Direction::Egress,
                1 => Direction::Ingress,
                v => return Err(format!("direction {v} is not 0 or 1")),
            },
            seq: d.u64()?,
            ts: d.ts()?,
            pid: d.u32()?,
            tid: d.u32()?,
            source: d.source()?,
            truncated_len: d.u32()?,
            bytes: d.bytes()?,
        }),
        TAG_CONN_OPEN => RawRecord::ConnOpen(ConnOpen {
            conn_id: d.u64()?,
            ts: d.ts()?,
            pid: d.u32()?,
            tid: d.u32()?,
            role: match d.u8()? {
                0 => ConnRole::Client,
                1 => ConnRole::Server,
                _ => ConnRole::Unknown,
            },
            source: d.source()?,
            local: d.opt_addr()?,
            remote: d.opt_addr()?,
            sni: d.opt(Dec::str)?,
            alpn: d.opt(Dec::str)?,
        }),
        TAG_CONN_CLOSE => RawRecord::ConnClose(ConnClose {
            conn_id: d.u64()?,
            ts: d.ts()?,
            pid: d.u32()?,
        }),
        TAG_PROCESS_EXEC | TAG_PROCESS_SNAPSHOT => RawRecord::ProcessExec(ProcessExec {
            ts: d.ts()?,
            pid: d.u32()?,
            ppid: d.u32()?,
            uid: d.u32()?,
            gid: d.u32()?,
            comm: d.str()?,
            exe: d.str()?,
            args: d.str_list()?,
            cwd: d.opt(Dec::str)?,
            cgroup: d.opt(Dec::str)?,
            snapshot: tag == TAG_PROCESS_SNAPSHOT,
        }),
        TAG_PROCESS_EXIT => RawRecord::ProcessExit(ProcessExit {
            ts: d.ts()?,
            pid: d.u32()?,
            exit_code: d.i32()?,
            signal: d.opt(Dec::u32)?,
        }),
        TAG_PROCESS_FORK => RawRecord::ProcessFork(ProcessFork {
            ts: d.ts()?,
            parent_pid: d.u32()?,
            child_pid: d.u32()?,
        }),
        TAG_FILE => RawRecord::File(FileOp {
            ts: d.ts()?,
            pid: d.u32()?,
            tid: d.u32()?,
            kind: match d.u8()? {
                0 => FileOpKind::Open,
                1 => FileOpKind::Read,
                2 => FileOpKind::Write,
                3 => FileOpKind::Delete,
                4 => FileOpKind::Rename,
                v => return Err(format!("file operation kind {v} is unknown")),
            },
            path: d.str()?,
            new_path: d.opt(Dec::str)?,
            flags: d.opt(Dec::u32)?,
            bytes: d.opt(Dec::u64)?,
            result: d.opt(Dec::i64)?,
        }),
        TAG_NET_CONNECT => RawRecord::NetConnect(NetConnect {
            ts: d.ts()?,
            pid: d.u32()?,
            tid: d.u32()?,
            fd: d.opt(Dec::i32)?,
            transport: match d.u8()? {
                0 => Transport::Tcp,
                1 => Transport::Udp,
                v => return Err(format!("transport {v} is not 0 or 1")),
            },
            local: d.opt_addr()?,
            remote: d.addr()?,
            result: d.opt(Dec::i32)?,
        }),
        TAG_LOST => RawRecord::Lost(Lost {
            ts: d.ts()?,
            origin: d.str()?,
            count: d.u64()?,
        }),
        TAG_CONTAINER => RawRecord::Container(ContainerInfo {
            ts: d.ts()?,
            cgroup: d.str()?,
            id: d.str()?,
            runtime: d.opt(Dec::str)?,
            name: d.opt(Dec::str)?,
            image: d.opt(Dec::str)?,
            pod_uid: d.opt(Dec::str)?,
            pod_name: d.opt(Dec::str)?,
            namespace: d.opt(Dec::str)?,
            labels: d.str_pairs()?,
        }),
        TAG_FLOW_ACTIVITY => RawRecord::FlowActivity(FlowActivity {
            conn_id: d.u64()?,
            ts: d.ts()?,
            pid: d.u32()?,
            direction: match d.u8()? {
                0 => Direction::Egress,
                1 => Direction::Ingress,
                v => return Err(format!("direction {v} is not 0 or 1")),
            },
            bytes: d.u64()?,
        }),
        TAG_DNS_MESSAGE => RawRecord::DnsMessage(DnsMessage {
            ts: d.ts()?,
            pid: d.u32()?,
            tid: d.u32()?,
            server: d.opt_addr()?,
            bytes: d.bytes()?,
        }),
        _ => return Ok(None),
    };
    Ok(Some(rec))
}
