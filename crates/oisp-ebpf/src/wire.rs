//! Parsing of the records the BPF programs write, laid out in `bpf/oisp.h` (the one header
//! shared by every program).
//!
//! Nothing here is copied from the header by hand: the record kinds, counter slots, field
//! offsets and array lengths are read off the Rust types the skeleton generates from the BPF
//! object's BTF (`bpf/layout.bpf.h` puts every record struct and enum of `oisp.h` there). A
//! change to the header changes them too, and a field renamed or removed there fails this
//! file's build.

use crate::skel::types as k;
use std::mem::{offset_of, size_of};

/// Record kinds (`oisp_hdr.kind`).
pub const EV_TLS_DATA: u32 = k::oisp_ev_kind::OISP_EV_TLS_DATA.0;
pub const EV_TLS_FD: u32 = k::oisp_ev_kind::OISP_EV_TLS_FD.0;
pub const EV_TLS_FREE: u32 = k::oisp_ev_kind::OISP_EV_TLS_FREE.0;
pub const EV_EXEC: u32 = k::oisp_ev_kind::OISP_EV_EXEC.0;
pub const EV_EXIT: u32 = k::oisp_ev_kind::OISP_EV_EXIT.0;
pub const EV_FORK: u32 = k::oisp_ev_kind::OISP_EV_FORK.0;
pub const EV_FILE_OPEN: u32 = k::oisp_ev_kind::OISP_EV_FILE_OPEN.0;
pub const EV_FILE_WRITE: u32 = k::oisp_ev_kind::OISP_EV_FILE_WRITE.0;
pub const EV_FILE_RENAME: u32 = k::oisp_ev_kind::OISP_EV_FILE_RENAME.0;
pub const EV_FILE_UNLINK: u32 = k::oisp_ev_kind::OISP_EV_FILE_UNLINK.0;
pub const EV_CONNECT: u32 = k::oisp_ev_kind::OISP_EV_CONNECT.0;
pub const EV_TLS_SNI: u32 = k::oisp_ev_kind::OISP_EV_TLS_SNI.0;
pub const EV_TLS_ALPN: u32 = k::oisp_ev_kind::OISP_EV_TLS_ALPN.0;
pub const EV_FLOW_IO: u32 = k::oisp_ev_kind::OISP_EV_FLOW_IO.0;
pub const EV_FLOW_END: u32 = k::oisp_ev_kind::OISP_EV_FLOW_END.0;

/// Direction of a TLS data record (`oisp_tls_data.dir`).
const DIR_EGRESS: u8 = k::oisp_dir::OISP_DIR_EGRESS.0 as u8;

/// Indexes of the `lost` array map.
pub const LOST_TLS: u32 = k::oisp_lost_slot::OISP_LOST_TLS.0;
pub const LOST_SYS: u32 = k::oisp_lost_slot::OISP_LOST_SYS.0;
pub const LOST_TRUNCATED_BYTES: u32 = k::oisp_lost_slot::OISP_LOST_TRUNCATED_BYTES.0;
/// Slots of the per-CPU skip counters (map `skips`), also the values of map `muted`.
pub const SKIP_SERVER: u32 = k::oisp_skip::OISP_SKIP_SERVER.0;
pub const SKIP_IGNORED: u32 = k::oisp_skip::OISP_SKIP_IGNORED.0;
/// `oisp_tls_data.origin` of plaintext read at the socket syscalls (`bpf/sock_plain.bpf.c`).
pub const ORIGIN_SOCKET: u8 = k::oisp_origin::OISP_ORIGIN_SOCKET.0 as u8;
/// `oisp_tls_data.origin` of the start of a TLS ClientHello a client wrote on a socket.
pub const ORIGIN_HELLO: u8 = k::oisp_origin::OISP_ORIGIN_HELLO.0 as u8;
/// `oisp_tls_data.origin` of a DNS message read on a UDP socket connected to port 53.
pub const ORIGIN_DNS: u8 = k::oisp_origin::OISP_ORIGIN_DNS.0 as u8;

/// Offset of `field` in the generated record struct `ty`.
macro_rules! at {
    ($ty:ident . $field:ident) => {
        offset_of!(k::$ty, $field)
    };
}

/// Plaintext bytes per TLS data record (the trailing `data[]`).
pub const CHUNK: usize = size_of::<k::oisp_tls_data>() - at!(oisp_tls_data.data);
pub const COMM_LEN: usize = at!(oisp_exec.filename) - at!(oisp_exec.comm);
pub const PATH_LEN: usize = at!(oisp_file.path2) - at!(oisp_file.path);
pub const ARGS_LEN: usize = size_of::<k::oisp_exec>() - at!(oisp_exec.args);
pub const SOCKADDR_LEN: usize = at!(oisp_connect.sock_type) - at!(oisp_connect.addr);
pub const NAME_LEN: usize = size_of::<k::oisp_tls_name>() - at!(oisp_tls_name.name);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hdr {
    pub kind: u32,
    pub pid: u32,
    pub tid: u32,
    pub ts_ns: u64,
}

/// The fields of an exec record (`struct oisp_exec`), strings decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecFields {
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    /// The task's cgroup v2 id: the inode of its directory in the cgroup2 mount.
    pub cgroup_id: u64,
    pub comm: String,
    /// The file name the kernel was given (may be relative).
    pub filename: String,
    pub args: Vec<String>,
}

/// The fields of a file record (`struct oisp_file`): openat, write, rename*, unlinkat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFields {
    pub result: i64,
    /// write: bytes requested
    pub bytes: u64,
    /// write: the fd; open: the new fd (or -1)
    pub fd: i32,
    pub flags: u32,
    pub dirfd: i32,
    /// rename: the new name's dirfd
    pub dirfd2: i32,
    /// open (success) and write: the file's (device, inode), `(0, 0)` when unknown
    pub dev_ino: (u32, u64),
    /// write: the file's own name, as the kernel knows it (empty when unknown)
    pub name: String,
    pub path: String,
    /// rename: the new name
    pub path2: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev<'a> {
    TlsData {
        h: Hdr,
        session: u64,
        seq: u64,
        truncated: u32,
        fd: i32,
        egress: bool,
        /// The probe's attach cookie (`tls::Origin`).
        origin: u8,
        data: &'a [u8],
    },
    TlsFd {
        h: Hdr,
        session: u64,
        fd: i32,
        /// (local, remote) of the socket as the kernel saw it, when it is a connected inet
        /// socket.
        addrs: Option<(std::net::SocketAddr, std::net::SocketAddr)>,
    },
    TlsFree {
        h: Hdr,
        session: u64,
    },
    /// The SNI host name a client set on a session.
    TlsSni {
        h: Hdr,
        session: u64,
        name: String,
    },
    /// The ALPN protocol negotiated on a session.
    TlsAlpn {
        h: Hdr,
        session: u64,
        name: String,
    },
    Exec {
        h: Hdr,
        exec: ExecFields,
    },
    Exit {
        h: Hdr,
        exit_code: i32,
    },
    Fork {
        h: Hdr,
        parent: u32,
        child: u32,
    },
    File {
        h: Hdr,
        file: FileFields,
    },
    Connect {
        h: Hdr,
        result: i64,
        fd: i32,
        sock_type: u32,
        addr: [u8; SOCKADDR_LEN],
        addrlen: u32,
    },
    /// Activity on a TLS socket followed for its metadata only (`struct oisp_flow`): a read or
    /// write of `len` bytes, or (`end`) its close.
    Flow {
        h: Hdr,
        session: u64,
        fd: i32,
        len: u32,
        egress: bool,
        end: bool,
    },
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn i32_at(b: &[u8], o: usize) -> Option<i32> {
    u32_at(b, o).map(|v| v as i32)
}
fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

/// A NUL-terminated C string from a fixed-size field.
fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// The kernel timestamp of a record (0 if too short).
pub fn ts_of(b: &[u8]) -> u64 {
    u64_at(b, at!(oisp_hdr.ts_ns)).unwrap_or(0)
}

/// Parses one ring buffer record; `None` for a record too short for its kind or of an unknown
/// kind.
pub fn parse(b: &[u8]) -> Option<Ev<'_>> {
    let h = Hdr {
        kind: u32_at(b, at!(oisp_hdr.kind))?,
        pid: u32_at(b, at!(oisp_hdr.pid))?,
        tid: u32_at(b, at!(oisp_hdr.tid))?,
        ts_ns: u64_at(b, at!(oisp_hdr.ts_ns))?,
    };
    Some(match h.kind {
        EV_TLS_DATA => {
            let len = u32_at(b, at!(oisp_tls_data.len))? as usize;
            let data_off = at!(oisp_tls_data.data);
            let data = b.get(data_off..data_off + len.min(CHUNK))?;
            Ev::TlsData {
                h,
                session: u64_at(b, at!(oisp_tls_data.session))?,
                seq: u64_at(b, at!(oisp_tls_data.seq))?,
                truncated: u32_at(b, at!(oisp_tls_data.truncated))?,
                fd: i32_at(b, at!(oisp_tls_data.fd))?,
                egress: *b.get(at!(oisp_tls_data.dir))? == DIR_EGRESS,
                origin: *b.get(at!(oisp_tls_data.origin))?,
                data,
            }
        }
        EV_TLS_FD => {
            let family = u16_at(b, at!(oisp_tls_fd.family))?;
            let lport = u16_at(b, at!(oisp_tls_fd.lport))?;
            let rport = u16_at(b, at!(oisp_tls_fd.rport))?;
            let (l, r) = (at!(oisp_tls_fd.laddr), at!(oisp_tls_fd.raddr));
            let laddr: [u8; 16] = b.get(l..l + 16)?.try_into().ok()?;
            let raddr: [u8; 16] = b.get(r..r + 16)?.try_into().ok()?;
            Ev::TlsFd {
                h,
                session: u64_at(b, at!(oisp_tls_fd.session))?,
                fd: i32_at(b, at!(oisp_tls_fd.fd))?,
                addrs: inet_pair(family, (laddr, lport), (raddr, rport)),
            }
        }
        EV_TLS_FREE => Ev::TlsFree {
            h,
            session: u64_at(b, at!(oisp_tls_free.session))?,
        },
        EV_TLS_SNI | EV_TLS_ALPN => {
            let len = (u32_at(b, at!(oisp_tls_name.len))? as usize).min(NAME_LEN);
            let at = at!(oisp_tls_name.name);
            let raw = b.get(at..at + len)?;
            let name = String::from_utf8_lossy(raw).into_owned();
            let session = u64_at(b, at!(oisp_tls_name.session))?;
            if h.kind == EV_TLS_SNI {
                Ev::TlsSni { h, session, name }
            } else {
                Ev::TlsAlpn { h, session, name }
            }
        }
        EV_EXEC => {
            let args_len = (u32_at(b, at!(oisp_exec.args_len))? as usize).min(ARGS_LEN);
            let comm_off = at!(oisp_exec.comm);
            let fname_off = at!(oisp_exec.filename);
            let args_off = at!(oisp_exec.args);
            let raw = b.get(args_off..args_off + args_len).unwrap_or(&[]);
            let mut args: Vec<String> = raw
                .split(|&c| c == 0)
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect();
            // argv ends with a NUL: drop the empty tail it leaves
            if raw.last() == Some(&0) {
                args.pop();
            }
            Ev::Exec {
                h,
                exec: ExecFields {
                    ppid: u32_at(b, at!(oisp_exec.ppid))?,
                    uid: u32_at(b, at!(oisp_exec.uid))?,
                    gid: u32_at(b, at!(oisp_exec.gid))?,
                    cgroup_id: u64_at(b, at!(oisp_exec.cgroup_id))?,
                    comm: cstr(b.get(comm_off..comm_off + COMM_LEN)?),
                    filename: cstr(b.get(fname_off..fname_off + PATH_LEN)?),
                    args,
                },
            }
        }
        EV_EXIT => Ev::Exit {
            h,
            exit_code: i32_at(b, at!(oisp_exit.exit_code))?,
        },
        EV_FORK => Ev::Fork {
            h,
            parent: u32_at(b, at!(oisp_fork.parent_pid))?,
            child: u32_at(b, at!(oisp_fork.child_pid))?,
        },
        EV_FILE_OPEN | EV_FILE_WRITE | EV_FILE_RENAME | EV_FILE_UNLINK => {
            // A write record ends before `path`, an open record after its path (the BPF side
            // sends only what is filled).
            let path_off = at!(oisp_file.path);
            let path2_off = at!(oisp_file.path2);
            Ev::File {
                h,
                file: FileFields {
                    result: u64_at(b, at!(oisp_file.result))? as i64,
                    bytes: u64_at(b, at!(oisp_file.bytes))?,
                    fd: i32_at(b, at!(oisp_file.fd))?,
                    flags: u32_at(b, at!(oisp_file.flags))?,
                    dirfd: i32_at(b, at!(oisp_file.dirfd))?,
                    dirfd2: i32_at(b, at!(oisp_file.dirfd2))?,
                    dev_ino: (
                        u32_at(b, at!(oisp_file.dev))?,
                        u64_at(b, at!(oisp_file.ino))?,
                    ),
                    name: b
                        .get(at!(oisp_file.name)..at!(oisp_file.path))
                        .map(cstr)
                        .unwrap_or_default(),
                    // an open record ends after its path's NUL
                    path: b
                        .get(path_off..)
                        .map(|p| cstr(&p[..p.len().min(PATH_LEN)]))
                        .unwrap_or_default(),
                    path2: b
                        .get(path2_off..)
                        .map(|p| cstr(&p[..p.len().min(PATH_LEN)]))
                        .unwrap_or_default(),
                },
            }
        }
        EV_CONNECT => {
            let mut addr = [0u8; SOCKADDR_LEN];
            let at = at!(oisp_connect.addr);
            addr.copy_from_slice(b.get(at..at + SOCKADDR_LEN)?);
            Ev::Connect {
                h,
                result: u64_at(b, at!(oisp_connect.result))? as i64,
                fd: i32_at(b, at!(oisp_connect.fd))?,
                addrlen: u32_at(b, at!(oisp_connect.addrlen))?,
                addr,
                sock_type: u32_at(b, at!(oisp_connect.sock_type))?,
            }
        }
        EV_FLOW_IO | EV_FLOW_END => Ev::Flow {
            h,
            session: u64_at(b, at!(oisp_flow.session))?,
            fd: i32_at(b, at!(oisp_flow.fd))?,
            len: u32_at(b, at!(oisp_flow.len))?,
            egress: *b.get(at!(oisp_flow.dir))? == DIR_EGRESS,
            end: h.kind == EV_FLOW_END,
        },
        _ => return None,
    })
}

/// Local and remote address of a socket from raw kernel fields (IPv4 in the first 4 bytes);
/// `None` unless the family is inet and the remote side is set.
fn inet_pair(
    family: u16,
    local: ([u8; 16], u16),
    remote: ([u8; 16], u16),
) -> Option<(std::net::SocketAddr, std::net::SocketAddr)> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    let ip = |a: [u8; 16]| -> IpAddr {
        if family == 2 {
            Ipv4Addr::new(a[0], a[1], a[2], a[3]).into()
        } else {
            let v6 = Ipv6Addr::from(a);
            match v6.to_ipv4_mapped() {
                Some(v4) => v4.into(),
                None => v6.into(),
            }
        }
    };
    if (family != 2 && family != 10) || remote.1 == 0 {
        return None;
    }
    Some((
        SocketAddr::new(ip(local.0), local.1),
        SocketAddr::new(ip(remote.0), remote.1),
    ))
}

/// A `struct sockaddr_in`/`sockaddr_in6` as passed to connect(2).
pub fn sockaddr(addr: &[u8; SOCKADDR_LEN]) -> Option<std::net::SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
    let family = u16::from_le_bytes([addr[0], addr[1]]);
    let port = u16::from_be_bytes([addr[2], addr[3]]);
    match family {
        2 => {
            let ip = Ipv4Addr::new(addr[4], addr[5], addr[6], addr[7]);
            Some(SocketAddr::new(ip.into(), port))
        }
        10 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(&addr[8..24]);
            let ip = Ipv6Addr::from(o);
            let ip = match ip.to_ipv4_mapped() {
                Some(v4) => v4.into(),
                None => ip.into(),
            };
            Some(SocketAddr::new(ip, port))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(kind: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&kind.to_le_bytes());
        v.extend_from_slice(&42u32.to_le_bytes());
        v.extend_from_slice(&43u32.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&1000u64.to_le_bytes());
        v
    }

    /// The lengths derived from offsets are the generated arrays' (no padding counted), and the
    /// record layout is the one the hand-built records of these tests use.
    #[test]
    fn layout() {
        let exec = k::oisp_exec::default();
        let file = k::oisp_file::default();
        let name = k::oisp_tls_name::default();
        let conn = k::oisp_connect::default();
        assert_eq!(
            (COMM_LEN, PATH_LEN, ARGS_LEN, NAME_LEN, SOCKADDR_LEN),
            (
                exec.comm.len(),
                file.path.len(),
                exec.args.len(),
                name.name.len(),
                conn.addr.len()
            )
        );
        assert_eq!(CHUNK, k::oisp_tls_data::default().data.len());
        assert_eq!((CHUNK, PATH_LEN, ARGS_LEN), (16384, 512, 4096));
        assert_eq!(size_of::<k::oisp_hdr>(), 24);
        assert_eq!(at!(oisp_tls_data.data), 56);
        assert_eq!(at!(oisp_tls_fd.laddr), 48);
        assert_eq!(at!(oisp_file.path), 132);
        assert_eq!(at!(oisp_connect.sock_type), 68);
        assert_eq!((EV_TLS_DATA, EV_TLS_ALPN, SKIP_IGNORED), (1, 13, 1));
    }

    #[test]
    fn tls_data() {
        let mut v = hdr(EV_TLS_DATA);
        v.extend_from_slice(&0xdeadu64.to_le_bytes());
        v.extend_from_slice(&7u64.to_le_bytes());
        v.extend_from_slice(&3u32.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&5i32.to_le_bytes());
        v.extend_from_slice(&[1, 1, 0, 0]);
        v.extend_from_slice(b"abc");
        match parse(&v).unwrap() {
            Ev::TlsData {
                h,
                session,
                seq,
                fd,
                egress,
                origin,
                data,
                ..
            } => {
                assert_eq!((h.pid, h.tid, h.ts_ns), (42, 43, 1000));
                assert_eq!((session, seq, fd, egress, origin), (0xdead, 7, 5, false, 1));
                assert_eq!(data, b"abc");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tls_fd_addrs() {
        let mut v = hdr(EV_TLS_FD);
        v.extend_from_slice(&0xabcu64.to_le_bytes());
        v.extend_from_slice(&7i32.to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&40000u16.to_le_bytes());
        v.extend_from_slice(&443u16.to_le_bytes());
        v.extend_from_slice(&[0; 6]);
        let mut l = [0u8; 16];
        l[..4].copy_from_slice(&[127, 0, 0, 1]);
        let mut r = [0u8; 16];
        r[..4].copy_from_slice(&[10, 1, 2, 3]);
        v.extend_from_slice(&l);
        v.extend_from_slice(&r);
        match parse(&v).unwrap() {
            Ev::TlsFd {
                session, fd, addrs, ..
            } => {
                assert_eq!((session, fd), (0xabc, 7));
                let (l, r) = addrs.unwrap();
                assert_eq!(l.to_string(), "127.0.0.1:40000");
                assert_eq!(r.to_string(), "10.1.2.3:443");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tls_names() {
        for (kind, text) in [(EV_TLS_SNI, &b"api.openai.com"[..]), (EV_TLS_ALPN, b"h2")] {
            let mut v = hdr(kind);
            v.extend_from_slice(&0xbeefu64.to_le_bytes());
            v.extend_from_slice(&(text.len() as u32).to_le_bytes());
            v.extend_from_slice(&0u32.to_le_bytes());
            let mut name = [0u8; NAME_LEN];
            name[..text.len()].copy_from_slice(text);
            v.extend_from_slice(&name);
            match (kind, parse(&v).unwrap()) {
                (EV_TLS_SNI, Ev::TlsSni { session, name, .. })
                | (EV_TLS_ALPN, Ev::TlsAlpn { session, name, .. }) => {
                    assert_eq!(session, 0xbeef);
                    assert_eq!(name.as_bytes(), text);
                }
                (_, other) => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn flow_records() {
        for (kind, dir) in [(EV_FLOW_IO, 1u8), (EV_FLOW_END, 0)] {
            let mut v = hdr(kind);
            v.extend_from_slice(&0xfeedu64.to_le_bytes());
            v.extend_from_slice(&1234u32.to_le_bytes());
            v.extend_from_slice(&9i32.to_le_bytes());
            v.push(dir);
            v.extend_from_slice(&[0; 7]);
            assert_eq!(v.len(), size_of::<k::oisp_flow>());
            match parse(&v).unwrap() {
                Ev::Flow {
                    session,
                    fd,
                    len,
                    egress,
                    end,
                    ..
                } => assert_eq!(
                    (session, fd, len, egress, end),
                    (0xfeed, 9, 1234, dir == 0, kind == EV_FLOW_END)
                ),
                other => panic!("{other:?}"),
            }
            assert!(parse(&v[..v.len() - 9]).is_none());
        }
    }

    #[test]
    fn exec_args() {
        let mut v = hdr(EV_EXEC);
        for x in [1u32, 1000, 1000, 8] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        assert_eq!(v.len(), at!(oisp_exec.cgroup_id));
        v.extend_from_slice(&0x1234_5678_9abc_u64.to_le_bytes());
        let mut comm = [0u8; COMM_LEN];
        comm[..4].copy_from_slice(b"curl");
        v.extend_from_slice(&comm);
        let mut f = vec![0u8; PATH_LEN];
        f[..13].copy_from_slice(b"/usr/bin/curl");
        v.extend_from_slice(&f);
        v.extend_from_slice(b"curl\0-v\0");
        match parse(&v).unwrap() {
            Ev::Exec { exec, .. } => {
                assert_eq!(exec.comm, "curl");
                assert_eq!(exec.filename, "/usr/bin/curl");
                assert_eq!(exec.args, vec!["curl", "-v"]);
                assert_eq!(exec.ppid, 1);
                assert_eq!(exec.cgroup_id, 0x1234_5678_9abc);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sockaddr_v4_v6() {
        let mut a = [0u8; SOCKADDR_LEN];
        a[0] = 2;
        a[2..4].copy_from_slice(&443u16.to_be_bytes());
        a[4..8].copy_from_slice(&[127, 0, 0, 1]);
        assert_eq!(sockaddr(&a).unwrap().to_string(), "127.0.0.1:443");
        let mut b = [0u8; SOCKADDR_LEN];
        b[0] = 10;
        b[2..4].copy_from_slice(&8443u16.to_be_bytes());
        b[23] = 1;
        assert_eq!(sockaddr(&b).unwrap().to_string(), "[::1]:8443");
        assert!(parse(&[1, 2, 3]).is_none());
    }
}
