//! What several instances share besides the product's data (see `server::cluster`): the
//! leadership term and the newest snapshot (one row, `cluster_state`), the change counter,
//! heartbeats, and the override written at any instance.
//!
//! The leader's writes are fenced by its term: a snapshot is stored only while the row's term
//! is the writer's. A new leader increments the term with an `UPDATE` of the same row, so the
//! row lock orders the two: once the new term is committed no write of an older term lands.

use super::PgStore;
use crate::model::Override;
use crate::server::store::StoreError;
use sqlx::postgres::PgConnection;

/// The newest snapshot as stored by a leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSnapshot {
    pub term: i64,
    pub version: u64,
    /// The snapshot's JSON (`None` before any leader published).
    pub json: Option<String>,
    pub applied_change: u64,
}

/// A leadership term, claimed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub term: i64,
    /// The newest stored snapshot, to go on from.
    pub stored: StoredSnapshot,
    /// The version reservation of a single instance that ran on this database before (the
    /// first leader's versions start above it).
    pub reserved: u64,
}

/// Channels of `NOTIFY`.
pub const SNAPSHOT_CHANNEL: &str = "statuscast_snapshot";
pub const WAKE_CHANNEL: &str = "statuscast_wake";
pub const HEARTBEAT_CHANNEL: &str = "statuscast_heartbeat";

type Row = (i64, i64, Option<String>, i64);

fn stored((term, version, json, applied): Row) -> StoredSnapshot {
    StoredSnapshot { term, version: version as u64, json, applied_change: applied as u64 }
}

/// Increments the term, on `conn` (the connection that holds the advisory lock), in one
/// transaction; returns the new term with the stored state to start from.
pub async fn claim_term(conn: &mut PgConnection, holder: &str) -> Result<Claimed, StoreError> {
    use sqlx::Connection;
    let mut tx = conn.begin().await.map_err(StoreError::doing("claiming a leadership term"))?;
    let row: Row = sqlx::query_as(
        "UPDATE cluster_state SET term = term + 1, holder = $1 WHERE id = 1
         RETURNING term, version, snapshot_json, applied_change",
    )
    .bind(holder)
    .fetch_one(&mut *tx)
    .await
    .map_err(StoreError::doing("claiming a leadership term"))?;
    let reserved: Option<i64> = sqlx::query_scalar("SELECT reserved_version FROM engine_state WHERE id = 1")
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::doing("reading the engine state"))?;
    tx.commit().await.map_err(StoreError::doing("claiming a leadership term"))?;
    let stored = stored(row);
    Ok(Claimed { term: stored.term, stored, reserved: reserved.unwrap_or(0) as u64 })
}

impl PgStore {
    /// Stores the snapshot `version` (its JSON) as the newest, if `term` is still the
    /// current term and the version is above the stored one, and notifies every instance.
    /// False: fenced out (a newer term exists), nothing was stored.
    pub async fn store_snapshot(
        &self,
        term: i64,
        version: u64,
        json: &str,
        applied: u64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let rows: Vec<(Option<String>,)> = sqlx::query_as(
            "WITH stored AS (
                 UPDATE cluster_state SET version = $2, snapshot_json = $3,
                        applied_change = GREATEST(applied_change, $4), published_ms = $5
                 WHERE id = 1 AND term = $1 AND version < $2
                 RETURNING version)
             SELECT pg_notify('statuscast_snapshot', version::text)::text FROM stored",
        )
        .bind(term)
        .bind(version as i64)
        .bind(json)
        .bind(applied as i64)
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::doing("storing the snapshot"))?;
        Ok(!rows.is_empty())
    }

    /// Records that the stored snapshot includes changes up to `applied` (nothing visible
    /// changed), fenced like [`PgStore::store_snapshot`], and notifies every instance.
    pub async fn store_applied(&self, term: i64, applied: u64) -> Result<bool, StoreError> {
        let rows: Vec<(Option<String>,)> = sqlx::query_as(
            "WITH stored AS (
                 UPDATE cluster_state SET applied_change = GREATEST(applied_change, $2)
                 WHERE id = 1 AND term = $1
                 RETURNING version)
             SELECT pg_notify('statuscast_snapshot', version::text)::text FROM stored",
        )
        .bind(term)
        .bind(applied as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::doing("storing the applied change"))?;
        Ok(!rows.is_empty())
    }

    /// The newest stored snapshot.
    pub async fn stored_snapshot(&self) -> Result<StoredSnapshot, StoreError> {
        let row: Row = sqlx::query_as("SELECT term, version, snapshot_json, applied_change FROM cluster_state WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::doing("reading the stored snapshot"))?;
        Ok(stored(row))
    }

    /// Numbers a committed write and wakes the leader; the number.
    pub async fn note_change(&self) -> Result<u64, StoreError> {
        let (n, _): (i64, String) = sqlx::query_as("SELECT nextval('cluster_changes'), pg_notify('statuscast_wake', '')::text")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::doing("waking the leader"))?;
        Ok(n as u64)
    }

    /// The highest change number handed out so far (every write numbered up to it is
    /// committed and visible to a read that starts after this).
    pub async fn last_change(&self) -> Result<u64, StoreError> {
        let (value, called): (i64, bool) = sqlx::query_as("SELECT last_value, is_called FROM cluster_changes")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::doing("reading the change counter"))?;
        Ok(if called { value as u64 } else { 0 })
    }

    /// Sets or clears the operator override without touching the version reservation.
    pub async fn save_override(&self, operator_override: Option<&Override>) -> Result<(), StoreError> {
        let json = operator_override.map(|o| serde_json::to_string(o).expect("serialises"));
        sqlx::query(
            "INSERT INTO engine_state (id, reserved_version, override_json) VALUES (1, 0, $1)
             ON CONFLICT (id) DO UPDATE SET override_json = excluded.override_json",
        )
        .bind(json)
        .execute(&self.pool)
        .await
        .map_err(StoreError::doing("writing the override"))?;
        Ok(())
    }

    /// Raises the version reservation of `engine_state` to `reserved` (never lowers it), so
    /// that a single instance started later on this database (or a copy of it) goes on above
    /// every version the cluster published. The override is left alone.
    pub async fn save_reservation(&self, reserved: u64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO engine_state (id, reserved_version, override_json) VALUES (1, $1, NULL)
             ON CONFLICT (id) DO UPDATE SET reserved_version = GREATEST(engine_state.reserved_version, excluded.reserved_version)",
        )
        .bind(reserved as i64)
        .execute(&self.pool)
        .await
        .map_err(StoreError::doing("writing the version reservation"))?;
        Ok(())
    }

    /// Stores a heartbeat of `component` and tells the leader.
    pub async fn save_heartbeat(&self, component: &str, at_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "WITH saved AS (
                 INSERT INTO heartbeats (component, at_ms) VALUES ($1, $2)
                 ON CONFLICT (component) DO UPDATE SET at_ms = GREATEST(heartbeats.at_ms, excluded.at_ms)
                 RETURNING component)
             SELECT pg_notify('statuscast_heartbeat', component)::text FROM saved",
        )
        .bind(component)
        .bind(at_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::doing("storing the heartbeat"))?;
        Ok(())
    }

    /// Every component's newest heartbeat.
    pub async fn heartbeats(&self) -> Result<Vec<(String, i64)>, StoreError> {
        sqlx::query_as("SELECT component, at_ms FROM heartbeats")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::doing("reading heartbeats"))
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::postgres::throwaway::Throwaway;
    use sqlx::Connection;

    #[tokio::test]
    async fn a_newer_term_fences_out_the_writes_of_an_older_one() {
        let url = Throwaway::shared().database().await;
        let store = PgStore::open(&url, &url).await.unwrap();
        let mut a = PgConnection::connect(&url).await.unwrap();
        let first = claim_term(&mut a, "a").await.unwrap();
        assert_eq!((first.term, first.stored.version, first.stored.json.as_deref()), (1, 0, None));
        assert!(store.store_snapshot(1, 5, "{\"v\":5}", 3, 1000).await.unwrap());
        assert!(!store.store_snapshot(1, 5, "{\"v\":5}", 3, 1000).await.unwrap(), "a version never goes back or repeats");
        let mut b = PgConnection::connect(&url).await.unwrap();
        let second = claim_term(&mut b, "b").await.unwrap();
        assert_eq!(second.term, 2);
        assert_eq!(second.stored, StoredSnapshot { term: 2, version: 5, json: Some("{\"v\":5}".into()), applied_change: 3 });
        assert!(!store.store_snapshot(1, 6, "{\"v\":6}", 4, 2000).await.unwrap(), "term 1 is fenced out");
        assert!(!store.store_applied(1, 9).await.unwrap());
        assert_eq!(store.stored_snapshot().await.unwrap().version, 5, "nothing of term 1 landed");
        assert!(store.store_snapshot(2, 6, "{\"v\":6}", 4, 2000).await.unwrap());
        assert!(store.store_applied(2, 7).await.unwrap());
        let now = store.stored_snapshot().await.unwrap();
        assert_eq!((now.term, now.version, now.applied_change), (2, 6, 7));
    }

    #[tokio::test]
    async fn changes_are_numbered_in_order_and_the_reservation_only_rises() {
        let url = Throwaway::shared().database().await;
        let store = PgStore::open(&url, &url).await.unwrap();
        assert_eq!(store.last_change().await.unwrap(), 0);
        let one = store.note_change().await.unwrap();
        let two = store.note_change().await.unwrap();
        assert!(two > one);
        assert_eq!(store.last_change().await.unwrap(), two);
        store.save_reservation(2000).await.unwrap();
        store.save_reservation(1000).await.unwrap();
        assert_eq!(store.load_state().await.unwrap().version, 2000);
        let o = Override { level: crate::model::Level::MajorOutage, message: "down".into(), set_at_ms: 1 };
        store.save_override(Some(&o)).await.unwrap();
        let state = store.load_state().await.unwrap();
        assert_eq!((state.version, state.operator_override), (2000, Some(o)), "the override alone changed");
        store.save_heartbeat("job", 10).await.unwrap();
        store.save_heartbeat("job", 5).await.unwrap();
        assert_eq!(store.heartbeats().await.unwrap(), vec![("job".to_string(), 10)], "the newest beat is kept");
    }
}
