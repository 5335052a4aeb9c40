//! The running configuration, and reloading it: on SIGHUP, and when the file changes (its
//! modification time or size, looked at every two seconds). SSE clients stay connected; a
//! new configuration that does not parse or validate leaves the running one in place and
//! the reason is logged (with file, line, column and field) and counted in /metrics.

use super::config::{self, Config, ConfigError};
use super::history::HistoryWriter;
use super::runner::Runner;
use crate::server::domain::engine::{Engine, EngineError};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// Why a reload did not apply.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The new file is invalid; the running configuration is kept.
    #[error(transparent)]
    Config(ConfigError),
    /// The new checks started, but removing the old components could not be published.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

pub struct Checks {
    path: PathBuf,
    engine: Arc<Engine>,
    data_dir: PathBuf,
    /// Check results to the store, across reloads.
    pub history: HistoryWriter,
    running: RwLock<(Config, Arc<Runner>)>,
    reload_lock: tokio::sync::Mutex<()>,
    pub reloads: AtomicU64,
    pub reload_errors: AtomicU64,
    last_error: RwLock<Option<String>>,
    /// Whether the checks run (see `Runner::start`).
    active: tokio::sync::watch::Receiver<bool>,
}

impl Checks {
    /// Starts the checks; they run while `active` is true (always, on a single instance).
    pub async fn start(
        path: PathBuf,
        config: Config,
        engine: Arc<Engine>,
        data_dir: PathBuf,
        active: tokio::sync::watch::Receiver<bool>,
    ) -> Arc<Checks> {
        let history = HistoryWriter::spawn(engine.store().clone());
        let runner = Runner::start(
            config.components.clone(),
            engine.clone(),
            config.concurrency,
            data_dir.clone(),
            history.clone(),
            Duration::from_secs(2),
            active.clone(),
        )
        .await;
        let checks = Arc::new(Checks {
            path,
            engine,
            data_dir,
            history,
            running: RwLock::new((config, runner)),
            reload_lock: tokio::sync::Mutex::new(()),
            reloads: AtomicU64::new(0),
            reload_errors: AtomicU64::new(0),
            last_error: RwLock::new(None),
            active,
        });
        checks.clone().spawn_watchers();
        checks
    }

    /// The page's name and address, from the configuration in force.
    pub fn page(&self) -> crate::server::checks::config::Page {
        self.running.read().unwrap().0.page.clone()
    }

    /// Alerts and subscriptions, from the configuration in force.
    pub fn notify(&self) -> crate::server::notify::config::NotifyConfig {
        self.running.read().unwrap().0.notify.clone()
    }

    pub fn runner(&self) -> Arc<Runner> {
        self.running.read().unwrap().1.clone()
    }

    /// The reason the last reload was refused, if the last attempt failed.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.read().unwrap().clone()
    }

    /// Reads the file again; applies it if valid and different. Returns whether it changed.
    pub async fn reload(&self) -> Result<bool, ReloadError> {
        let _one_at_a_time = self.reload_lock.lock().await;
        let config = match config::load(&self.path) {
            Ok(c) => c,
            Err(e) => {
                let msg = e.to_string();
                self.reload_errors.fetch_add(1, Ordering::Relaxed);
                *self.last_error.write().unwrap() = Some(msg.clone());
                tracing::error!("configuration not reloaded, keeping the running one: {msg}");
                return Err(ReloadError::Config(e));
            }
        };
        *self.last_error.write().unwrap() = None;
        let old = {
            let running = self.running.read().unwrap();
            if running.0 == config {
                return Ok(false);
            }
            running.1.clone()
        };
        {
            // Only the page or the notifications changed: the checks go on as they are.
            let mut running = self.running.write().unwrap();
            if running.0.components == config.components && running.0.concurrency == config.concurrency {
                running.0 = config;
                return Ok(true);
            }
        }
        old.stop();
        let new = Runner::start(
            config.components.clone(),
            self.engine.clone(),
            config.concurrency,
            self.data_dir.clone(),
            self.history.clone(),
            Duration::from_secs(2),
            self.active.clone(),
        )
        .await;
        let kept = new.component_ids();
        let gone: Vec<String> = old.component_ids().into_iter().filter(|id| !kept.contains(id)).collect();
        if !gone.is_empty() {
            self.engine.remove_components(&gone).await?;
        }
        self.engine.flush_details().await?;
        *self.running.write().unwrap() = (config, new);
        self.reloads.fetch_add(1, Ordering::Relaxed);
        tracing::info!("configuration reloaded from {}", self.path.display());
        Ok(true)
    }

    fn spawn_watchers(self: Arc<Self>) {
        let on_hup = self.clone();
        tokio::spawn(async move {
            let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
                return;
            };
            while hup.recv().await.is_some() {
                // Without a file the embedded default runs (a file created later is picked up
                // by the watch below); a SIGHUP then is for something else (a certificate).
                if on_hup.path.exists() {
                    let _ = on_hup.reload().await;
                } else {
                    tracing::info!("SIGHUP: no {} to reload (the embedded default runs)", on_hup.path.display());
                }
            }
        });
        tokio::spawn(async move {
            let stamp =
                |p: &PathBuf| std::fs::metadata(p).ok().map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
            let mut seen = stamp(&self.path);
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let now = stamp(&self.path);
                if now != seen && now.is_some() {
                    seen = now;
                    let _ = self.reload().await;
                }
            }
        });
    }
}
