//! The state a running `record` publishes for `status`: which probes are attached where, and its
//! counters (including every drop). Written atomically (temp file + rename, mode 0600) to
//! `/run/oisp-sensor/state.json` as root, `$XDG_RUNTIME_DIR/oisp-sensor/state.json` otherwise
//! (`OISP_STATE_FILE` overrides), and removed when `record` exits.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One attached probe.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeState {
    pub probe: String,
    pub path: String,
    pub symbol: String,
}

/// A file holding a TLS stack whose functions could not be located safely.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnlocatedState {
    pub path: String,
    pub why: String,
}

/// A process that made AI calls (or holds a TLS stack nothing could be attached to): how much of
/// its traffic is read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CoverageState {
    pub pid: u32,
    pub exe: String,
    pub ai_calls: u64,
    pub providers: String,
    /// Where its bytes are read (`BoringSSL linked in`, `OpenSSL (shared libssl)`, …).
    pub stack: String,
    /// How that stack was located (`by symbol`, `by structure, = build-id cache: …`).
    pub located: String,
    /// `full content`, or `none: why`.
    pub coverage: String,
}

/// Counters of a running capture.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counters {
    pub records: u64,
    pub events: u64,
    /// Events kept out of every sink by the `[filter]` section.
    #[serde(default)]
    pub filtered: u64,
    pub ai_calls: u64,
    /// Agent sessions started (`agent.session` start events).
    #[serde(default)]
    pub agent_sessions: u64,
    pub warnings: u64,
    pub lost_tls_records: u64,
    pub lost_system_records: u64,
    pub truncated_bytes: u64,
    pub gap_bytes: u64,
    /// Client TLS sessions found to carry no AI traffic, no longer copied in the kernel.
    #[serde(default)]
    pub ignored_sessions: u64,
    /// SSL_read/SSL_write calls the kernel skipped without a copy (server-side and ignored
    /// sessions).
    #[serde(default)]
    pub skipped_calls: u64,
}

/// What `record` publishes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordState {
    pub pid: u32,
    pub started: String,
    pub updated: String,
    pub output: String,
    pub probes: Vec<ProbeState>,
    /// Files holding a TLS stack where nothing could be located safely (content not read).
    #[serde(default)]
    pub unlocated: Vec<UnlocatedState>,
    /// Per process: AI calls and how they are read.
    #[serde(default)]
    pub coverage: Vec<CoverageState>,
    pub counters: Counters,
    /// Each sink's health (state, delivered, lag, drops, last error).
    #[serde(default)]
    pub sinks: Vec<SinkState>,
    /// The configuration file in use (or "built-in defaults").
    #[serde(default)]
    pub config: String,
}

/// One sink as `status` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SinkState {
    pub name: String,
    #[serde(flatten)]
    pub health: oisp_sinks::SinkHealth,
}

/// Where the state file lives.
pub fn state_path() -> PathBuf {
    if let Some(p) = std::env::var_os("OISP_STATE_FILE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let euid_root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false);
    let base = if euid_root {
        PathBuf::from("/run")
    } else {
        std::env::var_os("XDG_RUNTIME_DIR")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
    };
    base.join("oisp-sensor").join("state.json")
}

/// Publishes `state` (atomically replacing the previous one).
pub fn publish(state: &RecordState) -> std::io::Result<()> {
    let path = state_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    {
        use std::io::Write;
        let mut f = opts.open(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?)?;
    }
    std::fs::rename(&tmp, &path)
}

/// Removes the state file (when `record` exits).
pub fn clear() {
    let _ = std::fs::remove_file(state_path());
}

/// The state of a `record` that is still running, if any.
pub fn running() -> Option<RecordState> {
    let text = std::fs::read_to_string(state_path()).ok()?;
    let state: RecordState = serde_json::from_str(&text).ok()?;
    std::path::Path::new(&format!("/proc/{}", state.pid))
        .exists()
        .then_some(state)
}
