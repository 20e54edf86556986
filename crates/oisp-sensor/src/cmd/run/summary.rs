//! What `run` prints when its command ends: the AI calls it made (by model: calls, tokens,
//! cost) and the tool calls the models asked for. The events come from a sink beside the
//! configured ones, after the global filter and redaction.

use crate::cli::Format;
use crate::report::{Cell, Table};
use oisp_sinks::{DeliveryError, Item, Sink};
use oisp_store::Facts;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// The facts of every event the pipeline wrote, shared with the summary.
#[derive(Clone, Default)]
pub struct Collected(Arc<Mutex<Vec<Facts>>>);

impl Collected {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Facts>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A sink that adds to this collection.
    pub fn sink(&self) -> Box<dyn Sink> {
        Box::new(CollectSink(self.clone()))
    }

    /// The summary text (several lines, each ending in a newline).
    pub fn render(&self) -> String {
        render(&self.lock())
    }
}

struct CollectSink(Collected);

impl Sink for CollectSink {
    fn kind(&self) -> &'static str {
        "summary"
    }
    fn target(&self) -> String {
        "memory".into()
    }
    fn deliver(&mut self, batch: &[Item]) -> Result<(), DeliveryError> {
        let mut v = self.0.lock();
        v.extend(
            batch
                .iter()
                .filter(|i| {
                    i.event.event_type().starts_with("ai.")
                        || i.event.event_type().starts_with("agent.")
                })
                .map(|i| Facts::of(&i.event)),
        );
        Ok(())
    }
}

#[derive(Default)]
struct PerModel {
    calls: u64,
    failed: u64,
    prompt: u64,
    completion: u64,
    cost: f64,
}

fn render(events: &[Facts]) -> String {
    let responses: HashMap<&str, &Facts> = events
        .iter()
        .filter(|f| f.event_type == "ai.response")
        .filter_map(|f| f.request_id.as_deref().map(|id| (id, f)))
        .collect();
    let mut by: BTreeMap<String, PerModel> = BTreeMap::new();
    for req in events.iter().filter(|f| f.event_type == "ai.request") {
        let resp = req.request_id.as_deref().and_then(|id| responses.get(id));
        let model = resp
            .and_then(|r| r.model.clone())
            .or_else(|| req.model.clone())
            .unwrap_or_else(|| "(unknown)".into());
        let key = format!("{}/{model}", req.provider_label().unwrap_or("other"));
        let m = by.entry(key).or_default();
        m.calls += 1;
        m.failed += u64::from(resp.is_none_or(|r| r.success == Some(false)));
        let n = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
        m.prompt += resp.map(|r| n(r.prompt_tokens)).unwrap_or(0);
        m.completion += resp.map(|r| n(r.completion_tokens)).unwrap_or(0);
        m.cost += resp.and_then(|r| r.cost_usd).unwrap_or(0.0);
    }
    let mut tools: BTreeMap<String, u64> = BTreeMap::new();
    for f in events.iter().filter(|f| f.event_type == "agent.tool_call") {
        *tools
            .entry(f.tool_name.clone().unwrap_or_else(|| "(unnamed)".into()))
            .or_default() += 1;
    }
    if by.is_empty() {
        return "no AI calls captured (is the client honouring HTTPS_PROXY? see docs/proxy.md)\n"
            .into();
    }
    let total = |f: fn(&PerModel) -> u64| by.values().map(f).sum::<u64>();
    let table = Table {
        title: "AI calls".into(),
        columns: vec![
            "model",
            "calls",
            "failed",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
        ],
        rows: by
            .iter()
            .map(|(k, m)| {
                vec![
                    Cell::Text(k.clone()),
                    Cell::Int(m.calls),
                    Cell::Int(m.failed),
                    Cell::Int(m.prompt),
                    Cell::Int(m.completion),
                    Cell::Usd(m.cost),
                ]
            })
            .collect(),
        totals: Some(vec![
            Cell::Text("total".into()),
            Cell::Int(total(|m| m.calls)),
            Cell::Int(total(|m| m.failed)),
            Cell::Int(total(|m| m.prompt)),
            Cell::Int(total(|m| m.completion)),
            Cell::Usd(by.values().map(|m| m.cost).sum()),
        ]),
    };
    let mut out = table.render(Format::Text);
    if !tools.is_empty() {
        let list: Vec<String> = tools.iter().map(|(n, c)| format!("{n} ×{c}")).collect();
        out.push_str(&format!("tool calls: {}\n", list.join(", ")));
    }
    out
}
