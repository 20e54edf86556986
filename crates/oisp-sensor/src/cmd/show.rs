//! `oisp-sensor show`: recorded events as a timeline (or JSON Lines with `--json`).

use crate::cli::{exit, ShowArgs};
use crate::events_io::{write_event, EventLines, InputSource};
use crate::filter::{now_ns, EventFilter};
use crate::style::Style;
use crate::timeline;
use anyhow::Result;
use oisp_event::Event;
use std::io::Write;
use std::time::Duration;

pub fn run(args: &ShowArgs) -> Result<i32> {
    let filter = EventFilter::new(&args.filter, now_ns())?;
    let source = InputSource::resolve(args.input.input.as_deref());
    let mut lines = EventLines::new(source.open()?, source.describe());
    let mut events: Vec<Event> = Vec::new();
    while let Some(ev) = lines.next_event()? {
        if filter.matches(&ev) {
            events.push(ev);
        }
    }
    let style = Style::stdout();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let skip = args.limit.map_or(0, |n| events.len().saturating_sub(n));
        for ev in &events[skip..] {
            write_event(&mut out, ev)?;
        }
    } else {
        let items = timeline::items(&events);
        let skip = args.limit.map_or(0, |n| items.len().saturating_sub(n));
        for item in &items[skip..] {
            writeln!(out, "{}", timeline::render(item, &style))?;
        }
        if items.is_empty() && !args.follow {
            eprintln!("oisp-sensor: no matching events in {}", source.describe());
        }
    }
    out.flush()?;
    drop(out);
    if args.follow {
        follow(&mut lines, &filter, args.json, &style)?;
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

/// Prints events appended after the initial read, one per line, until interrupted.
fn follow<R: std::io::BufRead>(
    lines: &mut EventLines<R>,
    filter: &EventFilter,
    json: bool,
    style: &Style,
) -> Result<()> {
    loop {
        match lines.next_event()? {
            Some(ev) if filter.matches(&ev) => {
                let mut out = std::io::stdout().lock();
                if json {
                    write_event(&mut out, &ev)?;
                } else {
                    let item = match ev.event_type() {
                        "ai.request" => timeline::Item::Request(&ev),
                        "ai.response" => timeline::Item::Orphan(&ev),
                        _ => timeline::Item::Single(&ev),
                    };
                    writeln!(out, "{}", timeline::render(&item, style))?;
                }
                out.flush()?;
            }
            Some(_) => {}
            None => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}
