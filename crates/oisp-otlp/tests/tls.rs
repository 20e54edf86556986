//! `https://` endpoints: the receiver serves TLS with a certificate from a test CA, and the sink
//! trusts that CA through `[otlp] certificate` / `OTEL_EXPORTER_OTLP_CERTIFICATE`.

mod support;

use oisp_otlp::OtlpSink;
use oisp_otlp::{OtlpConfig, OtlpProtocol};
use oisp_sinks::{DeliveryError, Sink};
use std::collections::HashMap;
use support::*;

#[test]
fn https_endpoints_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let certs = oisp_testkit::make_server_certs(dir.path());
    let (cert, key) = (certs.cert, certs.key);
    let rx = Receiver::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let events = fixture_events("curl-h1");
    let batch = items(&events);
    let ca = certs.ca;
    for (protocol, port) in [
        (OtlpProtocol::Grpc, rx.grpc_port),
        (OtlpProtocol::HttpProtobuf, rx.http_port),
    ] {
        let url = format!("https://127.0.0.1:{port}");
        let cfg = OtlpConfig {
            endpoint: Some(url.clone()),
            protocol: Some(protocol),
            timeout: Some("5s".into()),
            ..OtlpConfig::default()
        };
        // Without the CA: the server is not trusted, a retryable failure.
        let mut untrusted = OtlpSink::with_env(&cfg, &HashMap::new()).unwrap();
        match untrusted.deliver(&batch) {
            Err(DeliveryError::Retryable(m)) => assert!(m.to_lowercase().contains("cert"), "{m}"),
            other => panic!("{protocol:?}: expected an untrusted-certificate error, got {other:?}"),
        }
        // With the CA from the environment.
        let env: HashMap<String, String> = [(
            "OTEL_EXPORTER_OTLP_CERTIFICATE".to_string(),
            ca.display().to_string(),
        )]
        .into();
        let mut sink = OtlpSink::with_env(&cfg, &env).unwrap();
        sink.deliver(&batch)
            .unwrap_or_else(|e| panic!("{protocol:?}: {e}"));
    }
    let received = rx.received();
    assert_eq!(log_records(&received).len(), 2 * events.len());
    assert_eq!(call_spans(&received).len(), 2 * 7);
}

#[test]
fn a_bad_certificate_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    for (path, want) in [
        (dir.path().join("missing.pem"), "missing.pem"),
        (not_pem, "no PEM certificate"),
    ] {
        let cfg = OtlpConfig {
            endpoint: Some("https://collector:4317".into()),
            certificate: Some(path),
            ..OtlpConfig::default()
        };
        let err = OtlpSink::with_env(&cfg, &HashMap::new()).err().unwrap();
        assert!(err.contains(want), "{err}");
    }
}
