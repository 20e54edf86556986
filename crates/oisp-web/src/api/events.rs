//! `/api/events` (timeline pages, newest first), `/api/events/{id}` (one whole event) and
//! `/api/call/{request_id}` (the request and response of one AI call).

use super::{ApiError, App, Filter};
use crate::summary::Row;
use axum::extract::{Path, Query as Params, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use oisp_store::{PageKey, Query};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::sync::Arc;

/// Rows per page unless asked otherwise, and the most a page may hold.
const PAGE_DEFAULT: usize = 200;
const PAGE_MAX: usize = 1000;
/// Matching events are counted up to this many (the page says "at least" beyond).
const COUNT_CAP: usize = 100_000;

#[derive(Debug, Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    filter: Filter,
    /// The `next` of the previous page.
    before: Option<String>,
    limit: Option<usize>,
    /// Also count the matching events (up to 100,000).
    count: Option<u8>,
}

#[derive(Debug, Serialize)]
struct Count {
    n: i64,
    capped: bool,
}

#[derive(Debug, Serialize)]
struct Page {
    rows: Vec<Row>,
    /// Where the next (older) page starts; absent on the last page.
    next: Option<String>,
    total: Option<Count>,
    /// The largest row id when the page was read: the live stream continues after it.
    max_id: i64,
}

fn key_text(k: PageKey) -> String {
    match k.ts_ns {
        Some(t) => format!("{t}:{}", k.id),
        None => format!(":{}", k.id),
    }
}

fn parse_key(s: &str) -> Result<PageKey, ApiError> {
    let bad = || ApiError::bad_request(format!("before: `{s}` is not a page position"));
    let (t, id) = s.split_once(':').ok_or_else(bad)?;
    Ok(PageKey {
        ts_ns: if t.is_empty() {
            None
        } else {
            Some(t.parse().map_err(|_| bad())?)
        },
        id: id.parse().map_err(|_| bad())?,
    })
}

/// `GET /api/events`: one page of matching events, newest first.
pub async fn list(
    State(app): State<Arc<App>>,
    Params(p): Params<ListParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let q = p.filter.query()?;
    let before = p.before.as_deref().map(parse_key).transpose()?;
    let limit = p.limit.unwrap_or(PAGE_DEFAULT).clamp(1, PAGE_MAX);
    let count = p.count == Some(1);
    let page = app
        .read(move |s| {
            let max_id = s.max_id()?;
            let bounded = Query {
                up_to_id: Some(max_id),
                ..q.clone()
            };
            let got = s.recent_page(&bounded, before, limit)?;
            let total = if count {
                let (n, capped) = s.count_capped(&bounded, COUNT_CAP)?;
                Some(Count { n, capped })
            } else {
                None
            };
            Ok(Page {
                next: (got.len() == limit)
                    .then(|| got.last().map(|(k, _)| key_text(*k)))
                    .flatten(),
                rows: got.iter().map(|(_, e)| Row::of(e)).collect(),
                total,
                max_id,
            })
        })
        .await?;
    Ok(Json(
        serde_json::to_value(page).map_err(|e| ApiError::internal(e.to_string()))?,
    ))
}

/// `GET /api/events/{id}`: the whole event as stored.
pub async fn one(State(app): State<Arc<App>>, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let ev = app.read(move |s| s.event_by_row(id)).await?;
    match ev {
        Some(e) => Ok(([(header::CONTENT_TYPE, "application/json")], e.json).into_response()),
        None => Err(ApiError::not_found(format!(
            "no event {id} (retention may have removed it)"
        ))),
    }
}

#[derive(Serialize)]
struct Call {
    request_id: String,
    request: Option<Box<RawValue>>,
    response: Option<Box<RawValue>>,
}

/// `GET /api/call/{request_id}`: the request and response events of one AI call (either may be
/// missing: still streaming, or lost).
pub async fn call(
    State(app): State<Arc<App>>,
    Path(request_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = request_id.clone();
    let events = app
        .read(move |s| {
            let q = Query {
                types: vec!["ai.request".into(), "ai.response".into()],
                ..Query::default()
            };
            s.events_with_request_ids(&q, &[id])
        })
        .await?;
    if events.is_empty() {
        return Err(ApiError::not_found(format!("no AI call {request_id}")));
    }
    #[derive(Deserialize)]
    struct Kind {
        event_type: String,
    }
    let raw = |want: &str| {
        events
            .iter()
            .find(|e| serde_json::from_str::<Kind>(&e.json).is_ok_and(|k| k.event_type == want))
            .and_then(|e| RawValue::from_string(e.json.clone()).ok())
    };
    let call = Call {
        request: raw("ai.request"),
        response: raw("ai.response"),
        request_id,
    };
    Ok(Json(
        serde_json::to_value(call).map_err(|e| ApiError::internal(e.to_string()))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_positions_round_trip() {
        for k in [
            PageKey {
                ts_ns: Some(17),
                id: 4,
            },
            PageKey { ts_ns: None, id: 9 },
        ] {
            assert_eq!(parse_key(&key_text(k)).unwrap(), k);
        }
        assert!(parse_key("x").is_err());
        assert!(parse_key("1:x").is_err());
    }
}
