//! Operating-system conventions the sensor follows, in one place so every crate agrees and the
//! non-Linux builds have one file to read: whether we run as the superuser, where persistent
//! data (the store, the proxy's CA) and runtime files (`record`'s state file) live, and the host
//! name; and how files only their owner can read are made ([`private`]).
//!
//! | | data | runtime |
//! |---|---|---|
//! | Linux, root | `/var/lib/oisp-sensor` | `/run/oisp-sensor` |
//! | Unix user (Linux, macOS) | `$XDG_DATA_HOME/oisp-sensor` (`~/.local/share/oisp-sensor`) | `$XDG_RUNTIME_DIR/oisp-sensor` (else the temp dir) |
//! | Windows | `%LOCALAPPDATA%\oisp-sensor` | `%TEMP%\oisp-sensor` |

use std::path::PathBuf;

pub mod private;

/// The directory name under every base directory.
const APP: &str = "oisp-sensor";

/// Whether the effective user is the superuser (uid 0). Always false on Windows, where the
/// sensor keeps per-user paths even when elevated.
pub fn is_superuser() -> bool {
    #[cfg(unix)]
    {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() == 0 }
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// Where persistent data lives (see the module table). Not created here.
pub fn data_dir() -> PathBuf {
    data_dir_in(&Env::current())
}

/// Where files that live only while a command runs go (see the module table). Not created here.
pub fn runtime_dir() -> PathBuf {
    runtime_dir_in(&Env::current())
}

/// What the directory rules read: privilege and environment variables.
struct Env {
    superuser: bool,
    var: fn(&str) -> Option<PathBuf>,
}

impl Env {
    fn current() -> Env {
        Env {
            superuser: is_superuser(),
            var: |name| {
                std::env::var_os(name)
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            },
        }
    }
}

fn data_dir_in(env: &Env) -> PathBuf {
    if cfg!(target_os = "linux") && env.superuser {
        return PathBuf::from("/var/lib").join(APP);
    }
    if cfg!(windows) {
        return (env.var)("LOCALAPPDATA")
            .unwrap_or_else(std::env::temp_dir)
            .join(APP);
    }
    (env.var)("XDG_DATA_HOME")
        .or_else(|| (env.var)("HOME").map(|h| h.join(".local").join("share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join(APP)
}

fn runtime_dir_in(env: &Env) -> PathBuf {
    if cfg!(target_os = "linux") && env.superuser {
        return PathBuf::from("/run").join(APP);
    }
    if cfg!(unix) {
        if let Some(dir) = (env.var)("XDG_RUNTIME_DIR") {
            return dir.join(APP);
        }
    }
    std::env::temp_dir().join(APP)
}

/// Nanoseconds on `clock` (`libc::CLOCK_MONOTONIC`, `CLOCK_REALTIME`, `CLOCK_BOOTTIME`…), as
/// the kernel stamps its records; signed, so that differences between clocks stay exact.
#[cfg(unix)]
pub fn clock_ns(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128
}

/// Whether process `pid` exists (Unix: `kill(pid, 0)` succeeds or is refused for permission;
/// elsewhere this cannot tell and says yes).
pub fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        if pid <= 0 {
            return false;
        }
        // SAFETY: signal 0 only checks that the process exists; nothing is sent.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// This machine's host name; `unknown-host` when the system gives none (or not UTF-8).
pub fn hostname() -> String {
    #[cfg(unix)]
    let name = {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for `buf.len()` bytes; we stop at the first NUL or the
        // buffer's end, whether or not the name fit.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        (rc == 0)
            .then(|| std::str::from_utf8(&buf[..end]).ok().map(str::to_owned))
            .flatten()
    };
    #[cfg(not(unix))]
    let name = std::env::var("COMPUTERNAME").ok();
    name.filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirs_end_in_the_app_name() {
        assert!(data_dir().ends_with(APP));
        assert!(runtime_dir().ends_with(APP));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_dirs_for_root_and_users() {
        let root = Env {
            superuser: true,
            var: |_| Some(PathBuf::from("/ignored")),
        };
        assert_eq!(data_dir_in(&root), PathBuf::from("/var/lib/oisp-sensor"));
        assert_eq!(runtime_dir_in(&root), PathBuf::from("/run/oisp-sensor"));
        let xdg = Env {
            superuser: false,
            var: |n| match n {
                "XDG_DATA_HOME" => Some(PathBuf::from("/tmp/xdg")),
                "XDG_RUNTIME_DIR" => Some(PathBuf::from("/run/user/1000")),
                "HOME" => Some(PathBuf::from("/home/u")),
                _ => None,
            },
        };
        assert_eq!(data_dir_in(&xdg), PathBuf::from("/tmp/xdg/oisp-sensor"));
        assert_eq!(
            runtime_dir_in(&xdg),
            PathBuf::from("/run/user/1000/oisp-sensor")
        );
        let home_only = Env {
            superuser: false,
            var: |n| (n == "HOME").then(|| PathBuf::from("/home/u")),
        };
        assert_eq!(
            data_dir_in(&home_only),
            PathBuf::from("/home/u/.local/share/oisp-sensor")
        );
        assert_eq!(
            runtime_dir_in(&home_only),
            std::env::temp_dir().join("oisp-sensor")
        );
    }

    #[test]
    fn hostname_is_the_kernels() {
        let name = hostname();
        assert!(!name.is_empty());
        #[cfg(target_os = "linux")]
        if let Ok(kernel) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
            assert_eq!(name, kernel.trim());
        }
    }

    #[cfg(unix)]
    #[test]
    fn processes_alive_and_gone() {
        assert!(process_alive(std::process::id()));
        assert!(process_alive(1), "init exists (EPERM counts as alive)");
        assert!(!process_alive(0));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!process_alive(pid), "a reaped child is gone");
    }

    #[test]
    fn superuser_matches_proc() {
        #[cfg(target_os = "linux")]
        {
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            let euid = status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2))
                .unwrap();
            assert_eq!(is_superuser(), euid == "0");
        }
    }
}
