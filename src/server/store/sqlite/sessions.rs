//! Admin sessions in SQLite (see `server::admin::session`), by the SHA-256 of their id.

use super::SqliteStore;
use crate::server::store::StoreError;
use crate::server::store::StoredSession;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sessions_survive_a_reopen_until_they_expire_or_end() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let s = StoredSession { csrf: "c".repeat(64), expires_ms: 10_000 };
        store.add_session("h1", &s).await.unwrap();
        drop(store);
        let store = SqliteStore::open(dir.path()).await.unwrap();
        assert_eq!(store.session("h1", 9_999).await.unwrap(), Some(s));
        assert_eq!(store.session("h1", 10_000).await.unwrap(), None, "expired");
        assert_eq!(store.session("nope", 0).await.unwrap(), None);
        store.end_session("h1").await.unwrap();
        assert_eq!(store.session("h1", 0).await.unwrap(), None);
        store.add_session("h2", &StoredSession { csrf: "x".into(), expires_ms: 5 }).await.unwrap();
        assert_eq!(store.prune_sessions(5).await.unwrap(), 1);
    }
}
