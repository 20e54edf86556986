//! `oisp-sensor analyze`: summaries of recorded events.

use crate::cli::{exit, AnalyzeArgs, Report};
use crate::events_io::{InputSource, Opened};
use crate::report::{Cell, Table};
use anyhow::Result;
use oisp_store::Facts;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Totals for one group of AI calls.
#[derive(Debug, Default, Clone)]
struct Agg {
    calls: u64,
    errors: u64,
    prompt: u64,
    completion: u64,
    cached: u64,
    cost: f64,
    /// Successful calls with token usage but no price in the bundle (cost unknown, not zero).
    unpriced: u64,
    latency_sum: u64,
    latency_n: u64,
    ttft_sum: u64,
    ttft_n: u64,
}

impl Agg {
    fn add(&mut self, c: &Call) {
        self.calls += 1;
        self.errors += u64::from(c.failed);
        self.prompt += c.prompt;
        self.completion += c.completion;
        self.cached += c.cached;
        self.cost += c.cost.unwrap_or(0.0);
        self.unpriced += u64::from(!c.failed && c.cost.is_none() && c.prompt + c.completion > 0);
        if let Some(l) = c.latency {
            self.latency_sum += l;
            self.latency_n += 1;
        }
        if let Some(t) = c.ttft {
            self.ttft_sum += t;
            self.ttft_n += 1;
        }
    }
    fn avg_latency(&self) -> Cell {
        avg(self.latency_sum, self.latency_n)
    }
    fn avg_ttft(&self) -> Cell {
        avg(self.ttft_sum, self.ttft_n)
    }
}

fn avg(sum: u64, n: u64) -> Cell {
    if n == 0 {
        Cell::Empty
    } else {
        Cell::Float(sum as f64 / n as f64)
    }
}

/// One AI call: a request joined with its response.
struct Call {
    provider: String,
    model: String,
    process: String,
    failed: bool,
    prompt: u64,
    completion: u64,
    cached: u64,
    cost: Option<f64>,
    latency: Option<u64>,
    ttft: Option<u64>,
}

fn process_name(f: &Facts) -> String {
    f.process_name
        .clone()
        .or(f.process_exe.clone())
        .unwrap_or_else(|| "(unknown)".into())
}

fn count(v: Option<i64>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok())
}

fn calls(events: &[Facts]) -> Vec<Call> {
    let responses: HashMap<&str, &Facts> = events
        .iter()
        .filter(|f| f.event_type == "ai.response")
        .filter_map(|f| f.request_id.as_deref().map(|id| (id, f)))
        .collect();
    let mut out = Vec::new();
    for req in events.iter().filter(|f| f.event_type == "ai.request") {
        let resp = req.request_id.as_deref().and_then(|id| responses.get(id));
        let model = resp
            .and_then(|r| r.model.clone())
            .or(req.model.clone())
            .unwrap_or_else(|| "(unknown)".into());
        out.push(Call {
            provider: req.provider_label().unwrap_or("other").to_string(),
            model,
            process: process_name(req),
            failed: resp.is_none_or(|r| r.success == Some(false)),
            prompt: resp.and_then(|r| count(r.prompt_tokens)).unwrap_or(0),
            completion: resp.and_then(|r| count(r.completion_tokens)).unwrap_or(0),
            cached: resp.and_then(|r| count(r.cached_tokens)).unwrap_or(0),
            cost: resp.and_then(|r| r.cost_usd),
            latency: resp.and_then(|r| count(r.latency_ms)),
            ttft: resp.and_then(|r| count(r.ttft_ms)),
        });
    }
    out
}

pub fn run(args: &AnalyzeArgs) -> Result<i32> {
    let filter = args.filter.selection()?;
    let source = InputSource::resolve(args.input.input.as_deref());
    if args.report == Report::Sessions {
        return sessions_report(args, &filter, &source);
    }
    // Reports need only each event's facts: the store has them as columns (no JSON parsed);
    // JSON Lines are parsed and reduced to the same facts.
    // Metadata-only flows' estimates are read from their events (the store's columns hold no
    // estimates, so that they never add up with decoded usage).
    let mut estimates: Vec<Estimated> = Vec::new();
    let events: Vec<Facts> = match source.open()? {
        Opened::Store(store) => {
            let q = filter.query();
            let flows_selected = q.types.is_empty()
                || q.types
                    .iter()
                    .any(|t| t == "network" || t == "network.flow");
            if flows_selected {
                let flows = oisp_store::Query {
                    types: vec!["network.flow".into()],
                    ..q.clone()
                };
                for stored in store.events(&flows, None)? {
                    if let Ok(ev) = stored.event() {
                        estimates.extend(Estimated::of(&ev));
                    }
                }
            }
            store.facts(&q)?
        }
        Opened::Lines(mut lines) => {
            let mut facts = Vec::new();
            while let Some(ev) = lines.next_event()? {
                if filter.matches(&ev) {
                    estimates.extend(Estimated::of(&ev));
                    facts.push(Facts::of(&ev));
                }
            }
            facts
        }
    };
    let table = match args.report {
        Report::Summary => summary(&events, &estimates),
        Report::Costs => costs(&events),
        Report::Providers => providers(&events),
        Report::Models => models(&events),
        Report::Tools => tools(&events),
        Report::Processes => processes(&events, &estimates),
        Report::Sessions => unreachable!("answered above"),
    };
    print!("{}", table.render(args.format));
    Ok(exit::OK)
}

/// The estimates of one metadata-only flow (a connection to an AI provider nothing could read),
/// with its process.
struct Estimated {
    process: String,
    est: oisp_store::FlowEstimate,
}

impl Estimated {
    fn of(ev: &oisp_event::Event) -> Option<Estimated> {
        let est = oisp_store::flow_estimate(ev)?;
        Some(Estimated {
            process: process_name(&Facts::of(ev)),
            est,
        })
    }
}

fn summary(events: &[Facts], estimates: &[Estimated]) -> Table {
    let calls = calls(events);
    let mut all = Agg::default();
    calls.iter().for_each(|c| all.add(c));
    let count = |t: &str| events.iter().filter(|e| e.event_type == t).count() as u64;
    let distinct = |f: &dyn Fn(&Call) -> &str| -> u64 {
        calls.iter().map(f).collect::<BTreeSet<_>>().len() as u64
    };
    let mut rows = vec![
        ("events", Cell::Int(events.len() as u64)),
        ("ai calls", Cell::Int(all.calls)),
        ("failed calls", Cell::Int(all.errors)),
        ("prompt tokens", Cell::Int(all.prompt)),
        ("completion tokens", Cell::Int(all.completion)),
        ("cached tokens", Cell::Int(all.cached)),
        ("cost usd", Cell::Usd(all.cost)),
        ("calls without a price", Cell::Int(all.unpriced)),
        ("avg latency ms", all.avg_latency()),
        ("avg time to first token ms", all.avg_ttft()),
        ("providers", Cell::Int(distinct(&|c| c.provider.as_str()))),
        ("models", Cell::Int(distinct(&|c| c.model.as_str()))),
        ("tool calls", Cell::Int(count("agent.tool_call"))),
        ("tool results", Cell::Int(count("agent.tool_result"))),
        ("process execs", Cell::Int(count("process.exec"))),
        ("file writes", Cell::Int(count("file.write"))),
        ("network connects", Cell::Int(count("network.connect"))),
        ("warnings", Cell::Int(count("sensor.warning"))),
    ];
    if !estimates.is_empty() {
        let sum = |f: fn(&oisp_store::FlowEstimate) -> u64| -> u64 {
            estimates.iter().map(|e| f(&e.est)).sum()
        };
        rows.extend([
            (
                "metadata-only flows (content unread)",
                Cell::Int(estimates.len() as u64),
            ),
            (
                "estimated calls (metadata only)",
                Cell::Int(sum(|e| e.calls)),
            ),
            (
                "estimated streamed calls",
                Cell::Int(sum(|e| e.streaming_calls)),
            ),
            (
                "estimated ~input tokens",
                Cell::Int(sum(|e| e.input_tokens)),
            ),
            (
                "estimated ~output tokens",
                Cell::Int(sum(|e| e.output_tokens)),
            ),
        ]);
    }
    if let (Some(first), Some(last)) = (events.first(), events.last()) {
        rows.push(("first event", Cell::Text(first.ts.clone())));
        rows.push(("last event", Cell::Text(last.ts.clone())));
    }
    Table {
        title: "Summary".into(),
        columns: vec!["metric", "value"],
        rows: rows
            .into_iter()
            .map(|(k, v)| vec![Cell::Text(k.into()), v])
            .collect(),
        totals: None,
    }
}

/// A table of AI calls grouped by `key` (one column per key part), each row: the key, calls,
/// errors, then `tail` of the group's totals; a totals row closes it.
fn grouped_table(
    title: &str,
    key_columns: &[&'static str],
    tail_columns: &[&'static str],
    calls: &[Call],
    key: impl Fn(&Call) -> Vec<String>,
    tail: impl Fn(&Agg) -> Vec<Cell>,
) -> Table {
    let mut groups: BTreeMap<Vec<String>, Agg> = BTreeMap::new();
    let mut all = Agg::default();
    for c in calls {
        groups.entry(key(c)).or_default().add(c);
        all.add(c);
    }
    let row = |k: Vec<Cell>, a: &Agg| {
        let mut r = k;
        r.extend([Cell::Int(a.calls), Cell::Int(a.errors)]);
        r.extend(tail(a));
        r
    };
    let mut total_key = vec![Cell::Text("total".into())];
    total_key.extend(std::iter::repeat_n(Cell::Empty, key_columns.len() - 1));
    let mut columns = key_columns.to_vec();
    columns.extend(["calls", "errors"]);
    columns.extend(tail_columns);
    Table {
        title: title.into(),
        columns,
        rows: groups
            .iter()
            .map(|(k, a)| row(k.iter().cloned().map(Cell::Text).collect(), a))
            .collect(),
        totals: Some(row(total_key, &all)),
    }
}

fn costs(events: &[Facts]) -> Table {
    grouped_table(
        "Costs by provider and model (USD, from the OISP bundle's prices)",
        &["provider", "model"],
        &[
            "prompt_tokens",
            "completion_tokens",
            "cached_tokens",
            "cost_usd",
            "unpriced_calls",
        ],
        &calls(events),
        |c| vec![c.provider.clone(), c.model.clone()],
        |a| {
            vec![
                Cell::Int(a.prompt),
                Cell::Int(a.completion),
                Cell::Int(a.cached),
                Cell::Usd(a.cost),
                Cell::Int(a.unpriced),
            ]
        },
    )
}

fn providers(events: &[Facts]) -> Table {
    grouped_table(
        "AI calls by provider",
        &["provider"],
        &["tokens", "cost_usd", "avg_latency_ms"],
        &calls(events),
        |c| vec![c.provider.clone()],
        |a| {
            vec![
                Cell::Int(a.prompt + a.completion),
                Cell::Usd(a.cost),
                a.avg_latency(),
            ]
        },
    )
}

fn models(events: &[Facts]) -> Table {
    grouped_table(
        "AI calls by model",
        &["model", "provider"],
        &["tokens", "cost_usd", "avg_latency_ms", "avg_ttft_ms"],
        &calls(events),
        |c| vec![c.model.clone(), c.provider.clone()],
        |a| {
            vec![
                Cell::Int(a.prompt + a.completion),
                Cell::Usd(a.cost),
                a.avg_latency(),
                a.avg_ttft(),
            ]
        },
    )
}

fn tools(events: &[Facts]) -> Table {
    #[derive(Default)]
    struct T {
        calls: u64,
        results: u64,
        failures: u64,
        dur_sum: u64,
        dur_n: u64,
    }
    let mut by: BTreeMap<String, T> = BTreeMap::new();
    for ev in events {
        match ev.event_type.as_str() {
            "agent.tool_call" => {
                by.entry(ev.tool_name.clone().unwrap_or_else(|| "(unnamed)".into()))
                    .or_default()
                    .calls += 1;
            }
            "agent.tool_result" => {
                let name = ev
                    .tool_name
                    .clone()
                    .unwrap_or_else(|| "(unknown call)".into());
                let t = by.entry(name).or_default();
                t.results += 1;
                t.failures += u64::from(ev.success == Some(false));
                if let Some(d) = count(ev.duration_ms) {
                    t.dur_sum += d;
                    t.dur_n += 1;
                }
            }
            _ => {}
        }
    }
    Table {
        title: "Tool calls made by models, and results sent back".into(),
        columns: vec!["tool", "calls", "results", "failures", "avg_duration_ms"],
        rows: by
            .iter()
            .map(|(n, t)| {
                vec![
                    Cell::Text(n.clone()),
                    Cell::Int(t.calls),
                    Cell::Int(t.results),
                    Cell::Int(t.failures),
                    avg(t.dur_sum, t.dur_n),
                ]
            })
            .collect(),
        totals: None,
    }
}

fn processes(events: &[Facts], estimates: &[Estimated]) -> Table {
    #[derive(Default)]
    struct P {
        pids: BTreeSet<u64>,
        agg: Agg,
        execs: u64,
        writes: u64,
        connects: u64,
        estimated_calls: u64,
    }
    let mut by: BTreeMap<String, P> = BTreeMap::new();
    for ev in events {
        let name = process_name(ev);
        let p = by.entry(name).or_default();
        if let Some(pid) = count(ev.pid) {
            p.pids.insert(pid);
        }
        match ev.event_type.as_str() {
            "process.exec" => p.execs += 1,
            "file.write" => p.writes += 1,
            "network.connect" => p.connects += 1,
            _ => {}
        }
    }
    for c in calls(events) {
        by.entry(c.process.clone()).or_default().agg.add(&c);
    }
    for e in estimates {
        by.entry(e.process.clone()).or_default().estimated_calls += e.est.calls;
    }
    Table {
        title: "Activity by process".into(),
        columns: vec![
            "process",
            "pids",
            "ai_calls",
            "estimated_calls",
            "tokens",
            "cost_usd",
            "execs",
            "file_writes",
            "connects",
        ],
        rows: by
            .iter()
            .map(|(n, p)| {
                vec![
                    Cell::Text(n.clone()),
                    Cell::Int(p.pids.len() as u64),
                    Cell::Int(p.agg.calls),
                    Cell::Int(p.estimated_calls),
                    Cell::Int(p.agg.prompt + p.agg.completion),
                    Cell::Usd(p.agg.cost),
                    Cell::Int(p.execs),
                    Cell::Int(p.writes),
                    Cell::Int(p.connects),
                ]
            })
            .collect(),
        totals: None,
    }
}

/// `--report sessions`: one row per agent session of the selection (totals from its end event,
/// or counted so far for a session still open).
fn sessions_report(
    args: &AnalyzeArgs,
    filter: &oisp_store::Selection,
    source: &InputSource,
) -> Result<i32> {
    let (events, facts): (Vec<oisp_event::Event>, Vec<Facts>) = match source.open()? {
        Opened::Store(store) => {
            let q = oisp_store::Query {
                types: vec!["agent.session".into()],
                ..filter.query()
            };
            let evs = store
                .events(&q, None)?
                .iter()
                .map(|r| r.event())
                .collect::<Result<_, _>>()?;
            (evs, store.facts(&filter.query())?)
        }
        Opened::Lines(mut lines) => {
            let (mut evs, mut facts) = (Vec::new(), Vec::new());
            while let Some(ev) = lines.next_event()? {
                if filter.matches(&ev) {
                    facts.push(Facts::of(&ev));
                    evs.push(ev);
                }
            }
            (evs, facts)
        }
    };
    let mut list = crate::sessions::sessions(&events);
    crate::sessions::add_live_totals(&mut list, &facts);
    print!("{}", crate::sessions::table(&list).render(args.format));
    Ok(exit::OK)
}
