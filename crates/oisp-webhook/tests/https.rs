//! HTTPS: the server certificate is checked against the system CA store (here: a test CA
//! given through `SSL_CERT_FILE`, which the system store honours). One test per binary because
//! it sets an environment variable.

mod support;

use oisp_sinks::config::WebhookConfig;
use oisp_sinks::{DeliveryError, Sink};
use oisp_webhook::WebhookSink;
use std::path::Path;
use std::process::Command;
use support::{items, Receiver, ReceiverOpts};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("openssl is required for the HTTPS test ({e})"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a certificate for 127.0.0.1 signed by it (P-256 keys, valid one day).
fn make_certs(dir: &Path) {
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
        "1",
        "-subj",
        "/CN=oisp test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ],
    );
}

#[test]
fn https_uses_the_system_ca_store() {
    let dir = tempfile::tempdir().unwrap();
    make_certs(dir.path());
    let rx = Receiver::start(
        dir.path(),
        ReceiverOpts {
            secret: Some("k".into()),
            tls: Some((dir.path().join("server.pem"), dir.path().join("server.key"))),
            ..Default::default()
        },
    );
    assert!(rx.url.starts_with("https://127.0.0.1:"), "{}", rx.url);
    let cfg = WebhookConfig {
        url: rx.url.clone(),
        secret: Some("k".into()),
        timeout: Some("5s".into()),
        ..Default::default()
    };
    let batch = items(3);

    // The machine's own store (ca-certificates) does not hold the test CA: the certificate is refused, the batch kept.
    std::env::remove_var("SSL_CERT_DIR");
    std::env::remove_var("SSL_CERT_FILE");
    let mut untrusted = WebhookSink::new(&cfg).unwrap();
    match untrusted.deliver(&batch) {
        Err(DeliveryError::Retryable(m)) => {
            println!("untrusted: {m}");
            assert!(
                m.to_lowercase().contains("certificate") || m.contains("Issuer"),
                "{m}"
            )
        }
        other => panic!("untrusted certificate: {other:?}"),
    }
    assert!(rx.received_ids().is_empty());

    // With the CA in the store the same receiver is trusted.
    std::env::set_var("SSL_CERT_FILE", dir.path().join("ca.pem"));
    let mut trusted = WebhookSink::new(&cfg).unwrap();
    trusted.deliver(&batch).unwrap();
    let want: Vec<String> = batch.iter().map(|i| i.event.event_id.clone()).collect();
    assert_eq!(rx.received_ids(), want);
}
