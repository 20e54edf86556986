//! TLS configurations: the upstream client (verifying servers against the system roots, plus
//! extra CAs for tests) and the server side presented to clients (a leaf of our CA, the ALPN the
//! upstream chose).

use crate::ca::Leaf;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::path::Path;
use std::sync::Arc;

/// A TLS setup problem.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("{path}: no certificate could be read ({why})")]
    ExtraCa { path: String, why: String },
    #[error("no trusted root certificate: the system store is empty or unreadable ({0})")]
    NoRoots(String),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The system's root certificates (Debian: /etc/ssl/certs), as rustls-native-certs finds them.
/// Errors reading some of them are reported alongside what was read.
pub fn system_roots() -> (Vec<CertificateDer<'static>>, Vec<String>) {
    let r = rustls_native_certs::load_native_certs();
    (r.certs, r.errors.iter().map(|e| e.to_string()).collect())
}

/// What the proxy trusts upstream: `roots` (the system's) plus the certificates of each
/// `extra` PEM file (`--upstream-ca`).
pub struct UpstreamTrust {
    roots: Arc<RootCertStore>,
}

impl UpstreamTrust {
    pub fn new(
        roots: &[CertificateDer<'static>],
        extra: &[impl AsRef<Path>],
    ) -> Result<Self, TlsSetupError> {
        let mut store = RootCertStore::empty();
        let (_added, _ignored) = store.add_parsable_certificates(roots.iter().cloned());
        for path in extra {
            let path = path.as_ref();
            let shown = path.display().to_string();
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| TlsSetupError::ExtraCa {
                    path: shown.clone(),
                    why: e.to_string(),
                })?
                .collect::<Result<_, _>>()
                .map_err(|e| TlsSetupError::ExtraCa {
                    path: shown.clone(),
                    why: e.to_string(),
                })?;
            if certs.is_empty() {
                return Err(TlsSetupError::ExtraCa {
                    path: shown,
                    why: "no PEM certificate in it".into(),
                });
            }
            for c in certs {
                store.add(c).map_err(|e| TlsSetupError::ExtraCa {
                    path: shown.clone(),
                    why: e.to_string(),
                })?;
            }
        }
        if store.is_empty() {
            return Err(TlsSetupError::NoRoots(
                "pass --upstream-ca or install the system CA certificates".into(),
            ));
        }
        Ok(UpstreamTrust {
            roots: Arc::new(store),
        })
    }

    /// A client configuration offering `alpn` (the client's own offer, in its order).
    pub fn client_config(&self, alpn: Vec<Vec<u8>>) -> Result<Arc<ClientConfig>, TlsSetupError> {
        let mut cfg = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(Arc::clone(&self.roots))
            .with_no_client_auth();
        cfg.alpn_protocols = alpn;
        Ok(Arc::new(cfg))
    }
}

/// The server configuration presented to a client: `leaf`, and `alpn` (the protocol the
/// upstream chose, or none).
pub fn server_config(
    leaf: Leaf,
    alpn: Option<Vec<u8>>,
) -> Result<Arc<ServerConfig>, TlsSetupError> {
    let mut cfg = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(leaf.chain, leaf.key)?;
    cfg.alpn_protocols = alpn.into_iter().collect();
    Ok(Arc::new(cfg))
}
