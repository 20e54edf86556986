//! `oisp-sensor tui` (and `record --tui`): a terminal UI over the event store that follows new
//! events live.
//!
//! Modules: [`feed`] reads the store (a window of recent events, new rows, older pages),
//! [`totals`] adds up the totals bar and per-process figures, [`entries`] makes the list's
//! lines, [`detail`] and [`proctree`] the views' text, [`app`] is the key state machine,
//! [`ui`] draws a frame and [`runner`] ties them in the event loop.
//!
//! The terminal is restored on every exit: normal, error (the guard's `Drop`) and panic
//! (ratatui's panic hook).

mod app;
mod detail;
mod entries;
mod feed;
mod proctree;
mod runner;
mod totals;
mod ui;

use crate::cli::{exit, TuiArgs};
use crate::events_io::{InputSource, Opened};
use anyhow::{bail, Result};
use oisp_store::{Query, Store};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Ties the TUI to a `record` running in the same process (`record --tui`).
pub struct Live {
    /// Set by the TUI when the user quits (stops the recording, as Ctrl-C does); the TUI ends
    /// when it is set by anyone else (SIGTERM, capture ended).
    pub stop: Arc<AtomicBool>,
    /// Where record's messages go while the TUI has the screen.
    pub log: PathBuf,
}

/// Refuses when standard output is not a terminal (a TUI cannot draw into a pipe or a file).
pub fn require_terminal(what: &str) -> Result<()> {
    if !std::io::stdout().is_terminal() {
        bail!(
            "{what} needs a terminal on standard output; for a pipe or a file use \
             `oisp-sensor show` (or `show --follow`)"
        );
    }
    Ok(())
}

/// `oisp-sensor tui`.
pub fn run(args: &TuiArgs) -> Result<i32> {
    let selection = args.filter.selection()?;
    let source = InputSource::resolve(args.input.as_deref());
    if let InputSource::File(p) = &source {
        if !p.exists() {
            bail!(
                "no event store at {} (fill one with `oisp-sensor demo --store FILE`, or run \
                 `sudo oisp-sensor record`)",
                p.display()
            );
        }
    }
    if !matches!(source, InputSource::Store { .. }) {
        bail!(
            "the terminal UI reads an event store; {} is JSON Lines (use `oisp-sensor show -i` \
             for it, or name a store with -i)",
            source.describe()
        );
    }
    let Opened::Store(store) = source.open()? else {
        bail!("{} is not an event store", source.describe());
    };
    require_terminal("oisp-sensor tui")?;
    run_store(store, selection.query(), None)?;
    Ok(exit::OK)
}

/// Runs the TUI over `store` with the selection `query` until the user quits (or `live.stop`
/// is set). Reads the first window before taking the screen, so a store error is printed
/// plainly.
pub fn run_store(store: Store, query: Query, live: Option<&Live>) -> Result<()> {
    let feed = feed::Feed::new(store, query)?;
    let mut terminal = Screen::enter()?;
    runner::Runner::new(feed, live).run(&mut terminal.0)
}

/// Whether the terminal we draw on has hung up (its window closed, its tmux session killed):
/// standard output, and standard input when it is a terminal, report a hang-up or an error.
/// (`record --tui` takes SIGHUP for a reload, so the TUI must notice by itself; and a hung-up
/// terminal makes the key reader spin.)
#[cfg(unix)]
pub(crate) fn terminal_gone() -> bool {
    let stdin_tty = std::io::stdin().is_terminal();
    let mut fds = [
        libc::pollfd {
            fd: 1,
            events: libc::POLLOUT,
            revents: 0,
        },
        libc::pollfd {
            fd: if stdin_tty { 0 } else { -1 },
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    // SAFETY: `fds` is a valid array of two pollfd for the duration of the call (a negative fd
    // is ignored by poll); timeout 0: it never blocks.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, 0) };
    n > 0
        && fds
            .iter()
            .any(|f| f.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0)
}

/// Elsewhere (Windows) nothing tells; the console closes the process with the window.
#[cfg(not(unix))]
pub(crate) fn terminal_gone() -> bool {
    false
}

/// The terminal in raw mode on the alternate screen; restored when dropped.
struct Screen(ratatui::DefaultTerminal);

impl Screen {
    fn enter() -> Result<Screen> {
        // Installs a panic hook that restores the terminal before the message is printed.
        match ratatui::try_init() {
            Ok(t) => Ok(Screen(t)),
            Err(e) => {
                ratatui::restore();
                Err(anyhow::Error::new(e).context("cannot set up the terminal"))
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        ratatui::restore();
    }
}
