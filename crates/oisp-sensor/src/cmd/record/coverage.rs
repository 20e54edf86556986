//! Per-process coverage for `status`: for each process that made AI calls, which TLS stack (or
//! other source) its bytes were read from, how that stack was located, and how much of its
//! traffic is read; processes that opened TLS connections to an AI provider but made no call
//! anything decoded (metadata only: the ClientHello's server name); and running processes whose
//! executable holds a TLS stack nothing could be attached to, with why.

use crate::runtime_state::{CoverageState, ProbeState, UnlocatedState};
use oisp_capture::DataSource;
use oisp_decode::ProcessAi;

/// What `status` calls a record source.
fn stack_name(s: DataSource) -> &'static str {
    match s {
        DataSource::OpenSsl => "OpenSSL (shared libssl)",
        DataSource::OpenSslStatic => "OpenSSL linked in",
        DataSource::BoringSsl => "BoringSSL linked in",
        DataSource::GnuTls => "GnuTLS (shared libgnutls)",
        DataSource::GoTls => "Go crypto/tls",
        DataSource::Rustls => "rustls on AWS-LC, linked in",
        DataSource::Nss => "NSS (shared libssl3 over libnspr4)",
        DataSource::Socket => "plaintext socket",
        DataSource::ClientHello => "TLS seen at the socket (ClientHello)",
        DataSource::Proxy => "proxy",
        DataSource::MockRecorder => "mock recorder",
        DataSource::Unknown => "unknown",
    }
}

/// How the probes on `exe` were placed: the parenthesised part of their labels (`by structure,
/// = build-id cache: …`), else "by symbol" (exported functions).
fn located(exe: Option<&str>, source: DataSource, probes: &[ProbeState]) -> String {
    if matches!(
        source,
        DataSource::OpenSsl | DataSource::GnuTls | DataSource::Nss
    ) {
        return "by symbol (shared library)".into();
    }
    let Some(exe) = exe else {
        return "unknown (process gone)".into();
    };
    // The exec's file name may be relative or hold `..`; probes are listed by the real path.
    let real = std::fs::canonicalize(exe)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| exe.to_string());
    let exe = real.as_str();
    let how: Vec<&str> = probes
        .iter()
        .filter(|p| p.path == exe)
        .filter_map(|p| {
            let (_, rest) = p.symbol.split_once(" (")?;
            rest.strip_suffix(')')
        })
        .collect();
    match how.first() {
        Some(h) => h.to_string(),
        None if probes.iter().any(|p| p.path == exe) => "by symbol".into(),
        None => "not in this capture's probes".into(),
    }
}

/// The coverage lines: every AI process, then running processes of unlocated executables.
pub fn coverage(
    ai: &[ProcessAi],
    probes: &[ProbeState],
    unlocated: &[UnlocatedState],
) -> Vec<CoverageState> {
    let mut out: Vec<CoverageState> = ai
        .iter()
        .map(|p| {
            if p.calls == 0 {
                return metadata_only(p);
            }
            let exe = p.exe.clone().or_else(|| exe_of(p.pid));
            let source = p.sources.first().copied().unwrap_or(DataSource::Unknown);
            CoverageState {
                pid: p.pid,
                exe: exe.clone().unwrap_or_default(),
                ai_calls: p.calls,
                providers: p.providers.join(", "),
                stack: p
                    .sources
                    .iter()
                    .map(|s| stack_name(*s))
                    .collect::<Vec<_>>()
                    .join(" + "),
                located: located(exe.as_deref(), source, probes),
                coverage: "full content".into(),
            }
        })
        .collect();
    if unlocated.is_empty() {
        return out;
    }
    for pid in running_pids() {
        let Some(exe) = exe_of(pid) else { continue };
        if let Some(u) = unlocated.iter().find(|u| u.path == exe) {
            out.push(CoverageState {
                pid,
                exe,
                ai_calls: 0,
                providers: String::new(),
                stack: "TLS stack found".into(),
                located: "not located".into(),
                coverage: format!("none: {}", u.why),
            });
        }
    }
    out
}

/// The line of a process whose AI connections were seen only from their ClientHello.
fn metadata_only(p: &ProcessAi) -> CoverageState {
    CoverageState {
        pid: p.pid,
        exe: p.exe.clone().or_else(|| exe_of(p.pid)).unwrap_or_default(),
        ai_calls: 0,
        providers: p.providers.join(", "),
        stack: stack_name(DataSource::ClientHello).into(),
        located: "no hooked TLS stack read it".into(),
        coverage: format!(
            "metadata only: TLS to {} (server name, addresses, timing; no content){}",
            p.tls_hosts.join(", "),
            if p.estimated_calls > 0 {
                format!(
                    "; estimated {} call{}, ~{} tokens",
                    p.estimated_calls,
                    if p.estimated_calls == 1 { "" } else { "s" },
                    p.estimated_tokens
                )
            } else {
                String::new()
            }
        ),
    }
}

fn exe_of(pid: u32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

fn running_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn located_reads_the_probe_labels() {
        let probes = vec![
            ProbeState {
                probe: "uprobe".into(),
                path: "/opt/claude".into(),
                symbol: "SSL_write@0x30ba850 (BoringSSL, by structure, = build-id cache: Claude Code 2.1.335)".into(),
            },
            ProbeState {
                probe: "uprobe".into(),
                path: "/usr/bin/node".into(),
                symbol: "SSL_write".into(),
            },
        ];
        assert_eq!(
            located(Some("/opt/claude"), DataSource::BoringSsl, &probes),
            "BoringSSL, by structure, = build-id cache: Claude Code 2.1.335"
        );
        assert_eq!(
            located(Some("/usr/bin/node"), DataSource::OpenSslStatic, &probes),
            "by symbol"
        );
        assert_eq!(
            located(None, DataSource::OpenSsl, &probes),
            "by symbol (shared library)"
        );
        let ai = vec![ProcessAi {
            pid: 1,
            exe: Some("/opt/claude".into()),
            calls: 2,
            sources: vec![DataSource::BoringSsl],
            providers: vec!["anthropic".into()],
            tls_hosts: vec!["api.anthropic.com".into()],
            estimated_calls: 0,
            estimated_tokens: 0,
        }];
        let c = coverage(&ai, &probes, &[]);
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].ai_calls, c[0].coverage.as_str()), (2, "full content"));
        assert_eq!(c[0].stack, "BoringSSL linked in");
        let unread = vec![ProcessAi {
            pid: 2,
            exe: Some("/opt/jdk/bin/java".into()),
            calls: 0,
            sources: vec![],
            providers: vec!["openai".into()],
            tls_hosts: vec!["api.openai.com".into()],
            estimated_calls: 3,
            estimated_tokens: 1200,
        }];
        let c = coverage(&unread, &probes, &[]);
        assert!(
            c[0].coverage
                .starts_with("metadata only: TLS to api.openai.com"),
            "{}",
            c[0].coverage
        );
        assert!(
            c[0].coverage.ends_with("; estimated 3 calls, ~1200 tokens"),
            "{}",
            c[0].coverage
        );
    }
}
