//! The state a running `record` publishes for `status`: which probes are attached where, and its
//! counters (including every drop). Written atomically (temp file + rename, mode 0600) to
//! `state.json` in the runtime directory ([`oisp_os::runtime_dir`]: `/run/oisp-sensor` as root,
//! `$XDG_RUNTIME_DIR/oisp-sensor` otherwise; `OISP_STATE_FILE` overrides), and removed when `record` exits.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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

/// What a running `record` (or `proxy`) publishes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordState {
    /// The command that publishes it: `record` or `proxy`.
    #[serde(default = "record_command")]
    pub command: String,
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

fn record_command() -> String {
    "record".into()
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
    oisp_os::runtime_dir().join("state.json")
}

/// Where a running `proxy` publishes its state: `proxy.json` beside [`state_path`].
pub fn proxy_state_path() -> PathBuf {
    state_path().with_file_name("proxy.json")
}

/// Publishes `state` at `path` (atomically replacing the previous one; mode 0600 in a 0700
/// directory).
pub fn publish(state: &RecordState, path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        oisp_os::private::create_dir(dir)?;
    }
    let json = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    oisp_os::private::write_atomically(path, &json)
}

/// Removes the state file at `path` (when its command exits).
pub fn clear(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// The state of a `record` that is still running, if any.
pub fn running() -> Option<RecordState> {
    read_running(&state_path())
}

/// The state of a `proxy` that is still running, if any.
pub fn running_proxy() -> Option<RecordState> {
    read_running(&proxy_state_path())
}

/// The state at `path` when its process still exists (a crashed command leaves its file).
fn read_running(path: &Path) -> Option<RecordState> {
    let text = std::fs::read_to_string(path).ok()?;
    let state: RecordState = serde_json::from_str(&text).ok()?;
    oisp_os::process_alive(state.pid).then_some(state)
}
