//! Which events pass a `[filter]` (global, or one sink's).

use oisp_event::{Event, EventData};
use serde::Deserialize;

/// A compiled [`FilterConfig`]: lower-cased once, matched per event without allocating.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventMatcher {
    types: Vec<String>,
    exclude_types: Vec<String>,
    processes: Vec<String>,
    providers: Vec<String>,
    models: Vec<String>,
    ai_only: bool,
}

fn lower(v: &[String]) -> Vec<String> {
    v.iter().map(|s| s.trim().to_ascii_lowercase()).collect()
}

/// `t` is `f` or starts with `f.` (so `ai` matches `ai.request`, `ai.re` matches nothing).
fn type_matches(t: &str, f: &str) -> bool {
    t == f || (t.len() > f.len() && t.starts_with(f) && t.as_bytes()[f.len()] == b'.')
}

impl EventMatcher {
    pub fn new(cfg: &FilterConfig) -> Self {
        EventMatcher {
            types: lower(&cfg.types),
            exclude_types: lower(&cfg.exclude_types),
            processes: lower(&cfg.processes),
            providers: lower(&cfg.providers),
            models: lower(&cfg.models),
            ai_only: cfg.ai_only,
        }
    }

    /// True when the filter lets every event through.
    pub fn is_pass_all(&self) -> bool {
        *self == EventMatcher::default()
    }

    /// See [`FilterConfig`] for the rules.
    pub fn matches(&self, ev: &Event) -> bool {
        let t = ev.event_type();
        if !self.types.is_empty() && !self.types.iter().any(|f| type_matches(t, f)) {
            return false;
        }
        if self.exclude_types.iter().any(|f| type_matches(t, f)) {
            return false;
        }
        if !self.processes.is_empty() {
            let Some(p) = &ev.process else { return false };
            let hit = [p.name.as_deref(), p.exe.as_deref()]
                .into_iter()
                .flatten()
                .any(|s| {
                    let s = s.to_ascii_lowercase();
                    self.processes.iter().any(|f| s.contains(f.as_str()))
                });
            if !hit {
                return false;
            }
        }
        let ai = ai_fields(ev);
        if ai.is_none() {
            return !self.ai_only;
        }
        let (provider, model) = ai.unwrap_or_default();
        if !self.providers.is_empty() {
            let p = provider.unwrap_or("other").to_ascii_lowercase();
            let specific = ev
                .attrs
                .as_ref()
                .and_then(|a| a.get("provider_name"))
                .and_then(|v| v.as_str())
                .map(str::to_ascii_lowercase);
            let hit = self
                .providers
                .iter()
                .any(|f| *f == p || specific.as_deref() == Some(f.as_str()));
            if !hit {
                return false;
            }
        }
        if !self.models.is_empty() {
            let Some(m) = model else { return false };
            let m = m.to_ascii_lowercase();
            if !self.models.contains(&m) {
                return false;
            }
        }
        true
    }
}

/// (provider name, model id) of an AI event; `None` for other events.
fn ai_fields(ev: &Event) -> Option<(Option<&'static str>, Option<&str>)> {
    let (provider, model) = match &ev.data {
        EventData::AiRequest(d) => (d.provider.as_ref(), d.model.as_ref()),
        EventData::AiResponse(d) => (d.provider.as_ref(), d.model.as_ref()),
        EventData::AiEmbedding(d) => (d.provider.as_ref(), d.model.as_ref()),
        _ => return None,
    };
    Some((
        provider.and_then(|p| p.name).map(|n| n.as_str()),
        model.and_then(|m| m.id.as_deref()),
    ))
}

/// Which events pass (global `[filter]`, or per sink). Empty lists pass everything; an event
/// must match every non-empty list. Matching: `types` by exact type or prefix (`ai` matches
/// `ai.request`); `processes` by substring of process name or exe; `providers`, `models` exact
/// (case-insensitive) on AI events — non-AI events pass those two lists unless
/// `ai_only = true`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FilterConfig {
    pub types: Vec<String>,
    pub exclude_types: Vec<String>,
    pub processes: Vec<String>,
    pub providers: Vec<String>,
    pub models: Vec<String>,
    pub ai_only: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(example: &str) -> Event {
        let path = format!(
            "{}/../../vendor/oisp-spec/examples/{example}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn m(f: FilterConfig) -> EventMatcher {
        EventMatcher::new(&f)
    }

    #[test]
    fn types_prefix_and_exclusion() {
        let req = ev("ai-request-openai");
        let exec = ev("process-exec");
        let f = m(FilterConfig {
            types: vec!["ai".into()],
            ..Default::default()
        });
        assert!(f.matches(&req) && !f.matches(&exec));
        let f = m(FilterConfig {
            types: vec!["ai.re".into()],
            ..Default::default()
        });
        assert!(!f.matches(&req));
        let f = m(FilterConfig {
            exclude_types: vec!["process".into()],
            ..Default::default()
        });
        assert!(f.matches(&req) && !f.matches(&exec));
        assert!(m(FilterConfig::default()).is_pass_all());
    }

    #[test]
    fn provider_and_model_apply_to_ai_events_only() {
        let req = ev("ai-request-openai");
        let exec = ev("process-exec");
        let f = m(FilterConfig {
            providers: vec!["OpenAI".into()],
            ..Default::default()
        });
        assert!(f.matches(&req) && f.matches(&exec));
        let f = m(FilterConfig {
            providers: vec!["anthropic".into()],
            ..Default::default()
        });
        assert!(!f.matches(&req) && f.matches(&exec));
        let f = m(FilterConfig {
            models: vec!["no-such-model".into()],
            ai_only: true,
            ..Default::default()
        });
        assert!(!f.matches(&req) && !f.matches(&exec));
    }
}
