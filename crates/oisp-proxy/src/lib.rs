//! `oisp-proxy`: an HTTP/HTTPS forward proxy that captures AI traffic without eBPF or root.
//!
//! Clients reach it through `HTTPS_PROXY`/`HTTP_PROXY`. A `CONNECT` to a host the [`Policy`]
//! intercepts is answered with a TLS handshake under a leaf certificate of the sensor's own CA
//! ([`ca`]), after the proxy has connected to the real upstream over TLS (verified against the
//! system roots) with the client's ALPN offer; the bytes then flow both ways unchanged and each
//! chunk becomes a [`oisp_capture::RawRecord`] (source `Proxy`), exactly as the eBPF source
//! reports TLS plaintext, so the same decoder, redaction and sinks apply. Other hosts are
//! tunnelled blind. Plain `http://` requests are forwarded in origin form and recorded.
//!
//! [`ProxySource`] runs the proxy and is the [`oisp_capture::Source`] `oisp_pipeline::run`
//! drives.

pub mod ca;
mod clock;
mod emit;
mod head;
mod mitm;
mod owner;
mod plain;
mod policy;
mod relay;
mod server;
mod source;
mod tls;

pub use ca::{bundle_path, ca_cert_path, default_ca_dir, CertAuthority};
pub use emit::Log;
pub use policy::{InterceptMode, Policy};
pub use source::{ProxyError, ProxyOptions, ProxySource};

/// Loads or creates the CA in `dir` and rewrites its `bundle.pem` (system roots + CA), as
/// [`ProxySource::start`] does, without starting a proxy (`proxy --ca-path`, `--print-env`).
pub fn prepare_ca(dir: &std::path::Path, log: &Log) -> Result<(), ProxyError> {
    let (roots, errors) = tls::system_roots();
    for e in errors {
        log(&format!("system root certificates: {e}"));
    }
    CertAuthority::load_or_create(dir, &roots)?;
    Ok(())
}
