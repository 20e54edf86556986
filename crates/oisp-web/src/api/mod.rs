//! The HTTP API the page calls, and the router. Every handler reads the store on a blocking
//! thread through the pool and answers JSON; errors are JSON `{ "error": … }` with a status.
//!
//! Filters (query parameters shared by the list routes, same meaning as `show`'s flags):
//! `type` (comma-separated types or prefixes), `process`, `provider`, `model`, `q` (text in
//! prompts/responses), `since`, `until` (RFC 3339, a date, or `10m`/`2h`/`7d` ago), `trace`.

mod events;
mod health;
mod live;
mod views;

use crate::pool::Pool;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use oisp_store::{Query, StoreError};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// What every handler shares.
pub struct App {
    pub pool: Pool,
    pub state_file: Option<PathBuf>,
    pub live_poll: Duration,
    /// Live streams open now.
    pub live_clients: AtomicU64,
    /// API requests answered.
    pub requests: AtomicU64,
}

impl App {
    pub fn new(pool: Pool, state_file: Option<PathBuf>, live_poll: Duration) -> App {
        App {
            pool,
            state_file,
            live_poll,
            live_clients: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        }
    }

    /// Runs `f` on a store connection on a blocking thread.
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&oisp_store::Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let app = self.clone();
        tokio::task::spawn_blocking(move || app.pool.with(f))
            .await
            .map_err(|e| ApiError::internal(format!("reader task failed: {e}")))?
            .map_err(ApiError::from)
    }
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let status = if e.is_transient() {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        ApiError {
            status,
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

/// The filter parameters of the list routes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filter {
    #[serde(rename = "type")]
    pub types: Option<String>,
    pub process: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub q: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub trace: Option<String>,
}

impl Filter {
    /// The store query these parameters describe (empty parameters select everything).
    pub fn query(&self) -> Result<Query, ApiError> {
        let some = |s: &Option<String>| {
            s.as_ref()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let spec = oisp_store::SelectionSpec {
            types: self
                .types
                .as_deref()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            process: some(&self.process),
            provider: some(&self.provider),
            model: some(&self.model),
            grep: some(&self.q),
            since: some(&self.since),
            until: some(&self.until),
        };
        let sel = oisp_store::Selection::new(&spec, oisp_store::now_ns())
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let mut q = sel.query();
        q.trace_id = some(&self.trace);
        Ok(q)
    }
}

/// All routes, behind the token check.
pub fn router(app: Arc<App>, token: Option<String>) -> Router {
    let api = Router::new()
        .route("/api/overview", get(health::overview))
        .route("/api/health", get(health::health))
        .route("/api/events", get(events::list))
        .route("/api/events/{id}", get(events::one))
        .route("/api/call/{request_id}", get(events::call))
        .route("/api/live", get(live::stream))
        .route("/api/sessions", get(views::sessions))
        .route("/api/trace/{trace_id}", get(views::trace))
        .route("/api/processes", get(views::processes))
        .route("/api/analytics", get(views::analytics))
        .route("/api/inventory", get(views::inventory))
        .with_state(app);
    Router::new()
        .route("/", get(crate::assets::index))
        .route("/assets/{name}", get(crate::assets::asset))
        .merge(api)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(token),
            crate::auth::check,
        ))
}
