//! Read connections to the store, reused across requests. Each request takes one connection on
//! a blocking thread, so a slow aggregate never stalls the async workers.

use oisp_store::{Store, StoreError};
use std::path::PathBuf;
use std::sync::Mutex;

/// Connections kept open between requests.
const IDLE_MAX: usize = 4;

/// A small pool of store connections for one store file.
pub struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
}

impl Pool {
    /// A pool for the store at `path`. Opens one connection now, so a missing or foreign file is
    /// reported before the server starts.
    pub fn open(path: PathBuf) -> Result<Pool, StoreError> {
        let first = Store::open_existing(&path)?;
        Ok(Pool {
            path,
            idle: Mutex::new(vec![first]),
        })
    }

    /// The store file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Runs `f` with a connection (an idle one, or a new one), then keeps the connection for the
    /// next request.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let taken = self.idle.lock().ok().and_then(|mut v| v.pop());
        let store = match taken {
            Some(s) => s,
            None => Store::open_existing(&self.path)?,
        };
        let out = f(&store);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < IDLE_MAX {
                idle.push(store);
            }
        }
        out
    }
}
