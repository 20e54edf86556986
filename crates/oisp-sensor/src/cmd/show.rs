//! `oisp-sensor show`: recorded events as a timeline (or JSON Lines with `--json`), from the
//! event store (default, or `-i` naming a store) or from JSON Lines (`-i FILE`, `-i -`).

use crate::cli::{exit, ShowArgs};
use crate::events_io::{write_event, EventLines, InputSource, Opened};
use crate::style::Style;
use crate::timeline;
use anyhow::Result;
use oisp_event::{Event, EventData};
use oisp_store::{PageKey, Query, Selection, Store, StoredEvent};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::time::Duration;

/// How often `--follow` looks for new events.
const POLL: Duration = Duration::from_millis(250);

pub fn run(args: &ShowArgs) -> Result<i32> {
    let filter = args.filter.selection()?;
    let source = InputSource::resolve(args.input.input.as_deref());
    if args.sessions || args.trace.is_some() {
        return super::trace::run(args, &filter, &source);
    }
    match source.open()? {
        Opened::Lines(lines) => show_lines(args, &filter, &source, lines),
        Opened::Store(store) => show_store(args, &filter, &source, &store),
    }
}

fn show_lines(
    args: &ShowArgs,
    filter: &Selection,
    source: &InputSource,
    mut lines: EventLines<Box<dyn BufRead>>,
) -> Result<i32> {
    let mut events: Vec<Event> = Vec::new();
    while let Some(ev) = lines.next_event()? {
        if filter.matches(&ev) {
            events.push(ev);
        }
    }
    let style = Style::stdout();
    print_initial(args, source, &events, &style)?;
    if args.follow {
        loop {
            match lines.next_event()? {
                Some(ev) if filter.matches(&ev) => print_new(&ev, args.json, &style)?,
                Some(_) => {}
                None => std::thread::sleep(POLL),
            }
        }
    }
    if lines.bad_lines > 0 {
        eprintln!(
            "oisp-sensor: {} lines of {} were not OISP events (see warnings above)",
            lines.bad_lines,
            source.describe()
        );
    }
    Ok(exit::OK)
}

/// Prints the events found at start: the timeline (or JSON), the last `-n` entries.
fn print_initial(
    args: &ShowArgs,
    source: &InputSource,
    events: &[Event],
    style: &Style,
) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let skip = args.limit.map_or(0, |n| events.len().saturating_sub(n));
        for ev in &events[skip..] {
            write_event(&mut out, ev)?;
        }
    } else {
        let items = timeline::items(events);
        let skip = args.limit.map_or(0, |n| items.len().saturating_sub(n));
        for item in &items[skip..] {
            writeln!(out, "{}", timeline::render(item, style))?;
        }
        if items.is_empty() && !args.follow {
            eprintln!("oisp-sensor: no matching events in {}", source.describe());
        }
    }
    out.flush()?;
    Ok(())
}

/// Prints one event that arrived while following.
fn print_new(ev: &Event, json: bool, style: &Style) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        write_event(&mut out, ev)?;
    } else {
        let item = match ev.event_type() {
            "ai.request" => timeline::Item::Request(ev),
            "ai.response" => timeline::Item::Orphan(ev),
            _ => timeline::Item::Single(ev),
        };
        writeln!(out, "{}", timeline::render(&item, style))?;
    }
    out.flush()?;
    Ok(())
}

fn show_store(
    args: &ShowArgs,
    filter: &Selection,
    source: &InputSource,
    store: &Store,
) -> Result<i32> {
    let style = Style::stdout();
    // Everything up to this row is shown now; `--follow` prints the rows after it.
    let snapshot = store.max_id()?;
    let query = Query {
        up_to_id: Some(snapshot),
        ..filter.query()
    };
    if args.json {
        // Stored JSON is the exact line the sensor wrote: printed as is, never re-encoded.
        let rows = store.events(&query, args.limit)?;
        let mut out = std::io::stdout().lock();
        for r in &rows {
            out.write_all(r.json.as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
    } else {
        match args.limit {
            None => {
                if stream_timeline(store, &query, &style)? == 0 && !args.follow {
                    eprintln!("oisp-sensor: no matching events in {}", source.describe());
                }
            }
            Some(n) => print_initial(args, source, &recent_window(store, &query, n)?, &style)?,
        }
    }
    if args.follow {
        let mut last = snapshot;
        loop {
            std::thread::sleep(POLL);
            let max = store.max_id()?;
            if max <= last {
                continue;
            }
            let q = Query {
                after_id: Some(last),
                up_to_id: Some(max),
                ..filter.query()
            };
            for row in store.events_by_id(&q)? {
                if args.json {
                    let mut out = std::io::stdout().lock();
                    out.write_all(row.json.as_bytes())?;
                    out.write_all(b"\n")?;
                    out.flush()?;
                } else {
                    print_new(&row.event()?, false, &style)?;
                }
            }
            last = max;
        }
    }
    Ok(exit::OK)
}

/// Events read per page by [`stream_timeline`].
const PAGE: usize = 2000;

/// Prints the whole selection as a timeline page by page (memory bounded by a page, first lines
/// out at once), with the same entries as [`timeline::items`] over the whole selection: a
/// request shows the last response with its id anywhere in the selection, and a response is
/// shown on its own only when no request with its id comes before it. Returns the entries
/// printed.
fn stream_timeline(store: &Store, query: &Query, style: &Style) -> Result<usize> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut after: Option<PageKey> = None;
    let mut printed = 0;
    loop {
        let page = store.events_page(query, after, PAGE)?;
        let Some((last, _)) = page.last() else {
            break;
        };
        after = Some(*last);
        let events: Vec<(PageKey, Event)> = page
            .iter()
            .map(|(k, r)| Ok((*k, r.event()?)))
            .collect::<Result<_>>()?;
        let mut ids: Vec<String> = events
            .iter()
            .filter_map(|(_, e)| request_id(e))
            .map(str::to_string)
            .collect();
        ids.sort();
        ids.dedup();
        // Every event of the selection sharing a request id with this page, wherever it is.
        let mut last_response: HashMap<String, (PageKey, Event)> = HashMap::new();
        let mut first_request: HashMap<String, PageKey> = HashMap::new();
        for row in store.events_with_request_ids(query, &ids)? {
            let ev = row.event()?;
            let key = PageKey {
                ts_ns: oisp_store::Facts::of(&ev).ts_ns,
                id: row.id,
            };
            let Some(id) = request_id(&ev).map(str::to_string) else {
                continue;
            };
            match &ev.data {
                EventData::AiRequest(_) => {
                    let k = first_request.entry(id).or_insert(key);
                    *k = (*k).min(key);
                }
                EventData::AiResponse(_)
                    if last_response.get(&id).is_none_or(|(k, _)| *k < key) =>
                {
                    last_response.insert(id, (key, ev));
                }
                _ => {}
            }
        }
        for (key, ev) in &events {
            let item = match &ev.data {
                EventData::AiRequest(r) => timeline::Item::Call {
                    request: ev,
                    response: r
                        .request_id
                        .as_deref()
                        .and_then(|id| last_response.get(id))
                        .map(|(_, e)| e),
                },
                EventData::AiResponse(r) => {
                    let paired = r
                        .request_id
                        .as_deref()
                        .and_then(|id| first_request.get(id))
                        .is_some_and(|k| k < key);
                    if paired {
                        continue;
                    }
                    timeline::Item::Orphan(ev)
                }
                _ => timeline::Item::Single(ev),
            };
            writeln!(out, "{}", timeline::render(&item, style))?;
            printed += 1;
        }
        out.flush()?;
        if page.len() < PAGE {
            break;
        }
    }
    Ok(printed)
}

fn request_id(ev: &Event) -> Option<&str> {
    match &ev.data {
        EventData::AiRequest(r) => r.request_id.as_deref(),
        EventData::AiResponse(r) => r.request_id.as_deref(),
        _ => None,
    }
}

fn parse(rows: &[StoredEvent]) -> Result<Vec<Event>> {
    rows.iter()
        .map(|r| r.event().map_err(anyhow::Error::from))
        .collect()
}

/// The events behind the last `n` timeline entries, without reading the whole store: the most
/// recent events (a window that grows until it holds `n` entries of its own), plus the other
/// half of any AI call cut by the window's start, so a response is still shown with its request
/// exactly as a full read would show it.
fn recent_window(store: &Store, query: &Query, n: usize) -> Result<Vec<Event>> {
    let mut window = n.saturating_mul(2).saturating_add(16);
    loop {
        let rows = store.events(query, Some(window))?;
        let complete = rows.len() < window;
        let mut events = parse(&rows)?;
        // Requests whose response is outside the window and responses whose request is.
        let mut requests: HashSet<&str> = HashSet::new();
        let mut responses: HashSet<&str> = HashSet::new();
        for ev in &events {
            match &ev.data {
                EventData::AiRequest(r) => requests.extend(r.request_id.as_deref()),
                EventData::AiResponse(r) => responses.extend(r.request_id.as_deref()),
                _ => {}
            }
        }
        let missing: Vec<String> = requests
            .symmetric_difference(&responses)
            .map(|s| s.to_string())
            .collect();
        let ids: HashSet<i64> = rows.iter().map(|r| r.id).collect();
        let partners: Vec<StoredEvent> = if complete || missing.is_empty() {
            Vec::new()
        } else {
            store
                .events_with_request_ids(query, &missing)?
                .into_iter()
                .filter(|r| !ids.contains(&r.id))
                .collect()
        };
        let first_in_window = rows.first().map(|r| r.id);
        let before = partners.len();
        // Merged in the store's order: time, then row id.
        let mut all: Vec<(Option<u64>, i64, Event)> = Vec::with_capacity(rows.len() + before);
        for (row, ev) in partners
            .iter()
            .map(|r| (r.id, r.event()))
            .chain(rows.iter().map(|r| r.id).zip(events.drain(..).map(Ok)))
        {
            let ev = ev?;
            all.push((ev.wall_ns().ok(), row, ev));
        }
        all.sort_by_key(|(t, id, _)| (*t, *id));
        let events: Vec<Event> = all.into_iter().map(|(_, _, e)| e).collect();
        let own = timeline::items(&events).len().saturating_sub(before);
        if complete || own >= n || first_in_window.is_none() {
            return Ok(events);
        }
        window = window.saturating_mul(4);
    }
}
