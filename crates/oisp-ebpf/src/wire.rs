//! Parsing of the records the BPF programs write, laid out in `bpf/oisp.h` (the one header
//! shared by every program). Offsets below mirror that header; `tests::layout` checks them.

/// Record kinds (`oisp_hdr.kind`).
pub const EV_TLS_DATA: u32 = 1;
pub const EV_TLS_FD: u32 = 2;
pub const EV_TLS_FREE: u32 = 3;
pub const EV_EXEC: u32 = 4;
pub const EV_EXIT: u32 = 5;
pub const EV_FORK: u32 = 6;
pub const EV_FILE_OPEN: u32 = 7;
pub const EV_FILE_WRITE: u32 = 8;
pub const EV_FILE_RENAME: u32 = 9;
pub const EV_FILE_UNLINK: u32 = 10;
pub const EV_CONNECT: u32 = 11;
pub const EV_TLS_SNI: u32 = 12;
pub const EV_TLS_ALPN: u32 = 13;

pub const CHUNK: usize = 16384;
pub const COMM_LEN: usize = 16;
pub const PATH_LEN: usize = 512;
pub const ARGS_LEN: usize = 4096;
pub const SOCKADDR_LEN: usize = 28;
pub const NAME_LEN: usize = 256;
const HDR: usize = 24;

/// Indexes of the `lost` array map.
pub const LOST_TLS: u32 = 0;
pub const LOST_SYS: u32 = 1;
pub const LOST_TRUNCATED_BYTES: u32 = 2;
/// Slots of the per-CPU skip counters (map `skips`), also the values of map `muted`
/// (OISP_SKIP_* in oisp.h).
pub const SKIP_SERVER: u32 = 0;
pub const SKIP_IGNORED: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hdr {
    pub kind: u32,
    pub pid: u32,
    pub tid: u32,
    pub ts_ns: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev<'a> {
    TlsData {
        h: Hdr,
        ssl: u64,
        seq: u64,
        truncated: u32,
        fd: i32,
        egress: bool,
        is_static: bool,
        data: &'a [u8],
    },
    TlsFd {
        h: Hdr,
        ssl: u64,
        fd: i32,
        /// (local, remote) of the socket as the kernel saw it, when it is a connected inet
        /// socket.
        addrs: Option<(std::net::SocketAddr, std::net::SocketAddr)>,
    },
    TlsFree {
        h: Hdr,
        ssl: u64,
    },
    /// The SNI host name a client set on a session.
    TlsSni {
        h: Hdr,
        ssl: u64,
        name: String,
    },
    /// The ALPN protocol negotiated on a session.
    TlsAlpn {
        h: Hdr,
        ssl: u64,
        name: String,
    },
    Exec {
        h: Hdr,
        ppid: u32,
        uid: u32,
        gid: u32,
        comm: String,
        filename: String,
        args: Vec<String>,
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
        result: i64,
        bytes: u64,
        fd: i32,
        flags: u32,
        dirfd: i32,
        dirfd2: i32,
        path: String,
        path2: String,
    },
    Connect {
        h: Hdr,
        result: i64,
        fd: i32,
        sock_type: u32,
        addr: [u8; SOCKADDR_LEN],
        addrlen: u32,
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
    u64_at(b, 16).unwrap_or(0)
}

/// Parses one ring buffer record; `None` for a record too short for its kind or of an unknown
/// kind.
pub fn parse(b: &[u8]) -> Option<Ev<'_>> {
    let h = Hdr {
        kind: u32_at(b, 0)?,
        pid: u32_at(b, 4)?,
        tid: u32_at(b, 8)?,
        ts_ns: u64_at(b, 16)?,
    };
    let p = HDR;
    Some(match h.kind {
        EV_TLS_DATA => {
            // ssl u64, seq u64, len u32, truncated u32, fd i32, dir u8, is_static u8, pad[2]
            let len = u32_at(b, p + 16)? as usize;
            let data_off = p + 32;
            let data = b.get(data_off..data_off + len.min(CHUNK))?;
            Ev::TlsData {
                h,
                ssl: u64_at(b, p)?,
                seq: u64_at(b, p + 8)?,
                truncated: u32_at(b, p + 20)?,
                fd: i32_at(b, p + 24)?,
                egress: *b.get(p + 28)? == 0,
                is_static: *b.get(p + 29)? != 0,
                data,
            }
        }
        EV_TLS_FD => {
            // ssl u64, fd i32, family u16, lport u16, rport u16, pad[3] u16, laddr[16], raddr[16]
            let family = u16_at(b, p + 12)?;
            let lport = u16_at(b, p + 14)?;
            let rport = u16_at(b, p + 16)?;
            let laddr: [u8; 16] = b.get(p + 24..p + 40)?.try_into().ok()?;
            let raddr: [u8; 16] = b.get(p + 40..p + 56)?.try_into().ok()?;
            Ev::TlsFd {
                h,
                ssl: u64_at(b, p)?,
                fd: i32_at(b, p + 8)?,
                addrs: inet_pair(family, (laddr, lport), (raddr, rport)),
            }
        }
        EV_TLS_FREE => Ev::TlsFree {
            h,
            ssl: u64_at(b, p)?,
        },
        EV_TLS_SNI | EV_TLS_ALPN => {
            // ssl u64, len u32, pad u32, name[256]
            let len = (u32_at(b, p + 8)? as usize).min(NAME_LEN);
            let raw = b.get(p + 16..p + 16 + len)?;
            let name = String::from_utf8_lossy(raw).into_owned();
            let ssl = u64_at(b, p)?;
            if h.kind == EV_TLS_SNI {
                Ev::TlsSni { h, ssl, name }
            } else {
                Ev::TlsAlpn { h, ssl, name }
            }
        }
        EV_EXEC => {
            // ppid, uid, gid, args_len, comm[16], filename[512], args[4096]
            let args_len = (u32_at(b, p + 12)? as usize).min(ARGS_LEN);
            let comm_off = p + 16;
            let fname_off = comm_off + COMM_LEN;
            let args_off = fname_off + PATH_LEN;
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
                ppid: u32_at(b, p)?,
                uid: u32_at(b, p + 4)?,
                gid: u32_at(b, p + 8)?,
                comm: cstr(b.get(comm_off..fname_off)?),
                filename: cstr(b.get(fname_off..args_off)?),
                args,
            }
        }
        EV_EXIT => Ev::Exit {
            h,
            exit_code: i32_at(b, p)?,
        },
        EV_FORK => Ev::Fork {
            h,
            parent: u32_at(b, p)?,
            child: u32_at(b, p + 4)?,
        },
        EV_FILE_OPEN | EV_FILE_WRITE | EV_FILE_RENAME | EV_FILE_UNLINK => {
            // result i64, bytes u64, fd i32, flags u32, dirfd i32, dirfd2 i32, path, path2
            let path_off = p + 32;
            let path2_off = path_off + PATH_LEN;
            Ev::File {
                h,
                result: u64_at(b, p)? as i64,
                bytes: u64_at(b, p + 8)?,
                fd: i32_at(b, p + 16)?,
                flags: u32_at(b, p + 20)?,
                dirfd: i32_at(b, p + 24)?,
                dirfd2: i32_at(b, p + 28)?,
                path: b.get(path_off..path2_off).map(cstr).unwrap_or_default(),
                path2: b
                    .get(path2_off..path2_off + PATH_LEN)
                    .map(cstr)
                    .unwrap_or_default(),
            }
        }
        EV_CONNECT => {
            // result i64, fd i32, addrlen u32, addr[28], sock_type u32
            let mut addr = [0u8; SOCKADDR_LEN];
            addr.copy_from_slice(b.get(p + 16..p + 16 + SOCKADDR_LEN)?);
            Ev::Connect {
                h,
                result: u64_at(b, p)? as i64,
                fd: i32_at(b, p + 8)?,
                addrlen: u32_at(b, p + 12)?,
                addr,
                sock_type: u32_at(b, p + 16 + SOCKADDR_LEN)?,
            }
        }
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
                ssl,
                seq,
                fd,
                egress,
                is_static,
                data,
                ..
            } => {
                assert_eq!((h.pid, h.tid, h.ts_ns), (42, 43, 1000));
                assert_eq!(
                    (ssl, seq, fd, egress, is_static),
                    (0xdead, 7, 5, false, true)
                );
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
            Ev::TlsFd { ssl, fd, addrs, .. } => {
                assert_eq!((ssl, fd), (0xabc, 7));
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
                (EV_TLS_SNI, Ev::TlsSni { ssl, name, .. })
                | (EV_TLS_ALPN, Ev::TlsAlpn { ssl, name, .. }) => {
                    assert_eq!(ssl, 0xbeef);
                    assert_eq!(name.as_bytes(), text);
                }
                (_, other) => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn exec_args() {
        let mut v = hdr(EV_EXEC);
        for x in [1u32, 1000, 1000, 8] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        let mut comm = [0u8; COMM_LEN];
        comm[..4].copy_from_slice(b"curl");
        v.extend_from_slice(&comm);
        let mut f = vec![0u8; PATH_LEN];
        f[..13].copy_from_slice(b"/usr/bin/curl");
        v.extend_from_slice(&f);
        v.extend_from_slice(b"curl\0-v\0");
        match parse(&v).unwrap() {
            Ev::Exec {
                comm,
                filename,
                args,
                ppid,
                ..
            } => {
                assert_eq!(comm, "curl");
                assert_eq!(filename, "/usr/bin/curl");
                assert_eq!(args, vec!["curl", "-v"]);
                assert_eq!(ppid, 1);
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
