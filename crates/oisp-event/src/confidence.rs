//! `confidence`: what the collector knows and does not know about an event
//! (`common/confidence.schema.json`).

use crate::macros::string_enum;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

string_enum! {
    /// `confidence.level`.
    pub enum ConfidenceLevel {
        High => "high",
        Medium => "medium",
        Low => "low",
        Inferred => "inferred",
    }
}

string_enum! {
    /// `confidence.completeness`.
    pub enum Completeness {
        Full => "full",
        Partial => "partial",
        MetadataOnly => "metadata_only",
        Redacted => "redacted",
        Sampled => "sampled",
        VendorReported => "vendor_reported",
    }
}

string_enum! {
    /// `confidence.process_attribution`: how the process was attributed.
    pub enum ProcessAttribution {
        Direct => "direct",
        SocketInode => "socket_inode",
        Cgroup => "cgroup",
        TimingCorrelation => "timing_correlation",
        Heuristic => "heuristic",
        Unknown => "unknown",
    }
}

string_enum! {
    /// `confidence.content_source`: how the payload was obtained.
    pub enum ContentSource {
        PlaintextCapture => "plaintext_capture",
        TlsBoundary => "tls_boundary",
        MitmDecryption => "mitm_decryption",
        VendorApi => "vendor_api",
        LogExtraction => "log_extraction",
        Inference => "inference",
        None => "none",
    }
}

string_enum! {
    /// `confidence.ai_detection_method`: how AI activity was detected.
    pub enum AiDetectionMethod {
        KnownEndpoint => "known_endpoint",
        PayloadInspection => "payload_inspection",
        HeaderFingerprint => "header_fingerprint",
        ContentPattern => "content_pattern",
        ModelStringMatch => "model_string_match",
        Heuristic => "heuristic",
        VendorReported => "vendor_reported",
    }
}

/// Envelope `confidence` (required).
///
/// `reasons`, `missing` and `limitations` are plain vectors for easy pushing;
/// they are omitted from JSON when empty (so an explicit `[]` in a foreign
/// event does not survive a round-trip). `sample_rate` must be in `0..=1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confidence {
    pub level: ConfidenceLevel,
    pub completeness: Completeness,
    /// Reasons supporting the assessment, e.g. `tls_boundary_capture`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Fields or data known to be missing, e.g. `response_body`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Known limitations, e.g. `response_truncated_at_64kb`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limitations: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_attribution: Option<ProcessAttribution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_source: Option<ContentSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_detection_method: Option<AiDetectionMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction_applied: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction_profile: Option<String>,
    /// Keys not defined by the schema (`additionalProperties: true`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Confidence {
    /// A confidence with only the two required fields set.
    pub fn new(level: ConfidenceLevel, completeness: Completeness) -> Self {
        Self {
            level,
            completeness,
            reasons: Vec::new(),
            missing: Vec::new(),
            limitations: Vec::new(),
            process_attribution: None,
            content_source: None,
            ai_detection_method: None,
            sample_rate: None,
            redaction_applied: None,
            redaction_profile: None,
            extra: Map::new(),
        }
    }

    /// Appends a reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reasons.push(reason.into());
        self
    }

    /// Appends a missing-data marker.
    pub fn with_missing(mut self, what: impl Into<String>) -> Self {
        self.missing.push(what.into());
        self
    }

    /// Appends a limitation.
    pub fn with_limitation(mut self, what: impl Into<String>) -> Self {
        self.limitations.push(what.into());
        self
    }
}

impl Default for Confidence {
    /// The conservative default used by [`crate::Event::new`]: `low` /
    /// `partial`. Emitters are expected to replace it.
    fn default() -> Self {
        Self::new(ConfidenceLevel::Low, Completeness::Partial)
    }
}
