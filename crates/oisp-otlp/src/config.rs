//! Resolution of the `[otlp]` section against the standard OpenTelemetry environment.
//!
//! [`resolve`] is a pure function of the config section and an environment map, so every rule
//! is unit-tested without touching the process environment. Precedence for every setting:
//! explicit config (or command-line flag, merged into the section by the binary) > environment
//! variable > default.
//!
//! | setting | config key | environment | default |
//! |---|---|---|---|
//! | transport | `protocol` | `OTEL_EXPORTER_OTLP_PROTOCOL` (`grpc`, `http/protobuf`) | `grpc` |
//! | logs URL | `endpoint` | `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` (as-is), `OTEL_EXPORTER_OTLP_ENDPOINT` | `http://localhost:4317` / `:4318` |
//! | traces URL | `endpoint` | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (as-is), `OTEL_EXPORTER_OTLP_ENDPOINT` | same |
//! | headers | `headers` (wins per key) | `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`, URL-decoded) | none |
//! | `service.name` | `service_name` | `OTEL_SERVICE_NAME` | `oisp-sensor` |
//! | timeout | `timeout` (`10s`) | `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds) | 10 s |
//! | compression | `compression` | `OTEL_EXPORTER_OTLP_COMPRESSION` (`gzip`, `none`) | none |
//! | extra trusted CAs | `certificate` (PEM file) | `OTEL_EXPORTER_OTLP_CERTIFICATE` | Mozilla roots only |
//!
//! With HTTP/protobuf a base endpoint (config or `OTEL_EXPORTER_OTLP_ENDPOINT`) gets `/v1/logs`
//! and `/v1/traces` appended; the per-signal variables are used exactly as given (the OTLP
//! exporter specification). With gRPC every endpoint is used as given.

use crate::{OtlpCompression, OtlpConfig, OtlpProtocol};
use oisp_sinks::parse_duration;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

/// Default per-request timeout (the OTLP exporter specification's default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default wait for the response of an AI call before its span is exported as unfinished.
pub const DEFAULT_UNFINISHED_AFTER: Duration = Duration::from_secs(300);
/// Default `service.name`.
pub const DEFAULT_SERVICE_NAME: &str = "oisp-sensor";

/// Everything the sink needs, with every default and environment variable applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub protocol: OtlpProtocol,
    /// Full URL for logs (HTTP: including `/v1/logs`; gRPC: the server address).
    pub logs_endpoint: String,
    /// Full URL for traces.
    pub traces_endpoint: String,
    /// Request headers / gRPC metadata (names lowercase). Secret: never displayed.
    pub headers: BTreeMap<String, String>,
    pub service_name: String,
    pub timeout: Duration,
    pub gzip: bool,
    pub logs: bool,
    pub traces: bool,
    /// How long an `ai.request` waits for its response before its span goes out unfinished.
    pub unfinished_after: Duration,
    /// Extra resource attributes from `OTEL_RESOURCE_ATTRIBUTES`.
    pub resource_attributes: BTreeMap<String, String>,
    /// PEM file of extra CA certificates for `https://` endpoints.
    pub certificate: Option<PathBuf>,
}

/// Reads the process environment into the map [`resolve`] takes (only `OTEL_*` variables).
pub fn process_env() -> HashMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("OTEL_"))
        .collect()
}

/// Applies the precedence rules above. Errors are user-facing and name the bad value and where
/// it came from.
pub fn resolve(cfg: &OtlpConfig, env: &HashMap<String, String>) -> Result<Resolved, String> {
    let get = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());

    let protocol = match cfg.protocol {
        Some(p) => p,
        None => match get("OTEL_EXPORTER_OTLP_PROTOCOL") {
            None | Some("grpc") => OtlpProtocol::Grpc,
            Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
            Some("http/json") => {
                return Err(
                    "OTEL_EXPORTER_OTLP_PROTOCOL=http/json is not supported by oisp-sensor; \
                     use `grpc` or `http/protobuf`"
                        .into(),
                )
            }
            Some(other) => {
                return Err(format!(
                    "OTEL_EXPORTER_OTLP_PROTOCOL=`{other}` is not a protocol (grpc, http/protobuf)"
                ))
            }
        },
    };

    let default_base = match protocol {
        OtlpProtocol::Grpc => "http://localhost:4317",
        OtlpProtocol::HttpProtobuf => "http://localhost:4318",
    };
    let signal_url = |signal_var: &str, path: &str| -> Result<String, String> {
        let (url, source, append) = if let Some(e) = cfg.endpoint.as_deref() {
            (e.trim().to_owned(), "[otlp] endpoint".to_owned(), true)
        } else if let Some(e) = get(signal_var) {
            (e.to_owned(), signal_var.to_owned(), false)
        } else if let Some(e) = get("OTEL_EXPORTER_OTLP_ENDPOINT") {
            (e.to_owned(), "OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), true)
        } else {
            (default_base.to_owned(), "default".to_owned(), true)
        };
        check_url(&url, &source)?;
        Ok(match protocol {
            OtlpProtocol::HttpProtobuf if append => {
                format!("{}/{path}", url.trim_end_matches('/'))
            }
            _ => url,
        })
    };
    let logs_endpoint = signal_url("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "v1/logs")?;
    let traces_endpoint = signal_url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "v1/traces")?;

    let mut headers = match get("OTEL_EXPORTER_OTLP_HEADERS") {
        Some(raw) => parse_key_values(raw, "OTEL_EXPORTER_OTLP_HEADERS")?,
        None => BTreeMap::new(),
    };
    for (k, v) in &cfg.headers {
        headers.insert(k.trim().to_ascii_lowercase(), v.clone());
    }
    for (k, v) in &headers {
        check_header(k, v)?;
    }

    let service_name = cfg
        .service_name
        .clone()
        .or_else(|| get("OTEL_SERVICE_NAME").map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());

    let timeout = match (&cfg.timeout, get("OTEL_EXPORTER_OTLP_TIMEOUT")) {
        (Some(t), _) => parse_duration(t).map_err(|e| format!("[otlp] timeout: {e}"))?,
        (None, Some(ms)) => Duration::from_millis(ms.parse().map_err(|_| {
            format!("OTEL_EXPORTER_OTLP_TIMEOUT=`{ms}` is not a number of milliseconds")
        })?),
        (None, None) => DEFAULT_TIMEOUT,
    };
    if timeout.is_zero() {
        return Err("the OTLP timeout must be greater than zero".into());
    }

    let gzip = match cfg.compression {
        Some(c) => c == OtlpCompression::Gzip,
        None => match get("OTEL_EXPORTER_OTLP_COMPRESSION") {
            None | Some("none") => false,
            Some("gzip") => true,
            Some(other) => {
                return Err(format!(
                    "OTEL_EXPORTER_OTLP_COMPRESSION=`{other}` is not supported (gzip, none)"
                ))
            }
        },
    };

    let unfinished_after = match &cfg.unfinished_after {
        Some(t) => parse_duration(t).map_err(|e| format!("[otlp] unfinished_after: {e}"))?,
        None => DEFAULT_UNFINISHED_AFTER,
    };

    let resource_attributes = match get("OTEL_RESOURCE_ATTRIBUTES") {
        Some(raw) => parse_key_values(raw, "OTEL_RESOURCE_ATTRIBUTES")?,
        None => BTreeMap::new(),
    };

    let certificate = cfg
        .certificate
        .clone()
        .or_else(|| get("OTEL_EXPORTER_OTLP_CERTIFICATE").map(PathBuf::from));

    let logs = cfg.logs.unwrap_or(true);
    let traces = cfg.traces.unwrap_or(true);
    if !logs && !traces {
        return Err("[otlp] logs and traces are both off: nothing would be exported".into());
    }
    Ok(Resolved {
        protocol,
        logs_endpoint,
        traces_endpoint,
        headers,
        service_name,
        timeout,
        gzip,
        logs,
        traces,
        unfinished_after,
        resource_attributes,
        certificate,
    })
}

/// Parses the W3C-baggage-like list the OTel environment uses: `k=v,k2=v2`, each key and value
/// percent-decoded and trimmed. Keys of headers are lowercased by the caller's check.
pub fn parse_key_values(raw: &str, var: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!("{var}: `{part}` is not key=value"));
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s.trim())
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| format!("{var}: `{s}` is not valid UTF-8 once URL-decoded"))
        };
        let key = decode(k)?;
        if key.is_empty() {
            return Err(format!("{var}: `{part}` has an empty key"));
        }
        let key = if var.ends_with("HEADERS") {
            key.to_ascii_lowercase()
        } else {
            key
        };
        out.insert(key, decode(v)?);
    }
    Ok(out)
}

fn check_url(url: &str, source: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("{source}: `{url}` must start with http:// or https://"))?;
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty() {
        return Err(format!("{source}: `{url}` has no host"));
    }
    Ok(())
}

/// A header must be a valid HTTP header and gRPC ASCII metadata: token name, visible-ASCII
/// value. Names ending in `-bin` are binary metadata in gRPC and are refused.
fn check_header(name: &str, value: &str) -> Result<(), String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) || name.ends_with("-bin") {
        return Err(format!(
            "OTLP header name `{name}` is not a valid header name"
        ));
    }
    if !value
        .chars()
        .all(|c| c == ' ' || c == '\t' || c.is_ascii_graphic())
    {
        return Err(format!(
            "the value of OTLP header `{name}` must be printable ASCII"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_per_protocol() {
        let r = resolve(&OtlpConfig::default(), &env(&[])).unwrap();
        assert_eq!(r.protocol, OtlpProtocol::Grpc);
        assert_eq!(r.logs_endpoint, "http://localhost:4317");
        assert_eq!(r.traces_endpoint, "http://localhost:4317");
        assert_eq!(r.service_name, "oisp-sensor");
        assert_eq!(r.timeout, DEFAULT_TIMEOUT);
        assert!(r.logs && r.traces && !r.gzip);
        let r = resolve(
            &OtlpConfig::default(),
            &env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")]),
        )
        .unwrap();
        assert_eq!(r.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(r.logs_endpoint, "http://localhost:4318/v1/logs");
        assert_eq!(r.traces_endpoint, "http://localhost:4318/v1/traces");
    }

    #[test]
    fn environment_applies_and_per_signal_endpoints_are_used_as_is() {
        let e = env(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/base/"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "https://traces.example/custom",
            ),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "Api-Key=abc%3D%3D, x-team = ml ",
            ),
            ("OTEL_SERVICE_NAME", "from-env"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod"),
        ]);
        let r = resolve(&OtlpConfig::default(), &e).unwrap();
        assert_eq!(r.logs_endpoint, "http://collector:4318/base/v1/logs");
        assert_eq!(r.traces_endpoint, "https://traces.example/custom");
        assert_eq!(r.headers["api-key"], "abc==");
        assert_eq!(r.headers["x-team"], "ml");
        assert_eq!(r.service_name, "from-env");
        assert_eq!(r.timeout, Duration::from_millis(2500));
        assert!(r.gzip);
        assert_eq!(r.resource_attributes["deployment.environment"], "prod");
    }

    #[test]
    fn explicit_config_beats_environment() {
        let e = env(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"),
            (
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
                "http://env-logs:4318/v1/logs",
            ),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=env,x-env=1"),
            ("OTEL_SERVICE_NAME", "from-env"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ]);
        let cfg = OtlpConfig {
            endpoint: Some("http://cfg:4317".into()),
            protocol: Some(OtlpProtocol::Grpc),
            headers: [("Api-Key".to_string(), "cfg".to_string())].into(),
            service_name: Some("from-cfg".into()),
            timeout: Some("3s".into()),
            compression: Some(OtlpCompression::None),
            ..OtlpConfig::default()
        };
        let r = resolve(&cfg, &e).unwrap();
        assert_eq!(r.protocol, OtlpProtocol::Grpc);
        assert_eq!(r.logs_endpoint, "http://cfg:4317");
        assert_eq!(r.traces_endpoint, "http://cfg:4317");
        assert_eq!(r.headers["api-key"], "cfg");
        assert_eq!(r.headers["x-env"], "1");
        assert_eq!(r.service_name, "from-cfg");
        assert_eq!(r.timeout, Duration::from_secs(3));
        assert!(!r.gzip);
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let err =
            |pairs: &[(&str, &str)]| resolve(&OtlpConfig::default(), &env(pairs)).unwrap_err();
        assert!(err(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]).contains("not supported"));
        assert!(err(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "udp")]).contains("udp"));
        assert!(err(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]).contains("http://"));
        assert!(err(&[("OTEL_EXPORTER_OTLP_HEADERS", "novalue")]).contains("key=value"));
        assert!(err(&[("OTEL_EXPORTER_OTLP_HEADERS", "bad name=1")]).contains("bad name"));
        assert!(err(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")]).contains("milliseconds"));
        assert!(err(&[("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")]).contains("zstd"));
        let off = OtlpConfig {
            logs: Some(false),
            traces: Some(false),
            ..OtlpConfig::default()
        };
        assert!(resolve(&off, &env(&[])).unwrap_err().contains("nothing"));
    }
}
