//! Where the store lives when no path is configured.

use std::path::PathBuf;

/// The default store file: `$OISP_STORE` when set (and not empty); else
/// `/var/lib/oisp-sensor/events.db` when running as root; else
/// `$XDG_DATA_HOME/oisp-sensor/events.db` (`~/.local/share/oisp-sensor/events.db` when
/// `XDG_DATA_HOME` is unset).
pub fn default_path() -> PathBuf {
    if let Some(p) = std::env::var_os("OISP_STORE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return PathBuf::from("/var/lib/oisp-sensor/events.db");
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("oisp-sensor").join("events.db")
}
