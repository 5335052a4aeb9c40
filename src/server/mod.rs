//! Everything that runs only on the server (`ssr` feature).

pub mod checks;
pub mod clock;
pub mod cluster;
pub mod domain;
pub mod http;
pub mod notify;
pub mod secret;
pub mod settings;
pub mod store;
pub mod stream;

use axum::extract::FromRef;
use domain::engine::Engine;
use leptos::prelude::*;
use settings::{ServeArgs, Settings};
use std::sync::Arc;
use std::time::Duration;
use stream::hub::Hub;

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
    pub history: Arc<http::uptime::HistoryCache>,
    /// The connections that are not streams (see `stream::admission`).
    pub connections: Arc<stream::admission::Admission>,
    /// Public pages rendered once per version and second (see `http::render_cache`).
    pub pages: Arc<http::render_cache::RenderCache>,
    /// Alerts and subscriptions (see `notify`).
    pub notifier: Arc<notify::Notifier>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Reads the runtime site settings: the Leptos.toml file if present, else environment
/// variables and defaults. `LEPTOS_*` variables override the file either way.
fn leptos_options(args: &ServeArgs) -> Result<LeptosOptions, ServeError> {
    let path = &args.leptos_config;
    let site = |message: String| ServeError::Site { origin: path.display().to_string(), message };
    let conf = if path.exists() {
        let text = std::fs::read_to_string(path).map_err(|e| site(e.to_string()))?;
        leptos::config::get_config_from_str(&text).map_err(|e| site(e.to_string()))?
    } else {
        get_configuration(None)
            .map_err(|e| ServeError::Site { origin: "the environment".into(), message: e.to_string() })?
            .leptos_options
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
            if let Err(e) = store.prune_sessions(clock::now_ms()).await {
                tracing::error!("pruning expired admin sessions failed: {e}");
            }
            if let Err(e) = http::admin::session::prune_login_failures(store.as_ref(), clock::now_ms()).await {
                tracing::error!("pruning failed logins failed: {e}");
            }
            notify::Notifier::prune(store.as_ref(), clock::now_ms()).await;
            match store.prune(clock::now_ms()).await {
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

/// Why `statuscast serve` (or `check-config`) could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error("site settings from {origin}: {message}")]
    Site { origin: String, message: String },
    #[error(transparent)]
    Config(#[from] checks::config::ConfigError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Engine(#[from] domain::engine::EngineError),
    #[error("--tls-cert / --tls-key: {0}")]
    Tls(#[from] stream::tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
}

/// `statuscast check-config`.
pub fn check_config(path: &std::path::Path) -> Result<(), ServeError> {
    let config = checks::config::load(path)?;
    println!("{}: ok: {} components, {} checks", path.display(), config.components.len(), config.check_count());
    Ok(())
}

/// `statuscast serve`.
pub async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let settings = Arc::new(args.settings()?);
    let leptos_options = leptos_options(&args)?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(stream::tls::Tls::load(cert, key)?),
        _ => None,
    };
    // A configuration file that exists must be valid; none means the embedded default (the
    // host). A file created later is picked up like any change.
    let config = if args.config.exists() {
        checks::config::load(&args.config)?
    } else {
        checks::config::embedded_default(settings.host_interval, &settings.thresholds)
    };
    // PostgreSQL: one of any number of instances on the database (see `cluster`).
    let (store, shared): (Arc<dyn store::Store>, _) = match &settings.database {
        store::url::DatabaseUrl::Postgres(url) => {
            let pg = store::PgStore::open(url, &settings.database.shown(&settings.data_dir)).await?;
            (Arc::new(pg.clone()), Some(pg))
        }
        _ => (settings.database.open(&settings.data_dir).await?, None),
    };
    let persisted = store.load_state().await?;
    let hub = Hub::new(crate::model::Snapshot::unknown());
    let cluster = shared.map(|pg| cluster::Cluster::new(pg, hub.clone()));
    let engine = Arc::new(match &cluster {
        Some(c) => Engine::clustered(store, persisted, hub.clone(), c.clone()),
        None => Engine::new(store, persisted, hub.clone()),
    });
    // One of several instances: if nobody leads, this one leads from the start.
    let first = match &cluster {
        Some(cluster) => cluster::leader::try_once(cluster).await,
        None => None,
    };
    if let Some(won) = &first {
        cluster::duties::adopt(&engine, &won.claimed).await;
    }
    // A single instance always runs the checks; one of several while it leads.
    let (active, checks_run) = tokio::sync::watch::channel(cluster.is_none() || first.is_some());
    // The first page served already shows real results (each check's first run, within 2 s;
    // with several instances, the newest stored snapshot).
    let checks =
        checks::reload::Checks::start(args.config.clone(), config, engine.clone(), settings.data_dir.clone(), checks_run).await;
    match &cluster {
        Some(cluster) => {
            if let Err(e) = cluster::replicate::load_newest(cluster).await {
                tracing::warn!("no stored snapshot to start from: {e}");
            }
            let duties = cluster::duties::Duties::new(cluster.clone(), engine.clone(), checks.clone(), active);
            if first.is_some() {
                duties.settle_in().await;
                if let Err(e) = engine.flush_details().await {
                    tracing::warn!("the first check results were not published: {e}");
                }
            }
            cluster::replicate::start(cluster.clone(), duties.clone()).await;
            cluster::leader::spawn(cluster.clone(), duties, first);
        }
        None => {
            engine.flush_details().await?;
            engine.set_maintenance(engine.store().current_maintenance(clock::now_ms()).await?).await?;
            engine.set_incidents(engine.store().active_incidents().await?).await?;
        }
    }
    spawn_maintenance_clock(engine.clone());
    spawn_detail_flush(engine.clone(), settings.detail_refresh);
    spawn_history_pruning(engine.store().clone());
    hub.spawn_heartbeat(settings.heartbeat);

    let addr = leptos_options.site_addr;
    // Rendered in the background (a large history takes a few hundred ms), not before listening.
    let history = Arc::new(http::uptime::HistoryCache::default());
    history.clone().spawn(engine.clone());
    let connections = stream::admission::Admission::new(settings.max_connections);
    let pages = Arc::new(http::render_cache::RenderCache::default());
    let notifier = notify::Notifier::start(engine.clone(), checks.clone(), settings.allow_private_webhooks).await;
    let state = AppState {
        leptos_options,
        settings: settings.clone(),
        hub: hub.clone(),
        engine,
        checks,
        history,
        connections,
        pages,
        notifier,
    };
    let state_for_conns = state.clone();
    let app = http::router(state);
    let listener = stream::listener::bind(addr, args.reuse_port).map_err(|source| ServeError::Listen { addr, source })?;
    let local = listener.local_addr().map_err(|source| ServeError::Listen { addr, source })?;
    let listener = stream::listener::GuardedListener::new(listener, settings.stall_timeout, settings.send_buffer);
    let scheme = if tls.is_some() { "https" } else { "http" };
    if let Some(tls) = &tls {
        tls.spawn_reload_on_hangup();
    }
    println!("listening on {scheme}://{local}");
    tracing::info!(
        "statuscast {} serving {scheme}://{local} (database: {}, operator API {})",
        env!("CARGO_PKG_VERSION"),
        settings.database.shown(&settings.data_dir),
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
    stream::conn::serve(listener, tls, app, state_for_conns, stop).await;
    tracing::info!("stopped");
    Ok(())
}
