//! Everything that runs only on the server (`ssr` feature).

pub mod admin;
pub mod api;
pub mod checks;
pub mod cli;
pub mod config;
pub mod conn;
pub mod engine;
pub mod host;
pub mod hub;
pub mod listener;
pub mod maintenance;
pub mod operator;
pub mod pages;
pub mod persist;
pub mod sse;
pub mod store;
pub mod time;
pub mod uptime;

use crate::app::shell;
use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use config::{ServeArgs, Settings};
use engine::Engine;
use hub::Hub;
use leptos::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;

/// Shared by every handler and, through Leptos context, by server-side rendering.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub settings: Arc<Settings>,
    pub hub: Hub,
    pub engine: Arc<Engine>,
    /// The running checks (from statuscast.toml, or the embedded default).
    pub checks: Arc<checks::reload::Checks>,
    /// The status page's uptime bars and response-time charts, rendered once a minute.
    pub history: Arc<uptime::HistoryCache>,
    /// Failed admin logins per client address.
    pub login_throttle: Arc<admin::session::LoginThrottle>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The status a page is rendered with (server side): the hub's latest snapshot and the
/// server's clock.
pub fn current_view() -> Option<crate::status::StatusView> {
    let state = use_context::<AppState>()?;
    Some(crate::status::StatusView {
        snapshot: (*state.hub.current().snapshot).clone(),
        server_now_ms: engine::now_ms(),
    })
}

/// Reads the runtime site settings: the Leptos.toml file if present, else environment
/// variables and defaults. `LEPTOS_*` variables override the file either way.
fn leptos_options(args: &ServeArgs) -> Result<LeptosOptions, String> {
    let path = &args.leptos_config;
    let conf = if path.exists() {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        leptos::config::get_config_from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        get_configuration(None).map_err(|e| format!("site settings from the environment: {e}"))?.leptos_options
    };
    let mut options = conf;
    if let Some(addr) = args.addr {
        options.site_addr = addr;
    }
    Ok(options)
}

/// Starts and ends maintenance windows on time (to the second).
fn spawn_maintenance_clock(engine: Arc<Engine>) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_millis(250));
        loop {
            ticker.tick().await;
            if let Err(e) = engine.tick_maintenance().await {
                tracing::error!("maintenance: {e}");
            }
        }
    });
}

/// Deletes history past its retention, at start and then hourly.
fn spawn_history_pruning(store: Arc<dyn store::Store>) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(3600));
        loop {
            ticker.tick().await;
            if let Err(e) = store.prune_sessions(engine::now_ms()).await {
                tracing::error!("pruning expired admin sessions failed: {e}");
            }
            match store.prune(engine::now_ms()).await {
                Ok(n) if n > 0 => tracing::info!("history: pruned {n} rows past retention"),
                Ok(_) => {}
                Err(e) => tracing::error!("history pruning failed: {e}"),
            }
        }
    });
}

/// Publishes gathered detail changes every `every`.
fn spawn_detail_flush(engine: Arc<Engine>, every: Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            if let Err(e) = engine.flush_details().await {
                tracing::error!("publishing details failed: {e}");
            }
        }
    });
}

/// A form's address reloaded or bookmarked (a GET): back to the dashboard.
async fn to_dashboard() -> axum::response::Response {
    admin::see_other("/admin")
}

pub fn router(state: AppState) -> Router {
    // Leptos renders on tokio (leptos_routes would do this; the routes here are plain axum).
    let _ = any_spawner::Executor::init_tokio();
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    // Compression for pages and assets; tower-http's default predicate never compresses
    // text/event-stream, and the SSE route is added after the layer so it is not wrapped.
    let app = Router::new()
        .route(
            "/api/v1/status",
            get(api::get_status).post(api::set_override).delete(api::clear_override),
        )
        .route("/api/v1/heartbeat/{component}", post(api::heartbeat))
        .route("/api/v1/history/{component}", get(api::history))
        .route("/api/v1/maintenance", get(api::list_maintenance).post(api::add_maintenance))
        .route("/api/v1/maintenance/{id}", axum::routing::delete(api::cancel_maintenance))
        .route("/api/v1/incidents", get(api::list_incidents).post(api::open_incident))
        .route("/api/v1/incidents/{id}", get(api::get_incident))
        .route("/api/v1/incidents/{id}/updates", post(api::update_incident))
        .route("/metrics", get(api::metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/", get(pages::page))
        .route("/history", get(pages::page))
        .route("/admin", get(pages::page))
        .route("/admin/login", post(admin::login).get(to_dashboard))
        .route("/admin/logout", post(admin::logout).get(to_dashboard))
        .route("/admin/incidents", post(admin::open_incident).get(to_dashboard))
        .route("/admin/incidents/{id}/updates", post(admin::update_incident).get(to_dashboard))
        .route("/admin/maintenance", post(admin::schedule_maintenance).get(to_dashboard))
        .route("/admin/maintenance/{id}/cancel", post(admin::cancel_maintenance).get(to_dashboard))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(CompressionLayer::new())
        .route("/connect_to_sse", get(sse::connect_to_sse));
    app.with_state(state)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// `statuscast check-config`.
pub fn check_config(path: &std::path::Path) -> Result<(), String> {
    let config = checks::config::load(path).map_err(|e| e.to_string())?;
    println!(
        "{}: ok: {} components, {} checks",
        path.display(),
        config.components.len(),
        config.check_count()
    );
    Ok(())
}

/// `statuscast serve`.
pub async fn serve(args: ServeArgs) -> Result<(), String> {
    let settings = Arc::new(args.settings()?);
    let leptos_options = leptos_options(&args)?;
    // A configuration file that exists must be valid; none means the embedded default (the
    // host). A file created later is picked up like any change.
    let config = if args.config.exists() {
        checks::config::load(&args.config).map_err(|e| e.to_string())?
    } else {
        checks::config::embedded_default(settings.host_interval, &settings.thresholds)
    };
    let store: Arc<dyn store::Store> = Arc::new(store::SqliteStore::open(&settings.data_dir).await?);
    let persisted = store.load_state().await?;
    let hub = Hub::new(crate::status::Snapshot::unknown());
    let engine = Arc::new(Engine::new(store, persisted, hub.clone()));
    // The first page served already shows real results (each check's first run, within 2 s).
    let checks = checks::reload::Checks::start(args.config.clone(), config, engine.clone(), settings.data_dir.clone()).await;
    engine.flush_details().await?;
    engine.set_maintenance(engine.store().current_maintenance(engine::now_ms()).await?).await?;
    engine.set_incidents(engine.store().active_incidents().await?).await?;
    spawn_maintenance_clock(engine.clone());
    spawn_detail_flush(engine.clone(), settings.detail_refresh);
    spawn_history_pruning(engine.store().clone());
    hub.spawn_heartbeat(settings.heartbeat);

    let addr = leptos_options.site_addr;
    // Rendered in the background (a large history takes a few hundred ms), not before listening.
    let history = Arc::new(uptime::HistoryCache::default());
    history.clone().spawn(engine.clone());
    let login_throttle = Arc::new(admin::session::LoginThrottle::default());
    let state = AppState { leptos_options, settings: settings.clone(), hub: hub.clone(), engine, checks, history, login_throttle };
    let state_for_conns = state.clone();
    let app = router(state);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let listener = listener::GuardedListener::new(listener, settings.stall_timeout, settings.send_buffer);
    println!("listening on http://{local}");
    tracing::info!(
        "statuscast {} serving http://{local} (data: {}, operator API {})",
        env!("CARGO_PKG_VERSION"),
        settings.data_dir.display(),
        if settings.admin_token.is_some() { "on" } else { "off" }
    );

    let stop = {
        let hub = hub.clone();
        async move {
            shutdown_signal().await;
            tracing::info!("shutting down: ending {} open streams", hub.open_streams());
            hub.shutdown();
        }
    };
    conn::serve(listener, app, state_for_conns, stop).await;
    tracing::info!("stopped");
    Ok(())
}
