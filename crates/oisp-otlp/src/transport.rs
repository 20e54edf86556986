//! The two OTLP transports: gRPC (tonic, the generated `LogsService` / `TraceService`
//! clients) and HTTP/protobuf (hyper, `POST application/x-protobuf`), each one export per call,
//! with the failure classified for the worker.
//!
//! Retryable: connection failures, timeouts, gRPC `UNAVAILABLE`, `RESOURCE_EXHAUSTED`,
//! `DEADLINE_EXCEEDED`, `ABORTED`, `CANCELLED`, `OUT_OF_RANGE`, `DATA_LOSS`; HTTP 408, 429 and
//! 5xx. Everything else (HTTP 400, gRPC `INVALID_ARGUMENT`, `UNAUTHENTICATED`,
//! `UNIMPLEMENTED`, `RESOURCE_EXHAUSTED` for a message over the server's size limit, ...) is
//! `Rejected`. A partial success (`rejected_log_records` /
//! `rejected_spans` > 0) is reported as [`Exported::Partial`].

use crate::config::Resolved;
use crate::http::{parse_pem_certificates, HttpClient, PostError};
use crate::OtlpProtocol;
use flate2::write::GzEncoder;
use oisp_sinks::DeliveryError;
use opentelemetry_proto::tonic::collector::logs::v1::{
    logs_service_client::LogsServiceClient, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    trace_service_client::TraceServiceClient, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use std::io::Write;
use std::time::Duration;
use tonic::codec::CompressionEncoding;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

/// What the receiver said about an accepted export.
#[derive(Debug, Clone, PartialEq)]
pub enum Exported {
    /// Everything accepted.
    All,
    /// Some items were rejected (the receiver's count and message).
    Partial { rejected: i64, message: String },
}

/// The gRPC clients of both signals.
pub struct GrpcExporter {
    logs: LogsServiceClient<Channel>,
    traces: TraceServiceClient<Channel>,
    metadata: MetadataMap,
    timeout: Duration,
}

/// The HTTP client and both signals' URLs.
pub struct HttpExporter {
    client: HttpClient,
    logs_url: String,
    traces_url: String,
    gzip: bool,
    /// `Retry-After` of the last retryable answer, until taken.
    retry_after: Option<Duration>,
}

/// The configured transport.
pub enum Exporter {
    Grpc(Box<GrpcExporter>),
    Http(Box<HttpExporter>),
}

fn grpc_channel(url: &str, timeout: Duration, ca_pem: Option<&[u8]>) -> Result<Channel, String> {
    let mut ep = Endpoint::from_shared(url.to_owned())
        .map_err(|e| format!("OTLP endpoint `{url}`: {e}"))?
        .timeout(timeout)
        .connect_timeout(timeout);
    if url.starts_with("https://") {
        let mut tls = ClientTlsConfig::new().with_webpki_roots();
        if let Some(pem) = ca_pem {
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        ep = ep
            .tls_config(tls)
            .map_err(|e| format!("OTLP endpoint `{url}`: TLS: {e}"))?;
    }
    Ok(ep.connect_lazy())
}

impl Exporter {
    /// Builds the clients; must run inside the sink's runtime (gRPC channels spawn their
    /// connection task there). Nothing connects yet: the first export does.
    pub fn new(r: &Resolved) -> Result<Exporter, String> {
        let (ca_pem, cas) = match &r.certificate {
            Some(path) => {
                let bad = |e: String| format!("OTLP certificate file {}: {e}", path.display());
                let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
                let cas = parse_pem_certificates(&pem).map_err(bad)?;
                (Some(pem), cas)
            }
            None => (None, Vec::new()),
        };
        let ca_pem = ca_pem.as_deref();
        match r.protocol {
            OtlpProtocol::Grpc => {
                let mut metadata = MetadataMap::new();
                for (k, v) in &r.headers {
                    let key = MetadataKey::from_bytes(k.as_bytes()).map_err(|_| {
                        format!("OTLP header name `{k}` is not valid gRPC metadata")
                    })?;
                    let value = MetadataValue::try_from(v.as_str()).map_err(|_| {
                        format!("the value of OTLP header `{k}` is not valid gRPC metadata")
                    })?;
                    metadata.insert(key, value);
                }
                let mut logs =
                    LogsServiceClient::new(grpc_channel(&r.logs_endpoint, r.timeout, ca_pem)?);
                let mut traces =
                    TraceServiceClient::new(grpc_channel(&r.traces_endpoint, r.timeout, ca_pem)?);
                if r.gzip {
                    logs = logs.send_compressed(CompressionEncoding::Gzip);
                    traces = traces.send_compressed(CompressionEncoding::Gzip);
                }
                Ok(Exporter::Grpc(Box::new(GrpcExporter {
                    logs,
                    traces,
                    metadata,
                    timeout: r.timeout,
                })))
            }
            OtlpProtocol::HttpProtobuf => {
                let client = HttpClient::new(&r.headers, r.timeout, &cas)?;
                Ok(Exporter::Http(Box::new(HttpExporter {
                    client,
                    logs_url: r.logs_endpoint.clone(),
                    traces_url: r.traces_endpoint.clone(),
                    gzip: r.gzip,
                    retry_after: None,
                })))
            }
        }
    }

    /// The wait the receiver asked for in its last retryable answer (OTLP/HTTP `Retry-After`,
    /// as the OTLP specification says a client should honour), once. gRPC answers carry no
    /// such header here: `None`.
    pub fn take_retry_after(&mut self) -> Option<Duration> {
        match self {
            Exporter::Grpc(_) => None,
            Exporter::Http(h) => h.retry_after.take(),
        }
    }

    /// Exports one logs request.
    pub async fn export_logs(
        &mut self,
        req: ExportLogsServiceRequest,
    ) -> Result<Exported, DeliveryError> {
        match self {
            Exporter::Grpc(g) => {
                let resp = g
                    .logs
                    .export(grpc_request(req, &g.metadata, g.timeout))
                    .await
                    .map_err(|s| classify_grpc("logs", &s))?
                    .into_inner();
                Ok(logs_outcome(resp))
            }
            Exporter::Http(h) => {
                let body = http_export(h, Signal::Logs, req.encode_to_vec()).await?;
                let resp = ExportLogsServiceResponse::decode(&body[..]).unwrap_or_default();
                Ok(logs_outcome(resp))
            }
        }
    }

    /// Exports one traces request.
    pub async fn export_traces(
        &mut self,
        req: ExportTraceServiceRequest,
    ) -> Result<Exported, DeliveryError> {
        match self {
            Exporter::Grpc(g) => {
                let resp = g
                    .traces
                    .export(grpc_request(req, &g.metadata, g.timeout))
                    .await
                    .map_err(|s| classify_grpc("traces", &s))?
                    .into_inner();
                Ok(traces_outcome(resp))
            }
            Exporter::Http(h) => {
                let body = http_export(h, Signal::Traces, req.encode_to_vec()).await?;
                let resp = ExportTraceServiceResponse::decode(&body[..]).unwrap_or_default();
                Ok(traces_outcome(resp))
            }
        }
    }
}

fn logs_outcome(resp: ExportLogsServiceResponse) -> Exported {
    match resp.partial_success {
        Some(p) if p.rejected_log_records > 0 => Exported::Partial {
            rejected: p.rejected_log_records,
            message: p.error_message,
        },
        _ => Exported::All,
    }
}

fn traces_outcome(resp: ExportTraceServiceResponse) -> Exported {
    match resp.partial_success {
        Some(p) if p.rejected_spans > 0 => Exported::Partial {
            rejected: p.rejected_spans,
            message: p.error_message,
        },
        _ => Exported::All,
    }
}

fn grpc_request<T>(msg: T, metadata: &MetadataMap, timeout: Duration) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    *req.metadata_mut() = metadata.clone();
    req.set_timeout(timeout);
    req
}

/// Sorts a gRPC failure into retryable or rejected.
pub fn classify_grpc(signal: &str, s: &tonic::Status) -> DeliveryError {
    use tonic::Code::*;
    let msg = format!("OTLP {signal} export: gRPC {:?}: {}", s.code(), s.message());
    match s.code() {
        // A message over the server's size limit never passes, however often it is retried.
        ResourceExhausted if s.message().contains("larger than max") => {
            DeliveryError::Rejected(msg)
        }
        Unavailable | ResourceExhausted | DeadlineExceeded | Aborted | Cancelled | OutOfRange
        | DataLoss => DeliveryError::Retryable(msg),
        // tonic reports transport failures it cannot name (reset streams, broken h2) as Unknown.
        Unknown if s.message().contains("transport") || s.message().contains("connection") => {
            DeliveryError::Retryable(msg)
        }
        _ => DeliveryError::Rejected(msg),
    }
}

/// Sorts an HTTP status into retryable or rejected (`None`: success).
pub fn classify_http(status: u16) -> Option<bool> {
    match status {
        200..=299 => None,
        408 | 429 | 500..=599 => Some(true),
        _ => Some(false),
    }
}

/// Which OTLP/HTTP path a request goes to.
#[derive(Clone, Copy)]
enum Signal {
    Logs,
    Traces,
}

/// POSTs one request to `h`'s URL for `signal`; a retryable answer's `Retry-After` is kept in
/// `h` for [`Exporter::take_retry_after`].
async fn http_export(
    h: &mut HttpExporter,
    signal: Signal,
    body: Vec<u8>,
) -> Result<Vec<u8>, DeliveryError> {
    let url = match signal {
        Signal::Logs => &h.logs_url,
        Signal::Traces => &h.traces_url,
    };
    let body = if h.gzip {
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&body)
            .and_then(|_| enc.finish())
            .map_err(|e| DeliveryError::Rejected(format!("gzip: {e}")))?
    } else {
        body
    };
    let answer = h.client.post(url, body, h.gzip).await.map_err(|e| {
        DeliveryError::Retryable(match e {
            PostError::Timeout => format!("OTLP POST {url} timed out"),
            PostError::Failed(m) => format!("OTLP POST {url} failed: {m}"),
        })
    })?;
    let (status, bytes) = (answer.status, answer.body);
    match classify_http(status) {
        None => Ok(bytes.to_vec()),
        Some(retry) => {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                .chars()
                .filter(|c| !c.is_control())
                .collect::<String>();
            let msg = format!("OTLP POST {url}: HTTP {status} {text}");
            Err(if retry {
                h.retry_after = answer.retry_after;
                DeliveryError::Retryable(msg)
            } else {
                DeliveryError::Rejected(msg)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses() {
        assert_eq!(classify_http(200), None);
        assert_eq!(classify_http(400), Some(false));
        assert_eq!(classify_http(401), Some(false));
        assert_eq!(classify_http(429), Some(true));
        assert_eq!(classify_http(503), Some(true));
        assert_eq!(classify_http(408), Some(true));
    }

    #[test]
    fn grpc_codes() {
        let c = |code| classify_grpc("logs", &tonic::Status::new(code, "x"));
        assert!(matches!(
            c(tonic::Code::Unavailable),
            DeliveryError::Retryable(_)
        ));
        assert!(matches!(
            c(tonic::Code::ResourceExhausted),
            DeliveryError::Retryable(_)
        ));
        assert!(matches!(
            c(tonic::Code::InvalidArgument),
            DeliveryError::Rejected(_)
        ));
        assert!(matches!(
            c(tonic::Code::Unauthenticated),
            DeliveryError::Rejected(_)
        ));
    }
}
