//! [`OtlpSink`]: the `Sink` that exports OISP events as OTLP logs and spans.

use crate::config::{self, Resolved};
use crate::logs::log_record;
use crate::resource::{chunk, Grouped, LocalHost, ResourceBase};
use crate::spans::{Finished, TraceState};
use crate::transport::{Exported, Exporter};
use crate::{OtlpConfig, OtlpProtocol};
use oisp_sinks::{DeliveryError, Item, Sink};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Exports every event as a LogRecord and every AI call / tool call as a span, to an OTLP
/// receiver over gRPC or HTTP/protobuf (see the crate documentation for the mapping).
///
/// Owns a current-thread tokio runtime; `deliver` and `flush` block on it from the calling
/// (worker) thread and never take longer than about twice the configured timeout per export
/// request. Use it from plain threads, never from inside an async runtime (`block_on` would
/// panic there); dropping it exports what still waits for its other half (see `Drop`). Pairing
/// state is committed only when an export is accepted or rejected, so a batch retried after a
/// `Retryable` error produces the same records and spans again (at-least-once).
pub struct OtlpSink {
    // Field order matters for Drop: the exporter's channels go before the runtime.
    exporter: Exporter,
    rt: tokio::runtime::Runtime,
    cfg: Resolved,
    base: ResourceBase,
    state: TraceState,
    /// Whether the last export reached the receiver (decides the best-effort export at drop).
    reachable: bool,
}

/// The exported counts of one `deliver` or `flush`, for tests and logs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExportCounts {
    pub log_records: usize,
    pub spans: usize,
}

impl OtlpSink {
    /// Builds the sink from `[otlp]` and the process environment (`OTEL_*`). The error is a
    /// user-facing message naming the bad value. Does not connect: the first delivery does.
    pub fn new(cfg: &OtlpConfig) -> Result<OtlpSink, String> {
        Self::with_env(cfg, &config::process_env())
    }

    /// Like [`OtlpSink::new`] with an explicit environment map instead of the process's.
    pub fn with_env(cfg: &OtlpConfig, env: &HashMap<String, String>) -> Result<OtlpSink, String> {
        let resolved = config::resolve(cfg, env)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("OTLP sink: cannot start its runtime: {e}"))?;
        let exporter = {
            let _guard = rt.enter();
            Exporter::new(&resolved)?
        };
        Ok(OtlpSink {
            exporter,
            rt,
            base: ResourceBase {
                service_name: resolved.service_name.clone(),
                extra: resolved.resource_attributes.clone(),
                local: LocalHost::detect(),
            },
            cfg: resolved,
            state: TraceState::default(),
            reachable: true,
        })
    }

    /// The resolved settings (headers included: do not display them).
    pub fn settings(&self) -> &Resolved {
        &self.cfg
    }

    /// AI requests and tool calls waiting for their response / result.
    pub fn pending_spans(&self) -> usize {
        self.state.pending()
    }

    /// Delivers `batch` and reports what was exported (see [`Sink::deliver`]).
    pub fn deliver_counted(&mut self, batch: &[Item]) -> Result<ExportCounts, DeliveryError> {
        let now = Instant::now();
        let mut state = self.state.clone();
        let mut spans = Vec::new();
        if self.cfg.traces {
            state.expire(now, self.cfg.unfinished_after, &mut spans);
        }
        let mut logs = Vec::new();
        for item in batch {
            let link = if self.cfg.traces {
                state.process(&item.event, now, &mut spans)
            } else {
                None
            };
            if self.cfg.logs {
                let record = log_record(&item.event, &item.json, link);
                logs.push((self.base.attributes(&item.event), record));
            }
        }
        let result = self.export(logs, spans);
        if !matches!(result, Err(DeliveryError::Retryable(_))) {
            self.state = state;
        }
        result
    }

    /// Exports as unfinished the spans that waited at least `wait` (all of them with
    /// `Duration::ZERO`).
    pub fn flush_pending(&mut self, wait: Duration) -> Result<ExportCounts, DeliveryError> {
        if !self.cfg.traces || self.state.pending() == 0 {
            return Ok(ExportCounts::default());
        }
        let mut state = self.state.clone();
        let mut spans = Vec::new();
        state.expire(Instant::now(), wait, &mut spans);
        if spans.is_empty() {
            return Ok(ExportCounts::default());
        }
        let result = self.export(Vec::new(), spans);
        if !matches!(result, Err(DeliveryError::Retryable(_))) {
            self.state = state;
        }
        result
    }

    /// Sends the records and spans: one request per signal, more when they exceed
    /// [`crate::resource::MAX_REQUEST_BYTES`]. Stops at the first failure.
    fn export_now(
        &mut self,
        logs: Vec<(Vec<KeyValue>, LogRecord)>,
        spans: Vec<Finished>,
    ) -> Result<ExportCounts, DeliveryError> {
        let mut counts = ExportCounts::default();
        let logs_reqs: Vec<_> = chunk(logs)
            .into_iter()
            .map(|g| logs_request(g, &mut counts))
            .collect();
        let spans = spans
            .into_iter()
            .map(|(event, span)| (self.base.attributes(&event), span))
            .collect();
        let traces_reqs: Vec<_> = chunk(spans)
            .into_iter()
            .map(|g| traces_request(g, &mut counts))
            .collect();
        let guard = self.cfg.timeout * 2 + Duration::from_secs(1);
        let exporter = &mut self.exporter;
        let problems = self.rt.block_on(async move {
            let mut problems = Vec::new();
            for (req, n) in logs_reqs {
                match tokio::time::timeout(guard, exporter.export_logs(req)).await {
                    Err(_) => return Err(timed_out("logs", guard)),
                    Ok(r) => note_partial(r?, "log records", n, &mut problems),
                }
            }
            for (req, n) in traces_reqs {
                match tokio::time::timeout(guard, exporter.export_traces(req)).await {
                    Err(_) => return Err(timed_out("traces", guard)),
                    Ok(r) => note_partial(r?, "spans", n, &mut problems),
                }
            }
            Ok(problems)
        })?;
        if problems.is_empty() {
            Ok(counts)
        } else {
            Err(DeliveryError::Rejected(problems.join("; ")))
        }
    }

    /// [`Self::export_now`], remembering whether the receiver could be reached.
    fn export(
        &mut self,
        logs: Vec<(Vec<KeyValue>, LogRecord)>,
        spans: Vec<Finished>,
    ) -> Result<ExportCounts, DeliveryError> {
        let result = self.export_now(logs, spans);
        self.reachable = !matches!(result, Err(DeliveryError::Retryable(_)));
        result
    }
}

fn timed_out(signal: &str, after: Duration) -> DeliveryError {
    DeliveryError::Retryable(format!("OTLP {signal} export timed out after {after:?}"))
}

fn note_partial(r: Exported, what: &str, total: usize, problems: &mut Vec<String>) {
    if let Exported::Partial { rejected, message } = r {
        problems.push(format!(
            "the receiver rejected {rejected} of {total} {what}: {message}"
        ));
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "oisp-sensor".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    }
}

/// One logs request and its record count.
fn logs_request(
    logs: Grouped<LogRecord>,
    counts: &mut ExportCounts,
) -> (ExportLogsServiceRequest, usize) {
    let before = counts.log_records;
    let resource_logs = logs
        .into_groups()
        .into_iter()
        .map(|(resource, log_records)| {
            counts.log_records += log_records.len();
            ResourceLogs {
                resource: Some(resource),
                scope_logs: vec![ScopeLogs {
                    scope: Some(scope()),
                    log_records,
                    ..Default::default()
                }],
                ..Default::default()
            }
        })
        .collect();
    (
        ExportLogsServiceRequest { resource_logs },
        counts.log_records - before,
    )
}

/// One traces request and its span count.
fn traces_request(
    spans: Grouped<Span>,
    counts: &mut ExportCounts,
) -> (ExportTraceServiceRequest, usize) {
    let before = counts.spans;
    let resource_spans = spans
        .into_groups()
        .into_iter()
        .map(|(resource, spans)| {
            counts.spans += spans.len();
            ResourceSpans {
                resource: Some(resource),
                scope_spans: vec![ScopeSpans {
                    scope: Some(scope()),
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }
        })
        .collect();
    (
        ExportTraceServiceRequest { resource_spans },
        counts.spans - before,
    )
}

/// `scheme://host[:port]/path` without any `user:password@`.
fn without_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit('@').next().unwrap_or(authority);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_owned(),
    }
}

impl Sink for OtlpSink {
    fn kind(&self) -> &'static str {
        "otlp"
    }

    /// `grpc URL` or `http/protobuf URL` (both signals' URLs when they differ). Never headers
    /// or credentials embedded in the URL.
    fn target(&self) -> String {
        let proto = match self.cfg.protocol {
            OtlpProtocol::Grpc => "grpc",
            OtlpProtocol::HttpProtobuf => "http/protobuf",
        };
        let logs = without_userinfo(&self.cfg.logs_endpoint);
        let traces = without_userinfo(&self.cfg.traces_endpoint);
        match (self.cfg.logs, self.cfg.traces) {
            (true, true) if logs == traces => format!("{proto} {logs}"),
            (true, true) => format!("{proto} logs={logs} traces={traces}"),
            (true, false) => format!("{proto} logs={logs}"),
            _ => format!("{proto} traces={traces}"),
        }
    }

    fn deliver(&mut self, batch: &[Item]) -> Result<(), DeliveryError> {
        self.deliver_counted(batch).map(|_| ())
    }

    /// Exports the spans of AI calls whose response has not come within `unfinished_after`.
    fn flush(&mut self) -> Result<(), DeliveryError> {
        let wait = self.cfg.unfinished_after;
        self.flush_pending(wait).map(|_| ())
    }

    fn retry_after(&mut self) -> Option<Duration> {
        self.exporter.take_retry_after()
    }
}

impl Drop for OtlpSink {
    /// Best effort: whatever still waits for its other half is exported as unfinished (one
    /// attempt, bounded by the timeout; skipped when the last export could not reach the
    /// receiver, so a shutdown never waits on a dead collector). What fails is lost.
    fn drop(&mut self) {
        if self.reachable && self.state.pending() > 0 {
            let _ = self.flush_pending(Duration::ZERO);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_hides_credentials() {
        assert_eq!(
            without_userinfo("https://user:secret@collector:4318/v1/logs"),
            "https://collector:4318/v1/logs"
        );
        let cfg = OtlpConfig {
            endpoint: Some("http://k:s@collector:4317".into()),
            headers: [("api-key".to_string(), "secret".to_string())].into(),
            ..OtlpConfig::default()
        };
        let sink = OtlpSink::with_env(&cfg, &HashMap::new()).unwrap();
        assert_eq!(sink.target(), "grpc http://collector:4317");
        assert_eq!(sink.kind(), "otlp");
    }
}
