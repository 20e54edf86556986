//! The store's schema and its migrations.
//!
//! The schema version lives in `PRAGMA user_version`; `PRAGMA application_id` marks the file as
//! an oisp-sensor store. Migration `i` (0-based) takes version `i` to `i + 1` inside one
//! transaction, so a store from any earlier release opens with every later step applied, and a
//! crash mid-migration leaves the previous version intact. Migrations are append-only: a
//! released step is never edited. A store newer than this build is refused, not touched.

use crate::StoreError;
use rusqlite::Connection;

/// `'OISP'` as a big-endian integer, in the database header of every store.
pub const APPLICATION_ID: i64 = 0x4F49_5350;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Version 1: `events` (one small row of indexed columns per event; row ids never reused, so
/// "rows after X" is exact), `event_json` (the event's JSON, apart so scans of `events` stay
/// fast), `events_text` (contentless trigram FTS5 index over prompt and response text:
/// case-insensitive substring search) and a trigger deleting an event's JSON and text with it.
const V1: &str = "
CREATE TABLE events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id          TEXT NOT NULL UNIQUE,
    ts_ns             INTEGER,
    ts                TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    pid               INTEGER,
    process_name      TEXT,
    process_exe       TEXT,
    provider          TEXT,
    provider_name     TEXT,
    model             TEXT,
    request_id        TEXT,
    conversation_id   TEXT,
    tool_name         TEXT,
    success           INTEGER,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    cached_tokens     INTEGER,
    cost_usd          REAL,
    latency_ms        INTEGER,
    ttft_ms           INTEGER,
    duration_ms       INTEGER
);
CREATE TABLE event_json (
    id   INTEGER PRIMARY KEY REFERENCES events(id),
    json TEXT NOT NULL
);
CREATE INDEX events_ts ON events(ts_ns);
CREATE INDEX events_type ON events(event_type, ts_ns);
CREATE INDEX events_process ON events(process_name);
CREATE INDEX events_provider ON events(provider, provider_name);
CREATE INDEX events_model ON events(model);
CREATE INDEX events_request ON events(request_id) WHERE request_id IS NOT NULL;
CREATE INDEX events_conversation ON events(conversation_id) WHERE conversation_id IS NOT NULL;
CREATE VIRTUAL TABLE events_text USING fts5(
    body, content = '', contentless_delete = 1, tokenize = 'trigram'
);
CREATE TRIGGER events_delete AFTER DELETE ON events BEGIN
    DELETE FROM events_text WHERE rowid = old.id;
    DELETE FROM event_json WHERE id = old.id;
END;
";

/// Version 2: `trace_id` (the `trace_context.trace_id` of an event: every event of one agent
/// session shares it), indexed, so a session's whole trace is one index lookup; filled for the
/// rows already stored.
const V2: &str = "
ALTER TABLE events ADD COLUMN trace_id TEXT;
UPDATE events SET trace_id = (
    SELECT json_extract(j.json, '$.trace_context.trace_id') FROM event_json j WHERE j.id = events.id
);
CREATE INDEX events_trace ON events(trace_id, ts_ns) WHERE trace_id IS NOT NULL;
";

/// Version 3: what the web UI and the TUI group by without reading JSON — the parent pid
/// (process tree), the container (inventory) and the API key's prefix and hash (inventory; never
/// the key) — filled for the rows already stored; and an index for newest-first paging by type.
const V3: &str = "
ALTER TABLE events ADD COLUMN ppid INTEGER;
ALTER TABLE events ADD COLUMN container TEXT;
ALTER TABLE events ADD COLUMN key_prefix TEXT;
ALTER TABLE events ADD COLUMN key_hash TEXT;
UPDATE events SET
    ppid = (SELECT json_extract(j.json, '$.process.ppid') FROM event_json j WHERE j.id = events.id),
    container = (SELECT coalesce(
        nullif(json_extract(j.json, '$.host.container.name'), ''),
        substr(nullif(json_extract(j.json, '$.host.container.id'), ''), 1, 12),
        substr(nullif(json_extract(j.json, '$.process.container_id'), ''), 1, 12))
        FROM event_json j WHERE j.id = events.id),
    key_prefix = CASE WHEN event_type = 'ai.request' THEN (SELECT
        json_extract(j.json, '$.data.auth.key_prefix') FROM event_json j WHERE j.id = events.id) END,
    key_hash = CASE WHEN event_type = 'ai.request' THEN (SELECT
        json_extract(j.json, '$.data.auth.key_hash') FROM event_json j WHERE j.id = events.id) END;
CREATE INDEX events_pid ON events(pid, ts_ns);
";

const MIGRATIONS: &[&str] = &[V1, V2, V3];

/// On a brand-new (empty) database, sets `auto_vacuum = INCREMENTAL` so retention can give
/// space back to the file system. It must run before the journal mode is set and before the first
/// table exists; on any other database it does nothing.
pub fn init_fresh(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    if version == 0 && tables == 0 {
        conn.execute_batch("PRAGMA page_size = 8192; PRAGMA auto_vacuum = INCREMENTAL")?;
    }
    Ok(())
}

/// Brings the schema of `conn` to [`SCHEMA_VERSION`]. `path` names the file in errors.
pub fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.into(),
            version,
            supported: SCHEMA_VERSION,
        });
    }
    if version == 0 {
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
        if tables > 0 || (app_id != 0 && app_id != APPLICATION_ID) {
            return Err(StoreError::NotAStore(path.into()));
        }
    } else if app_id != APPLICATION_ID {
        return Err(StoreError::NotAStore(path.into()));
    }
    for (from, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated between our read and our write lock.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > from as i64 {
            tx.commit()?;
            continue;
        }
        tx.execute_batch(step)?;
        tx.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {};",
            from + 1
        ))?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version-1 store (before `trace_id`) gets the column, filled from the stored JSON.
    #[test]
    fn version_1_stores_get_trace_ids_from_their_events() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(V1).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;"
        ))
        .unwrap();
        conn.execute_batch(
            "INSERT INTO events (id, event_id, ts, event_type) VALUES (1, 'a', 't', 'ai.request'),
                                                                    (2, 'b', 't', 'file.write');
             INSERT INTO event_json (id, json) VALUES
               (1, '{\"trace_context\":{\"trace_id\":\"0af7651916cd43dd8448eb211c80319c\"}}'),
               (2, '{}');",
        )
        .unwrap();
        migrate(&mut conn, "mem").unwrap();
        let got: Vec<Option<String>> = conn
            .prepare("SELECT trace_id FROM events ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            got,
            vec![Some("0af7651916cd43dd8448eb211c80319c".to_string()), None]
        );
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }
}
