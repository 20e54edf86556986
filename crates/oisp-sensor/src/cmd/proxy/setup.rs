//! What `proxy` and `run` share: the proxy's options from `[proxy]` and the flags, and the
//! environment that points a client at the proxy and makes it trust the CA.

use crate::cli::InterceptArgs;
use crate::config::ProxyConfigSection;
use anyhow::{Context, Result};
use oisp_proxy::{InterceptMode, Log, Policy, ProxyOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `proxy`'s default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The CA directory: `--ca-dir`, else `proxy.ca_dir`, else the per-user default.
pub fn ca_dir(cfg: &ProxyConfigSection, args: &InterceptArgs) -> PathBuf {
    args.ca_dir
        .clone()
        .or_else(|| cfg.ca_dir.clone())
        .unwrap_or_else(oisp_proxy::default_ca_dir)
}

/// The proxy's options: flags over `[proxy]`, listening on `listen`.
pub fn proxy_options(
    cfg: &ProxyConfigSection,
    args: &InterceptArgs,
    listen: String,
    log: Log,
) -> Result<ProxyOptions> {
    let mode = match args.intercept.as_deref().or(cfg.intercept.as_deref()) {
        Some(m) => m
            .parse::<InterceptMode>()
            .map_err(anyhow::Error::msg)
            .context("--intercept")?,
        None => InterceptMode::Ai,
    };
    let mut domains = cfg.domains.clone();
    domains.extend(args.domains.iter().cloned());
    let mut upstream_ca = cfg.upstream_ca.clone();
    upstream_ca.extend(args.upstream_ca.iter().cloned());
    Ok(ProxyOptions {
        listen,
        ca_dir: ca_dir(cfg, args),
        upstream_ca,
        policy: Policy { mode, domains },
        log,
    })
}

/// A log that writes `oisp-sensor: proxy: MSG` lines to standard error.
pub fn stderr_log() -> Log {
    Arc::new(|msg: &str| eprintln!("oisp-sensor: proxy: {msg}"))
}

/// The variables that send a client's HTTP(S) through the proxy at `addr` and make it trust
/// the CA in `ca_dir`: proxy variables (both cases, Node's and global-agent's), CA variables
/// that add to the system store (`NODE_EXTRA_CA_CERTS`: our CA alone) and those that replace
/// it (the bundle of system roots plus our CA), including the agents' own (Codex).
pub fn env_vars(addr: SocketAddr, ca_dir: &Path) -> Vec<(&'static str, String)> {
    let url = format!("http://{addr}");
    let ca = oisp_proxy::ca_cert_path(ca_dir).display().to_string();
    let bundle = oisp_proxy::bundle_path(ca_dir).display().to_string();
    let mut v = Vec::new();
    for k in [
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "https_proxy",
        "http_proxy",
        "GLOBAL_AGENT_HTTPS_PROXY",
        "GLOBAL_AGENT_HTTP_PROXY",
    ] {
        v.push((k, url.clone()));
    }
    // Node ≥ 24 (and 22.21+) honour the proxy variables for fetch and https only when asked.
    v.push(("NODE_USE_ENV_PROXY", "1".into()));
    v.push(("NODE_EXTRA_CA_CERTS", ca));
    for k in [
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "AWS_CA_BUNDLE",
        "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
        "CODEX_CA_CERTIFICATE",
    ] {
        v.push((k, bundle.clone()));
    }
    v
}

/// `export K='V'` lines for a POSIX shell.
pub fn shell_lines(vars: &[(&str, String)]) -> String {
    vars.iter()
        .map(|(k, v)| format!("export {k}='{}'\n", v.replace('\'', "'\\''")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_names_the_proxy_and_both_ca_files() {
        let vars = env_vars("127.0.0.1:8080".parse().unwrap(), Path::new("/d/ca"));
        let get = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("HTTPS_PROXY"), Some("http://127.0.0.1:8080"));
        assert_eq!(get("NODE_EXTRA_CA_CERTS"), Some("/d/ca/ca.pem"));
        assert_eq!(get("SSL_CERT_FILE"), Some("/d/ca/bundle.pem"));
        assert_eq!(get("CURL_CA_BUNDLE"), Some("/d/ca/bundle.pem"));
        let text = shell_lines(&[("A", "it's".into())]);
        assert_eq!(text, "export A='it'\\''s'\n");
    }
}
