//! `network.*` event payloads (`events/network.schema.json`): `connect`,
//! `accept`, `flow`, `dns`.

use crate::macros::string_enum;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

string_enum! {
    /// Transport protocol (`protocol` of connect/accept/flow).
    pub enum Protocol {
        Tcp => "tcp",
        Udp => "udp",
        Unix => "unix",
        Other => "other",
    }
}

string_enum! {
    /// `network.flow.direction`.
    pub enum Direction {
        Outbound => "outbound",
        Inbound => "inbound",
        Bidirectional => "bidirectional",
    }
}

string_enum! {
    /// `network.dns.query_type`: DNS record type.
    pub enum DnsQueryType {
        A => "A",
        Aaaa => "AAAA",
        Cname => "CNAME",
        Mx => "MX",
        Txt => "TXT",
        Ns => "NS",
        Ptr => "PTR",
        Srv => "SRV",
        Other => "other",
    }
}

string_enum! {
    /// `network.dns.response_code`.
    pub enum DnsResponseCode {
        NoError => "NOERROR",
        NxDomain => "NXDOMAIN",
        ServFail => "SERVFAIL",
        Refused => "REFUSED",
        Other => "other",
    }
}

/// `endpoint.geo`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Geo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
}

/// `$defs/endpoint`: one side of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Endpoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// From DNS, SNI or the Host header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_private: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<Geo>,
}

/// `tls_info.certificate`. Validity bounds are RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Certificate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint_sha256: Option<String>,
    /// Subject Alternative Names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub san: Option<Vec<String>>,
}

/// `$defs/tls_info`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TlsInfo {
    /// e.g. `TLSv1.3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher_suite: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// e.g. `h2`, `http/1.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Certificate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja3_fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja3s_fingerprint: Option<String>,
}

/// `$defs/http_info`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HttpInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_length: Option<u64>,
    /// Selected request headers (never credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_headers: Option<BTreeMap<String, String>>,
    /// Selected response headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_headers: Option<BTreeMap<String, String>>,
}

/// `network.connect` data (`$defs/connect`). `dest` is required.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NetworkConnect {
    pub dest: Endpoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    /// Error text if the connection failed, e.g. `connection refused`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `network.accept` data (`$defs/accept`). `src` is required.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NetworkAccept {
    /// The connecting client.
    pub src: Endpoint,
    /// The local endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `network.flow` data (`$defs/flow`). `dest` is required; times RFC 3339.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NetworkFlow {
    pub dest: Endpoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_sent: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_received: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packets_sent: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packets_received: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpInfo>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `network.dns.answers`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DnsAnswer {
    /// Schema key `type` (free string, e.g. `A`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
}

/// `network.dns` data (`$defs/dns`). `query_name` and `query_type` are
/// required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkDns {
    pub query_name: String,
    pub query_type: DnsQueryType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_code: Option<DnsResponseCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<Vec<DnsAnswer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolver: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl NetworkDns {
    /// A DNS event with only the required fields set.
    pub fn new(query_name: impl Into<String>, query_type: DnsQueryType) -> Self {
        Self {
            query_name: query_name.into(),
            query_type,
            response_code: None,
            answers: None,
            resolver: None,
            latency_ms: None,
            extra: Map::new(),
        }
    }
}
