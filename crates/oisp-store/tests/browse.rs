//! The web UI's and TUI's reads (`browse.rs`) against the same figures computed over the events
//! in memory.

mod common;

use common::{golden_events, items, synth};
use oisp_event::{Event, EventData};
use oisp_store::{Facts, Query, Store};
use std::collections::{BTreeMap, BTreeSet};

fn store_with(events: &[Event]) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    store.insert_batch(&items(events)).unwrap();
    (dir, store)
}

#[test]
fn newest_first_pages_cover_every_event_once_in_order() {
    let events = synth(1234, 1_700_000_000_000_000_000, 1_000_000);
    let (_d, store) = store_with(&events);
    let q = Query::default();
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store.recent_page(&q, before, 100).unwrap();
        if page.is_empty() {
            break;
        }
        before = page.last().map(|(k, _)| *k);
        seen.extend(page.into_iter().map(|(k, _)| k));
    }
    assert_eq!(seen.len(), events.len());
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "strictly newest first"
    );
    let (n, capped) = store.count_capped(&q, 100_000).unwrap();
    assert_eq!((n, capped), (1234, false));
    assert_eq!(store.count_capped(&q, 1000).unwrap(), (1000, true));
}

#[test]
fn one_row_reads_back_as_stored() {
    let events = golden_events();
    let (_d, store) = store_with(&events[..5]);
    let e = store.event_by_row(3).unwrap().unwrap();
    assert_eq!(e.event().unwrap().event_id, events[2].event_id);
    assert!(store.event_by_row(99).unwrap().is_none());
}

#[test]
fn aggregates_match_the_events() {
    let events = golden_events();
    let (_d, store) = store_with(&events);
    let facts: Vec<Facts> = events.iter().map(Facts::of).collect();
    let responses: Vec<&Facts> = facts
        .iter()
        .filter(|f| f.event_type == "ai.response")
        .collect();
    let cost: f64 = responses.iter().filter_map(|f| f.cost_usd).sum();
    let tokens: i64 = responses
        .iter()
        .map(|f| f.prompt_tokens.unwrap_or(0) + f.completion_tokens.unwrap_or(0))
        .sum();

    // cost per time bucket adds up to the total
    let q = Query::default();
    let series = store.ai_series(&q, 1_000_000_000).unwrap();
    let series_cost: f64 = series.iter().map(|r| r.cost_usd).sum();
    assert!((series_cost - cost).abs() < 1e-9, "{series_cost} vs {cost}");
    assert_eq!(
        series.iter().map(|r| r.calls).sum::<i64>(),
        responses.len() as i64
    );
    let (lo, hi) = store.ai_time_range(&q).unwrap().unwrap();
    assert!(series
        .iter()
        .all(|r| r.t_ns <= hi && r.t_ns + 1_000_000_000 > lo));

    // per process: events and AI calls
    let procs = store.process_activity(&q, 10_000).unwrap();
    let mut want: BTreeMap<(i64, Option<String>), (i64, i64)> = BTreeMap::new();
    for f in facts.iter().filter(|f| f.pid.is_some()) {
        let e = want
            .entry((f.pid.unwrap(), f.process_exe.clone()))
            .or_default();
        e.0 += 1;
        e.1 += i64::from(f.event_type == "ai.request");
    }
    assert_eq!(procs.len(), want.len());
    for p in &procs {
        assert_eq!(
            want[&(p.pid, p.exe.clone())],
            (p.events, p.ai_calls),
            "pid {}",
            p.pid
        );
    }

    // inventory: every request counted once, with its key, tokens and cost from the response
    let inv = store.inventory(&q).unwrap();
    let requests = facts
        .iter()
        .filter(|f| f.event_type == "ai.request")
        .count() as i64;
    assert_eq!(inv.iter().map(|r| r.calls).sum::<i64>(), requests);
    assert!((inv.iter().map(|r| r.cost_usd).sum::<f64>() - cost).abs() < 1e-9);
    assert_eq!(inv.iter().map(|r| r.tokens).sum::<i64>(), tokens);
    let keys: BTreeSet<&str> = inv.iter().filter_map(|r| r.key_hash.as_deref()).collect();
    let want_keys: BTreeSet<&str> = events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::AiRequest(d) => d.auth.as_ref().and_then(|a| a.key_hash.as_deref()),
            _ => None,
        })
        .collect();
    assert_eq!(keys, want_keys);
    assert!(!keys.is_empty());

    // overview
    let o = store.overview().unwrap();
    assert_eq!(o.events, events.len() as i64);
    assert_eq!(o.ai_calls, requests);
    assert!((o.cost_usd - cost).abs() < 1e-9);
}

#[test]
fn trace_totals_count_a_sessions_calls() {
    let events = golden_events();
    let (_d, store) = store_with(&events);
    let mut by_trace: BTreeMap<&str, i64> = BTreeMap::new();
    for e in &events {
        if let (Some(t), "ai.request") = (
            e.trace_context.as_ref().and_then(|t| t.trace_id.as_deref()),
            e.event_type(),
        ) {
            *by_trace.entry(t).or_default() += 1;
        }
    }
    assert!(!by_trace.is_empty(), "the golden events have traces");
    let totals = store.trace_totals(&Query::default(), 10_000).unwrap();
    for t in &totals {
        assert_eq!(
            by_trace.get(t.trace_id.as_str()).copied().unwrap_or(0),
            t.ai_calls
        );
    }
}
