//! `source`: provenance of an event (envelope `#/$defs/source`).

use crate::macros::string_enum;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

string_enum! {
    /// `source.capture_method`: the technical method used to capture the event.
    pub enum CaptureMethod {
        EbpfTracepoint => "ebpf_tracepoint",
        EbpfKprobe => "ebpf_kprobe",
        EbpfUprobe => "ebpf_uprobe",
        Dtrace => "dtrace",
        Etw => "etw",
        SyscallIntercept => "syscall_intercept",
        TlsBoundary => "tls_boundary",
        MitmProxy => "mitm_proxy",
        BrowserExtension => "browser_extension",
        SdkInstrumentation => "sdk_instrumentation",
        VendorApi => "vendor_api",
        VendorAuditLog => "vendor_audit_log",
        LogParsing => "log_parsing",
        EndpointSecurity => "endpoint_security",
        NetworkExtension => "network_extension",
        Other => "other",
    }
}

/// Envelope `source` (required): how and where the event was captured.
///
/// Only `collector` is required by the schema. The schema does not forbid
/// extra keys here, so unknown keys of foreign events are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Source {
    /// Name of the collector, e.g. [`crate::COLLECTOR`].
    pub collector: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_method: Option<CaptureMethod>,
    /// Specific capture point, e.g. `ssl_write`, `execve`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_point: Option<String>,
    /// Hostname of the sensor when it differs from the event host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensor_host: Option<String>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Source {
    /// This sensor as the collector: `collector` = [`crate::COLLECTOR`],
    /// `collector_version` = this crate's version, nothing else set.
    pub fn sensor() -> Self {
        Self {
            collector: crate::COLLECTOR.to_owned(),
            collector_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            ..Self::default()
        }
    }

    /// Sets `capture_method`.
    pub fn with_capture_method(mut self, method: CaptureMethod) -> Self {
        self.capture_method = Some(method);
        self
    }

    /// Sets `capture_point`.
    pub fn with_capture_point(mut self, point: impl Into<String>) -> Self {
        self.capture_point = Some(point.into());
        self
    }
}
