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
/// it (the bundle of system roots plus our CA), including the agents' own (Codex); and
/// `NODE_OPTIONS` (the caller's, plus the preload of [`write_node_preload`]).
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
    // Node ≥ 24 (and 22.21+) honour the proxy variables for fetch and https only when asked;
    // older Node's fetch gets the preload.
    v.push(("NODE_USE_ENV_PROXY", "1".into()));
    let existing = std::env::var("NODE_OPTIONS").ok();
    v.push((
        "NODE_OPTIONS",
        node_options(existing.as_deref(), &node_preload_path(ca_dir)),
    ));
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

/// The Node preload that sends fetch through the proxy where Node ignores the proxy variables
/// (before 22.21 / 24): `assets/node-env-proxy.cjs`, loaded with `NODE_OPTIONS=--require`.
const NODE_PRELOAD: &str = include_str!("../../../assets/node-env-proxy.cjs");

/// Where [`write_node_preload`] puts the preload.
pub fn node_preload_path(ca_dir: &Path) -> PathBuf {
    ca_dir.join("node-env-proxy.cjs")
}

/// Writes the Node preload beside the CA (the directory must exist: after `prepare_ca` or the
/// proxy's start). Node refuses to start when a `--require`d file is missing, so this runs
/// before any client gets [`env_vars`].
pub fn write_node_preload(ca_dir: &Path) -> Result<()> {
    let path = node_preload_path(ca_dir);
    oisp_os::private::write_atomically(&path, NODE_PRELOAD.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `NODE_OPTIONS` for clients: `existing` (the caller's own, kept first) plus the preload.
fn node_options(existing: Option<&str>, preload: &Path) -> String {
    let quoted = preload
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let require = format!("--require \"{quoted}\"");
    match existing.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) if e.contains(&require) => e.to_string(),
        Some(e) => format!("{e} {require}"),
        None => require,
    }
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

    #[test]
    fn node_options_keep_the_callers_and_add_the_preload_once() {
        let p = Path::new("/d/my ca/node-env-proxy.cjs");
        let req = r#"--require "/d/my ca/node-env-proxy.cjs""#;
        assert_eq!(node_options(None, p), req);
        assert_eq!(node_options(Some("  "), p), req);
        let mine = format!("--max-old-space-size=4096 {req}");
        assert_eq!(node_options(Some("--max-old-space-size=4096"), p), mine);
        assert_eq!(
            node_options(Some(&mine), p),
            mine,
            "nested runs add it once"
        );
        assert_eq!(
            node_options(None, Path::new(r#"/a"b\c.cjs"#)),
            r#"--require "/a\"b\\c.cjs""#
        );
    }
}
