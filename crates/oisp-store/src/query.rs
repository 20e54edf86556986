//! Reading events: the filters of `show` and `analyze`, evaluated in SQL.
//!
//! Semantics match the CLI's filters over JSON Lines input (`Facts` is the shared definition):
//! types by exact name or dotted prefix; process by case-insensitive (ASCII) substring of name
//! or executable; provider by OISP or specific name; model by case-insensitive substring of the
//! model id; `since` inclusive, `until` exclusive; grep by case-insensitive substring of the
//! prompt/response text.

use crate::{Facts, Store, StoreError};
use rusqlite::types::Value;

/// Which events to read. The default selects everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Event types or prefixes (`ai` selects `ai.request`, `ai.response`, ...), any of which
    /// matches. Compared lowercased.
    pub types: Vec<String>,
    pub process: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    /// Nanoseconds since the epoch, inclusive.
    pub since_ns: Option<u64>,
    /// Nanoseconds since the epoch, exclusive.
    pub until_ns: Option<u64>,
    /// Text the prompt/response must contain (case-insensitive). Any text is safe: it is
    /// searched for literally, never parsed as query syntax.
    pub grep: Option<String>,
    /// Only events of this trace (`trace_context.trace_id`, exact).
    pub trace_id: Option<String>,
    /// Only rows with `id > after_id` (for following a growing store).
    pub after_id: Option<i64>,
    /// Only rows with `id <= up_to_id` (a snapshot boundary for following).
    pub up_to_id: Option<i64>,
}

/// One stored event: its row id (insertion order) and its JSON as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: i64,
    pub json: String,
}

/// The position of an event in time order (timestamp, then row id), for paging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PageKey {
    pub ts_ns: Option<i64>,
    pub id: i64,
}

impl StoredEvent {
    /// Parses the stored JSON.
    pub fn event(&self) -> Result<oisp_event::Event, StoreError> {
        serde_json::from_str(&self.json).map_err(|e| {
            StoreError::Invalid(format!(
                "stored event row {} is not an OISP event: {e}",
                self.id
            ))
        })
    }
}

/// A row count as an SQL `LIMIT`.
pub(crate) fn clamp_limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn clamp(ns: u64) -> i64 {
    i64::try_from(ns).unwrap_or(i64::MAX)
}

/// Quotes `text` as one FTS5 phrase (double quotes doubled), so no character of it is syntax.
pub(crate) fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

impl Query {
    /// The WHERE clause (without `WHERE`) and its parameters.
    pub(crate) fn sql(&self) -> (String, Vec<Value>) {
        let mut conds: Vec<String> = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        let arg = |v: Value, args: &mut Vec<Value>| {
            args.push(v);
            format!("?{}", args.len())
        };
        if !self.types.is_empty() {
            let alts: Vec<String> = self
                .types
                .iter()
                .map(|t| {
                    let t = t.to_ascii_lowercase();
                    let exact = arg(Value::Text(t.clone()), &mut args);
                    let lo = arg(Value::Text(format!("{t}.")), &mut args);
                    let hi = arg(Value::Text(format!("{t}/")), &mut args);
                    format!("event_type = {exact} OR (event_type >= {lo} AND event_type < {hi})")
                })
                .collect();
            conds.push(format!("({})", alts.join(" OR ")));
        }
        if let Some(p) = &self.process {
            let p = arg(Value::Text(p.to_ascii_lowercase()), &mut args);
            conds.push(format!(
                "(instr(lower(process_name), {p}) > 0 OR instr(lower(process_exe), {p}) > 0)"
            ));
        }
        if let Some(p) = &self.provider {
            let p = arg(Value::Text(p.to_ascii_lowercase()), &mut args);
            conds.push(format!("(provider = {p} OR provider_name = {p})"));
        }
        if let Some(m) = &self.model {
            let m = arg(Value::Text(m.to_ascii_lowercase()), &mut args);
            conds.push(format!("instr(lower(model), {m}) > 0"));
        }
        if let Some(s) = self.since_ns {
            conds.push(format!(
                "ts_ns >= {}",
                arg(Value::Integer(clamp(s)), &mut args)
            ));
        }
        if let Some(u) = self.until_ns {
            conds.push(format!(
                "ts_ns < {}",
                arg(Value::Integer(clamp(u)), &mut args)
            ));
        }
        match self.grep.as_deref() {
            None | Some("") => {}
            // The trigram index matches substrings of 3 characters or more.
            Some(g) if g.chars().count() >= 3 => {
                let g = arg(Value::Text(fts_phrase(g)), &mut args);
                conds.push(format!(
                    "id IN (SELECT rowid FROM events_text WHERE events_text MATCH {g})"
                ));
            }
            Some(g) => {
                let g = arg(Value::Text(g.to_string()), &mut args);
                conds.push(format!(
                    "oisp_text_contains((SELECT json FROM event_json j WHERE j.id = events.id), {g})"
                ));
            }
        }
        if let Some(t) = &self.trace_id {
            conds.push(format!(
                "trace_id = {}",
                arg(Value::Text(t.clone()), &mut args)
            ));
        }
        if let Some(a) = self.after_id {
            conds.push(format!("id > {}", arg(Value::Integer(a), &mut args)));
        }
        if let Some(a) = self.up_to_id {
            conds.push(format!("id <= {}", arg(Value::Integer(a), &mut args)));
        }
        if conds.is_empty() {
            conds.push("1".into());
        }
        (conds.join(" AND "), args)
    }
}

impl Store {
    /// Events matching `q` in time order (`ts`, then insertion order); with `last = Some(n)`
    /// only the most recent `n` of them.
    pub fn events(&self, q: &Query, last: Option<usize>) -> Result<Vec<StoredEvent>, StoreError> {
        let (cond, mut args) = q.sql();
        let sql = match last {
            Some(n) => {
                args.push(Value::Integer(i64::try_from(n).unwrap_or(i64::MAX)));
                format!(
                    "SELECT e.id, j.json FROM (SELECT id, ts_ns FROM events WHERE {cond} \
                     ORDER BY ts_ns DESC, id DESC LIMIT ?{}) e JOIN event_json j ON j.id = e.id \
                     ORDER BY e.ts_ns, e.id",
                    args.len()
                )
            }
            None => format!(
                "SELECT e.id, j.json FROM (SELECT id, ts_ns FROM events WHERE {cond}) e \
                 JOIN event_json j ON j.id = e.id ORDER BY e.ts_ns, e.id"
            ),
        };
        self.rows(&sql, args)
    }

    /// One page of the events matching `q` in time order: up to `limit` events after `after`
    /// (from the start when `None`), each with its position. Reading a large selection page by
    /// page keeps memory bounded.
    pub fn events_page(
        &self,
        q: &Query,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Vec<(PageKey, StoredEvent)>, StoreError> {
        self.page(q, after, limit, false)
    }

    /// One page of the events matching `q`, oldest first from just after `from`
    /// (`newest_first = false`) or newest first from just before it (`true`); from either end
    /// when `from` is `None`. Events without a timestamp sort before all others.
    pub(crate) fn page(
        &self,
        q: &Query,
        from: Option<PageKey>,
        limit: usize,
        newest_first: bool,
    ) -> Result<Vec<(PageKey, StoredEvent)>, StoreError> {
        let (cond, mut args) = q.sql();
        let (cmp, dir) = if newest_first {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        let key = match from {
            None => "1".to_string(),
            Some(PageKey { ts_ns: None, id }) => {
                args.push(Value::Integer(id));
                let n = args.len();
                if newest_first {
                    format!("(ts_ns IS NULL AND id < ?{n})")
                } else {
                    format!("((ts_ns IS NULL AND id > ?{n}) OR ts_ns IS NOT NULL)")
                }
            }
            Some(PageKey { ts_ns: Some(t), id }) => {
                args.push(Value::Integer(t));
                args.push(Value::Integer(id));
                let (a, b) = (args.len() - 1, args.len());
                let nulls = if newest_first {
                    " OR ts_ns IS NULL"
                } else {
                    ""
                };
                format!("(ts_ns {cmp} ?{a} OR (ts_ns = ?{a} AND id {cmp} ?{b}){nulls})")
            }
        };
        args.push(Value::Integer(clamp_limit(limit)));
        let sql = format!(
            "SELECT e.id, e.ts_ns, j.json FROM (SELECT id, ts_ns FROM events WHERE {cond} AND \
             {key} ORDER BY ts_ns {dir}, id {dir} LIMIT ?{}) e JOIN event_json j ON j.id = e.id \
             ORDER BY e.ts_ns {dir}, e.id {dir}",
            args.len()
        );
        let run = || -> Result<Vec<(PageKey, StoredEvent)>, rusqlite::Error> {
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
                let id = r.get(0)?;
                Ok((
                    PageKey {
                        ts_ns: r.get(1)?,
                        id,
                    },
                    StoredEvent {
                        id,
                        json: r.get(2)?,
                    },
                ))
            })?;
            rows.collect()
        };
        run().map_err(|e| self.locate(e.into()))
    }

    /// Events matching `q` in insertion order (row id): what `--follow` prints as rows arrive.
    pub fn events_by_id(&self, q: &Query) -> Result<Vec<StoredEvent>, StoreError> {
        let (cond, args) = q.sql();
        self.rows(
            &format!(
                "SELECT e.id, j.json FROM (SELECT id FROM events WHERE {cond}) e \
                 JOIN event_json j ON j.id = e.id ORDER BY e.id"
            ),
            args,
        )
    }

    /// Events matching `q` whose `request_id` is one of `ids`, in time order (finds the other
    /// half of an AI call outside a window of recent events).
    pub fn events_with_request_ids(
        &self,
        q: &Query,
        ids: &[String],
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(200) {
            let (cond, mut args) = q.sql();
            let first = args.len() + 1;
            args.extend(chunk.iter().map(|i| Value::Text(i.clone())));
            let marks: Vec<String> = (first..first + chunk.len())
                .map(|i| format!("?{i}"))
                .collect();
            out.extend(self.rows(
                &format!(
                    "SELECT e.id, j.json FROM (SELECT id, ts_ns FROM events \
                     WHERE {cond} AND request_id IN ({})) e JOIN event_json j ON j.id = e.id \
                     ORDER BY e.ts_ns, e.id",
                    marks.join(", ")
                ),
                args,
            )?);
        }
        Ok(out)
    }

    /// The largest row id ever given (0 for a new store), even when retention deleted that row.
    /// Rows are only ever added above it.
    pub fn max_id(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.locate(e.into()))
    }

    /// The facts of events matching `q`, in time order, without parsing any JSON (for reports).
    pub fn facts(&self, q: &Query) -> Result<Vec<Facts>, StoreError> {
        let (cond, args) = q.sql();
        let sql = format!(
            "SELECT event_type, ts, ts_ns, pid, process_name, process_exe, provider, \
             provider_name, model, request_id, conversation_id, tool_name, success, \
             prompt_tokens, completion_tokens, cached_tokens, cost_usd, latency_ms, ttft_ms, \
             duration_ms, trace_id, ppid, container, key_prefix, key_hash FROM events WHERE {cond} \
             ORDER BY ts_ns, id"
        );
        let run = || -> Result<Vec<Facts>, rusqlite::Error> {
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok(Facts {
                    event_type: r.get(0)?,
                    ts: r.get(1)?,
                    ts_ns: r.get(2)?,
                    pid: r.get(3)?,
                    process_name: r.get(4)?,
                    process_exe: r.get(5)?,
                    provider: r.get(6)?,
                    provider_name: r.get(7)?,
                    model: r.get(8)?,
                    request_id: r.get(9)?,
                    conversation_id: r.get(10)?,
                    tool_name: r.get(11)?,
                    success: r.get(12)?,
                    prompt_tokens: r.get(13)?,
                    completion_tokens: r.get(14)?,
                    cached_tokens: r.get(15)?,
                    cost_usd: r.get(16)?,
                    latency_ms: r.get(17)?,
                    ttft_ms: r.get(18)?,
                    duration_ms: r.get(19)?,
                    trace_id: r.get(20)?,
                    ppid: r.get(21)?,
                    container: r.get(22)?,
                    key_prefix: r.get(23)?,
                    key_hash: r.get(24)?,
                })
            })?;
            rows.collect()
        };
        run().map_err(|e| self.locate(e.into()))
    }

    fn rows(&self, sql: &str, args: Vec<Value>) -> Result<Vec<StoredEvent>, StoreError> {
        let run = || -> Result<Vec<StoredEvent>, rusqlite::Error> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok(StoredEvent {
                    id: r.get(0)?,
                    json: r.get(1)?,
                })
            })?;
            rows.collect()
        };
        run().map_err(|e| self.locate(e.into()))
    }
}
