//! Admin sessions and failed logins in PostgreSQL (see `server::http::admin::session`),
//! shared by every instance on the database.

use super::PgStore;
use crate::server::store::rows::login_failures_of;
use crate::server::store::StoreError;
use crate::server::store::{LoginFailures, StoredSession};

impl PgStore {
    pub async fn add_session(&self, id_sha256: &str, session: &StoredSession) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO admin_sessions (id_sha256, csrf, expires_ms) VALUES ($1, $2, $3)")
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
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT csrf, expires_ms FROM admin_sessions WHERE id_sha256 = $1 AND expires_ms > $2")
                .bind(id_sha256)
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::doing("reading the session"))?;
        Ok(row.map(|(csrf, expires_ms)| StoredSession { csrf, expires_ms }))
    }

    pub async fn end_session(&self, id_sha256: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM admin_sessions WHERE id_sha256 = $1")
            .bind(id_sha256)
            .execute(&self.pool)
            .await
            .map_err(StoreError::doing("ending the session"))?;
        Ok(())
    }

    pub async fn prune_sessions(&self, now_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM admin_sessions WHERE expires_ms <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(StoreError::doing("pruning sessions"))?;
        Ok(done.rows_affected())
    }

    pub async fn login_failures(&self, client: &str) -> Result<Option<LoginFailures>, StoreError> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT window_start_ms, failures::BIGINT FROM login_failures WHERE client = $1")
                .bind(client)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::doing("reading failed logins"))?;
        Ok(row.map(login_failures_of))
    }

    pub async fn add_login_failure(&self, client: &str, now_ms: i64, window_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_failures AS f (client, window_start_ms, failures) VALUES ($1, $2, 1)
             ON CONFLICT (client) DO UPDATE SET
                 failures = CASE WHEN f.window_start_ms + $3 <= excluded.window_start_ms THEN 1 ELSE f.failures + 1 END,
                 window_start_ms = CASE WHEN f.window_start_ms + $3 <= excluded.window_start_ms
                                        THEN excluded.window_start_ms ELSE f.window_start_ms END",
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
        sqlx::query("DELETE FROM login_failures WHERE client = $1")
            .bind(client)
            .execute(&self.pool)
            .await
            .map_err(StoreError::doing("clearing failed logins"))?;
        Ok(())
    }

    pub async fn prune_login_failures(&self, before_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM login_failures WHERE window_start_ms < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await
            .map_err(StoreError::doing("pruning failed logins"))?;
        Ok(done.rows_affected())
    }
}
