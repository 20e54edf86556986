//! Timestamps of the records the proxy produces: wall clock and CLOCK_MONOTONIC, as the eBPF
//! source stamps its own.

use oisp_capture::Timestamp;
use std::time::{SystemTime, UNIX_EPOCH};

/// Reads both clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock;

fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

impl Clock {
    /// Now.
    pub fn now(&self) -> Timestamp {
        #[cfg(unix)]
        let mono = oisp_os::clock_ns(libc::CLOCK_MONOTONIC).max(0) as u64;
        #[cfg(not(unix))]
        let mono = {
            use std::sync::OnceLock;
            static BASE: OnceLock<std::time::Instant> = OnceLock::new();
            BASE.get_or_init(std::time::Instant::now)
                .elapsed()
                .as_nanos() as u64
        };
        Timestamp {
            wall_ns: wall_ns(),
            mono_ns: mono,
        }
    }

    /// The time `ticks` clock ticks after boot (a process start time of /proc/PID/stat).
    #[cfg(target_os = "linux")]
    pub fn at_boot_ticks(&self, ticks: u64) -> Timestamp {
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as i128;
        let since_boot = ticks as i128 * 1_000_000_000 / hz;
        let boot = oisp_os::clock_ns(libc::CLOCK_BOOTTIME);
        let mono_now = oisp_os::clock_ns(libc::CLOCK_MONOTONIC);
        let now = self.now();
        // How long ago the process started, applied to both clocks.
        let ago = (boot - since_boot).max(0);
        Timestamp {
            wall_ns: (now.wall_ns as i128 - ago).max(0) as u64,
            mono_ns: (mono_now - ago).max(0) as u64,
        }
    }
}
