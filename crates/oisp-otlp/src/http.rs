//! The OTLP/HTTP client: hyper (the HTTP stack tonic already brings) with rustls (ring,
//! Mozilla roots) for `https://` URLs. One POST per call, bounded by the timeout.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The certificates of a PEM file's contents; an error when there is none or one is broken.
pub fn parse_pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a valid PEM certificate file: {e}"))?;
    if certs.is_empty() {
        return Err("contains no PEM certificate".into());
    }
    Ok(certs)
}

/// Why a POST did not produce an HTTP answer.
#[derive(Debug)]
pub enum PostError {
    /// No answer within the timeout.
    Timeout,
    /// Connecting, TLS or the exchange failed.
    Failed(String),
}

/// A POST-only client with fixed headers.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    headers: HeaderMap,
    timeout: Duration,
}

impl HttpClient {
    /// A client sending `headers` (marked sensitive) with every request, trusting the Mozilla
    /// roots plus `extra_cas`. Errors name the bad header or certificate.
    pub fn new(
        headers: &BTreeMap<String, String>,
        timeout: Duration,
        extra_cas: &[CertificateDer<'static>],
    ) -> Result<Self, String> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("OTLP header name `{k}` is not a valid header"))?;
            let mut value = HeaderValue::from_str(v)
                .map_err(|_| format!("the value of OTLP header `{k}` is not valid"))?;
            value.set_sensitive(true);
            map.insert(name, value);
        }
        map.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("oisp-sensor/", env!("CARGO_PKG_VERSION"))),
        );
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(timeout));
        tcp.set_nodelay(true);
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for cert in extra_cas {
            roots
                .add(cert.clone())
                .map_err(|e| format!("OTLP certificate file: {e}"))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls_config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("OTLP HTTP client: TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new()).build(tls);
        Ok(HttpClient {
            client,
            headers: map,
            timeout,
        })
    }

    /// POSTs `body` as `application/x-protobuf` (gzip-encoded when `gzip`, already compressed
    /// by the caller) and returns the status and the whole answer body.
    pub async fn post(&self, url: &str, body: Vec<u8>, gzip: bool) -> Result<Answer, PostError> {
        let uri: Uri = url
            .parse()
            .map_err(|e| PostError::Failed(format!("bad URL: {e}")))?;
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(CONTENT_TYPE, "application/x-protobuf");
        if gzip {
            req = req.header(CONTENT_ENCODING, "gzip");
        }
        let mut req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| PostError::Failed(e.to_string()))?;
        req.headers_mut().extend(self.headers.clone());
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| PostError::Failed(error_chain(&e)))?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| oisp_sinks::parse_retry_after(v, std::time::SystemTime::now()));
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| PostError::Failed(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok(Answer {
                status,
                retry_after,
                body,
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(PostError::Timeout),
        }
    }
}

/// A response: its status, the wait it asked for (`Retry-After`), its body.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<std::time::Duration>,
    pub body: Bytes,
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
