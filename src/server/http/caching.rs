//! How public reads may be cached and shared: every JSON read under `/api/`, the badges and
//! the feeds may be read from any origin (no credentials are involved anywhere), are cached
//! briefly (`Cache-Control: public, max-age=5, must-revalidate` unless the route says
//! otherwise), and, where they are a function of the published snapshot, carry its version as
//! a weak `ETag` and answer `304` to a client that has it, without being built again.
//!
//! Everything these routes show changes only with a new snapshot version (an operator's
//! change, a check's change of level or detail), except check history (uptime), which
//! changes every minute: those routes get no `ETag`.

use crate::server::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Routes whose content is not a function of the snapshot version alone.
fn versioned(path: &str) -> bool {
    !(path.starts_with("/api/v1/history/") || path.contains("/uptime/") || path == "/api/openapi.json")
}

fn tag(version: u64) -> String {
    format!("W/\"v{version}\"")
}

/// Whether a request's `If-None-Match` names `etag` (or `*`).
pub fn client_has(headers: &axum::http::HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

pub async fn public_read(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let read = req.method() == Method::GET || req.method() == Method::HEAD;
    if !read {
        return next.run(req).await;
    }
    // The version is read before the document is built: a document is never older than its tag.
    let etag = versioned(req.uri().path()).then(|| tag(state.hub.current().version()));
    let mut res = match &etag {
        Some(etag) if client_has(req.headers(), etag) => StatusCode::NOT_MODIFIED.into_response(),
        _ => next.run(req).await,
    };
    let ok = res.status() == StatusCode::OK || res.status() == StatusCode::NOT_MODIFIED;
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("etag"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=5, must-revalidate"));
    }
    if let (Some(etag), true, false) = (etag, ok, h.contains_key(header::ETAG)) {
        h.insert(header::ETAG, HeaderValue::from_str(&etag).expect("ascii"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_and_uptime_are_not_tagged_with_the_version() {
        assert!(versioned("/api/v2/summary.json") && versioned("/badge/api.svg") && versioned("/history.atom"));
        assert!(!versioned("/api/v1/history/api") && !versioned("/badge/api/uptime/30d.svg"));
        assert_eq!(tag(7), "W/\"v7\"");
    }
}
