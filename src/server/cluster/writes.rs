//! Writes at any instance (read your writes): the write is committed by the store as on a
//! single instance, then numbered (`cluster_changes`) and the leader woken with `NOTIFY`. The
//! answer waits until this instance's hub shows a snapshot that includes that number; if no
//! leader publishes within [`WAIT`] the write is still stored, and the answer says it will
//! show once a leader is back ([`Shown::Later`]: `202 Accepted`).

use super::Cluster;
use crate::model::{Level, Snapshot};
use crate::server::clock::now_ms;
use crate::server::domain::engine::next_override;
use crate::server::domain::operator::Shown;
use crate::server::store::StoreError;
use std::time::Duration;

/// How long a write waits for a leader to publish it.
pub const WAIT: Duration = Duration::from_secs(5);

/// After a committed write: numbers it, wakes the leader, waits for this hub to show it.
pub async fn after_write(cluster: &Cluster) -> Shown {
    match cluster.store().note_change().await {
        Ok(change) => {
            if cluster.wait_applied(change, WAIT).await {
                Shown::Now
            } else {
                tracing::warn!("write {change}: no leader published it within {WAIT:?}; it will show once one does");
                Shown::Later
            }
        }
        Err(e) => {
            // Committed, but not numbered: the leader reads it on its next refresh.
            tracing::warn!("a committed write could not wake the leader: {e}");
            Shown::Later
        }
    }
}

/// Sets or clears the operator override at any instance: stored, then shown as above. An
/// override equal to the one in force keeps its time. Answers the snapshot this hub shows.
pub async fn set_override(cluster: &Cluster, operator: Option<(Level, String)>) -> Result<(Snapshot, Shown), StoreError> {
    let current = cluster.hub().current();
    let value = next_override(current.snapshot.operator_override.as_ref(), operator, now_ms());
    cluster.store().save_override(value.as_ref()).await?;
    let shown = after_write(cluster).await;
    Ok(((*cluster.hub().current().snapshot).clone(), shown))
}
