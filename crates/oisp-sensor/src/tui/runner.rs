//! The event loop: draws, reads keys, polls the store for new rows every [`POLL`], refreshes the
//! running record's drops every [`STATE_EVERY`], and does the work keys ask for.
//!
//! A failed read of the store is shown on the status line and retried at the next poll (a
//! store being written can be briefly busy); it never ends the TUI.

use super::app::{Action, App, View};
use super::entries::{self, Entry};
use super::feed::Feed;
use super::{detail, proctree, totals, ui, Live};
use crate::runtime_state;
use crate::sessions::SessionInfo;
use crate::style::Style;
use crate::timeline::fmt_usd;
use crate::trace_view;
use anyhow::Result;
use ratatui::crossterm::event::{self, Event as TermEvent, KeyEventKind};
use ratatui::DefaultTerminal;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How often the store is checked for new rows.
const POLL: Duration = Duration::from_millis(250);
/// The status note of a failed poll (cleared by the next good one).
const READ_FAILED: &str = "store read failed (retrying)";
/// How often the running record's state (drops) and log are read.
const STATE_EVERY: Duration = Duration::from_secs(1);

pub struct Runner<'a> {
    feed: Feed,
    live: Option<&'a Live>,
    app: App,
    entries: Vec<Entry>,
    lines: Vec<String>,
    kinds: Vec<entries::Kind>,
    keys: Vec<i64>,
    /// Title and lines of each pane view, kept while it is stacked (esc shows it again).
    panes: HashMap<View, (String, Vec<String>)>,
    sessions: Vec<SessionInfo>,
    drops: String,
    /// A message about the last action (no trace, no older events, read errors).
    note: String,
    /// Last line of record's log (under `record --tui`).
    log_line: String,
    list_offset: usize,
    /// Columns of the terminal (the detail's lines are wrapped to it).
    width: usize,
    /// The detail's lines before wrapping, and the width they were last wrapped to.
    detail_raw: Vec<String>,
    detail_width: usize,
}

impl<'a> Runner<'a> {
    pub fn new(feed: Feed, live: Option<&'a Live>) -> Runner<'a> {
        let mut r = Runner {
            feed,
            live,
            app: App::default(),
            entries: Vec::new(),
            lines: Vec::new(),
            kinds: Vec::new(),
            keys: Vec::new(),
            panes: HashMap::new(),
            sessions: Vec::new(),
            drops: String::new(),
            note: String::new(),
            log_line: String::new(),
            list_offset: 0,
            width: 80,
            detail_raw: Vec::new(),
            detail_width: 0,
        };
        r.rebuild();
        r.refresh_state();
        r
    }

    /// Runs until quit (or `live.stop`).
    pub fn run(mut self, term: &mut DefaultTerminal) -> Result<()> {
        let mut last_poll = Instant::now();
        let mut last_state = Instant::now();
        loop {
            if self.live.is_some_and(|l| l.stop.load(Ordering::Relaxed)) {
                return Ok(());
            }
            let size = term.size()?;
            self.app.page = ui::body_rows(size.height);
            self.width = usize::from(size.width);
            if self.detail_width != self.width && self.panes.contains_key(&View::Detail) {
                // The terminal was resized: the detail is wrapped again.
                let lines = detail::wrap(self.detail_raw.clone(), self.width);
                if let Some(p) = self.panes.get_mut(&View::Detail) {
                    p.1 = lines;
                }
                self.detail_width = self.width;
            }
            let status = self.status();
            let totals = self.feed.totals.bar();
            let (pane_title, pane) = self
                .panes
                .get(&self.app.view())
                .map(|(t, l)| (t.as_str(), l.as_slice()))
                .unwrap_or(("", &[]));
            self.app.pane_len = pane.len();
            let screen = ui::Screen {
                app: &self.app,
                list: &self.lines,
                kinds: &self.kinds,
                pane,
                pane_title,
                totals: &totals,
                drops: &self.drops,
                status: &status,
            };
            let mut offset = self.list_offset;
            term.draw(|f| offset = ui::draw(f, &screen, self.list_offset))?;
            self.list_offset = offset;
            if super::terminal_gone() {
                anyhow::bail!("the terminal was closed");
            }
            let wait = POLL.saturating_sub(last_poll.elapsed());
            // (checked again after the poll: a hang-up reads as input, and reading it spins)
            if event::poll(wait)? && !super::terminal_gone() {
                if let TermEvent::Key(k) = event::read()? {
                    if k.kind != KeyEventKind::Release {
                        let action = self.app.on_key(k, &self.keys);
                        if action == Action::Quit {
                            if let Some(l) = self.live {
                                l.stop.store(true, Ordering::Relaxed);
                            }
                            return Ok(());
                        }
                        self.act(action);
                    }
                }
            }
            if last_poll.elapsed() >= POLL {
                last_poll = Instant::now();
                // Old rows are let go only while following: the entry a user looks at stays.
                match self.feed.poll(self.app.follow) {
                    Ok(changed) if self.note.starts_with(READ_FAILED) || changed => {
                        if self.note.starts_with(READ_FAILED) {
                            self.note.clear();
                        }
                        self.rebuild();
                        if self.app.view() == View::Procs {
                            let lines = self.procs();
                            if let Some(p) = self.panes.get_mut(&View::Procs) {
                                p.1 = lines;
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(e) => self.note = format!("{READ_FAILED}: {e:#}"),
                }
            }
            if last_state.elapsed() >= STATE_EVERY {
                last_state = Instant::now();
                self.refresh_state();
            }
        }
    }

    /// The list from the feed's rows, the selection kept on its entry.
    fn rebuild(&mut self) {
        self.entries = entries::build(&self.feed.rows);
        self.lines = self.entries.iter().map(|e| e.line.clone()).collect();
        self.kinds = self.entries.iter().map(|e| e.kind).collect();
        self.keys = self.entries.iter().map(|e| e.key).collect();
        self.app.relist(&self.keys);
    }

    fn refresh_state(&mut self) {
        self.drops = totals::drops_text(runtime_state::running().as_ref());
        if let Some(l) = self.live {
            self.log_line = last_line(&l.log).unwrap_or_default();
        }
    }

    fn status(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = self.feed.filter() {
            parts.push(format!("filter \"{f}\" (esc clears)"));
        }
        if self.feed.more_older {
            parts.push("older events: k/↑ at the top".into());
        }
        if self.feed.bad_rows > 0 {
            parts.push(format!("{} unreadable rows skipped", self.feed.bad_rows));
        }
        if let Some(l) = self.live {
            parts.push(format!("recording · log {}", l.log.display()));
            if !self.log_line.is_empty() {
                parts.push(self.log_line.clone());
            }
        }
        if !self.note.is_empty() {
            parts.push(self.note.clone());
        }
        parts.join(" │ ")
    }

    fn selected(&self) -> Option<&Entry> {
        self.entries.get(self.app.selected)
    }

    fn show_pane(&mut self, view: View, title: String, lines: Vec<String>) {
        self.app.pane_len = lines.len();
        self.panes.insert(view, (title, lines));
        self.app.open(view);
    }

    fn act(&mut self, action: Action) {
        self.note.clear();
        let result = match action {
            Action::None | Action::Quit => Ok(()),
            Action::OpenDetail => {
                let rows = &self.feed.rows;
                let picked = self.selected().and_then(|e| {
                    let main = &rows.get(e.main)?.event;
                    Some((main, e.response.and_then(|j| rows.get(j)).map(|r| &r.event)))
                });
                if let Some((main, resp)) = picked {
                    self.detail_raw = detail::lines(main, resp);
                    self.detail_width = self.width;
                    let lines = detail::wrap(self.detail_raw.clone(), self.width);
                    self.show_pane(View::Detail, "detail".into(), lines);
                }
                Ok(())
            }
            Action::OpenTrace => match self.selected().map(|e| e.trace_id.clone()) {
                Some(Some(t)) => self.open_trace(&t),
                Some(None) => {
                    self.note = "this event belongs to no agent session (s lists them)".into();
                    Ok(())
                }
                None => Ok(()),
            },
            Action::SessionTrace(i) => match self.sessions.get(i).map(|s| s.trace_id.clone()) {
                Some(Some(t)) => self.open_trace(&t),
                _ => {
                    self.note = "this session has no trace id".into();
                    Ok(())
                }
            },
            Action::OpenProcs => {
                if let Err(e) = self.feed.learn_parents() {
                    self.note = format!("process links not read: {e:#}");
                }
                let lines = self.procs();
                self.show_pane(View::Procs, "processes (parent → child)".into(), lines);
                Ok(())
            }
            Action::OpenSessions => self.open_sessions(),
            Action::OpenHelp => {
                self.show_pane(View::Help, "help".into(), ui::help());
                Ok(())
            }
            Action::Filter(text) => self.feed.set_filter(text).map(|()| {
                self.app.follow = true;
                self.rebuild();
            }),
            Action::LoadOlder => self.feed.older().map(|more| {
                if more {
                    self.rebuild();
                } else {
                    self.note = "no older events in the selection".into();
                }
            }),
        };
        if let Err(e) = result {
            self.note = format!("store read failed: {e:#}");
        }
    }

    fn open_trace(&mut self, trace: &str) -> Result<()> {
        let (events, cut) = self.feed.trace(trace)?;
        let mut lines = trace_view::render(&events, &Style::plain());
        if lines.is_empty() {
            lines.push(format!("no events of trace {trace} in the store"));
        }
        if cut {
            lines.insert(
                0,
                format!(
                    "(a large trace: its last {} events)",
                    super::feed::TRACE_MAX
                ),
            );
        }
        self.show_pane(View::Trace, format!("trace {trace}"), lines);
        Ok(())
    }

    fn open_sessions(&mut self) -> Result<()> {
        self.sessions = self.feed.sessions()?;
        let mut lines = vec![format!(
            "{:<12} {:<30} {:<27} {:>9} {:>6} {:>6} {:>9} {:>10}  task",
            "agent", "session", "started", "duration", "calls", "tools", "tokens", "cost"
        )];
        for s in &self.sessions {
            lines.push(format!(
                "{:<12} {:<30} {:<27} {:>9} {:>6} {:>6} {:>9} {:>10}  {}",
                s.agent,
                s.session_id,
                s.started,
                s.duration_ms
                    .map(|d| format!("{:.1}s", d as f64 / 1000.0))
                    .unwrap_or_else(|| "open".into()),
                s.llm_calls,
                s.tool_calls,
                s.tokens,
                format!("${}", fmt_usd(s.cost_usd)),
                s.task.as_deref().unwrap_or("")
            ));
        }
        if self.sessions.is_empty() {
            lines.push("no agent sessions in the selection".into());
        }
        self.app.sessions_len = self.sessions.len();
        self.app.session_sel = self.sessions.len().saturating_sub(1);
        self.show_pane(View::Sessions, "agent sessions".into(), lines);
        Ok(())
    }

    fn procs(&self) -> Vec<String> {
        proctree::lines(&self.feed.totals.procs, &self.feed.parents)
    }
}

/// The last non-empty line of a log file (its last 4 KiB are read).
fn last_line(path: &std::path::Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(4096))).ok()?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
}
