//! Which processes made AI calls, and through which capture source, and which opened TLS
//! connections to an AI provider's servers (seen from their ClientHello, whether or not a hooked
//! stack read their content): what `status` shows as each process's coverage.

use oisp_capture::DataSource;
use std::collections::HashMap;

/// Processes remembered at most (the first ones seen stay).
pub const MAX_AI_PROCESSES: usize = 4096;

/// The AI calls one process made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessAi {
    pub pid: u32,
    /// The executable, as its exec (or /proc) said when the first call was decoded.
    pub exe: Option<String>,
    pub calls: u64,
    /// Where the calls' bytes were read (TLS stack, socket, proxy…), each once.
    pub sources: Vec<DataSource>,
    /// Providers called (`openai`, `anthropic`, …), each once.
    pub providers: Vec<String>,
    /// AI providers' server names this process opened TLS connections to (from their
    /// ClientHello), each once: with no `calls`, what nothing could read.
    pub tls_hosts: Vec<String>,
    /// AI calls estimated from the sizes and timing of such connections (metadata only).
    pub estimated_calls: u64,
    /// Tokens (in + out) estimated for them.
    pub estimated_tokens: u64,
}

/// Every process that made an AI call.
#[derive(Debug, Default)]
pub struct AiProcesses {
    by_pid: HashMap<u32, ProcessAi>,
}

impl AiProcesses {
    /// Counts one decoded AI call of `pid`.
    pub(crate) fn call(
        &mut self,
        pid: u32,
        exe: Option<&str>,
        source: Option<DataSource>,
        provider: &str,
    ) {
        let Some(p) = self.entry(pid, exe) else {
            return;
        };
        p.calls += 1;
        if let Some(s) = source {
            if !p.sources.contains(&s) {
                p.sources.push(s);
            }
        }
        if !p.providers.iter().any(|x| x == provider) {
            p.providers.push(provider.to_string());
        }
    }

    /// Counts a TLS connection of `pid` to `host`, an AI provider's server, seen from its
    /// ClientHello.
    pub(crate) fn tls_to(&mut self, pid: u32, exe: Option<&str>, host: &str, provider: &str) {
        let Some(p) = self.entry(pid, exe) else {
            return;
        };
        if !p.tls_hosts.iter().any(|h| h == host) {
            p.tls_hosts.push(host.to_string());
        }
        if !p.providers.iter().any(|x| x == provider) {
            p.providers.push(provider.to_string());
        }
    }

    /// Counts `calls` AI calls of `pid`, with `tokens` tokens, estimated from a connection's
    /// metadata.
    pub(crate) fn estimated(&mut self, pid: u32, exe: Option<&str>, calls: u64, tokens: u64) {
        let Some(p) = self.entry(pid, exe) else {
            return;
        };
        p.estimated_calls += calls;
        p.estimated_tokens += tokens;
    }

    fn entry(&mut self, pid: u32, exe: Option<&str>) -> Option<&mut ProcessAi> {
        if !self.by_pid.contains_key(&pid) && self.by_pid.len() >= MAX_AI_PROCESSES {
            return None;
        }
        Some(self.by_pid.entry(pid).or_insert_with(|| ProcessAi {
            pid,
            exe: exe.map(str::to_string),
            calls: 0,
            sources: Vec::new(),
            providers: Vec::new(),
            tls_hosts: Vec::new(),
            estimated_calls: 0,
            estimated_tokens: 0,
        }))
    }

    /// The processes, by pid.
    pub fn list(&self) -> Vec<ProcessAi> {
        let mut v: Vec<ProcessAi> = self.by_pid.values().cloned().collect();
        v.sort_by_key(|p| p.pid);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_calls_sources_and_providers_once_each() {
        let mut t = AiProcesses::default();
        t.call(
            7,
            Some("/usr/bin/node"),
            Some(DataSource::OpenSslStatic),
            "openai",
        );
        t.call(7, None, Some(DataSource::OpenSslStatic), "anthropic");
        t.call(7, None, None, "openai");
        t.call(3, None, Some(DataSource::Rustls), "openai");
        let l = t.list();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].pid, 3);
        let p = &l[1];
        assert_eq!((p.calls, p.exe.as_deref()), (3, Some("/usr/bin/node")));
        assert_eq!(p.sources, vec![DataSource::OpenSslStatic]);
        assert_eq!(p.providers, vec!["openai", "anthropic"]);
    }

    #[test]
    fn tls_connections_are_kept_apart_from_calls() {
        let mut t = AiProcesses::default();
        t.tls_to(9, Some("/opt/java"), "api.anthropic.com", "anthropic");
        t.tls_to(9, None, "api.anthropic.com", "anthropic");
        let p = &t.list()[0];
        assert_eq!((p.calls, p.exe.as_deref()), (0, Some("/opt/java")));
        assert_eq!(p.tls_hosts, vec!["api.anthropic.com"]);
        assert_eq!(p.providers, vec!["anthropic"]);
        assert!(p.sources.is_empty());
    }
}
