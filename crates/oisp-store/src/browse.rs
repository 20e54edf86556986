//! Reading the store for the web UI and the TUI: newest-first pages, one event by row id, capped
//! counts, and the aggregates the views draw (cost over time, process activity, inventory,
//! session totals, store overview). Every query takes the same [`Query`] as `show`, runs on the
//! indexed columns only (no JSON is parsed) and is bounded, so a store of millions of events
//! answers in milliseconds to a few hundred milliseconds.

use crate::query::{clamp_limit, PageKey};
use crate::{Query, Store, StoreError, StoredEvent};
use rusqlite::types::Value;
use serde::Serialize;

/// One time bucket of AI responses for one (provider, model, process).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesRow {
    /// Start of the bucket, nanoseconds since the epoch.
    pub t_ns: i64,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub process: Option<String>,
    pub calls: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_usd: f64,
}

/// What one process (pid + executable) did in the selection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessRow {
    pub pid: i64,
    pub ppid: Option<i64>,
    pub name: Option<String>,
    pub exe: Option<String>,
    pub container: Option<String>,
    pub events: i64,
    pub ai_calls: i64,
    pub tool_calls: i64,
    pub tokens: i64,
    pub cost_usd: f64,
    pub first_ns: Option<i64>,
    pub last_ns: Option<i64>,
    /// Distinct providers it called, comma-separated.
    pub providers: Option<String>,
    /// Distinct models it asked for, comma-separated.
    pub models: Option<String>,
}

/// One (application, container, provider, model, API key) seen in AI requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InventoryRow {
    pub exe: Option<String>,
    pub name: Option<String>,
    pub container: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub key_prefix: Option<String>,
    pub key_hash: Option<String>,
    pub calls: i64,
    pub tokens: i64,
    pub cost_usd: f64,
    pub first_ns: Option<i64>,
    pub last_ns: Option<i64>,
    /// Distinct processes (pids) that made these calls.
    pub processes: i64,
}

/// Totals of one trace (an agent session).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceTotals {
    pub trace_id: String,
    pub events: i64,
    pub ai_calls: i64,
    pub tool_calls: i64,
    pub execs: i64,
    pub file_writes: i64,
    pub tokens: i64,
    pub cost_usd: f64,
    pub first_ns: Option<i64>,
    pub last_ns: Option<i64>,
}

/// The whole store at a glance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    pub events: i64,
    pub max_id: i64,
    pub first_ns: Option<i64>,
    pub last_ns: Option<i64>,
    pub ai_calls: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_usd: f64,
    pub agent_sessions: i64,
    /// `sensor.warning` events (decode errors, truncations, drops the decoder saw).
    pub warnings: i64,
    pub bytes: u64,
    /// Events per type.
    pub by_type: Vec<(String, i64)>,
}

impl Store {
    /// One page of the events matching `q`, newest first: up to `limit` events strictly before
    /// `before` (from the newest when `None`), each with its position.
    pub fn recent_page(
        &self,
        q: &Query,
        before: Option<PageKey>,
        limit: usize,
    ) -> Result<Vec<(PageKey, StoredEvent)>, StoreError> {
        self.page(q, before, limit, true)
    }

    /// The event stored in row `id`, if it is still there.
    pub fn event_by_row(&self, id: i64) -> Result<Option<StoredEvent>, StoreError> {
        let rows = self.collect(
            "SELECT id, json FROM event_json WHERE id = ?1",
            &[Value::Integer(id)],
            |r| {
                Ok(StoredEvent {
                    id: r.get(0)?,
                    json: r.get(1)?,
                })
            },
        )?;
        Ok(rows.into_iter().next())
    }

    /// How many events match `q`, counting no further than `cap`: `(n, true)` when there are
    /// at least `cap`.
    pub fn count_capped(&self, q: &Query, cap: usize) -> Result<(i64, bool), StoreError> {
        let (cond, mut args) = q.sql();
        args.push(Value::Integer(clamp_limit(cap)));
        let sql = format!(
            "SELECT count(*) FROM (SELECT 1 FROM events WHERE {cond} LIMIT ?{})",
            args.len()
        );
        let n: i64 = self.collect(&sql, &args, |r| r.get(0))?[0];
        Ok((n, n >= clamp_limit(cap)))
    }

    /// The first and last timestamps of AI responses matching `q`.
    pub fn ai_time_range(&self, q: &Query) -> Result<Option<(i64, i64)>, StoreError> {
        let (cond, args) = q.sql();
        let sql = format!(
            "SELECT min(ts_ns), max(ts_ns) FROM events WHERE {cond} AND \
             event_type = 'ai.response' AND ts_ns IS NOT NULL"
        );
        let row: (Option<i64>, Option<i64>) =
            self.collect(&sql, &args, |r| Ok((r.get(0)?, r.get(1)?)))?[0];
        Ok(row.0.zip(row.1))
    }

    /// AI responses matching `q` summed per time bucket of `bucket_ns` nanoseconds and per
    /// (provider, model, process), oldest bucket first.
    pub fn ai_series(&self, q: &Query, bucket_ns: i64) -> Result<Vec<SeriesRow>, StoreError> {
        let (cond, mut args) = q.sql();
        args.push(Value::Integer(bucket_ns.max(1)));
        let b = args.len();
        let sql = format!(
            "SELECT (ts_ns / ?{b}) * ?{b}, coalesce(provider_name, provider), model, \
             process_name, count(*), coalesce(sum(prompt_tokens), 0), \
             coalesce(sum(completion_tokens), 0), coalesce(sum(cost_usd), 0.0) \
             FROM events WHERE {cond} AND event_type = 'ai.response' AND ts_ns IS NOT NULL \
             GROUP BY 1, 2, 3, 4 ORDER BY 1"
        );
        self.collect(&sql, &args, |r| {
            Ok(SeriesRow {
                t_ns: r.get(0)?,
                provider: r.get(1)?,
                model: r.get(2)?,
                process: r.get(3)?,
                calls: r.get(4)?,
                prompt_tokens: r.get(5)?,
                completion_tokens: r.get(6)?,
                cost_usd: r.get(7)?,
            })
        })
    }

    /// Per process (pid and executable) in the selection: what it did, most recently active
    /// first, at most `limit` processes.
    pub fn process_activity(&self, q: &Query, limit: usize) -> Result<Vec<ProcessRow>, StoreError> {
        let (cond, mut args) = q.sql();
        args.push(Value::Integer(clamp_limit(limit)));
        let sql = format!(
            "SELECT pid, max(ppid), max(process_name), process_exe, max(container), count(*), \
             sum(event_type = 'ai.request'), sum(event_type = 'agent.tool_call'), \
             coalesce(sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)), 0), \
             coalesce(sum(cost_usd), 0.0), min(ts_ns), max(ts_ns), \
             group_concat(DISTINCT coalesce(provider_name, provider)), group_concat(DISTINCT model) \
             FROM events WHERE {cond} AND pid IS NOT NULL GROUP BY pid, process_exe \
             ORDER BY max(ts_ns) DESC LIMIT ?{}",
            args.len()
        );
        self.collect(&sql, &args, |r| {
            Ok(ProcessRow {
                pid: r.get(0)?,
                ppid: r.get(1)?,
                name: r.get(2)?,
                exe: r.get(3)?,
                container: r.get(4)?,
                events: r.get(5)?,
                ai_calls: r.get(6)?,
                tool_calls: r.get(7)?,
                tokens: r.get(8)?,
                cost_usd: r.get(9)?,
                first_ns: r.get(10)?,
                last_ns: r.get(11)?,
                providers: r.get(12)?,
                models: r.get(13)?,
            })
        })
    }

    /// Which applications (executable, container) called which providers and models with which
    /// API keys (prefix and hash only), with calls, tokens and cost: AI requests matching `q`,
    /// joined to their responses.
    pub fn inventory(&self, q: &Query) -> Result<Vec<InventoryRow>, StoreError> {
        let (cond, args) = q.sql();
        let sql = format!(
            "SELECT r.process_exe, max(r.process_name), r.container, \
             coalesce(r.provider_name, r.provider), r.model, r.key_prefix, r.key_hash, count(*), \
             coalesce(sum(coalesce(s.prompt_tokens, 0) + coalesce(s.completion_tokens, 0)), 0), \
             coalesce(sum(s.cost_usd), 0.0), min(r.ts_ns), max(r.ts_ns), count(DISTINCT r.pid) \
             FROM (SELECT * FROM events WHERE {cond} AND event_type = 'ai.request') r \
             LEFT JOIN events s ON s.request_id = r.request_id AND s.event_type = 'ai.response' \
             GROUP BY 1, 3, 4, 5, 6, 7 ORDER BY 8 DESC"
        );
        self.collect(&sql, &args, |r| {
            Ok(InventoryRow {
                exe: r.get(0)?,
                name: r.get(1)?,
                container: r.get(2)?,
                provider: r.get(3)?,
                model: r.get(4)?,
                key_prefix: r.get(5)?,
                key_hash: r.get(6)?,
                calls: r.get(7)?,
                tokens: r.get(8)?,
                cost_usd: r.get(9)?,
                first_ns: r.get(10)?,
                last_ns: r.get(11)?,
                processes: r.get(12)?,
            })
        })
    }

    /// Totals of the traces among the events matching `q`, most recent first, at most `limit`.
    pub fn trace_totals(&self, q: &Query, limit: usize) -> Result<Vec<TraceTotals>, StoreError> {
        let (cond, mut args) = q.sql();
        args.push(Value::Integer(clamp_limit(limit)));
        let sql = format!(
            "SELECT trace_id, count(*), sum(event_type = 'ai.request'), \
             sum(event_type = 'agent.tool_call'), sum(event_type = 'process.exec'), \
             sum(event_type = 'file.write'), \
             coalesce(sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)), 0), \
             coalesce(sum(cost_usd), 0.0), min(ts_ns), max(ts_ns) \
             FROM events WHERE {cond} AND trace_id IS NOT NULL GROUP BY trace_id \
             ORDER BY max(ts_ns) DESC LIMIT ?{}",
            args.len()
        );
        self.collect(&sql, &args, |r| {
            Ok(TraceTotals {
                trace_id: r.get(0)?,
                events: r.get(1)?,
                ai_calls: r.get(2)?,
                tool_calls: r.get(3)?,
                execs: r.get(4)?,
                file_writes: r.get(5)?,
                tokens: r.get(6)?,
                cost_usd: r.get(7)?,
                first_ns: r.get(8)?,
                last_ns: r.get(9)?,
            })
        })
    }

    /// The store at a glance: counts, time span, AI totals, events per type, file size.
    pub fn overview(&self) -> Result<Overview, StoreError> {
        let by_type: Vec<(String, i64)> = self.collect(
            "SELECT event_type, count(*) FROM events GROUP BY event_type ORDER BY 2 DESC",
            &[],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let count = |t: &str| {
            by_type
                .iter()
                .filter(|(k, _)| k == t)
                .map(|(_, n)| *n)
                .sum::<i64>()
        };
        let (first_ns, last_ns) = self.collect(
            "SELECT (SELECT min(ts_ns) FROM events), (SELECT max(ts_ns) FROM events)",
            &[],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?[0];
        let (prompt_tokens, completion_tokens, cost_usd) = self.collect(
            "SELECT coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0), \
             coalesce(sum(cost_usd), 0.0) FROM events WHERE event_type = 'ai.response'",
            &[],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?[0];
        let sessions: i64 = self.collect(
            "SELECT count(DISTINCT trace_id) FROM events WHERE event_type = 'agent.session'",
            &[],
            |r| r.get(0),
        )?[0];
        Ok(Overview {
            events: by_type.iter().map(|(_, n)| n).sum(),
            max_id: self.max_id()?,
            first_ns,
            last_ns,
            ai_calls: count("ai.request"),
            prompt_tokens,
            completion_tokens,
            cost_usd,
            agent_sessions: sessions,
            warnings: count("sensor.warning"),
            bytes: self.used_bytes()?,
            by_type,
        })
    }

    fn collect<T>(
        &self,
        sql: &str,
        args: &[Value],
        map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let run = || -> Result<Vec<T>, rusqlite::Error> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), map)?;
            rows.collect()
        };
        run().map_err(|e| self.locate(e.into()))
    }
}
