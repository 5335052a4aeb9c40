//! What only the leader does, started when it takes office and stopped when it leaves: the
//! checks run (the runner waits on `active`), the engine goes on from the stored snapshot,
//! and the operators' writes are read from the store into the snapshot whenever a write at
//! any instance wakes the leader (and every few seconds, in case a wake was missed).
//! The maintenance clock and detail flushing run on every instance but publish only on the
//! leader (the engine of a follower publishes nothing).

use super::Cluster;
use crate::model::Snapshot;
use crate::server::checks::reload::Checks;
use crate::server::clock::now_ms;
use crate::server::domain::engine::Engine;
use crate::server::store::postgres::cluster::Claimed;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// How often the leader reads the operators' writes without being woken.
const REFRESH: Duration = Duration::from_secs(5);

/// The engine goes on from the stored snapshot, with versions above it.
pub async fn adopt(engine: &Engine, claimed: &Claimed) {
    let stored = claimed.stored.json.as_deref().and_then(|j| match serde_json::from_str::<Snapshot>(j) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!("the stored snapshot is unreadable, starting from an empty one: {e}");
            None
        }
    });
    engine.adopt(claimed.term, stored, claimed.stored.version.max(claimed.reserved), claimed.stored.applied_change).await;
}

pub struct Duties {
    cluster: Arc<Cluster>,
    engine: Arc<Engine>,
    checks: Arc<Checks>,
    /// Whether the checks run.
    active: watch::Sender<bool>,
    wake: Notify,
    heartbeat: Notify,
}

impl Duties {
    pub fn new(cluster: Arc<Cluster>, engine: Arc<Engine>, checks: Arc<Checks>, active: watch::Sender<bool>) -> Arc<Duties> {
        let duties = Arc::new(Duties { cluster, engine, checks, active, wake: Notify::new(), heartbeat: Notify::new() });
        tokio::spawn(duties.clone().refresh_loop());
        tokio::spawn(duties.clone().heartbeat_loop());
        duties
    }

    /// Starts leading: the engine goes on from the stored snapshot (versions above it), the
    /// operators' writes and heartbeats are read, and the checks start.
    pub async fn take_office(&self, claimed: &Claimed) {
        adopt(&self.engine, claimed).await;
        self.settle_in().await;
        if let Err(e) = self.engine.announce().await {
            tracing::warn!("leader: the first version of the term was not published: {e}");
        }
        self.active.send_replace(true);
    }

    /// The rest of taking office, once the engine has adopted the stored snapshot: the
    /// heartbeats and the operators' writes are read.
    pub async fn settle_in(&self) {
        self.read_heartbeats().await;
        self.refresh().await;
    }

    /// Stops leading: the checks stop (a probe in flight is not reported).
    pub async fn leave_office(&self) {
        self.active.send_replace(false);
    }

    /// A write was made somewhere: the leader reads it.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A heartbeat arrived somewhere: the leader's check reads it.
    pub fn heartbeat(&self) {
        self.heartbeat.notify_one();
    }

    async fn refresh_loop(self: Arc<Self>) {
        loop {
            let _ = tokio::time::timeout(REFRESH, self.wake.notified()).await;
            if self.cluster.is_leader() {
                self.refresh().await;
            }
        }
    }

    async fn heartbeat_loop(self: Arc<Self>) {
        loop {
            self.heartbeat.notified().await;
            if self.cluster.is_leader() {
                self.read_heartbeats().await;
            }
        }
    }

    /// Reads the override, the active incidents and the maintenance windows into the
    /// snapshot, with the number of the newest write they include.
    async fn refresh(&self) {
        let store = self.cluster.store();
        let read = async {
            // The counter first: every write numbered up to it is committed, so the reads
            // below see it.
            let change = store.last_change().await?;
            let state = store.load_state().await?;
            let incidents = store.active_incidents().await?;
            let windows = store.current_maintenance(now_ms()).await?;
            Ok::<_, crate::server::store::StoreError>((change, state.operator_override, incidents, windows))
        };
        match read.await {
            Ok((change, operator_override, incidents, windows)) => {
                if let Err(e) = self.engine.refresh(operator_override, incidents, windows, change).await {
                    tracing::error!("leader: publishing the operators' changes failed: {e}");
                }
            }
            Err(e) => tracing::warn!("leader: reading the operators' changes failed: {e}"),
        }
    }

    async fn read_heartbeats(&self) {
        match self.cluster.store().heartbeats().await {
            Ok(beats) => {
                let runner = self.checks.runner();
                for (component, at_ms) in beats {
                    runner.beat_at(&component, at_ms).await;
                }
            }
            Err(e) => tracing::warn!("leader: reading heartbeats failed: {e}"),
        }
    }
}
