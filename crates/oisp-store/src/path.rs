//! Where the store lives when no path is configured.

use std::path::PathBuf;

/// The default store file: `$OISP_STORE` when set (and not empty); else `events.db` in the
/// sensor's data directory ([`oisp_os::data_dir`]: `/var/lib/oisp-sensor` as root on Linux,
/// `$XDG_DATA_HOME/oisp-sensor` — `~/.local/share/oisp-sensor` — for a Unix user,
/// `%LOCALAPPDATA%\\oisp-sensor` on Windows).
pub fn default_path() -> PathBuf {
    if let Some(p) = std::env::var_os("OISP_STORE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    oisp_os::data_dir().join("events.db")
}
