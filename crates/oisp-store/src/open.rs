//! Opening a store: files and directories with private modes, connection settings, schema.

use crate::{schema, StoreError};
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OpenFlags};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a statement waits for another connection's lock before failing. Writers hold the
/// lock for one batch or one retention chunk (milliseconds), so this is never reached in
/// normal operation.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Page cache per connection: negative = KiB (32 MiB).
const CACHE_KIB: i64 = -32 * 1024;

/// The writer copies the WAL into the database every this many pages (SQLite's default is
/// 1000): fewer, larger checkpoints cost fewer fsyncs per event.
const WAL_CHECKPOINT_PAGES: i64 = 4000;

/// The WAL file is truncated back to this size after checkpoints.
const WAL_SIZE_LIMIT: i64 = 16 * 1024 * 1024;

/// The 16-byte header of every SQLite 3 database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// An open event store (one SQLite connection). Not shared between threads: open one per thread.
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

/// True when `path` starts with the SQLite 3 file header (used to tell a store from a JSON Lines
/// file). A file shorter than the header is not SQLite.
pub fn is_sqlite_file(path: &Path) -> std::io::Result<bool> {
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(path)?;
    let mut got = 0;
    while got < head.len() {
        match f.read(&mut head[got..])? {
            0 => return Ok(false),
            n => got += n,
        }
    }
    Ok(&head == SQLITE_HEADER)
}

impl Store {
    /// Opens the store at `path` for writing, creating it when missing: parent directories are
    /// created mode 0700, the database file mode 0600 (SQLite gives its `-wal` and `-shm` files
    /// the same mode). Sets WAL journal, `synchronous = NORMAL` and a busy timeout, and migrates
    /// the schema. An existing file that is not an oisp-sensor store is refused untouched.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let io = |source| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            oisp_os::private::create_dir(dir).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let file = oisp_os::private::file_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        drop(file);
        if len > 0 && !is_sqlite_file(path).map_err(io)? {
            return Err(not_sqlite(path));
        }
        let store = Store::connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        store.setup(|conn| {
            schema::init_fresh(conn)?;
            switch_to_wal(conn)?;
            conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
            Ok(())
        })?;
        store.migrated()
    }

    /// Opens an existing store for reading (and writing). Never creates anything: a missing path
    /// is [`StoreError::Missing`], a file that is not SQLite or not a store is refused with a
    /// message saying so. An older schema is migrated.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        match is_sqlite_file(path) {
            Ok(true) => {}
            Ok(false) => return Err(not_sqlite(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::Missing(path.display().to_string()))
            }
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.display().to_string(),
                    source,
                })
            }
        }
        Store::connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?.migrated()
    }

    fn connect(path: &Path, flags: OpenFlags) -> Result<Store, StoreError> {
        let flags = flags | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|source| StoreError::Sqlite {
                path: path.display().to_string(),
                source,
            })?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.setup(|conn| {
            conn.busy_timeout(BUSY_TIMEOUT)?;
            conn.pragma_update(None, "cache_size", CACHE_KIB)?;
            conn.set_prepared_statement_cache_capacity(32);
            register_functions(conn)
        })?;
        Ok(store)
    }

    fn migrated(mut self) -> Result<Store, StoreError> {
        let path = self.path.display().to_string();
        schema::migrate(&mut self.conn, &path).map_err(|e| self.locate(e))?;
        Ok(self)
    }

    fn setup(
        &self,
        f: impl FnOnce(&Connection) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        f(&self.conn).map_err(|e| self.locate(e))
    }

    /// Names this store's file in a database error that lacks it.
    pub(crate) fn locate(&self, e: StoreError) -> StoreError {
        match e {
            StoreError::Sqlite { path, source } if path.is_empty() => StoreError::Sqlite {
                path: self.path.display().to_string(),
                source,
            },
            other => other,
        }
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes the database uses (pages in use × page size; free pages not counted).
    pub fn used_bytes(&self) -> Result<u64, StoreError> {
        let q = |sql: &str| -> Result<i64, StoreError> {
            self.conn
                .query_row(sql, [], |r| r.get(0))
                .map_err(|e| self.locate(e.into()))
        };
        let used = q("PRAGMA page_count")? - q("PRAGMA freelist_count")?;
        Ok((used.max(0) as u64) * q("PRAGMA page_size")? as u64)
    }

    /// Number of events stored.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.locate(e.into()))
    }
}

/// Puts the database in WAL mode (persistent: done once per file). Switching needs an exclusive
/// lock, and SQLite answers `database is locked` at once instead of calling the busy handler
/// when another connection — a second sensor opening the same new store — holds any lock; so
/// this checks the mode first (reading it needs no exclusive lock) and retries the switch until
/// [`BUSY_TIMEOUT`].
fn switch_to_wal(conn: &Connection) -> Result<(), StoreError> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    loop {
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if mode.eq_ignore_ascii_case("wal") {
            return Ok(());
        }
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => return Err(no_wal(&mode)),
            Err(e) => {
                let err = StoreError::from(e);
                if !err.is_transient() || std::time::Instant::now() >= deadline {
                    return Err(err);
                }
            }
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

fn no_wal(mode: &str) -> StoreError {
    StoreError::Invalid(format!(
        "the store's file system does not allow WAL journaling (journal mode stays {mode})"
    ))
}

fn not_sqlite(path: &Path) -> StoreError {
    StoreError::Invalid(format!(
        "{} is not an oisp-sensor event store (not an SQLite database)",
        path.display()
    ))
}

/// `oisp_text_contains(json, needle)`: the `--grep` test on a stored event's JSON, for needles
/// too short for the trigram index (fewer than 3 characters).
fn register_functions(conn: &Connection) -> Result<(), StoreError> {
    conn.create_scalar_function(
        "oisp_text_contains",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let json = ctx.get_raw(0).as_str().unwrap_or("");
            let needle = ctx.get_raw(1).as_str().unwrap_or("");
            Ok(serde_json::from_str::<oisp_event::Event>(json)
                .map(|ev| crate::text_contains(&ev, needle))
                .unwrap_or(false))
        },
    )?;
    Ok(())
}
