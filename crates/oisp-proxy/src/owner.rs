//! Which local process owns a client connection, and what that process is.
//!
//! Linux: the client's socket (local address = the peer address the proxy sees, remote = the
//! proxy's listening address) is found in /proc/net/tcp{,6}, its inode among /proc/*/fd links.
//! Without root only the user's own processes are visible; anything not found is `None`. Other
//! systems: always `None`.

use crate::clock::Clock;
use oisp_capture::ProcessExec;
use std::net::SocketAddr;

/// The pid owning the TCP socket whose local end is `client` and remote end `server`.
pub fn socket_owner(client: SocketAddr, server: SocketAddr) -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        let inode = linux::socket_inode(client, server)?;
        linux::pid_of_inode(inode)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (client, server);
        None
    }
}

/// `pid` and its ancestors (child first, stopping before pid 1), as exec records marked
/// `snapshot` (`ts` = the process's start time), for the decoder's process context.
pub fn process_chain(pid: u32, clock: &Clock) -> Vec<ProcessExec> {
    #[cfg(target_os = "linux")]
    {
        let mut out = Vec::new();
        let mut p = pid;
        while p > 1 && out.len() < 64 {
            match linux::process(p, clock) {
                Some(e) => {
                    p = e.ppid;
                    out.push(e);
                }
                None => break,
            }
        }
        out
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (pid, clock);
        Vec::new()
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    /// An address of /proc/net/tcp{,6}: hex IP (in 32-bit words of host byte order) `:` hex port.
    pub(super) fn parse_addr(s: &str) -> Option<SocketAddr> {
        let (ip, port) = s.split_once(':')?;
        let port = u16::from_str_radix(port, 16).ok()?;
        let ip = match ip.len() {
            8 => IpAddr::V4(Ipv4Addr::from(
                u32::from_str_radix(ip, 16).ok()?.to_ne_bytes(),
            )),
            32 => {
                let mut b = [0u8; 16];
                for i in 0..4 {
                    let w = u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok()?;
                    b[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
                }
                IpAddr::V6(Ipv6Addr::from(b))
            }
            _ => return None,
        };
        Some(SocketAddr::new(ip, port))
    }

    /// Same endpoint, an IPv4 address and its IPv4-mapped IPv6 form counted equal.
    fn same(a: SocketAddr, b: SocketAddr) -> bool {
        let canon = |ip: IpAddr| match ip {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        a.port() == b.port() && canon(a.ip()) == canon(b.ip())
    }

    pub(super) fn socket_inode(client: SocketAddr, server: SocketAddr) -> Option<u64> {
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let Ok(text) = std::fs::read_to_string(table) else {
                continue;
            };
            for line in text.lines().skip(1) {
                let f: Vec<&str> = line.split_whitespace().collect();
                if f.len() < 10 {
                    continue;
                }
                let (Some(local), Some(remote)) = (parse_addr(f[1]), parse_addr(f[2])) else {
                    continue;
                };
                if same(local, client) && same(remote, server) {
                    return f[9].parse().ok().filter(|&i: &u64| i != 0);
                }
            }
        }
        None
    }

    pub(super) fn pid_of_inode(inode: u64) -> Option<u32> {
        let want = format!("socket:[{inode}]");
        let me = std::process::id();
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if pid == me {
                continue;
            }
            let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
                continue;
            };
            for fd in fds.flatten() {
                if std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == want.as_str()) {
                    return Some(pid);
                }
            }
        }
        None
    }

    /// Fields after the command name of /proc/PID/stat: (ppid, start time in clock ticks).
    pub(super) fn parse_stat(stat: &str) -> Option<(u32, u64)> {
        let rest = &stat[stat.rfind(')')? + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        Some((f.get(1)?.parse().ok()?, f.get(19)?.parse().ok()?))
    }

    fn id_of(status: &str, key: &str) -> u32 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    pub(super) fn process(pid: u32, clock: &Clock) -> Option<ProcessExec> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (ppid, start_ticks) = parse_stat(&stat)?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|c| c.trim_end().to_string())
            .unwrap_or_default();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let link = |what: &str| {
            std::fs::read_link(format!("/proc/{pid}/{what}"))
                .ok()
                .map(|p| p.to_string_lossy().into_owned())
        };
        let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .ok()
            .and_then(|c| {
                c.lines()
                    .next()
                    .and_then(|l| l.rsplit(':').next())
                    .map(String::from)
            });
        Some(ProcessExec {
            ts: clock.at_boot_ticks(start_ticks),
            pid,
            ppid,
            uid: id_of(&status, "Uid:"),
            gid: id_of(&status, "Gid:"),
            comm,
            exe: link("exe").unwrap_or_default(),
            args,
            cwd: link("cwd"),
            cgroup,
            snapshot: true,
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn proc_net_addresses_parse() {
            assert_eq!(
                parse_addr("0100007F:1F90"),
                Some("127.0.0.1:8080".parse().unwrap())
            );
            assert_eq!(
                parse_addr("00000000000000000000000001000000:0050"),
                Some("[::1]:80".parse().unwrap())
            );
            assert_eq!(parse_addr("zz:1"), None);
            assert_eq!(
                parse_stat("1 (a (b)) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 555 0"),
                Some((7, 555))
            );
        }

        #[test]
        fn the_owner_of_a_local_connection_is_found() {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let server = l.local_addr().unwrap();
            // A child process owns the client socket (the lookup skips this process).
            let mut child = std::process::Command::new("python3")
                .args([
                    "-c",
                    &format!(
                        "import socket,time; s=socket.create_connection(('127.0.0.1',{})); time.sleep(5)",
                        server.port()
                    ),
                ])
                .spawn()
                .unwrap();
            let (_sock, peer) = l.accept().unwrap();
            let pid = super::super::socket_owner(peer, server);
            let _ = child.kill();
            let _ = child.wait();
            assert_eq!(pid, Some(child.id()));
        }
    }
}
