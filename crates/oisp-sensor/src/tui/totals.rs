//! Running totals of the TUI's selection (the totals bar) and per-process figures (the process
//! tree), added up from the store's indexed facts: no event JSON is parsed for them.
//!
//! Contract: `ai_calls` counts `ai.request` events; tokens (prompt + completion) and cost are
//! summed over `ai.response` events; `events` counts every event of the selection. For a store
//! whose requests all have their responses these are the figures `analyze` prints.

use crate::runtime_state::RecordState;
use crate::timeline::fmt_usd;
use oisp_store::{Facts, Query, Store, StoreError};
use std::collections::HashMap;

/// Rows of facts read per query while adding up a whole selection (bounds memory).
const CHUNK: i64 = 50_000;

/// What one process did in the selection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcStats {
    pub name: String,
    pub events: u64,
    pub ai_calls: u64,
    pub tokens: u64,
    pub cost_usd: f64,
}

/// Totals of a selection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub events: u64,
    pub ai_calls: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_usd: f64,
    /// Per process id (events without a pid are not counted here).
    pub procs: HashMap<i64, ProcStats>,
}

fn count(v: Option<i64>) -> u64 {
    v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0)
}

impl Totals {
    /// Adds one event's facts.
    pub fn add(&mut self, f: &Facts) {
        self.events += 1;
        let (mut calls, mut tokens, mut cost) = (0, 0, 0.0);
        match f.event_type.as_str() {
            "ai.request" => calls = 1,
            "ai.response" => {
                tokens = count(f.prompt_tokens) + count(f.completion_tokens);
                self.prompt_tokens += count(f.prompt_tokens);
                self.completion_tokens += count(f.completion_tokens);
                cost = f.cost_usd.unwrap_or(0.0);
            }
            _ => {}
        }
        self.ai_calls += calls;
        self.cost_usd += cost;
        if let Some(pid) = f.pid {
            let p = self.procs.entry(pid).or_default();
            if p.name.is_empty() {
                p.name = f
                    .process_name
                    .clone()
                    .or(f.process_exe.clone())
                    .unwrap_or_default();
            }
            p.events += 1;
            p.ai_calls += calls;
            p.tokens += tokens;
            p.cost_usd += cost;
        }
    }

    /// Adds the facts of the rows of `q` with `after < id <= up_to`, [`CHUNK`] ids at a time.
    pub fn add_rows(
        &mut self,
        store: &Store,
        q: &Query,
        after: i64,
        up_to: i64,
    ) -> Result<(), StoreError> {
        let mut from = after;
        while from < up_to {
            let to = from.saturating_add(CHUNK).min(up_to);
            let chunk = Query {
                after_id: Some(from),
                up_to_id: Some(to),
                ..q.clone()
            };
            for f in store.facts(&chunk)? {
                self.add(&f);
            }
            from = to;
        }
        Ok(())
    }

    /// The bar's text: `AI calls N · tokens N · cost $X · events N`.
    pub fn bar(&self) -> String {
        format!(
            "AI calls {} · tokens {} · cost ${} · events {}",
            self.ai_calls,
            self.prompt_tokens + self.completion_tokens,
            fmt_usd(self.cost_usd),
            self.events
        )
    }
}

/// The drops of a running `record` (every kind it counts), or `no record running`.
pub fn drops_text(state: Option<&RecordState>) -> String {
    match state {
        None => "no record running".into(),
        Some(s) => {
            let c = &s.counters;
            format!(
                "record {}: drops: {} TLS + {} system records lost, {} B truncated, {} B gaps",
                s.pid, c.lost_tls_records, c.lost_system_records, c.truncated_bytes, c.gap_bytes
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(t: &str, pid: i64, tokens: (i64, i64), cost: Option<f64>) -> Facts {
        Facts {
            event_type: t.into(),
            pid: Some(pid),
            process_name: Some(format!("p{pid}")),
            prompt_tokens: Some(tokens.0),
            completion_tokens: Some(tokens.1),
            cost_usd: cost,
            ..Facts::default()
        }
    }

    #[test]
    fn calls_come_from_requests_and_tokens_and_cost_from_responses() {
        let mut t = Totals::default();
        t.add(&facts("ai.request", 7, (0, 0), None));
        t.add(&facts("ai.response", 7, (100, 20), Some(0.5)));
        t.add(&facts("process.exec", 8, (0, 0), None));
        assert_eq!((t.events, t.ai_calls), (3, 1));
        assert_eq!(t.prompt_tokens + t.completion_tokens, 120);
        assert_eq!(t.bar(), "AI calls 1 · tokens 120 · cost $0.5000 · events 3");
        let p7 = &t.procs[&7];
        assert_eq!((p7.name.as_str(), p7.ai_calls, p7.tokens), ("p7", 1, 120));
        assert_eq!(t.procs[&8].events, 1);
    }

    #[test]
    fn no_record_running_is_said() {
        assert_eq!(drops_text(None), "no record running");
    }
}
