//! A bounded, disk-backed FIFO of event JSON: what a network sink has not delivered yet.
//!
//! One SQLite file per sink (WAL, `synchronous=NORMAL`): items survive a sink outage of any length
//! and a restart of the sensor. The queue is bounded by item count and bytes; when a push would
//! exceed either bound the OLDEST items are dropped and counted (the count is persisted too, so
//! `status` keeps showing it after a restart).
//!
//! Not thread-safe by itself: the worker wraps it in a mutex and holds it only for the duration of
//! one push, peek or ack (milliseconds), never across a network call.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Bounds of one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    pub max_events: u64,
    pub max_bytes: u64,
}

/// A queue failure (the file cannot be created, the disk is full, the file is damaged).
#[derive(Debug, thiserror::Error)]
#[error("queue {path}: {source}")]
pub struct QueueError {
    path: PathBuf,
    #[source]
    source: rusqlite::Error,
}

/// One queued item: its position (for [`DiskQueue::ack`]) and its JSON bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub body: Vec<u8>,
}

/// See the module documentation.
pub struct DiskQueue {
    conn: Connection,
    path: PathBuf,
    limits: QueueLimits,
    len: u64,
    bytes: u64,
    dropped: u64,
}

impl DiskQueue {
    /// Opens (creating it mode 0600, with its parent directories) the queue file at `path`.
    /// Items left by a previous run are kept and delivered first.
    pub fn open(path: &Path, limits: QueueLimits) -> Result<DiskQueue, QueueError> {
        let err = |source| QueueError {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(io_error(e)))?;
        }
        oisp_os::private::file_options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| err(io_error(e)))?;
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS queue(
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 enqueued_ms INTEGER NOT NULL,
                 body BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
        )
        .map_err(err)?;
        for suffix in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            // Best effort: SQLite's side files may not exist yet.
            let _ = oisp_os::private::restrict_file(Path::new(&p));
        }
        let (len, bytes): (i64, i64) = conn
            .query_row(
                "SELECT count(*), coalesce(sum(length(body)), 0) FROM queue",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err)?;
        let dropped: i64 = conn
            .query_row("SELECT value FROM meta WHERE key = 'dropped'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err)?
            .unwrap_or(0);
        Ok(DiskQueue {
            conn,
            path: path.to_path_buf(),
            limits,
            len: len as u64,
            bytes: bytes as u64,
            dropped: dropped as u64,
        })
    }

    fn err(&self, source: rusqlite::Error) -> QueueError {
        QueueError {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends `bodies` in order (one transaction), then drops the oldest items while the queue
    /// is over its bounds. Returns how many items this push dropped.
    pub fn push_batch(&mut self, bodies: &[&[u8]], now_ms: u64) -> Result<u64, QueueError> {
        if bodies.is_empty() {
            return Ok(0);
        }
        let path = self.path.clone();
        let err = move |source| QueueError {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(&err)?;
        let mut added = 0u64;
        {
            let mut stmt = tx
                .prepare_cached("INSERT INTO queue(enqueued_ms, body) VALUES (?1, ?2)")
                .map_err(&err)?;
            for body in bodies {
                stmt.execute(params![now_ms as i64, body]).map_err(&err)?;
                added += body.len() as u64;
            }
        }
        let (len, bytes) = (self.len + bodies.len() as u64, self.bytes + added);
        let (len, bytes, dropped) = trim_oldest(&tx, len, bytes, self.limits).map_err(&err)?;
        if dropped > 0 {
            tx.execute(
                "INSERT INTO meta(key, value) VALUES ('dropped', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = value + ?1",
                params![dropped as i64],
            )
            .map_err(&err)?;
        }
        tx.commit().map_err(&err)?;
        self.len = len;
        self.bytes = bytes;
        self.dropped += dropped;
        Ok(dropped)
    }

    /// The oldest `n` items, oldest first, without removing them.
    pub fn peek(&self, n: usize) -> Result<Vec<Queued>, QueueError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, body FROM queue ORDER BY id LIMIT ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![n as i64], |r| {
                Ok(Queued {
                    id: r.get(0)?,
                    body: r.get(1)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Removes every item up to and including `id` (delivered, or dropped after a rejection).
    pub fn ack(&mut self, id: i64) -> Result<(), QueueError> {
        let (n, b): (i64, i64) = self
            .conn
            .query_row(
                "SELECT count(*), coalesce(sum(length(body)), 0) FROM queue WHERE id <= ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        self.conn
            .execute("DELETE FROM queue WHERE id <= ?1", params![id])
            .map_err(|e| self.err(e))?;
        self.len = self.len.saturating_sub(n as u64);
        self.bytes = self.bytes.saturating_sub(b as u64);
        Ok(())
    }

    /// When the oldest queued item was pushed (ms since the epoch), `None` when empty.
    pub fn oldest_enqueued_ms(&self) -> Result<Option<u64>, QueueError> {
        self.conn
            .query_row(
                "SELECT enqueued_ms FROM queue ORDER BY id LIMIT 1",
                [],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|v| v.map(|ms| ms as u64))
            .map_err(|e| self.err(e))
    }

    /// Items queued.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of JSON queued.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Items dropped because the queue was full, over the queue file's whole life.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Deletes the oldest rows while over a bound; returns the new (len, bytes) and how many went.
fn trim_oldest(
    tx: &rusqlite::Transaction,
    mut len: u64,
    mut bytes: u64,
    limits: QueueLimits,
) -> rusqlite::Result<(u64, u64, u64)> {
    let mut dropped = 0u64;
    while len > limits.max_events || (bytes > limits.max_bytes && len > 0) {
        // Walk the oldest rows in chunks, accumulating until both bounds hold.
        let mut stmt =
            tx.prepare_cached("SELECT id, length(body) FROM queue ORDER BY id LIMIT 1024")?;
        let rows: Vec<(i64, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        if rows.is_empty() {
            break;
        }
        let mut last = None;
        for (id, size) in rows {
            if len <= limits.max_events && bytes <= limits.max_bytes {
                break;
            }
            len -= 1;
            bytes = bytes.saturating_sub(size as u64);
            dropped += 1;
            last = Some(id);
        }
        if let Some(id) = last {
            tx.execute("DELETE FROM queue WHERE id <= ?1", params![id])?;
        }
    }
    Ok((len, bytes, dropped))
}

fn io_error(e: std::io::Error) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

/// `[queue]`: the disk-backed queue in front of every network sink.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// Directory of the queue files (default: next to the store, `queue/`).
    pub dir: Option<PathBuf>,
    /// Events kept per sink before the oldest are dropped.
    pub max_events: u64,
    /// Megabytes kept per sink before the oldest are dropped.
    pub max_size_mb: u64,
    /// First retry delay; doubles up to `retry_max`, with jitter.
    pub retry_initial: String,
    pub retry_max: String,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            dir: None,
            max_events: 1_000_000,
            max_size_mb: 1024,
            retry_initial: "500ms".into(),
            retry_max: "30s".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(dir: &Path, max_events: u64, max_bytes: u64) -> DiskQueue {
        DiskQueue::open(
            &dir.join("q.db"),
            QueueLimits {
                max_events,
                max_bytes,
            },
        )
        .unwrap()
    }

    #[test]
    fn fifo_survives_reopen_and_acks() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut q = q(dir.path(), 100, 1 << 20);
            q.push_batch(&[b"a", b"bb", b"ccc"], 1).unwrap();
            assert_eq!((q.len(), q.bytes()), (3, 6));
        }
        let mut q = q(dir.path(), 100, 1 << 20);
        assert_eq!((q.len(), q.bytes()), (3, 6));
        let items = q.peek(2).unwrap();
        assert_eq!(items[0].body, b"a");
        assert_eq!(items[1].body, b"bb");
        q.ack(items[1].id).unwrap();
        assert_eq!((q.len(), q.bytes()), (1, 3));
        assert_eq!(q.peek(10).unwrap()[0].body, b"ccc");
        assert_eq!(q.oldest_enqueued_ms().unwrap(), Some(1));
        let mode = std::fs::metadata(dir.path().join("q.db")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn full_queue_drops_oldest_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = q(dir.path(), 3, 1 << 20);
        let dropped = q.push_batch(&[b"1", b"2", b"3", b"4", b"5"], 0).unwrap();
        assert_eq!(dropped, 2);
        let bodies: Vec<_> = q.peek(10).unwrap().into_iter().map(|i| i.body).collect();
        assert_eq!(bodies, vec![b"3".to_vec(), b"4".to_vec(), b"5".to_vec()]);
        drop(q);
        let mut q = self::q(dir.path(), 3, 10);
        assert_eq!(q.dropped(), 2);
        // Both bounds: 5 items / 11 bytes → drop the oldest until ≤ 3 items and ≤ 10 bytes.
        q.push_batch(&[b"aaaa", b"bbbb"], 0).unwrap();
        assert_eq!((q.len(), q.bytes(), q.dropped()), (3, 9, 4));
        let bodies: Vec<_> = q.peek(10).unwrap().into_iter().map(|i| i.body).collect();
        assert_eq!(
            bodies,
            vec![b"5".to_vec(), b"aaaa".to_vec(), b"bbbb".to_vec()]
        );
        // A single item larger than the byte bound is dropped, never kept forever.
        q.push_batch(&[&[b'x'; 20]], 0).unwrap();
        assert_eq!(q.len(), 0);
    }
}
