//! `https://` endpoints: the receiver serves TLS with a certificate from a test CA, and the sink
//! trusts that CA through `[otlp] certificate` / `OTEL_EXPORTER_OTLP_CERTIFICATE`.

mod support;

use oisp_otlp::OtlpSink;
use oisp_sinks::config::{OtlpConfig, OtlpProtocol};
use oisp_sinks::{DeliveryError, Sink};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use support::*;

/// A CA and a server certificate for localhost / 127.0.0.1, made with the openssl CLI.
fn make_certs(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("the TLS test needs the openssl command: {e}"));
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=oisp-test-ca",
    ]);
    run(&ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "srv.key",
        "-out",
        "srv.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run(&csr);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "srv.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
}

#[test]
fn https_endpoints_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    make_certs(dir.path());
    let (cert, key) = (dir.path().join("srv.pem"), dir.path().join("srv.key"));
    let rx = Receiver::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let events = fixture_events("curl-h1");
    let batch = items(&events);
    let ca = dir.path().join("ca.pem");
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
    assert_eq!(spans(&received).len(), 2 * 7);
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
