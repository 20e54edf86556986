//! `/api/live`: new events as they are stored, as Server-Sent Events.
//!
//! The stream polls the store's largest row id; when it grows, the rows after the last one sent
//! (matching the page's filters) go out as one `rows` message, oldest first. Each message
//! carries `max_id`, so a page that reconnects (`after=`) misses nothing. A `tick` message every
//! poll without rows would be noise: keep-alive comments keep the connection open instead.

use super::{ApiError, App, Filter};
use crate::summary::Row;
use axum::extract::{Query as Params, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use oisp_store::Query;
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Most rows one message carries (a burst is sent over several polls).
const BURST_MAX: usize = 500;

#[derive(Debug, Deserialize)]
pub struct LiveParams {
    #[serde(flatten)]
    filter: Filter,
    /// Send rows after this row id (the `max_id` of the page the client shows).
    after: Option<i64>,
}

/// Counts a live client while its stream exists.
struct Client(Arc<App>);

impl Drop for Client {
    fn drop(&mut self) {
        self.0.live_clients.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `GET /api/live`.
pub async fn stream(
    State(app): State<Arc<App>>,
    Params(p): Params<LiveParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let q = p.filter.query()?;
    let start = match p.after {
        Some(a) => a,
        None => app.read(|s| s.max_id()).await?,
    };
    app.live_clients.fetch_add(1, Ordering::Relaxed);
    let client = Client(app.clone());
    let poll = app.live_poll;
    let state = (client, q, start, true);
    let stream =
        futures_util::stream::unfold(state, move |(client, q, mut after, first)| async move {
            if !first {
                tokio::time::sleep(poll).await;
            }
            let app = client.0.clone();
            loop {
                let q2 = q.clone();
                let got = app
                    .read(move |s| {
                        let max = s.max_id()?;
                        if max <= after {
                            return Ok((max, Vec::new()));
                        }
                        let rows = s.events_by_id(&Query {
                            after_id: Some(after),
                            up_to_id: Some(max.min(after + BURST_MAX as i64)),
                            ..q2
                        })?;
                        Ok((max.min(after + BURST_MAX as i64), rows))
                    })
                    .await;
                match got {
                    Ok((upto, rows)) if upto > after => {
                        after = upto;
                        if rows.is_empty() {
                            continue;
                        }
                        let rows: Vec<Row> = rows.iter().map(Row::of).collect();
                        let data = serde_json::json!({ "max_id": after, "rows": rows });
                        let ev = Event::default().event("rows").data(data.to_string());
                        return Some((Ok(ev), (client, q, after, false)));
                    }
                    Ok(_) => tokio::time::sleep(poll).await,
                    Err(e) => {
                        let ev = Event::default()
                            .event("problem")
                            .data(serde_json::json!({ "error": format!("{e:?}") }).to_string());
                        return Some((Ok(ev), (client, q, after, false)));
                    }
                }
            }
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(10))))
}
