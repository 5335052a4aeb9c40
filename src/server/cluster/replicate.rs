//! Every instance's copy of the leader's snapshot. One `LISTEN` connection takes the
//! leader's `NOTIFY`s (a snapshot stored, a write to read, a heartbeat); on a snapshot the
//! newest stored one is loaded and, if newer than the hub's, published from its stored JSON,
//! so the same version is the same bytes on every instance. When the listening connection is
//! lost it is made again and the newest snapshot loaded at once; the newest is also looked at
//! every few seconds, so an instance never stays behind silently.

use super::duties::Duties;
use super::Cluster;
use crate::server::store::postgres::cluster::{HEARTBEAT_CHANNEL, SNAPSHOT_CHANNEL, WAKE_CHANNEL};
use crate::server::store::StoreError;
use crate::server::stream::hub::Published;
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the newest snapshot is loaded without a notification.
const POLL: Duration = Duration::from_secs(5);
/// How long after a failed attempt the listening connection is made again.
const RECONNECT: Duration = Duration::from_millis(500);

/// Why a stored snapshot did not reach the hub.
#[derive(Debug, thiserror::Error)]
pub enum ReplicateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored snapshot (version {version}) is unreadable: {source}")]
    Unreadable { version: u64, source: serde_json::Error },
}

enum Heard {
    /// Listening (again): whatever was sent meanwhile is lost, load the newest.
    Connected,
    Snapshot,
    Wake,
    Heartbeat,
}

/// Loads the newest stored snapshot; publishes it to the hub if it is newer than the hub's,
/// and notes the changes it includes. Returns the hub's version after.
pub async fn load_newest(cluster: &Cluster) -> Result<u64, ReplicateError> {
    let stored = cluster.store().stored_snapshot().await?;
    cluster.note_term(stored.term);
    cluster.note_stored_version(stored.version);
    let hub = cluster.hub();
    if let Some(json) = stored.json {
        if stored.version > hub.current().version() {
            let published =
                Published::from_json(json).map_err(|source| ReplicateError::Unreadable { version: stored.version, source })?;
            hub.publish_if_newer(Arc::new(published));
        }
    }
    // Only what the hub shows counts as applied (a stored version the hub has not got yet —
    // it is being published by this very instance, the leader — is noted by the leader).
    if hub.current().version() >= stored.version {
        cluster.note_applied(stored.applied_change);
    }
    Ok(hub.current().version())
}

/// Starts listening and loading; runs for as long as the process. Returns once listening
/// (or after a few seconds if PostgreSQL does not answer: then it goes on trying), and the
/// newest snapshot loaded, so that an instance serves nothing older than what was stored
/// before it listened.
pub async fn start(cluster: Arc<Cluster>, duties: Arc<Duties>) {
    let first = tokio::time::timeout(Duration::from_secs(5), connect(&cluster)).await.ok().flatten();
    if first.is_some() {
        load(&cluster).await;
    }
    let (tx, mut rx) = mpsc::channel::<Heard>(64);
    tokio::spawn(listen(cluster.clone(), tx, first));
    tokio::spawn(async move {
        loop {
            let heard = match tokio::time::timeout(POLL, rx.recv()).await {
                Ok(Some(h)) => h,
                Ok(None) => return,
                Err(_) => Heard::Snapshot,
            };
            match heard {
                Heard::Connected => {
                    load(&cluster).await;
                    // A write may have been made while nobody listened.
                    duties.wake();
                    duties.heartbeat();
                }
                Heard::Snapshot => load(&cluster).await,
                Heard::Wake => duties.wake(),
                Heard::Heartbeat => duties.heartbeat(),
            }
        }
    });
}

async fn load(cluster: &Cluster) {
    if let Err(e) = load_newest(cluster).await {
        // While PostgreSQL is away this fails every few seconds: said once per outage.
        if cluster.load_failing.swap(true, std::sync::atomic::Ordering::Relaxed) {
            tracing::debug!("loading the newest snapshot: {e}");
        } else {
            tracing::warn!("loading the newest snapshot failed (serving the last one): {e}");
        }
    } else {
        cluster.load_failing.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A listening connection (taken from the pool and kept), listening on every channel.
async fn connect(cluster: &Cluster) -> Option<PgListener> {
    let mut listener = match PgListener::connect_with(cluster.store().pool()).await {
        Ok(l) => l,
        Err(e) => {
            tracing::debug!("listening: cannot connect: {e}");
            return None;
        }
    };
    match listener.listen_all([SNAPSHOT_CHANNEL, WAKE_CHANNEL, HEARTBEAT_CHANNEL]).await {
        Ok(()) => Some(listener),
        Err(e) => {
            tracing::debug!("listening: LISTEN failed: {e}");
            None
        }
    }
}

/// One listening connection at a time; made again when lost (`first`: made at start).
async fn listen(cluster: Arc<Cluster>, tx: mpsc::Sender<Heard>, mut first: Option<PgListener>) {
    loop {
        let mut listener = match first.take() {
            Some(l) => l,
            None => match connect(&cluster).await {
                Some(l) => l,
                None => {
                    tokio::time::sleep(RECONNECT).await;
                    continue;
                }
            },
        };
        if tx.send(Heard::Connected).await.is_err() {
            return;
        }
        loop {
            let heard = match listener.try_recv().await {
                Ok(Some(n)) => match n.channel() {
                    SNAPSHOT_CHANNEL => Heard::Snapshot,
                    WAKE_CHANNEL => Heard::Wake,
                    HEARTBEAT_CHANNEL => Heard::Heartbeat,
                    _ => continue,
                },
                // Lost (None: it reconnected on its own, but notifications may be lost in
                // between; a fresh listener is made and the newest loaded either way).
                Ok(None) | Err(_) => break,
            };
            if tx.send(heard).await.is_err() {
                return;
            }
        }
        tracing::warn!("listening: the connection was lost; listening again");
        tokio::time::sleep(RECONNECT).await;
    }
}
