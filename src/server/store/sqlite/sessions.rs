//! Admin sessions (by the SHA-256 of their id) and failed logins in SQLite (see
//! `server::http::admin::session`).

use super::SqliteStore;
use crate::server::store::rows::login_failures_of;
use crate::server::store::StoreError;
use crate::server::store::{LoginFailures, StoredSession};
use sqlx::Row;

impl SqliteStore {
    pub async fn add_session(&self, id_sha256: &str, session: &StoredSession) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO admin_sessions (id_sha256, csrf, expires_ms) VALUES (?, ?, ?)")
            .bind(id_sha256)
            .bind(&session.csrf)
            .bind(session.expires_ms)
            .execute(&self.pool)
            .await
            .map_err(StoreError::doing("writing the session"))?;
        Ok(())
    }

    /// The session, if it exists and has not expired at `now_ms`.
    pub async fn session(&self, id_sha256: &str, now_ms: i64) -> Result<Option<StoredSession>, StoreError> {
        let row = sqlx::query("SELECT csrf, expires_ms FROM admin_sessions WHERE id_sha256 = ? AND expires_ms > ?")
            .bind(id_sha256)
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::doing("reading the session"))?;
        Ok(row.map(|r| StoredSession { csrf: r.get(0), expires_ms: r.get(1) }))
    }

    pub async fn end_session(&self, id_sha256: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM admin_sessions WHERE id_sha256 = ?")
            .bind(id_sha256)
            .execute(&self.pool)
            .await
            .map_err(StoreError::doing("ending the session"))?;
        Ok(())
    }

    pub async fn prune_sessions(&self, now_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM admin_sessions WHERE expires_ms <= ?").bind(now_ms).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    pub async fn login_failures(&self, client: &str) -> Result<Option<LoginFailures>, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as("SELECT window_start_ms, failures FROM login_failures WHERE client = ?")
            .bind(client)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::doing("reading failed logins"))?;
        Ok(row.map(login_failures_of))
    }

    pub async fn add_login_failure(&self, client: &str, now_ms: i64, window_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_failures (client, window_start_ms, failures) VALUES (?1, ?2, 1)
             ON CONFLICT (client) DO UPDATE SET
                 failures = CASE WHEN window_start_ms + ?3 <= excluded.window_start_ms THEN 1 ELSE failures + 1 END,
                 window_start_ms = CASE WHEN window_start_ms + ?3 <= excluded.window_start_ms
                                        THEN excluded.window_start_ms ELSE window_start_ms END",
        )
        .bind(client)
        .bind(now_ms)
        .bind(window_ms)
        .execute(&self.pool)
        .await
        .map_err(StoreError::doing("counting a failed login"))?;
        Ok(())
    }

    pub async fn clear_login_failures(&self, client: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE client = ?")
            .bind(client)
            .execute(&self.pool)
            .await
            .map_err(StoreError::doing("clearing failed logins"))?;
        Ok(())
    }

    pub async fn prune_login_failures(&self, before_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM login_failures WHERE window_start_ms < ?")
            .bind(before_ms)
            .execute(&self.pool)
            .await
            .map_err(StoreError::doing("pruning failed logins"))?;
        Ok(done.rows_affected())
    }
}
