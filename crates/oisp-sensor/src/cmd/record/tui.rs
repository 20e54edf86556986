//! `record --tui`: the terminal UI in the foreground while recording.
//!
//! The TUI runs on its own thread over the store this `record` writes. While it has the screen,
//! standard error (record's messages, and those of every library it uses) goes to a log file
//! whose path the TUI shows; [`TuiSession::finish`] gives standard error back and names the
//! log. Quitting the TUI sets the same stop flag as Ctrl-C, so the recording ends the usual way;
//! a stop from elsewhere (SIGTERM, capture ended) ends the TUI.

use crate::config::Config;
use crate::events_io::create_private;
use crate::runtime_state;
use crate::tui::{self, Live};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Refuses `--tui` where it cannot work, before any probe is loaded.
pub fn check(cfg: &Config) -> Result<()> {
    if !cfg.store.enabled {
        bail!(
            "record --tui shows the event store as it is written, and the store is off \
             (--no-store or store.enabled = false): drop --no-store, or record without --tui \
             and watch with `oisp-sensor show --follow`"
        );
    }
    if cfg.jsonl.as_ref().is_some_and(|j| j.path == Path::new("-")) {
        bail!(
            "record --tui draws on standard output: write JSON Lines to a file (-o FILE), not `-`"
        );
    }
    tui::require_terminal("record --tui")
}

/// The TUI thread and what it took over. Dropping it ends the TUI and gives standard error
/// back too (an early return of `record` never leaves the terminal to the TUI).
pub struct TuiSession {
    /// `None` once ended.
    thread: Option<JoinHandle<Result<()>>>,
    stop: Arc<AtomicBool>,
    /// Standard error as it was before the TUI.
    saved_stderr: SavedStderr,
    log: PathBuf,
}

/// The log file `record --tui` writes its messages to (beside the state file `status` reads).
fn log_path() -> PathBuf {
    runtime_state::state_path().with_file_name("record-tui.log")
}

/// Sends standard error to the log and starts the TUI over the store of `cfg`.
pub fn start(cfg: &Config, stop: Arc<AtomicBool>) -> Result<TuiSession> {
    let store_path = cfg
        .store
        .path
        .clone()
        .unwrap_or_else(oisp_store::default_path);
    let log = log_path();
    let saved_stderr = SavedStderr::redirect_to(&create_private(&log)?)?;
    let live = Live {
        stop: Arc::clone(&stop),
        log: log.clone(),
    };
    let thread = std::thread::Builder::new()
        .name("tui".into())
        .spawn(move || {
            // Quitting, failing or panicking ends the recording, as Ctrl-C does.
            let _stop = StopOnDrop(Arc::clone(&live.stop));
            oisp_store::Store::open_existing(&store_path)
                .map_err(|e| anyhow::Error::new(e).context("cannot read the event store"))
                .and_then(|store| tui::run_store(store, oisp_store::Query::default(), Some(&live)))
        })
        .context("cannot start the terminal UI")?;
    Ok(TuiSession {
        thread: Some(thread),
        stop,
        saved_stderr,
        log,
    })
}

impl TuiSession {
    /// Ends the TUI (if the user has not), gives standard error back and names the log; the
    /// TUI's error, if it failed.
    pub fn finish(mut self) -> Result<()> {
        self.end()
    }

    fn end(&mut self) -> Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        self.stop.store(true, Ordering::Relaxed);
        let joined = thread.join();
        self.saved_stderr.restore();
        eprintln!(
            "oisp-sensor: messages written while the terminal UI was shown: {}",
            self.log.display()
        );
        match joined {
            Ok(r) => r.context("terminal UI"),
            Err(_) => bail!(
                "the terminal UI stopped on a panic (its message is in {})",
                self.log.display()
            ),
        }
    }
}

/// Standard error as it was before it was sent to the log. (Unix only: elsewhere `record` has
/// no live capture, so record's messages never meet the TUI.)
struct SavedStderr {
    #[cfg(unix)]
    fd: i32,
}

impl SavedStderr {
    /// Makes standard error a copy of `log`, keeping the original.
    fn redirect_to(log: &std::fs::File) -> Result<SavedStderr> {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: dup/dup2 on descriptors this process owns; no memory is involved.
            let fd = unsafe { libc::dup(2) };
            if fd < 0 {
                return Err(std::io::Error::last_os_error()).context("cannot keep standard error");
            }
            // SAFETY: as above; `log` stays open until dup2 has made fd 2 its copy.
            if unsafe { libc::dup2(log.as_raw_fd(), 2) } < 0 {
                let e = std::io::Error::last_os_error();
                // SAFETY: closing the copy made above.
                unsafe { libc::close(fd) };
                return Err(e).context("cannot send standard error to the log");
            }
            Ok(SavedStderr { fd })
        }
        #[cfg(not(unix))]
        {
            let _ = log;
            Ok(SavedStderr {})
        }
    }

    /// Gives standard error back (once: `end` runs this at most once).
    fn restore(&self) {
        #[cfg(unix)]
        // SAFETY: restoring fd 2 from the copy taken in `redirect_to`, then closing the copy.
        unsafe {
            libc::dup2(self.fd, 2);
            libc::close(self.fd);
        }
    }
}

/// Sets the stop flag when dropped (also while a panic unwinds).
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Drop for TuiSession {
    fn drop(&mut self) {
        if let Err(e) = self.end() {
            eprintln!("oisp-sensor: {e:#}");
        }
    }
}
