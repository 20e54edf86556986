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
        // Everything is read before anything changes: a failed read leaves the feed as it was.
        let stored = self.store.events(&q, Some(self.window))?;
        let mut totals = Totals::default();
        totals.add_rows(&self.store, &self.query(), 0, max)?;
        self.more_older = stored.len() >= self.window;
        self.rows = self.parse(stored);
        self.totals = totals;
        self.last_id = max;
        Ok(())
    }

    /// Reads the rows written since the last read; true when there were any (of any kind:
    /// the totals may change without a row of the selection). With `trim`, the oldest rows
    /// beyond the window and a page go (memory stays bounded in a long live run; they are
    /// paged back on demand).
    pub fn poll(&mut self, trim: bool) -> Result<bool> {
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
        let mut totals = self.totals.clone();
        totals.add_rows(&self.store, &self.query(), self.last_id, max)?;
        let new = self.parse(stored);
        self.rows.extend(new);
        self.totals = totals;
        self.last_id = max;
        if trim && self.rows.len() > self.window + PAGE {
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

#[cfg(test)]
mod tests {
    use super::*;
    use oisp_event::{ProcessInfo, SensorWarning, Timestamp};
    use oisp_sinks::Item;

    /// `n` warnings from process 100 (child of 1), 1 ms apart, ids `TAG…`.
    fn items(tag: &str, n: usize, start_ns: u64) -> Vec<Item> {
        (0..n)
            .map(|i| {
                let mut ev = Event::new(
                    SensorWarning::new("w", format!("{tag} {i}")),
                    Timestamp::default(),
                    format!("{tag}{i:08}"),
                );
                ev.ts = oisp_event::format_ts(start_ns + i as u64 * 1_000_000);
                ev.process = Some(ProcessInfo {
                    pid: Some(100),
                    ppid: Some(1),
                    name: Some("agent".into()),
                    ..ProcessInfo::default()
                });
                Item::new(ev).unwrap()
            })
            .collect()
    }

    #[test]
    fn a_window_then_new_rows_then_older_pages() {
        let dir = std::env::temp_dir().join(format!("oisp-tui-feed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("events.db");
        let mut writer = Store::open(&path).unwrap();
        let t0 = 1_700_000_000_000_000_000;
        writer.insert_batch(&items("A", PAGE + 500, t0)).unwrap();

        let mut feed = Feed::new(Store::open_existing(&path).unwrap(), Query::default()).unwrap();
        assert_eq!(feed.rows.len(), PAGE);
        assert!(feed.more_older);
        assert_eq!(feed.totals.events, (PAGE + 500) as u64);
        assert_eq!(
            feed.parents.get(&100),
            Some(&(Some(1), "agent".to_string()))
        );
        assert!(!feed.poll(true).unwrap(), "nothing new yet");

        // Another writer adds rows: they arrive at the end, the totals grow.
        let mut b = items("B", 2, t0 + 10_000_000_000);
        let request = oisp_event::AiRequest {
            messages: Some(vec![oisp_event::Message {
                content: Some(oisp_event::Content::Text("find the Needle here".into())),
                ..oisp_event::Message::new(oisp_event::Role::User)
            }]),
            ..oisp_event::AiRequest::default()
        };
        let mut ev = Event::new(request, Timestamp::default(), "B-request");
        ev.ts = oisp_event::format_ts(t0 + 20_000_000_000);
        b.push(Item::new(ev).unwrap());
        writer.insert_batch(&b).unwrap();
        assert!(feed.poll(true).unwrap());
        assert_eq!(feed.rows.len(), PAGE + 3);
        assert_eq!(feed.totals.events, (PAGE + 503) as u64);
        assert_eq!(feed.totals.ai_calls, 1);

        // Older events: the rest of the store, then no more.
        assert!(feed.older().unwrap());
        assert_eq!(feed.rows.len(), PAGE + 503);
        assert!(!feed.more_older);
        assert!(!feed.older().unwrap());

        // A text filter selects by the store's search, its totals too; clearing restores.
        feed.set_filter(Some("needle".into())).unwrap();
        assert_eq!(feed.rows.len(), 1);
        assert_eq!((feed.totals.events, feed.totals.ai_calls), (1, 1));
        feed.set_filter(None).unwrap();
        assert_eq!(feed.totals.events, (PAGE + 503) as u64);
        assert_eq!(feed.rows.len(), PAGE);

        // Many new rows: kept while the user looks back (no trim), let go when following.
        writer
            .insert_batch(&items("C", PAGE + 1, t0 + 30_000_000_000))
            .unwrap();
        assert!(feed.poll(false).unwrap());
        assert_eq!(feed.rows.len(), 2 * PAGE + 1);
        writer
            .insert_batch(&items("D", 1, t0 + 40_000_000_000))
            .unwrap();
        assert!(feed.poll(true).unwrap());
        assert_eq!(feed.rows.len(), PAGE);
        assert!(feed.more_older);
        assert_eq!(
            feed.rows.last().map(|r| r.event.event_id.as_str()),
            Some("D00000000")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
