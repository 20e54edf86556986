//! Envelope parts shared by every event derived from one capture observation: process context,
//! source (how it was captured) and confidence, plus deterministic event ids.

use super::Decoder;
use crate::http::HttpExchange;
use crate::providers::{AiCall, DetectionMethod};
use oisp_capture::{DataSource, Timestamp};
use oisp_event::{
    AiDetectionMethod, CaptureMethod, Completeness, Confidence, ConfidenceLevel, ContentSource,
    Event, EventData, ProcessAttribution, ProcessInfo, Source,
};
use serde_json::{json, Value};

/// Context for the events of one exchange (or one system record).
pub struct EventContext {
    pub process: ProcessInfo,
    /// For system events: how the record was observed.
    pub system_origin: super::SystemRecordOrigin,
    pub source: Option<DataSource>,
    pub confidence: Confidence,
    pub conn_id: Option<u64>,
}

/// Converts a capture timestamp to the event model's.
pub fn ts(t: Timestamp) -> oisp_event::Timestamp {
    oisp_event::Timestamp {
        wall_ns: t.wall_ns,
        mono_ns: t.mono_ns,
    }
}

fn content_source(src: Option<DataSource>) -> ContentSource {
    match src {
        Some(DataSource::Socket) | Some(DataSource::MockRecorder) => {
            ContentSource::PlaintextCapture
        }
        Some(DataSource::Proxy) => ContentSource::MitmDecryption,
        _ => ContentSource::TlsBoundary,
    }
}

/// `source` of an event whose bytes came from `src`, observed at `point` ("ssl_write", ...).
pub fn source_for(src: Option<DataSource>, point: &str) -> Source {
    let method = match src {
        Some(DataSource::Socket) => CaptureMethod::EbpfTracepoint,
        Some(DataSource::Proxy) => CaptureMethod::MitmProxy,
        Some(DataSource::MockRecorder) | Some(DataSource::Unknown) | None => CaptureMethod::Other,
        Some(_) => CaptureMethod::EbpfUprobe,
    };
    let point = match src {
        Some(DataSource::MockRecorder) => "mock_recorder",
        Some(DataSource::Socket) => match point {
            "ssl_write" => "sendmsg",
            "ssl_read" => "recvmsg",
            p => p,
        },
        _ => point,
    };
    Source::sensor()
        .with_capture_method(method)
        .with_capture_point(point)
}

impl EventContext {
    pub fn for_exchange(dec: &Decoder, ex: &HttpExchange, call: &AiCall) -> Self {
        let incomplete = ex.request.body.incomplete
            || ex
                .response
                .as_ref()
                .is_none_or(|r| r.body.incomplete || r.body.decode_error.is_some());
        let troubled = incomplete || !ex.warnings.is_empty() || !call.warnings.is_empty();
        let mut c = Confidence::new(
            if troubled {
                ConfidenceLevel::Medium
            } else {
                ConfidenceLevel::High
            },
            if incomplete {
                Completeness::Partial
            } else {
                Completeness::Full
            },
        );
        c.content_source = Some(content_source(ex.conn.source));
        c.process_attribution = Some(match ex.conn.source {
            Some(DataSource::MockRecorder) => ProcessAttribution::SocketInode,
            Some(DataSource::Proxy) => ProcessAttribution::SocketInode,
            _ if ex.conn.pid == 0 => ProcessAttribution::Unknown,
            _ => ProcessAttribution::Direct,
        });
        c.ai_detection_method = Some(match call.detection.method {
            DetectionMethod::KnownEndpoint | DetectionMethod::DomainPattern => {
                AiDetectionMethod::KnownEndpoint
            }
            DetectionMethod::PortHeuristic => AiDetectionMethod::Heuristic,
            DetectionMethod::PayloadInspection => AiDetectionMethod::PayloadInspection,
        });
        c.reasons.push(match c.content_source {
            Some(ContentSource::TlsBoundary) => "tls_boundary_capture".into(),
            Some(ContentSource::MitmDecryption) => "mitm_proxy_capture".into(),
            _ => "plaintext_capture".into(),
        });
        if ex.response.is_none() {
            c.missing.push("response".into());
        }
        c.limitations
            .extend(ex.warnings.iter().chain(&call.warnings).take(16).cloned());
        EventContext {
            system_origin: dec.cfg.system_records,
            process: dec.procs.context(ex.conn.pid, ex.conn.tid),
            source: ex.conn.source,
            confidence: c,
            conn_id: Some(ex.conn.conn_id),
        }
    }

    /// Context for a process/file/network record of `pid`.
    pub fn for_system(dec: &Decoder, pid: u32, tid: u32) -> Self {
        let origin = dec.cfg.system_records;
        let mut c = Confidence::new(ConfidenceLevel::High, Completeness::Full);
        c.process_attribution = Some(ProcessAttribution::Direct);
        c.content_source = Some(ContentSource::None);
        c.reasons.push(match origin {
            super::SystemRecordOrigin::KernelTracepoints => "kernel_tracepoint".into(),
            super::SystemRecordOrigin::Procfs => "procfs_snapshot".into(),
        });
        EventContext {
            system_origin: origin,
            process: dec.procs.context(pid, tid),
            source: None,
            confidence: c,
            conn_id: None,
        }
    }

    /// A fresh deterministic event id; `kind` only makes the seed easier to read.
    pub fn event_id(&self, dec: &mut Decoder, kind: &str, at: Timestamp) -> String {
        dec.next_id(self.conn_id.unwrap_or(0), kind, at)
    }

    /// Builds an event with this context.
    pub fn event(
        &self,
        data: impl Into<EventData>,
        at: Timestamp,
        id: &str,
        capture_point: &str,
    ) -> Event {
        let source = match self.source {
            Some(_) => source_for(self.source, capture_point),
            None => match self.system_origin {
                super::SystemRecordOrigin::KernelTracepoints => Source::sensor()
                    .with_capture_method(CaptureMethod::EbpfTracepoint)
                    .with_capture_point(capture_point),
                super::SystemRecordOrigin::Procfs => Source::sensor()
                    .with_capture_method(CaptureMethod::Other)
                    .with_capture_point("procfs"),
            },
        };
        let mut ev = Event::new(data, ts(at), id)
            .with_process(self.process.clone())
            .with_source(source)
            .with_confidence(self.confidence.clone());
        if let Some(c) = self.conn_id {
            ev = ev.with_attr("conn_id", c);
        }
        ev
    }

    pub fn http_request_attrs(&self, ex: &HttpExchange) -> Value {
        let r = &ex.request;
        json!({
            "version": ex.version.as_str(),
            "method": r.method,
            "path": redact_query(&r.path),
            "host": r.authority,
            "user_agent": r.headers.get("user-agent"),
            "stream_id": ex.stream_id,
            "request_bytes": r.body.bytes.len(),
            "remote": ex.conn.remote.map(|a| a.to_string()),
            "sni": ex.conn.sni,
        })
    }

    pub fn http_response_attrs(&self, ex: &HttpExchange) -> Value {
        match &ex.response {
            Some(r) => json!({
                "version": ex.version.as_str(),
                "status": r.status,
                "content_type": r.headers.get("content-type"),
                "content_encoding": r.headers.get("content-encoding"),
                "response_bytes": r.body.bytes.len(),
                "incomplete": r.body.incomplete,
            }),
            None => json!({"version": ex.version.as_str()}),
        }
    }
}

/// A request path with the values of credential-like query parameters replaced by `REDACTED`.
pub fn redact_query(path: &str) -> String {
    let Some((base, query)) = path.split_once('?') else {
        return path.to_string();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if is_secret_param(k) => format!("{k}=REDACTED"),
            _ => kv.to_string(),
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
}

fn is_secret_param(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    k == "key"
        || k.contains("api_key")
        || k.contains("apikey")
        || k.contains("token")
        || k.contains("secret")
        || k == "sig"
        || k == "signature"
}
