//! The embedded event store: one SQLite file that `record`, `demo` and `replay` write and that
//! `show` and `analyze` read.
//!
//! - One row per event: the event's JSON exactly as the sinks received it, plus indexed columns
//!   ([`Facts`]) for time, type, process, provider, model, request and conversation ids, and the
//!   figures `analyze` aggregates (tokens, cost, latency), so reports never parse JSON.
//! - A trigram FTS5 index over prompt and response text ([`searchable_text`]) answers
//!   `show --grep` as a case-insensitive substring search.
//! - Rows are unique by `event_id`: redelivering a batch (at-least-once) never doubles events.
//! - WAL journal: readers never wait for the writer and see whole batches only.
//! - Files are mode 0600 (events hold prompts and responses), directories we create 0700.
//! - [`Selection`]: the selection of `show`/`analyze` (type, process, provider, model, time,
//!   text), evaluated over events in memory or handed to the store as a [`Query`].
//! - Retention by age and size deletes the oldest events in small transactions and gives the
//!   space back to the file system ([`Retention`]).

mod browse;
mod config;
mod estimate;
mod facts;
mod open;
mod path;
mod query;
mod retention;
mod schema;
mod selection;
mod sink;
mod write;

pub use browse::{InventoryRow, Overview, ProcessRow, SeriesRow, TraceTotals};
pub use config::StoreConfig;
pub use estimate::{flow_estimate, FlowEstimate};
pub use facts::{contains_ci, searchable_text, text_contains, Facts};
pub use open::{is_sqlite_file, Store};
pub use path::default_path;
pub use query::{PageKey, Query, StoredEvent};
pub use retention::{Retention, RetentionRun};
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};
pub use selection::{now_ns, parse_time, provider_of, Selection, SelectionError, SelectionSpec};
pub use sink::StoreSink;

/// Why a store operation failed. Messages name the file and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("store {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{0} is an SQLite database but not an oisp-sensor event store")]
    NotAStore(String),
    #[error(
        "store {path} has schema version {version}, newer than this oisp-sensor supports \
         ({supported}): upgrade oisp-sensor to read it"
    )]
    TooNew {
        path: String,
        version: i64,
        supported: i64,
    },
    #[error("no store at {0}")]
    Missing(String),
    #[error("{0}")]
    Invalid(String),
}

impl From<rusqlite::Error> for StoreError {
    /// A database error without a known path (rewritten with the path by [`Store`] methods).
    fn from(source: rusqlite::Error) -> Self {
        StoreError::Sqlite {
            path: String::new(),
            source,
        }
    }
}

impl StoreError {
    /// True when retrying later may succeed (database busy or locked, I/O error, disk full).
    pub fn is_transient(&self) -> bool {
        use rusqlite::ErrorCode::*;
        match self {
            StoreError::Io { .. } => true,
            StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            } => matches!(
                e.code,
                DatabaseBusy | DatabaseLocked | SystemIoFailure | DiskFull | CannotOpen
            ),
            _ => false,
        }
    }
}
