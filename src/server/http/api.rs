//! The JSON API: read the snapshot, and the operator override.
//!
//! - `GET /api/v1/status`: the current snapshot; `ETag` is the version, `If-None-Match` → 304.
//! - `POST /api/v1/status` `{"level": "...", "message": "..."}` with `Authorization: Bearer
//!   <token>`: sets the override. `DELETE /api/v1/status` clears it. Both answer the new
//!   snapshot once it is persisted.
//! - Maintenance: `GET /api/v1/maintenance`, `POST` (Bearer) to schedule, `DELETE
//!   /api/v1/maintenance/{id}` to cancel.
//! - Incidents: `GET /api/v1/incidents`, `GET /api/v1/incidents/{id}`, `POST` (Bearer) to
//!   open one, `POST /api/v1/incidents/{id}/updates` to add to its timeline.
//! - `GET /metrics`: Prometheus text (open SSE streams, snapshot version).
//!
//! Every rejection is a 4xx with `{"error": "...", "field": "..."}` and changes nothing.

use super::auth::{bearer_token, Operator};
use super::error::ApiError;
use crate::model::{Level, MaintenanceWindow, Snapshot};
use crate::server::domain::operator::{self, IncidentInput, MaintenanceInput, Shown, UpdateInput};
use crate::server::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

/// Longest operator message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

fn json_bytes(status: StatusCode, version: u64, body: Bytes) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::ETAG, HeaderValue::from_str(&format!("\"{version}\"")).expect("digits"));
    res
}

fn snapshot_response(snapshot: &Snapshot) -> Response {
    let body = serde_json::to_vec(snapshot).expect("a snapshot always serialises");
    json_bytes(StatusCode::OK, snapshot.version, Bytes::from(body))
}

/// The status of an answered action: `ok` when this instance shows it, `202 Accepted` when it
/// is stored but no leader has published it yet (several instances).
fn shown_status(ok: StatusCode, shown: Shown) -> StatusCode {
    match shown {
        Shown::Now => ok,
        Shown::Later => StatusCode::ACCEPTED,
    }
}

/// Sets or clears the override: at any of several instances through the store, else
/// through the engine.
async fn change_override(state: &AppState, operator: Option<(Level, String)>) -> Result<Response, ApiError> {
    if let Some(cluster) = state.engine.cluster() {
        let (snapshot, shown) = crate::server::cluster::writes::set_override(cluster, operator).await?;
        let mut res = snapshot_response(&snapshot);
        *res.status_mut() = shown_status(StatusCode::OK, shown);
        return Ok(res);
    }
    Ok(snapshot_response(&state.engine.set_override(operator).await?))
}

pub async fn get_status(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let current = state.hub.current();
    let etag = format!("\"{}\"", current.version());
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        res.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("digits"));
        return res;
    }
    json_bytes(StatusCode::OK, current.version(), current.json.clone())
}

/// Refuses a body that is not declared as JSON.
fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "expected Content-Type: application/json"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideRequest {
    level: String,
    message: String,
}

/// Checks an override request; returns the level and the message as validated.
pub fn validate_override(headers: &HeaderMap, body: &[u8]) -> Result<(Level, String), ApiError> {
    require_json(headers)?;
    let req: OverrideRequest =
        serde_json::from_slice(body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))?;
    let level: Level = req
        .level
        .parse()
        .map_err(|e: crate::model::UnknownLevel| ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "level", e.to_string()))?;
    // The rules of every operator message (trimmed, a length, no control or bidirectional
    // control characters, line breaks as `\n`), with the override's own length.
    let message = operator::message("message", &req.message, MAX_MESSAGE_CHARS)
        .map_err(|e| ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, e.field, e.to_string()))?;
    Ok((level, message))
}

pub async fn set_override(_: Operator, State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let (level, message) = validate_override(&headers, &body)?;
        change_override(&state, Some((level, message))).await
    }
    .await;
    result.unwrap_or_else(|e| e.into_response())
}

pub async fn clear_override(_: Operator, State(state): State<AppState>) -> Response {
    change_override(&state, None).await.unwrap_or_else(|e| e.into_response())
}

/// `POST /api/v1/heartbeat/{component}` with `Authorization: Bearer <the check's token>`:
/// a dead-man's switch for jobs (a missing beat within the period is an outage).
pub async fn heartbeat(
    State(state): State<AppState>,
    axum::extract::Path(component): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    use crate::server::checks::runner::HeartbeatError;
    let checks = &state.checks;
    let Some(token) = bearer_token(&headers) else {
        return ApiError::new(StatusCode::UNAUTHORIZED, "missing Authorization: Bearer <token>").into_response();
    };
    let beat = match state.engine.cluster() {
        // Several instances: the leader runs the check; the beat reaches it through the store.
        Some(cluster) => match checks.runner().verify_heartbeat(&component, token) {
            Ok(()) => match cluster.store().save_heartbeat(&component, crate::server::clock::now_ms()).await {
                Ok(()) => Ok(()),
                Err(e) => return ApiError::from(e).into_response(),
            },
            Err(e) => Err(e),
        },
        None => checks.runner().heartbeat(&component, token).await,
    };
    match beat {
        Ok(()) => (StatusCode::OK, axum::Json(json!({ "component": component, "ok": true }))).into_response(),
        // One answer for both, so the API does not tell which components take heartbeats.
        Err(HeartbeatError::UnknownComponent | HeartbeatError::BadToken) => {
            ApiError::new(StatusCode::UNAUTHORIZED, "invalid token").into_response()
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// minute, hour or day (default day).
    span: Option<String>,
    /// How far back, in days (default 90; at most the span's retention).
    days: Option<u32>,
}

/// `GET /api/v1/history/{component}?span=day&days=90`: rolled-up check results, oldest
/// first. Periods without results are absent (unknown, not up).
pub async fn history(
    State(state): State<AppState>,
    axum::extract::Path(component): axum::extract::Path<String>,
    query: Result<axum::extract::Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    use crate::server::store::Span;
    let Ok(axum::extract::Query(q)) = query else {
        return ApiError::new(StatusCode::BAD_REQUEST, "query: span=minute|hour|day and days=N only").into_response();
    };
    let span = match q.span.as_deref().unwrap_or("day") {
        "minute" => Span::Minute,
        "hour" => Span::Hour,
        "day" => Span::Day,
        other => {
            return ApiError::field(StatusCode::BAD_REQUEST, "span", format!("unknown span {other:?}; use minute, hour or day"))
                .into_response()
        }
    };
    let days = q.days.unwrap_or(90);
    if days == 0 || days > 400 {
        return ApiError::field(StatusCode::BAD_REQUEST, "days", "days must be 1 to 400").into_response();
    }
    let known = state.hub.current().snapshot.components.iter().any(|c| c.id == component);
    if !known {
        return ApiError::new(StatusCode::NOT_FOUND, format!("no component {component:?}")).into_response();
    }
    let since = crate::server::clock::now_ms() - days as i64 * 86_400_000;
    match state.engine.store().history(&component, span, since).await {
        Ok(buckets) => {
            axum::Json(json!({ "component": component, "span": q.span.unwrap_or_else(|| "day".into()), "buckets": buckets }))
                .into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn window_json(w: &MaintenanceWindow, now_ms: i64) -> serde_json::Value {
    use crate::server::clock::rfc3339;
    json!({
        "id": w.id,
        "title": w.title,
        "starts_at": rfc3339(w.starts_ms),
        "ends_at": rfc3339(w.ends_ms),
        "components": w.components,
        "active": w.active_at(now_ms),
    })
}

/// A JSON body of type `T` (declared as JSON, well-formed, no unknown fields).
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    require_json(headers)?;
    serde_json::from_slice(body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

fn path_id(id: &str, what: &str) -> Result<i64, ApiError> {
    id.parse::<i64>().map_err(|_| ApiError::field(StatusCode::BAD_REQUEST, "id", format!("{id:?} is not {what} id")))
}

fn respond<T: serde::Serialize>(status: StatusCode, result: Result<T, ApiError>) -> Response {
    match result {
        Ok(v) => (status, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// An action's answer: `ok` with the stored object, or `202` with it when it does not show yet.
fn respond_shown<T: serde::Serialize>(ok: StatusCode, result: Result<(T, Shown), ApiError>) -> Response {
    match result {
        Ok((v, shown)) => (shown_status(ok, shown), axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/maintenance`: windows that are active or to come.
pub async fn list_maintenance(State(state): State<AppState>) -> Response {
    let now = crate::server::clock::now_ms();
    match state.engine.store().current_maintenance(now).await {
        Ok(ws) => {
            axum::Json(json!({ "maintenance": ws.iter().map(|w| window_json(w, now)).collect::<Vec<_>>() })).into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `POST /api/v1/maintenance` (Bearer) `{"title", "starts_at", "ends_at", "components"}`:
/// schedules a window; `201` with it once stored.
pub async fn add_maintenance(_: Operator, State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let input: MaintenanceInput = json_body(&headers, &body)?;
        let (w, shown) = operator::schedule_maintenance(&state.engine, &input).await?;
        Ok((window_json(&w, crate::server::clock::now_ms()), shown))
    }
    .await;
    respond_shown(StatusCode::CREATED, result)
}

/// `DELETE /api/v1/maintenance/{id}` (Bearer): cancels a window that is not over.
pub async fn cancel_maintenance(
    _: Operator,
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let result = async {
        let id = path_id(&id, "a window")?;
        let shown = operator::cancel_maintenance(&state.engine, id).await?;
        Ok((json!({ "cancelled": id }), shown))
    }
    .await;
    respond_shown(StatusCode::OK, result)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentsQuery {
    /// active, resolved or all (default).
    state: Option<String>,
    /// Resolved incidents: at most this many (default 50, at most 500).
    limit: Option<i64>,
}

/// `GET /api/v1/incidents?state=active|resolved|all&limit=N`: active incidents (newest
/// first), then resolved ones (most recently resolved first).
pub async fn list_incidents(
    State(state): State<AppState>,
    query: Result<axum::extract::Query<IncidentsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let result = async {
        let axum::extract::Query(q) =
            query.map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "query: state=active|resolved|all and limit=N only"))?;
        let limit = q.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::field(StatusCode::BAD_REQUEST, "limit", "limit must be 1 to 500"));
        }
        let (active, resolved) = match q.state.as_deref().unwrap_or("all") {
            "active" => (true, false),
            "resolved" => (false, true),
            "all" => (true, true),
            other => {
                return Err(ApiError::field(
                    StatusCode::BAD_REQUEST,
                    "state",
                    format!("unknown state {other:?}; use active, resolved or all"),
                ))
            }
        };
        let store = state.engine.store();
        let mut list = if active { store.active_incidents().await? } else { Vec::new() };
        if resolved {
            list.extend(store.resolved_incidents((i64::MAX, 0), limit).await?);
        }
        Ok(json!({ "incidents": list }))
    }
    .await;
    respond(StatusCode::OK, result)
}

/// `GET /api/v1/incidents/{id}`.
pub async fn get_incident(State(state): State<AppState>, axum::extract::Path(id): axum::extract::Path<String>) -> Response {
    let result = async {
        let id = path_id(&id, "an incident")?;
        match state.engine.store().incident(id).await {
            Ok(Some(i)) => Ok(i),
            Ok(None) => Err(ApiError::new(StatusCode::NOT_FOUND, format!("no incident {id}"))),
            Err(e) => Err(ApiError::from(e)),
        }
    }
    .await;
    respond(StatusCode::OK, result)
}

/// `POST /api/v1/incidents` (Bearer) `{"title", "impact", "components", "status"?, "message"}`:
/// `201` with the incident once stored and published.
pub async fn open_incident(_: Operator, State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let input: IncidentInput = json_body(&headers, &body)?;
        Ok(operator::open_incident(&state.engine, &input).await?)
    }
    .await;
    respond_shown(StatusCode::CREATED, result)
}

/// `POST /api/v1/incidents/{id}/updates` (Bearer) `{"status", "message", "impact"?}`.
pub async fn update_incident(
    _: Operator,
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let id = path_id(&id, "an incident")?;
        let input: UpdateInput = json_body(&headers, &body)?;
        Ok(operator::update_incident(&state.engine, id, &input).await?)
    }
    .await;
    respond_shown(StatusCode::OK, result)
}

/// `GET /readyz`: 200 while the database answers (and, for SQLite, is still the file opened
/// at start); else 503 with what is wrong in general terms. `/healthz` only says the process
/// serves.
pub async fn ready(State(state): State<AppState>) -> Response {
    // Answered within a second: a load balancer's probe should not wait for the pool's timeout.
    match tokio::time::timeout(std::time::Duration::from_secs(1), state.engine.store().ready()).await {
        Ok(Ok(())) => "ready".into_response(),
        Ok(Err(e)) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, crate::server::http::error::public_store_message(&e)).into_response()
        }
        Err(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the database did not answer within a second").into_response(),
    }
}

pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    if let Some(expected) = &state.settings.metrics_token {
        let given = bearer_token(&headers).unwrap_or("");
        if !crate::server::secret::same_secret(given.as_bytes(), expected.as_bytes()) {
            return ApiError::new(StatusCode::UNAUTHORIZED, "/metrics needs Authorization: Bearer <metrics token>")
                .into_response();
        }
    }
    let (reloads, reload_errors) = (state.checks.reloads.load(Relaxed), state.checks.reload_errors.load(Relaxed));
    let history = &state.checks.history.stats;
    let cluster = state.engine.cluster();
    let body = format!(
        "# HELP statuscast_config_reloads_total Configuration reloads applied.\n\
         # TYPE statuscast_config_reloads_total counter\n\
         statuscast_config_reloads_total {reloads}\n\
         # HELP statuscast_config_reload_errors_total Reloads refused: the new file was invalid.\n\
         # TYPE statuscast_config_reload_errors_total counter\n\
         statuscast_config_reload_errors_total {reload_errors}\n\
         # HELP statuscast_sse_streams Open Server-Sent Events streams.\n\
         # TYPE statuscast_sse_streams gauge\n\
         statuscast_sse_streams {}\n\
         # HELP statuscast_connections Open connections that are not streams (pages, API, files, awaiting a request).\n\
         # TYPE statuscast_connections gauge\n\
         statuscast_connections {}\n\
         # HELP statuscast_connections_evicted_total Idle connections closed to make room for a new one.\n\
         # TYPE statuscast_connections_evicted_total counter\n\
         statuscast_connections_evicted_total {}\n\
         # HELP statuscast_connections_refused_total Connections answered 503: every connection had a request in flight.\n\
         # TYPE statuscast_connections_refused_total counter\n\
         statuscast_connections_refused_total {}\n\
         # HELP statuscast_snapshot_version Version of the current status snapshot.\n\
         # TYPE statuscast_snapshot_version counter\n\
         statuscast_snapshot_version {}\n\
         # HELP statuscast_leader Whether this instance leads (runs the checks and publishes): always 1 on a single instance.\n\
         # TYPE statuscast_leader gauge\n\
         statuscast_leader {}\n\
         # HELP statuscast_leader_term The newest leadership term this instance knows of (0 on a single instance).\n\
         # TYPE statuscast_leader_term gauge\n\
         statuscast_leader_term {}\n\
         # HELP statuscast_leader_version The newest version the leader stored, as far as this instance knows (its own version on a single instance).\n\
         # TYPE statuscast_leader_version counter\n\
         statuscast_leader_version {}\n\
         # HELP statuscast_applied_change The newest write at any instance that this instance's snapshot includes (several instances).\n\
         # TYPE statuscast_applied_change counter\n\
         statuscast_applied_change {}\n\
         # HELP statuscast_history_pending Check results held in memory, not yet in the database (it was unavailable).\n\
         # TYPE statuscast_history_pending gauge\n\
         statuscast_history_pending {}\n\
         # HELP statuscast_history_written_total Check results written to the database.\n\
         # TYPE statuscast_history_written_total counter\n\
         statuscast_history_written_total {}\n\
         # HELP statuscast_history_dropped_total Check results dropped: the oldest held past the limit, or refused by the database.\n\
         # TYPE statuscast_history_dropped_total counter\n\
         statuscast_history_dropped_total {}\n\
         # HELP statuscast_page_renders_total Renders of cached pages (the status page, the history's first page): one per version and second at most.\n\
         # TYPE statuscast_page_renders_total counter\n\
         statuscast_page_renders_total {}\n",
        state.hub.open_streams(),
        state.connections.open(),
        state.connections.evicted.load(Relaxed),
        state.connections.refused.load(Relaxed),
        state.hub.current().version(),
        u8::from(state.engine.publishes()),
        cluster.map_or(0, |c| c.leader_term()),
        cluster.map_or(state.hub.current().version(), |c| c.stored_version()),
        cluster.map_or(0, |c| c.applied()),
        history.pending.load(Relaxed),
        history.written.load(Relaxed),
        history.dropped.load(Relaxed),
        state.pages.renders.load(Relaxed),
    );
    let mut body = body;
    body.push_str(&notify_metrics(&state).await);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The outbox's deliveries (every instance's, from the store) and this process's attempts.
async fn notify_metrics(state: &AppState) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let stats = &state.notifier.stats;
    let mut out = format!(
        "# HELP statuscast_notify_attempts_total Delivery attempts by this process, by result.\n\
         # TYPE statuscast_notify_attempts_total counter\n\
         statuscast_notify_attempts_total{{result=\"delivered\"}} {}\n\
         statuscast_notify_attempts_total{{result=\"error\"}} {}\n\
         # HELP statuscast_notify_given_up_total Deliveries this process gave up (refused for good, or retried for 24 h).\n\
         # TYPE statuscast_notify_given_up_total counter\n\
         statuscast_notify_given_up_total {}\n",
        stats.delivered.load(Relaxed),
        stats.errors.load(Relaxed),
        stats.given_up.load(Relaxed),
    );
    match state.engine.store().delivery_counts().await {
        Ok(c) => out.push_str(&format!(
            "# HELP statuscast_notify_deliveries Deliveries in the outbox (kept 30 days), by state: sent, failed (given up), pending (not sent yet, or to be retried).\n\
             # TYPE statuscast_notify_deliveries gauge\n\
             statuscast_notify_deliveries{{state=\"sent\"}} {}\n\
             statuscast_notify_deliveries{{state=\"failed\"}} {}\n\
             statuscast_notify_deliveries{{state=\"pending\"}} {}\n",
            c.sent, c.failed, c.pending
        )),
        Err(e) => tracing::warn!("/metrics: counting deliveries failed: {e}"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        h
    }

    fn rejected(headers: &HeaderMap, body: &str) -> (StatusCode, String, Option<&'static str>) {
        match validate_override(headers, body.as_bytes()) {
            Ok(v) => panic!("accepted {v:?}"),
            Err(e) => (e.status, e.message, e.field),
        }
    }

    #[test]
    fn a_valid_request_is_trimmed() {
        let (l, m) = validate_override(&json_headers(), br#"{"level":"partial_outage","message":"  db slow \n"}"#)
            .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!((l, m.as_str()), (Level::PartialOutage, "db slow"));
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        let h = json_headers();
        assert_eq!(rejected(&HeaderMap::new(), "{}").0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let (s, m, _) = rejected(&h, "{not json");
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(m.starts_with("invalid JSON body"), "{m}");
        let (s, m, _) = rejected(&h, r#"{"level":"operational","message":"x","extra":1}"#);
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(m.contains("unknown field"), "{m}");
        let (s, m, f) = rejected(&h, r#"{"level":"on_fire","message":"x"}"#);
        assert_eq!((s, f), (StatusCode::UNPROCESSABLE_ENTITY, Some("level")));
        assert!(m.contains("on_fire"), "{m}");
        assert_eq!(rejected(&h, r#"{"level":"operational","message":"   "}"#).2, Some("message"));
        let long = format!(r#"{{"level":"operational","message":"{}"}}"#, "é".repeat(501));
        let (_, m, f) = rejected(&h, &long);
        assert_eq!(f, Some("message"));
        assert!(m.contains("501 characters"), "{m}");
        assert!(rejected(&h, r#"{"level":"operational","message":"a\u0000b"}"#).1.contains("U+0000"));
    }

    #[test]
    fn the_override_message_follows_every_operator_message_rule() {
        // Found by the fuzz target `forms`: the override checked its message by rules of its
        // own, keeping CRLF and CR line breaks and letting bidirectional controls through.
        let (_, m) = validate_override(&json_headers(), br#"{"level":"operational","message":"a\r\nb\rc"}"#)
            .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(m, "a\nb\nc");
        let (s, m, f) = rejected(&json_headers(), r#"{"level":"operational","message":"Fixed \u202edetcapmi ton"}"#);
        assert_eq!((s, f), (StatusCode::UNPROCESSABLE_ENTITY, Some("message")));
        assert!(m.contains("U+202E"), "{m}");
    }
}
