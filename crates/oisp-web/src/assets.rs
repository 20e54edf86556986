//! The browser app, embedded: `ui/` as it is in the source tree (plain ES modules and CSS, no
//! build step).

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// (file name under `ui/`, content type, content).
const FILES: &[(&str, &str, &str)] = &[
    ("index.html", HTML, include_str!("../ui/index.html")),
    ("style.css", CSS, include_str!("../ui/style.css")),
    ("app.js", JS, include_str!("../ui/app.js")),
    ("util.js", JS, include_str!("../ui/util.js")),
    ("chart.js", JS, include_str!("../ui/chart.js")),
    ("timeline.js", JS, include_str!("../ui/timeline.js")),
    ("call.js", JS, include_str!("../ui/call.js")),
    ("trace.js", JS, include_str!("../ui/trace.js")),
    ("processes.js", JS, include_str!("../ui/processes.js")),
    ("analytics.js", JS, include_str!("../ui/analytics.js")),
    ("inventory.js", JS, include_str!("../ui/inventory.js")),
    ("health.js", JS, include_str!("../ui/health.js")),
];

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

fn file(name: &str) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, mime, body)) => (
            [
                (header::CONTENT_TYPE, *mime),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}

/// `GET /`: the app's page.
pub async fn index() -> Response {
    file("index.html")
}

/// `GET /assets/{name}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    file(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every module the page imports is served.
    #[test]
    fn every_imported_module_is_embedded() {
        for (name, _, body) in FILES {
            for line in body.lines() {
                let Some(rest) = line.split(" from './").nth(1) else {
                    continue;
                };
                let Some(dep) = rest.split('\'').next() else {
                    continue;
                };
                assert!(
                    FILES.iter().any(|(n, _, _)| *n == dep),
                    "{name} imports {dep}, which is not embedded"
                );
            }
        }
    }
}
