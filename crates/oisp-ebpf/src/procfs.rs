//! What the kernel records don't carry, read from /proc: socket addresses of an fd, whether a
//! local port is listening (server side), paths of fds, cwd and cgroup, mapped files.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

/// The socket inode behind `/proc/PID/fd/FD`, if it is a socket.
pub fn socket_inode(pid: u32, fd: i32) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
    let s = link.to_str()?;
    s.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// Addresses of a TCP socket and whether its local port has a listener in the process's network
/// namespace (then the process accepted the connection: the server side).
pub struct SockInfo {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub accepted: bool,
}

fn parse_hex_addr(s: &str) -> Option<SocketAddr> {
    let (ip, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip: IpAddr = match ip.len() {
        8 => {
            let v = u32::from_str_radix(ip, 16).ok()?;
            Ipv4Addr::from(v.to_le_bytes()).into()
        }
        32 => {
            let mut o = [0u8; 16];
            for (i, chunk) in o.chunks_mut(4).enumerate() {
                let w = u32::from_str_radix(&ip[i * 8..i * 8 + 8], 16).ok()?;
                chunk.copy_from_slice(&w.to_le_bytes());
            }
            let v6 = Ipv6Addr::from(o);
            match v6.to_ipv4_mapped() {
                Some(v4) => v4.into(),
                None => v6.into(),
            }
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Rows of /proc/PID/net/tcp and tcp6: (local, remote, state, inode).
fn tcp_rows(pid: u32) -> Vec<(SocketAddr, SocketAddr, u8, u64)> {
    tcp_rows_at(&format!("/proc/{pid}/net"))
}

fn tcp_rows_at(dir: &str) -> Vec<(SocketAddr, SocketAddr, u8, u64)> {
    let mut rows = Vec::new();
    for f in ["tcp", "tcp6"] {
        let Ok(text) = std::fs::read_to_string(format!("{dir}/{f}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 10 {
                continue;
            }
            let (Some(l), Some(r)) = (parse_hex_addr(cols[1]), parse_hex_addr(cols[2])) else {
                continue;
            };
            let state = u8::from_str_radix(cols[3], 16).unwrap_or(0);
            let inode = cols[9].parse().unwrap_or(0);
            rows.push((l, r, state, inode));
        }
    }
    rows
}

const TCP_LISTEN: u8 = 0x0a;

pub fn sock_info(pid: u32, fd: i32) -> Option<SockInfo> {
    let ino = socket_inode(pid, fd)?;
    let rows = tcp_rows(pid);
    let &(local, remote, _, _) = rows.iter().find(|r| r.3 == ino)?;
    let accepted = rows.iter().any(|&(l, _, st, _)| {
        st == TCP_LISTEN
            && l.port() == local.port()
            && (l.ip().is_unspecified() || l.ip() == local.ip())
    });
    Some(SockInfo {
        local,
        remote,
        accepted,
    })
}

/// Whether `local`'s port has a TCP listener in the network namespace of `pid` (or of this
/// process when `pid` is gone): then a socket with that local address was accepted.
pub fn has_listener(pid: u32, local: SocketAddr) -> bool {
    let mut rows = tcp_rows_at(&format!("/proc/{pid}/net"));
    if rows.is_empty() {
        rows = tcp_rows_at("/proc/self/net");
    }
    rows.iter().any(|&(l, _, st, _)| {
        st == TCP_LISTEN
            && l.port() == local.port()
            && (l.ip().is_unspecified() || l.ip() == local.ip())
    })
}

pub fn fd_path(pid: u32, fd: i32) -> Option<String> {
    let p = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
    Some(p.to_string_lossy().into_owned())
}

pub fn cwd(pid: u32) -> Option<String> {
    let p = std::fs::read_link(format!("/proc/{pid}/cwd")).ok()?;
    Some(p.to_string_lossy().into_owned())
}

pub fn exe(pid: u32) -> Option<String> {
    let p = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    Some(p.to_string_lossy().into_owned())
}

/// The process's cgroup path: the unified (v2) hierarchy's (`0::/...`), unless that is the root
/// and a v1 hierarchy places the process deeper (hybrid hosts, where runtimes such as runc put
/// containers in the v1 controllers only): then the first such v1 path.
pub fn cgroup(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    pick_cgroup(&text)
}

fn pick_cgroup(text: &str) -> Option<String> {
    let path = |l: &str| l.splitn(3, ':').nth(2).map(str::to_string);
    let unified = text.lines().find(|l| l.starts_with("0::")).and_then(path);
    if unified.as_deref().is_some_and(|p| p != "/") {
        return unified;
    }
    let deeper_v1 = text
        .lines()
        .filter(|l| !l.starts_with("0::"))
        .filter_map(path)
        .find(|p| p != "/");
    deeper_v1.or(unified)
}

/// Resolves a path given to a *at syscall: absolute as is, else relative to `dirfd`
/// (AT_FDCWD = -100: the cwd).
pub fn resolve_at(pid: u32, dirfd: i32, path: &str) -> String {
    if path.starts_with('/') || path.is_empty() {
        return path.to_string();
    }
    let base = if dirfd == -100 {
        cwd(pid)
    } else {
        fd_path(pid, dirfd)
    };
    match base {
        Some(b) => Path::new(&b).join(path).to_string_lossy().into_owned(),
        None => path.to_string(),
    }
}

/// Every process id in /proc.
pub fn pids() -> Vec<u32> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Files mapped by a process whose path `wanted` accepts, as paths reachable from here (through
/// /proc/PID/root, so libraries inside containers resolve to the container's file).
pub fn mapped_files(pid: u32, wanted: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let Ok(maps) = std::fs::read_to_string(format!("/proc/{pid}/maps")) else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for line in maps.lines() {
        let Some(path) = line.split_whitespace().nth(5) else {
            continue;
        };
        if path.starts_with('/') && wanted(path) && seen.insert(path.to_string()) {
            out.push(PathBuf::from(format!("/proc/{pid}/root{path}")));
        }
    }
    out
}

/// (dev, inode) of a file.
pub fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_addrs() {
        assert_eq!(
            parse_hex_addr("0100007F:01BB").unwrap().to_string(),
            "127.0.0.1:443"
        );
        assert_eq!(
            parse_hex_addr("00000000000000000000000001000000:1F90")
                .unwrap()
                .to_string(),
            "[::1]:8080"
        );
        assert_eq!(
            parse_hex_addr("0000000000000000FFFF00000100007F:0050")
                .unwrap()
                .to_string(),
            "127.0.0.1:80"
        );
    }

    #[test]
    fn cgroup_lines() {
        let id = "b23c08d5b2bf98f1e7f32bbc0c539838eea4a9ac673a9098de56f409d30b3607";
        let hybrid = format!("9:name=systemd:/libpod_parent/libpod-{id}\n1:cpu:/\n0::/\n");
        assert_eq!(
            pick_cgroup(&hybrid),
            Some(format!("/libpod_parent/libpod-{id}"))
        );
        let v2 = "1:cpu:/x\n0::/system.slice/ssh.service\n";
        assert_eq!(
            pick_cgroup(v2).as_deref(),
            Some("/system.slice/ssh.service")
        );
        assert_eq!(pick_cgroup("0::/\n").as_deref(), Some("/"));
        assert_eq!(
            pick_cgroup("3:pids:/docker/x\n").as_deref(),
            Some("/docker/x")
        );
        assert_eq!(pick_cgroup("garbage"), None);
    }

    #[test]
    fn paths() {
        let me = std::process::id();
        let libc = mapped_files(me, |p| p.contains("libc.so"));
        assert!(libc
            .iter()
            .all(|p| p.starts_with(format!("/proc/{me}/root/"))));
        assert_eq!(resolve_at(1, -100, "/etc/hosts"), "/etc/hosts");
    }
}
