//! Which hosts are intercepted (TLS terminated, content captured) and which are tunnelled blind.

use std::str::FromStr;

/// `--intercept`: `ai` (the OISP bundle's provider domains plus the configured ones) or `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InterceptMode {
    #[default]
    Ai,
    All,
}

impl FromStr for InterceptMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ai" => Ok(InterceptMode::Ai),
            "all" => Ok(InterceptMode::All),
            other => Err(format!("`{other}` is neither `ai` nor `all`")),
        }
    }
}

/// The interception rule.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub mode: InterceptMode,
    /// Extra hosts to intercept in `ai` mode: exact names or globs (`*.example.com`).
    pub domains: Vec<String>,
}

impl Policy {
    /// Whether a `CONNECT` to `host` is intercepted.
    pub fn intercepts(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        match self.mode {
            InterceptMode::All => true,
            InterceptMode::Ai => {
                oisp_decode::providers::provider_for_host(host).is_some()
                    || self
                        .domains
                        .iter()
                        .any(|d| oisp_decode::providers::registry::glob_match(d, host))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ai_mode_intercepts_provider_and_configured_domains_only() {
        let p = Policy {
            mode: InterceptMode::Ai,
            domains: vec!["*.corp.example".into(), "localhost".into()],
        };
        assert!(p.intercepts("api.openai.com"));
        assert!(p.intercepts("api.anthropic.com"));
        assert!(p.intercepts("llm.corp.example"));
        assert!(p.intercepts("localhost"));
        assert!(!p.intercepts("github.com"));
        let all = Policy {
            mode: InterceptMode::All,
            domains: vec![],
        };
        assert!(all.intercepts("github.com"));
        assert_eq!("all".parse::<InterceptMode>(), Ok(InterceptMode::All));
        assert!("some".parse::<InterceptMode>().is_err());
    }
}
