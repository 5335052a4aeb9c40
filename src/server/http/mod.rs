//! HTTP: every route and who may use it, in one place ([`router`]).
//!
//! - Public: pages (`/`, `/history`, `/admin`'s login form), `GET` JSON (ours under
//!   `/api/v1/`, Statuspage's documents under `/api/v2/`, see [`statuspage`]), `/metrics`,
//!   `/healthz`, the site's assets, and `/connect_to_sse` (served by [`crate::server::stream`]).
//! - Operators with the Bearer token: the JSON API's writes ([`auth::Operator`]).
//! - Operators with a session: the admin area's actions ([`admin`]), every one behind
//!   [`admin::guard`].
//!
//! [`error`] maps every domain error to one HTTP status; [`client`] says who the client is
//! (behind trusted proxies, from `X-Forwarded-For`).

pub mod admin;
pub mod api;
pub mod auth;
pub mod badges;
pub mod caching;
pub mod client;
pub mod embed;
pub mod error;
pub mod feeds;
pub mod headers;
pub mod openapi;
pub mod pages;
pub mod render_cache;
pub mod statuspage;
pub mod subscribe;
pub mod uptime;

use crate::server::stream::sse;
use crate::server::AppState;
use crate::ui::shell;
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use tower_http::compression::CompressionLayer;

/// A form's address reloaded or bookmarked (a GET): back to the dashboard.
async fn to_dashboard() -> axum::response::Response {
    admin::see_other("/admin")
}

/// Any other path under `/api/`: a JSON 404, never the HTML page.
async fn api_not_found(uri: axum::http::Uri) -> error::ApiError {
    error::ApiError::new(axum::http::StatusCode::NOT_FOUND, format!("no such endpoint: {}", uri.path()))
}

/// The largest JSON body the operator API takes (an incident's 5,000-character message fits
/// many times over).
pub const MAX_JSON_BYTES: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    // Leptos renders on tokio (leptos_routes would do this; the routes here are plain axum).
    let _ = any_spawner::Executor::init_tokio();
    // Pages the fallback renders (404) show the current status like every other page.
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            provide_context(pages::page_context(&state, crate::ui::PageData::None));
            headers::page_policy();
        }
    };
    let public = Router::new()
        .route("/api/v1/status", get(api::get_status))
        .route("/api/v1/history/{component}", get(api::history))
        .route("/api/v1/maintenance", get(api::list_maintenance))
        .route("/api/v1/incidents", get(api::list_incidents))
        .route("/api/v1/incidents/{id}", get(api::get_incident))
        .route("/api/v2/summary.json", get(statuspage::summary))
        .route("/api/v2/status.json", get(statuspage::status_json))
        .route("/api/v2/components.json", get(statuspage::components_json))
        .route("/api/v2/incidents.json", get(statuspage::incidents))
        .route("/api/v2/incidents/unresolved.json", get(statuspage::unresolved))
        .route("/api/v2/scheduled-maintenances.json", get(statuspage::maintenances))
        .route("/api/v2/scheduled-maintenances/upcoming.json", get(statuspage::upcoming))
        .route("/api/v2/scheduled-maintenances/active.json", get(statuspage::active))
        .route("/api/openapi.json", get(openapi::serve))
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .route("/badge.svg", get(badges::overall))
        .route("/badge/{file}", get(badges::component))
        .route("/badge/{component}/uptime/{window}", get(badges::uptime))
        .route("/history.atom", get(feeds::atom))
        .route("/history.rss", get(feeds::rss))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), caching::public_read))
        .route("/embed", get(embed::page))
        .route("/metrics", get(api::metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(api::ready))
        .route("/", get(pages::page))
        .route("/history", get(pages::page))
        .route("/subscribe", post(subscribe::form))
        .route("/subscribe/confirm", get(subscribe::confirm))
        .route("/unsubscribe", get(subscribe::unsubscribe).post(subscribe::one_click))
        .route("/api/v1/subscriptions", post(subscribe::api));
    // Heartbeats carry their check's own token (checked by the check), not the operator's.
    let checks = Router::new().route("/api/v1/heartbeat/{component}", post(api::heartbeat));
    // The operator API: every handler takes an `auth::Operator`, so none runs without the
    // Bearer token.
    // The token is checked from the head (the `Operator` extractor runs before the body is
    // read), and a body is at most `MAX_JSON_BYTES`.
    let operator_api = Router::new()
        .route("/api/v1/status", post(api::set_override).delete(api::clear_override))
        .route("/api/v1/maintenance", post(api::add_maintenance))
        .route("/api/v1/maintenance/{id}", axum::routing::delete(api::cancel_maintenance))
        .route("/api/v1/incidents", post(api::open_incident))
        .route("/api/v1/incidents/{id}/updates", post(api::update_incident))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_JSON_BYTES));
    // The admin area: its page, and its actions (server functions, posted with or without
    // JavaScript), every one behind the one guard (enabled, same site, session, CSRF token).
    let admin_actions = Router::new()
        .route(admin::LOGIN_PATH, post(admin::action).get(to_dashboard))
        .route("/admin/logout", post(admin::action).get(to_dashboard))
        .route("/admin/incidents", post(admin::action).get(to_dashboard))
        .route("/admin/updates", post(admin::action).get(to_dashboard))
        .route("/admin/maintenance", post(admin::action).get(to_dashboard))
        .route("/admin/maintenance/cancel", post(admin::action).get(to_dashboard))
        .route("/admin/subscribers/remove", post(admin::action).get(to_dashboard))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), admin::guard));
    let admin_area = Router::new().route("/admin", get(pages::page)).merge(admin_actions);
    // Compressed: everything but the stream. tower-http's default predicate never compresses
    // text/event-stream either; the stream route is merged after the layer so that no
    // compression layer wraps it at all.
    let compressed = public
        .merge(checks)
        .merge(operator_api)
        .merge(admin_area)
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn(headers::overlong_paths))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(state.settings.body_timeout));
    // A stream asked for on a connection hyper already serves; a connection whose first
    // request is a stream never reaches the router (see `stream::conn`).
    let stream = Router::new().route("/connect_to_sse", get(sse::connect_to_sse));
    compressed.merge(stream).with_state(state)
}
