//! The routes behind the views other than the timeline: agent sessions and one session's trace,
//! the process tree, analytics and the inventory.

use super::{ApiError, App, Filter};
use axum::extract::{Path, Query as Params, State};
use axum::Json;
use oisp_store::{Query, StoredEvent, TraceTotals};
use serde_json::{json, Value};
use std::sync::Arc;

/// Sessions listed at most (the most recent).
const SESSIONS_MAX: usize = 200;
/// Events of one trace sent at most.
const TRACE_MAX: usize = 5000;
/// Processes listed at most (the most recently active).
const PROCESSES_MAX: usize = 5000;
/// Time buckets an analytics chart aims for.
const BUCKETS: i64 = 60;

fn to_json<T: serde::Serialize>(v: T) -> Result<Json<Value>, ApiError> {
    serde_json::to_value(v)
        .map(Json)
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// `GET /api/sessions`: the most recent agent sessions (start and end facts) with their totals.
pub async fn sessions(
    State(app): State<Arc<App>>,
    Params(f): Params<Filter>,
) -> Result<Json<Value>, ApiError> {
    let mut q = f.query()?;
    q.types = vec!["agent.session".into()];
    let (events, totals) = app
        .read(move |s| {
            let events = s.events(&q, Some(SESSIONS_MAX * 2))?;
            let mut ids: Vec<String> = Vec::new();
            for e in &events {
                if let Ok(ev) = e.event() {
                    if let Some(t) = ev.trace_context.and_then(|t| t.trace_id) {
                        if !ids.contains(&t) {
                            ids.push(t);
                        }
                    }
                }
            }
            let mut totals: Vec<TraceTotals> = Vec::new();
            for id in ids {
                let tq = Query {
                    trace_id: Some(id),
                    ..Query::default()
                };
                totals.extend(s.trace_totals(&tq, 1)?);
            }
            Ok((events, totals))
        })
        .await?;
    let mut list: Vec<Value> = Vec::new();
    for e in &events {
        let Ok(v) = serde_json::from_str::<Value>(&e.json) else {
            continue;
        };
        let d = &v["data"];
        let sid = d["session_id"].as_str().unwrap_or_default().to_string();
        let trace = v["trace_context"]["trace_id"].as_str().unwrap_or_default();
        let pos = list.iter().position(|s| s["session_id"] == sid.as_str());
        let entry = match pos {
            Some(i) => &mut list[i],
            None => {
                list.push(json!({
                    "session_id": sid,
                    "trace_id": trace,
                    "agent": d["agent"],
                    "root_pid": d["root_pid"],
                    "root_exe": d["root_exe"],
                    "cwd": d["cwd"],
                    "task": d["task_description"],
                    "totals": totals.iter().find(|t| t.trace_id == trace),
                }));
                list.last_mut().expect("pushed")
            }
        };
        match d["action"].as_str() {
            Some("start") => entry["start"] = v["ts"].clone(),
            Some("end") => {
                entry["end"] = v["ts"].clone();
                entry["end_reason"] = d["end_reason"].clone();
                if entry["task"].is_null() {
                    entry["task"] = d["task_description"].clone();
                }
            }
            _ => {}
        }
    }
    list.reverse();
    to_json(json!({ "sessions": list }))
}

/// `GET /api/trace/{trace_id}`: every event of one trace (up to 5,000), in time order.
pub async fn trace(
    State(app): State<Arc<App>>,
    Path(trace_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = trace_id.clone();
    let events = app
        .read(move |s| {
            let q = Query {
                trace_id: Some(id),
                ..Query::default()
            };
            s.events_page(&q, None, TRACE_MAX + 1)
                .map(|v| v.into_iter().map(|(_, e)| e).collect::<Vec<_>>())
        })
        .await?;
    if events.is_empty() {
        return Err(ApiError::not_found(format!("no trace {trace_id}")));
    }
    let truncated = events.len() > TRACE_MAX;
    let events: Vec<StoredEvent> = events.into_iter().take(TRACE_MAX).collect();
    let rows: Vec<crate::summary::Row> = events.iter().map(crate::summary::Row::of).collect();
    let spans: Vec<Value> = events.iter().map(span_facts).collect();
    to_json(json!({
        "trace_id": trace_id,
        "truncated": truncated,
        "rows": rows,
        "events": spans,
    }))
}

/// What the trace tree needs of one event (prompts and responses stay out: a session's events
/// can weigh megabytes; the page fetches a whole event when it is opened).
fn span_facts(e: &StoredEvent) -> Value {
    let Ok(v) = serde_json::from_str::<Value>(&e.json) else {
        return json!({ "id": e.id });
    };
    let d = &v["data"];
    let related: Vec<Value> = v["related_events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            json!({
                "event_id": r["event_id"], "relationship": r["relationship"],
                "confidence": r["confidence"], "basis": r["basis"],
            })
        })
        .collect();
    json!({
        "id": e.id,
        "event_id": v["event_id"],
        "event_type": v["event_type"],
        "ts": v["ts"],
        "trace_context": v["trace_context"],
        "related_events": related,
        "data": {
            "agent": d["agent"], "action": d["action"], "task_description": d["task_description"],
            "success": d["success"],
        },
    })
}

/// `GET /api/processes`: per process, what it did (for the process tree).
pub async fn processes(
    State(app): State<Arc<App>>,
    Params(f): Params<Filter>,
) -> Result<Json<Value>, ApiError> {
    let q = f.query()?;
    let rows = app
        .read(move |s| s.process_activity(&q, PROCESSES_MAX))
        .await?;
    to_json(json!({ "processes": rows, "limit": PROCESSES_MAX }))
}

/// A bucket width of about a sixtieth of `span_ns`, rounded up to a readable unit.
fn bucket_for(span_ns: i64) -> i64 {
    const S: i64 = 1_000_000_000;
    const STEPS: &[i64] = &[
        S,
        5 * S,
        10 * S,
        30 * S,
        60 * S,
        300 * S,
        900 * S,
        3600 * S,
        6 * 3600 * S,
        86_400 * S,
        7 * 86_400 * S,
    ];
    let want = span_ns / BUCKETS;
    STEPS
        .iter()
        .copied()
        .find(|s| *s >= want)
        .unwrap_or(30 * 86_400 * S)
}

/// `GET /api/analytics`: AI calls, tokens and cost per time bucket and per (provider, model,
/// process).
pub async fn analytics(
    State(app): State<Arc<App>>,
    Params(f): Params<Filter>,
) -> Result<Json<Value>, ApiError> {
    let q = f.query()?;
    let (bucket, rows) = app
        .read(move |s| {
            let Some((lo, hi)) = s.ai_time_range(&q)? else {
                return Ok((0, Vec::new()));
            };
            let bucket = bucket_for(hi - lo);
            Ok((bucket, s.ai_series(&q, bucket)?))
        })
        .await?;
    to_json(json!({ "bucket_ns": bucket, "rows": rows }))
}

/// `GET /api/inventory`: which applications and containers use which providers, models and
/// API keys.
pub async fn inventory(
    State(app): State<Arc<App>>,
    Params(f): Params<Filter>,
) -> Result<Json<Value>, ApiError> {
    let q = f.query()?;
    let rows = app.read(move |s| s.inventory(&q)).await?;
    to_json(json!({ "rows": rows }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_readable_units() {
        assert_eq!(bucket_for(0), 1_000_000_000);
        assert_eq!(bucket_for(60 * 60 * 1_000_000_000), 60 * 1_000_000_000);
        assert_eq!(bucket_for(24 * 3600 * 1_000_000_000), 3600 * 1_000_000_000);
    }
}
