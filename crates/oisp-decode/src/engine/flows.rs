//! Metadata-only connections: a TLS connection known from its ClientHello (a `ConnOpen` of source
//! `ClientHello`) whose reads and writes the capture followed without their content
//! (`FlowActivity` records). For a connection to an AI provider's server (by its server name,
//! from the bundle's domains) whose content no hooked stack read, its close (or the end of the
//! capture) gives one `network.flow` event: bytes and timing each way, destination, provider, the
//! TLS names, and AI-level estimates (`attrs.ai_estimate`: calls, streaming, approximate tokens,
//! from [`super::estimate`]) — low confidence, `completeness: metadata_only`, never an
//! `ai.request`/`ai.response`.
//!
//! A connection whose server name is no AI provider's is handed back at once (through
//! `Decoder::drain_ignorable`) so the capture stops following it. One whose content a hooked stack
//! reads (a content connection of the same process with the same addresses) is dropped: its
//! calls are decoded, not estimated.

use super::context::{ts, EventContext};
use super::estimate::{CallEstimate, Rules, Segmenter};
use super::Decoder;
use crate::providers::{self, ProviderId};
use oisp_capture::{ConnOpen, FlowActivity, Timestamp};
use oisp_event::{
    AiDetectionMethod, CaptureMethod, Completeness, ConfidenceLevel, ContentSource, Endpoint,
    Event, NetworkFlow, Protocol, Source, TlsInfo,
};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;

/// Connections followed at once; past it new ones are handed back (not followed).
const MAX_FLOWS: usize = 16_384;
/// Calls listed one by one in `attrs.ai_estimate.calls` (all are counted).
const MAX_LISTED_CALLS: usize = 32;

/// One followed connection.
#[derive(Debug)]
pub(crate) struct Flow {
    open: ConnOpen,
    provider: ProviderId,
    segmenter: Segmenter,
    bytes_sent: u64,
    bytes_received: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl Flow {
    /// Whether any read or write of it was seen (a capture that does not follow sockets after
    /// their ClientHello gives none: no flow is reported then).
    pub(crate) fn followed(&self) -> bool {
        self.first.is_some()
    }
}

/// Every followed connection, and those to hand back.
#[derive(Debug, Default)]
pub(crate) struct Flows {
    open: HashMap<u64, Flow>,
    unwanted: Vec<u64>,
    /// Connections dropped because a hooked stack read their content.
    pub(crate) covered: u64,
}

impl Flows {
    /// A metadata-only `ConnOpen`: followed when its server name is an AI provider's, else
    /// handed back.
    pub(crate) fn open(&mut self, o: &ConnOpen) {
        let provider = o.sni.as_deref().and_then(providers::provider_for_host);
        match provider {
            Some(p) if self.open.len() < MAX_FLOWS => {
                self.open.insert(
                    o.conn_id,
                    Flow {
                        open: o.clone(),
                        provider: p,
                        segmenter: Segmenter::new(Rules::default()),
                        bytes_sent: 0,
                        bytes_received: 0,
                        first: None,
                        last: None,
                    },
                );
            }
            _ => self.unwanted.push(o.conn_id),
        }
    }

    /// One read or write of a followed connection.
    pub(crate) fn activity(&mut self, a: &FlowActivity) {
        let Some(f) = self.open.get_mut(&a.conn_id) else {
            return;
        };
        match a.direction {
            oisp_capture::Direction::Egress => f.bytes_sent = f.bytes_sent.saturating_add(a.bytes),
            oisp_capture::Direction::Ingress => {
                f.bytes_received = f.bytes_received.saturating_add(a.bytes)
            }
        }
        f.first.get_or_insert(a.ts);
        f.last = Some(a.ts);
        f.segmenter.push(a.direction, a.ts.mono_ns, a.bytes);
    }

    /// A connection whose content is read (`o`, not metadata-only): a followed connection of the
    /// same process and addresses is dropped — or, when the read connection's addresses are not
    /// known (a TLS stack on memory buffers whose socket was never seen), one of the same process
    /// and server name (a process whose stack is hooked has all its connections read).
    pub(crate) fn content_open(&mut self, o: &ConnOpen) {
        let same = |f: &Flow| {
            f.open.pid == o.pid
                && match o.remote {
                    Some(remote) => {
                        f.open.remote == Some(remote)
                            && (o.local.is_none()
                                || f.open.local.is_none()
                                || f.open.local == o.local)
                    }
                    None => o.sni.is_some() && f.open.sni == o.sni,
                }
        };
        let before = self.open.len();
        self.open.retain(|_, f| !same(f));
        self.covered += (before - self.open.len()) as u64;
    }

    /// Connection `conn_id` closed: its flow, if followed.
    pub(crate) fn close(&mut self, conn_id: u64) -> Option<Flow> {
        self.open.remove(&conn_id)
    }

    /// Every followed connection (end of capture), in connection order.
    pub(crate) fn finish(&mut self) -> Vec<Flow> {
        let mut all: Vec<Flow> = self.open.drain().map(|(_, f)| f).collect();
        all.sort_by_key(|f| f.open.conn_id);
        all
    }

    /// Moves the connections to hand back into `out`.
    pub(crate) fn drain_unwanted(&mut self, out: &mut Vec<u64>) {
        out.append(&mut self.unwanted);
    }
}

impl Decoder {
    /// The `network.flow` event of a followed connection that ended at `end` (its close, or its
    /// last activity at the end of the capture).
    pub(super) fn flow_event(&mut self, f: &Flow, end: Option<Timestamp>) -> Event {
        let o = &f.open;
        let start = f.first.unwrap_or(o.ts);
        let end = end.or(f.last).unwrap_or(start).max(start);
        let calls = f.segmenter.estimates();
        self.ai_processes.estimated(
            o.pid,
            self.procs
                .get(o.pid)
                .map(|p| p.image.exe.as_str())
                .filter(|e| !e.is_empty()),
            calls.len() as u64,
            calls.iter().map(|c| c.input_tokens + c.output_tokens).sum(),
        );
        let mut ctx = EventContext::for_system(self, o.pid, o.tid);
        ctx.conn_id = Some(o.conn_id);
        let c = &mut ctx.confidence;
        c.level = ConfidenceLevel::Low;
        c.completeness = Completeness::MetadataOnly;
        c.content_source = Some(ContentSource::None);
        c.ai_detection_method = Some(AiDetectionMethod::KnownEndpoint);
        c.reasons = vec![
            "tls_client_hello_sni".into(),
            "socket_syscall_sizes_and_timing".into(),
        ];
        c.missing = vec!["request_body".into(), "response_body".into()];
        c.limitations = vec![
            "could_not_decrypt_tls".into(),
            "ai_estimates_from_sizes_and_timing".into(),
        ];
        let id = ctx.event_id(self, "flow", end);
        let endpoint = |a: Option<SocketAddr>, domain: Option<String>| Endpoint {
            ip: a.map(|a| a.ip().to_string()),
            port: a.map(|a| a.port()),
            domain,
            ..Default::default()
        };
        let data = NetworkFlow {
            dest: endpoint(o.remote, o.sni.clone()),
            src: o.local.map(|l| endpoint(Some(l), None)),
            protocol: Some(Protocol::Tcp),
            direction: Some(oisp_event::Direction::Outbound),
            bytes_sent: Some(f.bytes_sent),
            bytes_received: Some(f.bytes_received),
            duration_ms: Some(end.mono_ns.saturating_sub(start.mono_ns) / 1_000_000),
            start_time: Some(ts(start).ts_string()),
            end_time: Some(ts(end).ts_string()),
            tls: Some(TlsInfo {
                sni: o.sni.clone(),
                // offered by the client, not necessarily negotiated
                alpn: o.alpn.clone(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut ev = ctx
            .event(data, end, &id, "socket_syscalls")
            .with_source(
                Source::sensor()
                    .with_capture_method(CaptureMethod::EbpfTracepoint)
                    .with_capture_point("socket_syscalls"),
            )
            .with_attr("provider_name", f.provider.name())
            .with_attr("ai_estimate", ai_estimate(f.provider, &calls));
        if o.alpn.as_deref().is_some_and(|a| a.contains(',')) {
            ev = ev.with_attr("alpn_offered", o.alpn.clone());
        }
        ev
    }
}

/// `attrs.ai_estimate` of a flow to `provider` that carried `calls`.
fn ai_estimate(provider: ProviderId, calls: &[CallEstimate]) -> Value {
    let sum = |f: fn(&CallEstimate) -> u64| calls.iter().map(f).sum::<u64>();
    json!({
        "capture_method": "metadata",
        "confidence": "low",
        "provider": provider.oisp_name(),
        "provider_name": provider.name(),
        "calls": calls.len(),
        "streaming_calls": calls.iter().filter(|c| c.streaming).count(),
        "input_tokens": sum(|c| c.input_tokens),
        "output_tokens": sum(|c| c.output_tokens),
        "rule": "calls: client write bursts >= 120 B answered with >= 150 B (800 B the first); streaming: >= 4 \
                 spaced reads averaging < 4 KiB; tokens: (bytes - TLS/HTTP overhead) / 4, \
                 streamed output max(arrivals, bytes / 250); see oisp-decode engine/estimate.rs",
        "per_call": calls.iter().take(MAX_LISTED_CALLS).map(|c| json!({
            "request_bytes": c.shape.request_bytes,
            "response_bytes": c.shape.response_bytes,
            "response_reads": c.shape.response_reads,
            "arrivals": c.shape.arrivals,
            "streaming": c.streaming,
            "time_to_first_byte_ms": c.time_to_first_byte_ms,
            "duration_ms": c.duration_ms,
            "input_tokens": c.input_tokens,
            "output_tokens": c.output_tokens,
        })).collect::<Vec<Value>>(),
    })
}
