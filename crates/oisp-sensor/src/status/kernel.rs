//! Probes of what the running kernel and this process offer for eBPF capture.
//!
//! Every check reads only procfs/sysfs and never changes the system. Each result says what was
//! found and, when something is missing, the command or setting that fixes it.

use serde::Serialize;
use std::io::Read;
use std::path::Path;

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Present and usable.
    Ok,
    /// Usable, but something needs attention (the sensor can fix it itself, or it is optional).
    Warn,
    /// Missing: capture that needs it cannot run.
    Missing,
}

/// One line of the checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub state: State,
    pub detail: String,
    /// How to fix it; `None` when nothing needs fixing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Whether eBPF capture needs this item.
    pub required: bool,
}

impl Check {
    fn new(name: &'static str, required: bool, state: State, detail: impl Into<String>) -> Self {
        Check {
            name,
            state,
            detail: detail.into(),
            fix: None,
            required,
        }
    }
    fn fix(mut self, fix: impl Into<String>) -> Self {
        if self.state != State::Ok {
            self.fix = Some(fix.into());
        }
        self
    }
}

/// Kernel build options that matter, read from `/proc/config.gz` or `/boot/config-$(uname -r)`.
struct KernelConfig(Option<String>);

impl KernelConfig {
    fn load(release: &str) -> Self {
        if let Ok(f) = std::fs::File::open("/proc/config.gz") {
            let mut s = String::new();
            if flate2::read::GzDecoder::new(f)
                .read_to_string(&mut s)
                .is_ok()
            {
                return KernelConfig(Some(s));
            }
        }
        KernelConfig(std::fs::read_to_string(format!("/boot/config-{release}")).ok())
    }

    /// `Some(true/false)` when the config is readable, `None` when it is not.
    fn enabled(&self, option: &str) -> Option<bool> {
        let text = self.0.as_ref()?;
        let y = format!("{option}=y");
        Some(text.lines().any(|l| l.trim() == y))
    }
}

fn capability_bits() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("CapEff:"))?;
    u64::from_str_radix(line.trim_start_matches("CapEff:").trim(), 16).ok()
}

const CAP_DAC_READ_SEARCH: u32 = 2;
const CAP_SYS_PTRACE: u32 = 19;
const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

fn is_mounted(fstype: &str, path: &str) -> bool {
    std::fs::read_to_string("/proc/mounts")
        .map(|m| {
            m.lines().any(|l| {
                let mut f = l.split_whitespace();
                let (_, mnt, ty) = (f.next(), f.next(), f.next());
                mnt == Some(path) && ty == Some(fstype)
            })
        })
        .unwrap_or(false)
}

/// Runs every kernel check.
pub fn checks() -> Vec<Check> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let config = KernelConfig::load(&release);
    let mut out = Vec::new();

    let linux = cfg!(target_os = "linux");
    out.push(
        Check::new(
            "Linux kernel",
            true,
            if linux && !release.is_empty() { State::Ok } else { State::Missing },
            if release.is_empty() { "not Linux".to_string() } else { release.clone() },
        )
        .fix("eBPF capture needs Linux ≥ 5.8; elsewhere use `oisp-sensor replay` on captures made on Linux"),
    );

    let bpf_syscall = Path::new("/proc/sys/kernel/unprivileged_bpf_disabled").exists()
        || config.enabled("CONFIG_BPF_SYSCALL") == Some(true);
    out.push(
        Check::new(
            "BPF syscall (CONFIG_BPF_SYSCALL)",
            true,
            if bpf_syscall { State::Ok } else { State::Missing },
            if bpf_syscall { "available" } else { "not built into this kernel" },
        )
        .fix("use a kernel built with CONFIG_BPF_SYSCALL=y (every mainstream distribution kernel is)"),
    );

    let btf = Path::new("/sys/kernel/btf/vmlinux").exists();
    out.push(
        Check::new(
            "BTF (/sys/kernel/btf/vmlinux)",
            true,
            if btf { State::Ok } else { State::Missing },
            if btf { "present: CO-RE programs load without kernel headers" } else { "absent" },
        )
        .fix("use a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian ≥ 11, Ubuntu ≥ 20.10 ship one)"),
    );

    let uprobe = Path::new("/sys/bus/event_source/devices/uprobe").exists();
    out.push(
        Check::new(
            "uprobes (TLS plaintext)",
            true,
            if uprobe { State::Ok } else { State::Missing },
            if uprobe {
                "uprobe PMU present"
            } else {
                "no uprobe PMU in /sys/bus/event_source/devices"
            },
        )
        .fix("use a kernel built with CONFIG_UPROBES=y and CONFIG_UPROBE_EVENTS=y"),
    );

    let tracepoint = Path::new("/sys/bus/event_source/devices/tracepoint").exists();
    out.push(
        Check::new(
            "tracepoints (process, file, network)",
            true,
            if tracepoint {
                State::Ok
            } else {
                State::Missing
            },
            if tracepoint {
                "tracepoint PMU present"
            } else {
                "no tracepoint PMU"
            },
        )
        .fix("use a kernel built with CONFIG_TRACEPOINTS=y and CONFIG_FTRACE_SYSCALLS=y"),
    );

    let syscalls = config.enabled("CONFIG_FTRACE_SYSCALLS");
    out.push(
        Check::new(
            "syscall tracepoints (CONFIG_FTRACE_SYSCALLS)",
            false,
            match syscalls {
                Some(true) => State::Ok,
                Some(false) => State::Missing,
                None => State::Warn,
            },
            match syscalls {
                Some(true) => "enabled",
                Some(false) => "disabled: file and connect events unavailable",
                None => "kernel config not readable; assumed present",
            },
        )
        .fix("file.* and network.connect need CONFIG_FTRACE_SYSCALLS=y"),
    );

    let kprobe = Path::new("/sys/bus/event_source/devices/kprobe").exists();
    out.push(
        Check::new(
            "kprobes (optional)",
            false,
            if kprobe { State::Ok } else { State::Warn },
            if kprobe {
                "present"
            } else {
                "absent: the sensor uses tracepoints and uprobes instead"
            },
        )
        .fix("nothing to do: no probe of this sensor needs kprobes"),
    );

    let tracefs = is_mounted("tracefs", "/sys/kernel/tracing")
        || is_mounted("tracefs", "/sys/kernel/debug/tracing");
    out.push(
        Check::new(
            "tracefs mounted",
            false,
            if tracefs { State::Ok } else { State::Warn },
            if tracefs {
                "mounted"
            } else {
                "not mounted (the sensor mounts it itself when run as root)"
            },
        )
        .fix("mount -t tracefs nodev /sys/kernel/tracing"),
    );

    let caps = capability_bits();
    let has = |bit: u32| caps.map(|c| c & (1u64 << bit) != 0).unwrap_or(false);
    let bpf_ok = has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
    out.push(
        Check::new(
            "privileges (CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN)",
            true,
            if bpf_ok { State::Ok } else { State::Missing },
            match caps {
                None => "could not read capabilities".to_string(),
                Some(_) => format!(
                    "CAP_BPF {}, CAP_PERFMON {}, CAP_SYS_ADMIN {}",
                    yes_no(has(CAP_BPF)),
                    yes_no(has(CAP_PERFMON)),
                    yes_no(has(CAP_SYS_ADMIN))
                ),
            },
        )
        .fix("run as root (sudo oisp-sensor record) or grant: setcap cap_bpf,cap_perfmon,cap_sys_admin,cap_sys_ptrace,cap_dac_read_search+ep $(command -v oisp-sensor)"),
    );

    // Loading programs is not enough: perf's uprobe interface wants CAP_SYS_ADMIN again since a
    // 2025 security fix, and other users' executables need ptrace and read-search rights.
    let lacking: Vec<&str> = [
        (CAP_SYS_ADMIN, "CAP_SYS_ADMIN: plain uprobes are refused (only session uprobes and tracepoints attach: no Go, BoringSSL, rustls or NSS hooks, no SNI)"),
        (CAP_SYS_PTRACE, "CAP_SYS_PTRACE: other users' processes are not hooked"),
        (CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH: executables in directories root may not search are not hooked"),
    ]
    .iter()
    .filter(|(bit, _)| caps.is_some() && !has(*bit))
    .map(|(_, why)| *why)
    .collect();
    out.push(
        Check::new(
            "privileges for every TLS hook (CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH)",
            false,
            if lacking.is_empty() { State::Ok } else { State::Warn },
            if lacking.is_empty() {
                "all present".to_string()
            } else {
                format!("missing {}", lacking.join("; "))
            },
        )
        .fix("run as root, or with the capabilities of deploy/systemd/oisp-sensor.service (docs/deploy.md)"),
    );

    out
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// True when every required check passed.
pub fn capture_possible(checks: &[Check]) -> bool {
    checks
        .iter()
        .all(|c| !c.required || c.state != State::Missing)
}
