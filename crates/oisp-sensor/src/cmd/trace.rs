//! `show --sessions` and `show --trace [ID]`: agent sessions as a table, one session as a tree.

use crate::cli::{exit, Format, ShowArgs};
use crate::events_io::{write_event, InputSource, Opened};
use crate::sessions::{self, SessionInfo};
use crate::style::Style;
use crate::trace_view;
use anyhow::Result;
use oisp_event::Event;
use oisp_store::{Facts, Query, Selection};
use std::io::Write;

/// What `--sessions` / `--trace` need from the input: the sessions (from the selected
/// `agent.session` events), the facts of the selection (live totals of open sessions) and,
/// once a session is chosen, every event of its trace (the selection does not apply to them).
struct Input {
    sessions: Vec<SessionInfo>,
    facts: Vec<Facts>,
    /// JSON Lines input: every event, read once (a store is queried instead).
    all: Option<Vec<Event>>,
    store: Option<oisp_store::Store>,
}

fn read(filter: &Selection, source: &InputSource) -> Result<Input> {
    match source.open()? {
        Opened::Store(store) => {
            let q = Query {
                types: vec!["agent.session".into()],
                ..filter.query()
            };
            let evs: Vec<Event> = store
                .events(&q, None)?
                .iter()
                .map(|r| r.event())
                .collect::<Result<_, _>>()?;
            let facts = store.facts(&filter.query())?;
            Ok(Input {
                sessions: sessions::sessions(&evs),
                facts,
                all: None,
                store: Some(store),
            })
        }
        Opened::Lines(mut lines) => {
            let mut all = Vec::new();
            while let Some(ev) = lines.next_event()? {
                all.push(ev);
            }
            let selected: Vec<Event> = all.iter().filter(|e| filter.matches(e)).cloned().collect();
            Ok(Input {
                sessions: sessions::sessions(&selected),
                facts: selected.iter().map(Facts::of).collect(),
                all: Some(all),
                store: None,
            })
        }
    }
}

pub fn run(args: &ShowArgs, filter: &Selection, source: &InputSource) -> Result<i32> {
    let mut input = read(filter, source)?;
    if args.sessions {
        sessions::add_live_totals(&mut input.sessions, &input.facts);
        if input.sessions.is_empty() {
            eprintln!("oisp-sensor: no agent sessions in {}", source.describe());
        } else {
            print!("{}", sessions::table(&input.sessions).render(Format::Text));
        }
        return Ok(exit::OK);
    }
    let id = args.trace.as_deref().unwrap_or("");
    let chosen = match sessions::find(&input.sessions, id) {
        Ok(s) => s.clone(),
        Err(e) => {
            eprintln!("oisp-sensor: {e} in {}", source.describe());
            return Ok(exit::ERROR);
        }
    };
    let Some(trace) = chosen.trace_id.clone() else {
        eprintln!(
            "oisp-sensor: session {} has no trace id (events not from this sensor?)",
            chosen.session_id
        );
        return Ok(exit::ERROR);
    };
    let events: Vec<Event> = match (&input.store, input.all.take()) {
        (Some(store), _) => store
            .events(
                &Query {
                    trace_id: Some(trace.clone()),
                    ..Query::default()
                },
                None,
            )?
            .iter()
            .map(|r| r.event())
            .collect::<Result<_, _>>()?,
        (None, Some(all)) => all
            .into_iter()
            .filter(|e| {
                e.trace_context.as_ref().and_then(|t| t.trace_id.as_deref()) == Some(trace.as_str())
            })
            .collect(),
        (None, None) => Vec::new(),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        for ev in &events {
            write_event(&mut out, ev)?;
        }
    } else {
        for line in trace_view::render(&events, &Style::stdout()) {
            writeln!(out, "{line}")?;
        }
    }
    out.flush()?;
    Ok(exit::OK)
}
