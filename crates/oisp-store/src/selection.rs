//! The event selection of `show` and `analyze`: type, process, provider, model, time window and
//! text. [`Selection::matches`] evaluates it over events read from JSON Lines;
//! [`Selection::query`] hands the same selection to the store, which evaluates it in SQL with
//! the same semantics (both derive fields through [`Facts`]).

use crate::{text_contains, Facts, Query};
use oisp_event::{Event, EventData};

/// The selection as a user writes it (the binary fills it from its flags). Empty fields select
/// everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectionSpec {
    /// Event types or dotted prefixes (`ai` selects `ai.request`, …), any of which matches.
    pub types: Vec<String>,
    /// Case-insensitive substring of the process name or executable.
    pub process: Option<String>,
    /// OISP provider name (`openai`, `other`, …) or the specific name the sensor recorded.
    pub provider: Option<String>,
    /// Case-insensitive substring of the model id.
    pub model: Option<String>,
    /// Text the prompt/response must contain (case-insensitive); empty selects everything.
    pub grep: Option<String>,
    /// Start of the window (inclusive), in a form [`parse_time`] reads.
    pub since: Option<String>,
    /// End of the window (exclusive), in a form [`parse_time`] reads.
    pub until: Option<String>,
}

/// Why a [`SelectionSpec`] is not valid: which bound, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error("since: {0}")]
    Since(String),
    #[error("until: {0}")]
    Until(String),
}

/// A parsed [`SelectionSpec`]. The default matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    types: Vec<String>,
    process: Option<String>,
    provider: Option<String>,
    model: Option<String>,
    grep: Option<String>,
    since_ns: Option<u64>,
    until_ns: Option<u64>,
}

impl Selection {
    /// Parses `spec`; relative times (`10m`) count back from `now_ns`.
    pub fn new(spec: &SelectionSpec, now_ns: u64) -> Result<Self, SelectionError> {
        let lower = |s: &Option<String>| s.as_ref().map(|p| p.to_ascii_lowercase());
        Ok(Selection {
            types: spec.types.iter().map(|t| t.to_ascii_lowercase()).collect(),
            process: lower(&spec.process),
            provider: lower(&spec.provider),
            model: lower(&spec.model),
            grep: spec.grep.clone().filter(|g| !g.is_empty()),
            since_ns: spec
                .since
                .as_deref()
                .map(|s| parse_time(s, now_ns).map_err(SelectionError::Since))
                .transpose()?,
            until_ns: spec
                .until
                .as_deref()
                .map(|s| parse_time(s, now_ns).map_err(SelectionError::Until))
                .transpose()?,
        })
    }

    /// True when `ev` is selected.
    pub fn matches(&self, ev: &Event) -> bool {
        if !self.types.is_empty() {
            let t = ev.event_type();
            let ok = self
                .types
                .iter()
                .any(|f| t == f || (t.starts_with(f.as_str()) && t[f.len()..].starts_with('.')));
            if !ok {
                return false;
            }
        }
        if let Some(p) = &self.process {
            let Some(proc) = &ev.process else {
                return false;
            };
            let hit = [proc.name.as_deref(), proc.exe.as_deref()]
                .iter()
                .flatten()
                .any(|s| s.to_ascii_lowercase().contains(p.as_str()));
            if !hit {
                return false;
            }
        }
        if let Some(p) = &self.provider {
            match provider_of(ev) {
                Some((oisp, specific)) => {
                    if oisp != *p && specific.as_deref() != Some(p.as_str()) {
                        return false;
                    }
                }
                None => return false,
            }
        }
        if let Some(m) = &self.model {
            let facts = Facts::of(ev);
            if !facts
                .model
                .is_some_and(|id| id.to_ascii_lowercase().contains(m.as_str()))
            {
                return false;
            }
        }
        if self.since_ns.is_some() || self.until_ns.is_some() {
            let Ok(t) = ev.wall_ns() else { return false };
            if self.since_ns.is_some_and(|s| t < s) || self.until_ns.is_some_and(|u| t >= u) {
                return false;
            }
        }
        if let Some(g) = &self.grep {
            if !text_contains(ev, g) {
                return false;
            }
        }
        true
    }

    /// The same selection as a store query.
    pub fn query(&self) -> Query {
        Query {
            types: self.types.clone(),
            process: self.process.clone(),
            provider: self.provider.clone(),
            model: self.model.clone(),
            since_ns: self.since_ns,
            until_ns: self.until_ns,
            grep: self.grep.clone(),
            trace_id: None,
            after_id: None,
            up_to_id: None,
        }
    }
}

/// The OISP provider name of an AI event, or of a metadata-only flow with AI estimates, and the
/// specific name the sensor recorded (e.g. `other` / `deepseek`).
pub fn provider_of(ev: &Event) -> Option<(String, Option<String>)> {
    // a metadata-only flow to an AI provider (its estimates name it)
    if let Some(e) = crate::flow_estimate(ev) {
        return Some((e.provider, e.provider_name));
    }
    let info = match &ev.data {
        EventData::AiRequest(d) => d.provider.as_ref(),
        EventData::AiResponse(d) => d.provider.as_ref(),
        EventData::AiEmbedding(d) => d.provider.as_ref(),
        _ => None,
    }?;
    let oisp = info
        .name
        .map(|n| n.as_str().to_string())
        .unwrap_or_else(|| "other".into());
    let specific = ev
        .attrs
        .as_ref()
        .and_then(|a| a.get("provider_name"))
        .and_then(|v| v.as_str())
        .filter(|s| *s != "unknown")
        .map(str::to_string);
    Some((oisp, specific))
}

/// RFC 3339 (`2026-11-25T10:00:00Z`), a date (`2026-11-25`, UTC midnight), or a duration ago
/// (`90s`, `10m`, `2h`, `7d`), as nanoseconds since the epoch.
pub fn parse_time(s: &str, now_ns: u64) -> Result<u64, String> {
    let s = s.trim();
    if let Some(unit) = s.chars().last().filter(|c| "smhdw".contains(*c)) {
        if let Ok(n) = s[..s.len() - 1].parse::<u64>() {
            let secs = n * match unit {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => 604_800,
            };
            return Ok(now_ns.saturating_sub(secs.saturating_mul(1_000_000_000)));
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return nanos(t.with_timezone(&chrono::Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = d.and_hms_opt(0, 0, 0).ok_or("date")?.and_utc();
        return nanos(t);
    }
    Err(format!("`{s}` is not a time: use RFC 3339 (2026-11-25T10:00:00Z), a date (2026-11-25) or a duration ago (10m, 2h, 7d)"))
}

fn nanos(t: chrono::DateTime<chrono::Utc>) -> Result<u64, String> {
    t.timestamp_nanos_opt()
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| "time out of range".to_string())
}

/// Now, in nanoseconds since the epoch.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_every_documented_form() {
        let now = 10_000 * 1_000_000_000;
        assert_eq!(parse_time("10m", now).unwrap(), now - 600 * 1_000_000_000);
        assert_eq!(parse_time("1d", now).unwrap(), 0);
        assert_eq!(
            parse_time("1970-01-01T00:00:01Z", now).unwrap(),
            1_000_000_000
        );
        assert_eq!(
            parse_time("1970-01-02", now).unwrap(),
            86_400 * 1_000_000_000
        );
        assert!(parse_time("yesterday", now).is_err());
    }

    #[test]
    fn a_bad_bound_is_named() {
        let spec = SelectionSpec {
            until: Some("soon".into()),
            ..Default::default()
        };
        assert!(matches!(
            Selection::new(&spec, 0),
            Err(SelectionError::Until(_))
        ));
    }
}
