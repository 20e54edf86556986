//! The processes already running when a capture starts, read from /proc, as exec records
//! marked `snapshot` (their `ts` is the process's start time), so that an agent started before
//! the sensor still has its executable, arguments, working directory and ancestry.

use crate::assemble::Clock;
use crate::procfs;
use oisp_capture::ProcessExec;

/// Fields of `/proc/PID/stat` after the command name: (ppid, start time in clock ticks after
/// boot). The command name is in parentheses and may itself hold spaces and parentheses: the
/// fields start after the last `)`.
pub(crate) fn parse_stat(stat: &str) -> Option<(u32, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts with field 3 (state): ppid is field 4, starttime field 22.
    let ppid = fields.get(1)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((ppid, start))
}

/// `Uid:`/`Gid:` (real ids) of `/proc/PID/status`.
fn ids(status: &str) -> (u32, u32) {
    let id = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (id("Uid:"), id("Gid:"))
}

/// One running process, or `None` for kernel threads (no command line), processes gone while
/// being read, and unreadable ones.
fn read_one(pid: u32, clock: &Clock, ticks_per_s: u64, boot_to_mono: i128) -> Option<ProcessExec> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (ppid, start_ticks) = parse_stat(&stat)?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    if cmdline.is_empty() {
        return None;
    }
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim_end().to_string())
        .unwrap_or_default();
    let (uid, gid) =
        ids(&std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default());
    let since_boot = start_ticks as i128 * 1_000_000_000 / ticks_per_s.max(1) as i128;
    let mono = (since_boot - boot_to_mono).max(0) as u64;
    Some(ProcessExec {
        ts: clock.ts(mono),
        pid,
        ppid,
        uid,
        gid,
        comm,
        exe: procfs::exe(pid).unwrap_or_default(),
        args,
        cwd: procfs::cwd(pid),
        cgroup: procfs::cgroup(pid),
        snapshot: true,
    })
}

/// Every running user-space process but `own_pid`, parents before children.
pub(crate) fn running_processes(clock: &Clock, own_pid: u32) -> Vec<ProcessExec> {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    // Start times count from boot (CLOCK_BOOTTIME); records use CLOCK_MONOTONIC.
    let boot_to_mono =
        oisp_os::clock_ns(libc::CLOCK_BOOTTIME) - oisp_os::clock_ns(libc::CLOCK_MONOTONIC);
    let mut out: Vec<ProcessExec> = procfs::pids()
        .into_iter()
        .filter(|&p| p != own_pid)
        .filter_map(|p| read_one(p, clock, ticks, boot_to_mono))
        .collect();
    out.sort_by_key(|e| (e.ts.mono_ns, e.pid));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_read_after_the_last_parenthesis() {
        let stat = "4242 (my (odd) prog) S 17 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 \
                    987654 1000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(parse_stat(stat), Some((17, 987_654)));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S"), None);
    }

    #[test]
    fn this_process_and_its_parent_are_found_with_their_start_times() {
        let clock = Clock::now();
        let procs = running_processes(&clock, 0);
        let me = std::process::id();
        let mine = procs.iter().find(|p| p.pid == me).expect("this process");
        assert!(mine.snapshot);
        assert!(!mine.args.is_empty());
        assert!(mine.ts.mono_ns <= clock.now_ts().mono_ns);
        assert!(mine.ts.wall_ns > 1_600_000_000_000_000_000);
        let ppid = mine.ppid;
        assert!(procs.iter().any(|p| p.pid == ppid) || ppid <= 1);
        assert!(!running_processes(&clock, me).iter().any(|p| p.pid == me));
    }
}
