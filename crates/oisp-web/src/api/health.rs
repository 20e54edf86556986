//! `/api/overview` (the totals the header shows) and `/api/health` (probes, coverage, counters
//! and every drop of the running `record`, each sink's state and lag, the store, this server).

use super::{ApiError, App};
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The state a running `record` published, if the file exists and its process is alive.
fn record_state(app: &App) -> Value {
    let Some(path) = &app.state_file else {
        return Value::Null;
    };
    let Ok(text) = std::fs::read_to_string(path) else {
        return Value::Null;
    };
    let Ok(state) = serde_json::from_str::<Value>(&text) else {
        return Value::Null;
    };
    let alive = state["pid"]
        .as_u64()
        .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
    if alive {
        state
    } else {
        Value::Null
    }
}

/// The drop counters of a record state, summed (what the header's "drops" shows).
fn drops(state: &Value) -> u64 {
    let c = &state["counters"];
    let sinks: u64 = state["sinks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["dropped"].as_u64().unwrap_or(0))
        .sum();
    ["lost_tls_records", "lost_system_records"]
        .iter()
        .map(|k| c[k].as_u64().unwrap_or(0))
        .sum::<u64>()
        + sinks
}

/// `GET /api/overview`.
pub async fn overview(State(app): State<Arc<App>>) -> Result<Json<Value>, ApiError> {
    let store = app.read(|s| s.overview()).await?;
    let record = record_state(&app);
    Ok(Json(json!({
        "store": store,
        "store_path": app.pool.path().display().to_string(),
        "recording": !record.is_null(),
        "drops": if record.is_null() { Value::Null } else { json!(drops(&record)) },
        "counters": record["counters"],
    })))
}

/// `GET /api/health`.
pub async fn health(State(app): State<Arc<App>>) -> Result<Json<Value>, ApiError> {
    let store = app.read(|s| s.overview()).await?;
    let record = record_state(&app);
    Ok(Json(json!({
        "record": record,
        "drops": if record.is_null() { Value::Null } else { json!(drops(&record)) },
        "store": store,
        "store_path": app.pool.path().display().to_string(),
        "state_file": app.state_file.as_ref().map(|p| p.display().to_string()),
        "web": {
            "live_clients": app.live_clients.load(Ordering::Relaxed),
            "requests": app.requests.load(Ordering::Relaxed),
        },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_add_kernel_losses_and_sink_drops() {
        let state = json!({
            "counters": {"lost_tls_records": 2, "lost_system_records": 3, "truncated_bytes": 9},
            "sinks": [{"dropped": 4}, {"dropped": 0}],
        });
        assert_eq!(drops(&state), 9);
    }
}
