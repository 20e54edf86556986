//! Before anything attaches: what the process and kernel must offer (capabilities, BTF, tracefs,
//! session uprobes), and opening and loading the BPF object with only the programs the options
//! need.

use crate::options::{CaptureError, CaptureOptions};
use crate::probes;
use crate::skel::{OispSkel, OispSkelBuilder};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::OpenObject;
use std::mem::MaybeUninit;
use std::path::Path;

/// Checks what capture needs from this process and kernel, mounting tracefs when it is missing.
pub(crate) fn preflight() -> Result<(), CaptureError> {
    if let Some(missing) =
        missing_capabilities(&std::fs::read_to_string("/proc/self/status").unwrap_or_default())
    {
        return Err(CaptureError::NotRoot(missing));
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Err(CaptureError::NoBtf);
    }
    ensure_tracefs()?;
    // libbpf's own messages would interleave with our output; errors come back as values.
    // OISP_BPF_LOG=1 keeps them (on stderr), with the verifier's log of a program it rejects.
    if std::env::var("OISP_BPF_LOG").as_deref() != Ok("1") {
        libbpf_rs::set_print(None);
    }
    Ok(())
}

/// Whether the running kernel has session uprobes (6.13+), unless `OISP_NO_UPROBE_SESSION=1`
/// asks for the uprobe/uretprobe pairs (for comparisons).
pub(crate) fn want_session_uprobes() -> bool {
    if std::env::var("OISP_NO_UPROBE_SESSION").as_deref() == Ok("1") {
        return false;
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    kernel_at_least(&release, (6, 13))
}

/// `release` (`uname -r`, e.g. "6.18.44-fc") is at least `min` (major, minor).
fn kernel_at_least(release: &str, min: (u32, u32)) -> bool {
    let mut parts = release.trim().split(['.', '-']);
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    match (major, minor) {
        (Some(a), Some(b)) => (a, b) >= min,
        _ => false,
    }
}

/// What this process lacks for eBPF capture, from the `CapEff` line of /proc/self/status:
/// `None` when it has CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON.
fn missing_capabilities(status: &str) -> Option<String> {
    const CAP_SYS_ADMIN: u32 = 21;
    const CAP_PERFMON: u32 = 38;
    const CAP_BPF: u32 = 39;
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    let has = |c: u32| eff & (1u64 << c) != 0;
    if has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON)) {
        return None;
    }
    let missing: Vec<&str> = [(CAP_BPF, "CAP_BPF"), (CAP_PERFMON, "CAP_PERFMON")]
        .iter()
        .filter(|(c, _)| !has(*c))
        .map(|(_, n)| *n)
        .collect();
    Some(missing.join(" + "))
}

fn ensure_tracefs() -> Result<(), CaptureError> {
    if Path::new("/sys/kernel/tracing/events").is_dir()
        || Path::new("/sys/kernel/debug/tracing/events").is_dir()
    {
        return Ok(());
    }
    let target = c"/sys/kernel/tracing";
    let fstype = c"tracefs";
    let src = c"nodev";
    // SAFETY: valid NUL-terminated strings; a plain mount without data.
    let rc = unsafe {
        libc::mount(
            src.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(CaptureError::NoTracefs(
            std::io::Error::last_os_error().to_string(),
        ));
    }
    Ok(())
}

/// Opens and loads the BPF object for `opts`: the kernel-side filters set, the programs the
/// options need marked for loading (the TLS data probes as session uprobes when `session`, as
/// uprobe/uretprobe pairs otherwise), the layout anchor map left uncreated.
pub(crate) fn load(
    opts: &CaptureOptions,
    session: bool,
) -> Result<OispSkel<'static>, CaptureError> {
    // The skeleton borrows its object storage for its whole life; a capture lives until the
    // process ends, so the storage is leaked (once per capture).
    let storage: &'static mut MaybeUninit<OpenObject> = Box::leak(Box::new(MaybeUninit::uninit()));
    let builder = OispSkelBuilder::default();
    let mut open = builder
        .open(storage)
        .map_err(|e| CaptureError::Load(e.to_string()))?;
    if let Some(ro) = open.maps.rodata_data.as_deref_mut() {
        ro.self_tgid = std::process::id();
        ro.targ_tgid = opts.pid.unwrap_or(0);
        ro.write_notes_tls = opts.ssl as u8;
        ro.write_reports_files = opts.file as u8;
        ro.plain_enabled = opts.plaintext as u8;
        ro.flow_enabled = opts.plaintext as u8;
        ro.connect_reports = opts.network as u8;
        if let Some(c) = &opts.comm {
            ro.filter_comm = 1;
            for (i, b) in c.bytes().take(15).enumerate() {
                ro.targ_comm[i] = b as _;
            }
        }
    }
    // Only its BTF is wanted (src/wire.rs checks the record layout against it).
    open.maps
        .layout
        .set_autocreate(false)
        .map_err(|e| CaptureError::Load(e.to_string()))?;
    for mut prog in open.open_object_mut().progs_mut() {
        let name = prog.name().to_string_lossy().into_owned();
        let section = prog.section().to_string_lossy().into_owned();
        prog.set_autoload(probes::wanted(&name, &section, opts, session));
    }
    open.load()
        .map_err(|e| CaptureError::Load(format!("{e:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_versions() {
        assert!(kernel_at_least("6.18.44-fc-v669\n", (6, 13)));
        assert!(kernel_at_least("6.13", (6, 13)));
        assert!(kernel_at_least("7.0.1", (6, 13)));
        assert!(!kernel_at_least("6.12.9-amd64", (6, 13)));
        assert!(!kernel_at_least("5.15.0-91-generic", (6, 13)));
        assert!(!kernel_at_least("garbage", (6, 13)));
    }

    #[test]
    fn capabilities() {
        let st = |eff: &str| format!("Name:\tx\nCapInh:\t0\nCapEff:\t{eff}\n");
        assert_eq!(missing_capabilities(&st("000001ffffffffff")), None);
        // CAP_SYS_ADMIN alone
        assert_eq!(missing_capabilities(&st("0000000000200000")), None);
        // CAP_BPF + CAP_PERFMON
        assert_eq!(missing_capabilities(&st("000000c000000000")), None);
        assert_eq!(
            missing_capabilities(&st("0000004000000000")).as_deref(),
            Some("CAP_BPF")
        );
        assert_eq!(
            missing_capabilities(&st("0000000000000000")).as_deref(),
            Some("CAP_BPF + CAP_PERFMON")
        );
    }
}
