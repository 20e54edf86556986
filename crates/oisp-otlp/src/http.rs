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
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

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
    /// A client sending `headers` (marked sensitive) with every request. Errors name the bad
    /// header.
    pub fn new(headers: &BTreeMap<String, String>, timeout: Duration) -> Result<Self, String> {
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
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(provider)
            .map_err(|e| format!("OTLP HTTP client: TLS setup: {e}"))?
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
    pub async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        gzip: bool,
    ) -> Result<(u16, Bytes), PostError> {
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
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| PostError::Failed(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok((status, bytes))
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(PostError::Timeout),
        }
    }
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
