//! What the TUI reads from the store: a window of the most recent events of the selection, the
//! rows that arrive later, older rows on demand, sessions and traces — never the whole store.
//!
//! Contract: after [`Feed::reload`] `rows` holds the last `window` events of the selection in
//! time order; [`Feed::poll`] appends the rows written since, in arrival order (row id), and
//! adds them to the totals; [`Feed::older`] grows the window by [`PAGE`] events. Rows whose JSON
//! cannot be parsed are counted in `bad_rows`, never fatal.

use super::totals::Totals;
use crate::sessions::{self, SessionInfo};
use anyhow::Result;
use oisp_event::Event;
use oisp_store::{Query, Store, StoredEvent};
use std::collections::HashMap;

/// Events read at start and added by each step back into older events.
pub const PAGE: usize = 2000;
/// Most events of one trace drawn (the most recent).
pub const TRACE_MAX: usize = 20_000;
/// Process events read for the process tree's parent links.
const LINKS: usize = 20_000;

/// One event with its row id.
pub struct Row {
    pub id: i64,
    pub event: Event,
}

/// The process tree's links: pid → (parent pid, name), learnt from every event read.
pub type Parents = HashMap<i64, (Option<i64>, String)>;

pub struct Feed {
    store: Store,
    /// The selection given on the command line.
    base: Query,
    /// The `/` filter: replaces the command line's `--grep` while set.
    filter: Option<String>,
    window: usize,
    pub rows: Vec<Row>,
    /// Rows up to this id are read.
    last_id: i64,
    /// Whether the selection has events older than the window.
    pub more_older: bool,
    pub totals: Totals,
    pub parents: Parents,
    pub bad_rows: u64,
}

impl Feed {
    /// Reads the first window of `base` from `store`.
    pub fn new(store: Store, base: Query) -> Result<Feed> {
        let mut f = Feed {
            store,
            base,
            filter: None,
            window: PAGE,
            rows: Vec::new(),
            last_id: 0,
            more_older: false,
            totals: Totals::default(),
            parents: Parents::new(),
            bad_rows: 0,
        };
        f.reload()?;
        Ok(f)
    }

    /// The selection in force: the command line's, with the `/` filter as its text search.
    pub fn query(&self) -> Query {
        let mut q = self.base.clone();
        if let Some(f) = &self.filter {
            q.grep = Some(f.clone());
        }
        q
    }

    /// The `/` filter in force, if any.
    pub fn filter(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    /// Sets (`Some`, non-empty) or clears the `/` filter and reads the selection again.
    pub fn set_filter(&mut self, text: Option<String>) -> Result<()> {
        self.filter = text.filter(|t| !t.trim().is_empty());
        self.window = PAGE;
        self.reload()
    }

    /// Reads the last `window` events of the selection and its totals, up to the newest row.
    pub fn reload(&mut self) -> Result<()> {
        let max = self.store.max_id()?;
        let q = Query {
            up_to_id: Some(max),
            ..self.query()
        };
        let stored = self.store.events(&q, Some(self.window))?;
        self.more_older = stored.len() >= self.window;
        self.rows = self.parse(stored);
        let mut totals = Totals::default();
        totals.add_rows(&self.store, &self.query(), 0, max)?;
        self.totals = totals;
        self.last_id = max;
        Ok(())
    }

    /// Reads the rows written since the last read; true when there were any (of any kind:
    /// the totals may change without a row of the selection).
    pub fn poll(&mut self) -> Result<bool> {
        let max = self.store.max_id()?;
        if max <= self.last_id {
            return Ok(false);
        }
        let q = Query {
            after_id: Some(self.last_id),
            up_to_id: Some(max),
            ..self.query()
        };
        let stored = self.store.events_by_id(&q)?;
        let new = self.parse(stored);
        self.rows.extend(new);
        self.totals
            .add_rows(&self.store, &self.query(), self.last_id, max)?;
        self.last_id = max;
        // A long live run keeps memory bounded: the oldest rows go, paged back on demand.
        if self.rows.len() > self.window + PAGE {
            let cut = self.rows.len() - self.window;
            self.rows.drain(..cut);
            self.more_older = true;
        }
        Ok(true)
    }

    /// Grows the window by [`PAGE`] older events; false when there are none.
    pub fn older(&mut self) -> Result<bool> {
        if !self.more_older {
            return Ok(false);
        }
        self.window = self.rows.len() + PAGE;
        let q = Query {
            up_to_id: Some(self.last_id),
            ..self.query()
        };
        let stored = self.store.events(&q, Some(self.window))?;
        self.more_older = stored.len() >= self.window;
        self.rows = self.parse(stored);
        Ok(true)
    }

    /// Learns parent links from the store's most recent process execs and forks (any
    /// selection: links are facts about processes), for the process tree.
    pub fn learn_parents(&mut self) -> Result<()> {
        let q = Query {
            types: vec!["process.exec".into(), "process.fork".into()],
            up_to_id: Some(self.last_id),
            ..Query::default()
        };
        let stored = self.store.events(&q, Some(LINKS))?;
        self.parse(stored);
        Ok(())
    }

    /// The events of one trace (the selection does not apply), for the trace view: all of
    /// them, or the last [`TRACE_MAX`] of a larger one (`true`: cut).
    pub fn trace(&mut self, trace_id: &str) -> Result<(Vec<Event>, bool)> {
        let q = Query {
            trace_id: Some(trace_id.to_string()),
            ..Query::default()
        };
        let stored = self.store.events(&q, Some(TRACE_MAX))?;
        let cut = stored.len() >= TRACE_MAX;
        Ok((
            self.parse(stored).into_iter().map(|r| r.event).collect(),
            cut,
        ))
    }

    /// The agent sessions of the command line's selection (the text filters do not apply:
    /// they search conversations, not sessions), with live totals for open ones.
    pub fn sessions(&mut self) -> Result<Vec<SessionInfo>> {
        let q = Query {
            types: vec!["agent.session".into()],
            grep: None,
            ..self.base.clone()
        };
        let stored = self.store.events(&q, None)?;
        let events: Vec<Event> = self.parse(stored).into_iter().map(|r| r.event).collect();
        let mut list = sessions::sessions(&events);
        // Open sessions have no totals yet: counted from their trace's facts.
        let open: Vec<String> = list
            .iter()
            .filter(|s| s.ended.is_none())
            .filter_map(|s| s.trace_id.clone())
            .collect();
        for trace in open {
            let facts = self.store.facts(&Query {
                trace_id: Some(trace),
                ..Query::default()
            })?;
            sessions::add_live_totals(&mut list, &facts);
        }
        Ok(list)
    }

    fn parse(&mut self, stored: Vec<StoredEvent>) -> Vec<Row> {
        let mut out = Vec::with_capacity(stored.len());
        for s in stored {
            match s.event() {
                Ok(event) => {
                    if let Some(p) = &event.process {
                        if let Some(pid) = p.pid.and_then(|x| i64::try_from(x).ok()) {
                            let ppid = p.ppid.and_then(|x| i64::try_from(x).ok());
                            let e = self.parents.entry(pid).or_insert((ppid, String::new()));
                            if e.0.is_none() {
                                e.0 = ppid;
                            }
                            if e.1.is_empty() {
                                e.1 = p.name.clone().or(p.exe.clone()).unwrap_or_default();
                            }
                        }
                    }
                    out.push(Row { id: s.id, event });
                }
                Err(_) => self.bad_rows += 1,
            }
        }
        out
    }
}
