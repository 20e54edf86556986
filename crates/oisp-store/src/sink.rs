//! `StoreSink`: the store as a [`Sink`] of the pipeline, with retention on a schedule.

use crate::StoreConfig;
use crate::{default_path, Retention, Store, StoreError};
use oisp_sinks::{DeliveryError, Item, Sink};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Retention runs at most this often once the store meets its limits.
const RETENTION_INTERVAL: Duration = Duration::from_secs(60);
/// Time one retention run may take before writes resume (it continues on the next batches).
const RETENTION_BUDGET: Duration = Duration::from_millis(100);

/// Writes every event it is given into a [`Store`]; enforces the configured retention when it
/// opens and then at most once a minute (each run bounded to ~100 ms; an unfinished run
/// continues after each following batch until the limits are met).
pub struct StoreSink {
    store: Store,
    retention: Retention,
    next_retention: Instant,
}

impl StoreSink {
    /// Opens (creating when missing) the store `[store]` names: `path`, else [`default_path`].
    /// The error is a user-facing message naming the bad value or the file.
    pub fn new(cfg: &StoreConfig) -> Result<StoreSink, String> {
        let retention = Retention::from_config(cfg)?;
        let path: PathBuf = cfg.path.clone().unwrap_or_else(default_path);
        StoreSink::open(&path, retention).map_err(|e| format!("cannot open the event store: {e}"))
    }

    /// Opens the store at `path` with `retention` and runs retention once.
    pub fn open(path: &Path, retention: Retention) -> Result<StoreSink, StoreError> {
        let mut sink = StoreSink {
            store: Store::open(path)?,
            retention,
            next_retention: Instant::now(),
        };
        sink.maybe_retention()?;
        Ok(sink)
    }

    /// The store this sink writes (for reading back, e.g. in tests).
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn maybe_retention(&mut self) -> Result<(), StoreError> {
        if self.retention.is_unlimited() || Instant::now() < self.next_retention {
            return Ok(());
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let run = self
            .store
            .enforce_retention(&self.retention, now, RETENTION_BUDGET)?;
        self.next_retention = if run.done {
            Instant::now() + RETENTION_INTERVAL
        } else {
            Instant::now()
        };
        Ok(())
    }
}

fn delivery_error(e: StoreError) -> DeliveryError {
    if e.is_transient() {
        DeliveryError::Retryable(e.to_string())
    } else {
        DeliveryError::Rejected(e.to_string())
    }
}

impl Sink for StoreSink {
    fn kind(&self) -> &'static str {
        "store"
    }

    fn target(&self) -> String {
        self.store.path().display().to_string()
    }

    /// Inserts the batch in one transaction (events already stored are skipped), then runs
    /// retention when due. A retention failure does not fail the delivery: the events are
    /// stored; it is reported on stderr and retried at the next interval.
    fn deliver(&mut self, batch: &[Item]) -> Result<(), DeliveryError> {
        self.store.insert_batch(batch).map_err(delivery_error)?;
        if let Err(e) = self.maybe_retention() {
            eprintln!("oisp-sensor: warning: store retention failed: {e}");
            self.next_retention = Instant::now() + RETENTION_INTERVAL;
        }
        Ok(())
    }

    fn max_batch(&self) -> usize {
        2048
    }
}
