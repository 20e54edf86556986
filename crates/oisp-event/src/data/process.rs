//! `process.*` event payloads (`events/process.schema.json`): `exec`,
//! `exit`, `fork`.

use crate::context::{BinaryHash, CodeSignature};
use crate::macros::string_enum;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

string_enum! {
    /// `process.exit.termination_type`.
    pub enum TerminationType {
        Normal => "normal",
        Signaled => "signaled",
        Coredump => "coredump",
        Unknown => "unknown",
    }
}

/// `process.exec` data (`$defs/exec`). `exe` is required.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProcessExec {
    /// Path of the executable being run.
    pub exe: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Selected (filtered) environment variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_shell: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_script: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_interactive: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_hash: Option<BinaryHash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_signature: Option<CodeSignature>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `process.exit` data (`$defs/exit`). `exit_code` is required.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProcessExit {
    pub exit_code: i64,
    /// Terminating signal number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i64>,
    /// e.g. `SIGTERM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_user_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_system_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rss_kb: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_type: Option<TerminationType>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `process.fork` data (`$defs/fork`). `child_pid` is required.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProcessFork {
    pub child_pid: u64,
    /// Linux clone flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone_flags: Option<u64>,
    /// Thread creation rather than a process fork.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_thread: Option<bool>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
