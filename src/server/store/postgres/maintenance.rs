//! Scheduled maintenance windows, in PostgreSQL.

use super::PgStore;
use crate::model::MaintenanceWindow;
use crate::server::store::rows::{components_json, window_of, WindowColumns};
use crate::server::store::NewMaintenance;
use crate::server::store::StoreError;

impl PgStore {
    /// Adds a maintenance window; committed when this returns.
    pub async fn add_maintenance(&self, new: &NewMaintenance, now_ms: i64) -> Result<MaintenanceWindow, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO maintenance (title, starts_ms, ends_ms, components_json, created_ms)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&new.title)
        .bind(new.starts_ms)
        .bind(new.ends_ms)
        .bind(components_json(&new.components))
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::doing("writing the maintenance window"))?;
        Ok(MaintenanceWindow {
            id,
            title: new.title.clone(),
            starts_ms: new.starts_ms,
            ends_ms: new.ends_ms,
            components: new.components.clone(),
        })
    }

    /// Windows not cancelled and not over at `now_ms`, soonest first.
    pub async fn current_maintenance(&self, now_ms: i64) -> Result<Vec<MaintenanceWindow>, StoreError> {
        let rows: Vec<WindowColumns> = sqlx::query_as(
            "SELECT id, title, starts_ms, ends_ms, components_json FROM maintenance
             WHERE cancelled = 0 AND ends_ms > $1 ORDER BY starts_ms, id",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::doing("reading maintenance windows"))?;
        rows.into_iter().map(window_of).collect()
    }

    /// The most recently started windows not cancelled (over, active or to come), at most `limit`.
    pub async fn recent_maintenance(&self, limit: i64) -> Result<Vec<MaintenanceWindow>, StoreError> {
        let rows: Vec<WindowColumns> = sqlx::query_as(
            "SELECT id, title, starts_ms, ends_ms, components_json FROM maintenance
             WHERE cancelled = 0 ORDER BY starts_ms DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::doing("reading maintenance windows"))?;
        rows.into_iter().map(window_of).collect()
    }

    /// Cancels a window that is not over; false if there is no such window.
    pub async fn cancel_maintenance(&self, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE maintenance SET cancelled = 1 WHERE id = $1 AND cancelled = 0 AND ends_ms > $2")
            .bind(id)
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(StoreError::doing("cancelling the maintenance window"))?;
        Ok(done.rows_affected() == 1)
    }
}
