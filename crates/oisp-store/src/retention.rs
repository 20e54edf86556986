//! Retention: deleting the oldest events by age and by size, a little at a time.
//!
//! Each chunk of deletions is its own short transaction, so a writer waits at most one chunk
//! (a few milliseconds) for the lock, and a run stops when its time budget is spent (the caller
//! runs it again later). Deleted events leave the full-text index with them (trigger). Free
//! pages go back to the file system with `incremental_vacuum` (stores are created with
//! `auto_vacuum = INCREMENTAL`); the file shrinks at the next WAL checkpoint.

use crate::StoreConfig;
use crate::{Store, StoreError};
use oisp_sinks::parse_duration;
use std::time::{Duration, Instant};

/// Events deleted per transaction.
const CHUNK: i64 = 500;
/// Free pages given back per `incremental_vacuum` step.
const VACUUM_PAGES: i64 = 2048;
/// Size retention deletes down to this fraction of the limit, so it does not run on every
/// batch once the store is full.
const SIZE_TARGET: f64 = 0.9;

/// What to keep. `None` limits nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Delete events older than this.
    pub max_age: Option<Duration>,
    /// Keep the database (pages in use) under this many bytes by deleting the oldest events.
    pub max_bytes: Option<u64>,
}

impl Retention {
    /// Reads `retention` and `max_size_mb` of `[store]`. The error names the bad value.
    pub fn from_config(cfg: &StoreConfig) -> Result<Retention, String> {
        let max_age = cfg
            .retention
            .as_deref()
            .map(|s| parse_duration(s).map_err(|e| format!("[store] retention: {e}")))
            .transpose()?;
        if max_age == Some(Duration::ZERO) {
            return Err("[store] retention: must be longer than 0".into());
        }
        let max_bytes = match cfg.max_size_mb {
            Some(0) => return Err("[store] max_size_mb: must be at least 1".into()),
            Some(mb) => Some(mb.saturating_mul(1024 * 1024)),
            None => None,
        };
        Ok(Retention { max_age, max_bytes })
    }

    /// True when there is nothing to enforce.
    pub fn is_unlimited(&self) -> bool {
        self.max_age.is_none() && self.max_bytes.is_none()
    }
}

/// What one retention run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionRun {
    /// Events deleted.
    pub deleted: u64,
    /// False when the time budget ran out before the store met the limits (run again soon).
    pub done: bool,
}

impl Store {
    /// Deletes events older than `max_age` (relative to `now_ns`), then the oldest events while
    /// the database is over `max_bytes`, then returns free pages to the file system. Stops when
    /// `budget` is spent (after the current chunk).
    pub fn enforce_retention(
        &mut self,
        r: &Retention,
        now_ns: u64,
        budget: Duration,
    ) -> Result<RetentionRun, StoreError> {
        self.retention_inner(r, now_ns, budget)
            .map_err(|e| self.locate(e))
    }

    fn retention_inner(
        &mut self,
        r: &Retention,
        now_ns: u64,
        budget: Duration,
    ) -> Result<RetentionRun, StoreError> {
        let start = Instant::now();
        let mut run = RetentionRun {
            deleted: 0,
            done: true,
        };
        if let Some(age) = r.max_age {
            let cutoff = now_ns.saturating_sub(age.as_nanos().min(u64::MAX as u128) as u64);
            let cutoff = i64::try_from(cutoff).unwrap_or(i64::MAX);
            loop {
                if start.elapsed() >= budget {
                    run.done = false;
                    return Ok(run);
                }
                let n = self.conn.execute(
                    "DELETE FROM events WHERE id IN \
                     (SELECT id FROM events WHERE ts_ns < ?1 ORDER BY ts_ns LIMIT ?2)",
                    rusqlite::params![cutoff, CHUNK],
                )?;
                run.deleted += n as u64;
                if (n as i64) < CHUNK {
                    break;
                }
            }
        }
        if let Some(max) = r.max_bytes {
            let used = self.used_bytes()?;
            if used > max {
                // Delete the share of events that matches the share of bytes over the target
                // (rows are similar in size on average); the next run corrects any shortfall.
                let target = (max as f64 * SIZE_TARGET) as u64;
                let count = self.count()?;
                let share = (used - target) as f64 / used as f64;
                let mut left = ((count as f64 * share).ceil() as i64).max(1);
                while left > 0 {
                    if start.elapsed() >= budget {
                        run.done = false;
                        break;
                    }
                    let n = self.conn.execute(
                        "DELETE FROM events WHERE id IN \
                         (SELECT id FROM events ORDER BY ts_ns, id LIMIT ?1)",
                        [left.min(CHUNK)],
                    )?;
                    if n == 0 {
                        break;
                    }
                    run.deleted += n as u64;
                    left -= n as i64;
                }
            }
        }
        if run.deleted > 0 {
            self.reclaim(start, budget, &mut run)?;
        }
        Ok(run)
    }

    /// Gives free pages back, `VACUUM_PAGES` at a time, within the budget.
    fn reclaim(
        &mut self,
        start: Instant,
        budget: Duration,
        run: &mut RetentionRun,
    ) -> Result<(), StoreError> {
        loop {
            let free: i64 = self
                .conn
                .query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
            if free == 0 {
                return Ok(());
            }
            if start.elapsed() >= budget {
                run.done = false;
                return Ok(());
            }
            self.conn
                .execute_batch(&format!("PRAGMA incremental_vacuum({VACUUM_PAGES})"))?;
        }
    }

    /// Copies the WAL into the database file and truncates the WAL when no reader holds it back
    /// (used after retention so the file shrinks now rather than at the next auto-checkpoint).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| self.locate(e.into()))
    }
}
