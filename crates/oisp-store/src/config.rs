//! `[store]` of `config.toml`: where the store lives and how long it keeps events.

use serde::Deserialize;
use std::path::PathBuf;

/// `[store]`: the embedded SQLite store `show` and `analyze` read by default.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// On by default.
    pub enabled: bool,
    /// Default: `/var/lib/oisp-sensor/events.db` as root, `$XDG_DATA_HOME/oisp-sensor/events.db`
    /// otherwise (`OISP_STORE` overrides).
    pub path: Option<PathBuf>,
    /// Delete events older than this (e.g. `30d`). None: keep by age forever.
    pub retention: Option<String>,
    /// Keep the database under this many megabytes by deleting the oldest events.
    pub max_size_mb: Option<u64>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            enabled: true,
            path: None,
            retention: None,
            max_size_mb: None,
        }
    }
}
