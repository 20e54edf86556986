//! HTTPS: the server certificate is checked against the system CA store (here: a test CA
//! given through `SSL_CERT_FILE`, which the system store honours). One test per binary because
//! it sets an environment variable.

mod support;

use oisp_sinks::{DeliveryError, Sink};
use oisp_webhook::WebhookConfig;
use oisp_webhook::WebhookSink;
use support::{items, Receiver, ReceiverOpts};

#[test]
fn https_uses_the_system_ca_store() {
    let dir = tempfile::tempdir().unwrap();
    let certs = oisp_testkit::make_server_certs(dir.path());
    let rx = Receiver::start(
        dir.path(),
        ReceiverOpts {
            secret: Some("k".into()),
            tls: Some((certs.cert.clone(), certs.key.clone())),
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
    std::env::set_var("SSL_CERT_FILE", &certs.ca);
    let mut trusted = WebhookSink::new(&cfg).unwrap();
    trusted.deliver(&batch).unwrap();
    let want: Vec<String> = batch.iter().map(|i| i.event.event_id.clone()).collect();
    assert_eq!(rx.received_ids(), want);
}
