//! Store queries against a reference evaluation of the same filters over the events in memory.

mod common;

use common::{golden_events, items, synth};
use oisp_event::Event;
use oisp_store::{text_contains, Facts, Query, Store};

/// The documented filter semantics, written directly over events.
fn reference(ev: &Event, q: &Query) -> bool {
    let f = Facts::of(ev);
    let t = ev.event_type();
    let types_ok = q.types.is_empty()
        || q.types.iter().any(|p| {
            let p = p.to_ascii_lowercase();
            t == p || t.starts_with(&format!("{p}."))
        });
    let ci = |s: &Option<String>, n: &str| {
        s.as_deref()
            .is_some_and(|s| s.to_ascii_lowercase().contains(&n.to_ascii_lowercase()))
    };
    let process_ok = q
        .process
        .as_deref()
        .is_none_or(|p| ci(&f.process_name, p) || ci(&f.process_exe, p));
    let provider_ok = q.provider.as_deref().is_none_or(|p| {
        let p = p.to_ascii_lowercase();
        f.provider.as_deref() == Some(&p) || f.provider_name.as_deref() == Some(&p)
    });
    let model_ok = q.model.as_deref().is_none_or(|m| ci(&f.model, m));
    let ns = ev.wall_ns().unwrap();
    let time_ok = q.since_ns.is_none_or(|s| ns >= s) && q.until_ns.is_none_or(|u| ns < u);
    let grep_ok = q.grep.as_deref().is_none_or(|g| text_contains(ev, g));
    types_ok && process_ok && provider_ok && model_ok && time_ok && grep_ok
}

fn ids(rows: &[oisp_store::StoredEvent]) -> Vec<String> {
    rows.iter().map(|r| r.event().unwrap().event_id).collect()
}

#[test]
fn every_filter_matches_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("q.db")).unwrap();
    let mut events = golden_events();
    store.insert_batch(&items(&events)).unwrap();
    // time order, insertion order within one timestamp
    events.sort_by_key(|e| e.wall_ns().unwrap());
    let mid = events[events.len() / 2].wall_ns().unwrap();
    let q = |f: &dyn Fn(&mut Query)| {
        let mut q = Query::default();
        f(&mut q);
        q
    };
    let queries = vec![
        Query::default(),
        q(&|q| q.types = vec!["ai".into()]),
        q(&|q| q.types = vec!["AI.Request".into(), "agent".into()]),
        q(&|q| q.types = vec!["process.exec".into()]),
        q(&|q| q.types = vec!["a".into()]), // not a dotted prefix: nothing
        q(&|q| q.process = Some("PYTHON".into())),
        q(&|q| q.process = Some("curl".into())),
        q(&|q| q.process = Some("/usr/bin".into())),
        q(&|q| q.provider = Some("anthropic".into())),
        q(&|q| q.provider = Some("other".into())),
        q(&|q| q.provider = Some("OpenAI".into())),
        q(&|q| q.model = Some("gpt-4o".into())),
        q(&|q| q.model = Some("CLAUDE".into())),
        q(&|q| q.since_ns = Some(mid)),
        q(&|q| q.until_ns = Some(mid)),
        q(&|q| {
            q.since_ns = Some(mid);
            q.types = vec!["ai.response".into()];
            q.provider = Some("openai".into());
        }),
        q(&|q| q.grep = Some("mock reply".into())),
        q(&|q| q.grep = Some("PARIS".into())),
        q(&|q| q.grep = Some("get_weather".into())),
        q(&|q| q.grep = Some("Say hello".into())),
        // FTS syntax in user text is searched literally, never parsed
        q(&|q| q.grep = Some("\"hello\" OR NEAR(a b) * ^x:".into())),
        q(&|q| q.grep = Some("to: \"Say".into())),
        // shorter than a trigram: answered by scanning
        q(&|q| q.grep = Some("pa".into())),
        q(&|q| q.grep = Some("é".into())),
        q(&|q| {
            q.grep = Some("weather".into());
            q.types = vec!["agent".into()];
        }),
    ];
    let mut nonempty = 0;
    for query in &queries {
        let want: Vec<String> = events
            .iter()
            .filter(|e| reference(e, query))
            .map(|e| e.event_id.clone())
            .collect();
        let got = ids(&store.events(query, None).unwrap());
        assert_eq!(got, want, "{query:?}");
        nonempty += usize::from(!want.is_empty());
        // most recent N, still in time order
        let last = ids(&store.events(query, Some(5)).unwrap());
        assert_eq!(
            last,
            want[want.len().saturating_sub(5)..],
            "{query:?} last 5"
        );
        // facts of the same selection, same order
        let facts = store.facts(query).unwrap();
        let want_facts: Vec<Facts> = events
            .iter()
            .filter(|e| reference(e, query))
            .map(Facts::of)
            .collect();
        assert_eq!(facts, want_facts, "{query:?} facts");
    }
    assert!(nonempty >= 18, "too many empty selections: {nonempty}");
}

#[test]
fn grep_is_case_insensitive_substring_of_prompt_and_response_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("g.db")).unwrap();
    store.insert_batch(&items(&golden_events())).unwrap();
    let grep = |g: &str| {
        store
            .events(
                &Query {
                    grep: Some(g.into()),
                    ..Query::default()
                },
                None,
            )
            .unwrap()
            .len()
    };
    // response text, any case, and a substring inside a word
    assert!(grep("THIS IS A MOCK REPLY") > 0);
    assert!(grep("ock rep") > 0);
    // fields outside prompt/response text are not searched
    assert_eq!(grep("python3.11"), 0);
    assert_eq!(grep("chatcmpl"), 0);
    assert_eq!(grep("no such text anywhere"), 0);
}

#[test]
fn follow_reads_rows_after_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("f.db")).unwrap();
    let events = synth(1000, 1_700_000_000_000_000_000, 1_000_000);
    store.insert_batch(&items(&events[..600])).unwrap();
    let snap = store.max_id().unwrap();
    store.insert_batch(&items(&events[600..])).unwrap();
    let q = Query {
        after_id: Some(snap),
        ..Query::default()
    };
    let later = store.events_by_id(&q).unwrap();
    assert_eq!(later.len(), 400);
    assert!(later.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(later[0].event().unwrap().event_id, events[600].event_id);
    let upto = Query {
        up_to_id: Some(snap),
        ..Query::default()
    };
    assert_eq!(store.events(&upto, None).unwrap().len(), 600);
    // the other half of a call, found by request id
    let ids: Vec<String> = events[600..]
        .iter()
        .filter_map(|e| Facts::of(e).request_id)
        .take(3)
        .collect();
    let pair = store
        .events_with_request_ids(&Query::default(), &ids)
        .unwrap();
    assert!(pair.len() >= 3, "{}", pair.len());
}

#[test]
fn pages_cover_the_selection_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("p.db")).unwrap();
    // several events per timestamp, so pages split inside equal timestamps
    let mut events = synth(1000, 1_700_000_000_000_000_000, 0);
    for (i, e) in events.iter_mut().enumerate() {
        e.ts = oisp_event::format_ts(1_700_000_000_000_000_000 + (i as u64 / 7) * 1000);
    }
    store.insert_batch(&items(&events)).unwrap();
    for q in [
        Query::default(),
        Query {
            types: vec!["ai".into()],
            ..Query::default()
        },
    ] {
        let whole = store.events(&q, None).unwrap();
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = store.events_page(&q, after, 64).unwrap();
            if page.is_empty() {
                break;
            }
            after = Some(page.last().unwrap().0);
            paged.extend(page.into_iter().map(|(_, e)| e));
        }
        assert_eq!(paged, whole);
    }
}
