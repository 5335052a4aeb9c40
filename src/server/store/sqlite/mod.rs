//! The SQLite store, the embedded default: a file in the data directory, created on first
//! start; migrations (`migrations/sqlite/`) run at start; WAL; `synchronous = FULL`, so a committed
//! write survives a crash or power loss.

use super::copy::{Rows, Table};
use super::{
    Bucket, LoginFailures, NewIncident, NewMaintenance, NewUpdate, PersistedState, ResultRow, Span, Store, StoreError,
    StoredSession, UpdateRefused,
};
use crate::model::Override;
use crate::model::{Incident, MaintenanceWindow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::collections::HashMap;
use std::path::Path;

mod history;
mod incidents;
mod maintenance;
mod outbox;
mod sessions;
mod tables;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: std::path::PathBuf,
    /// The file's device and inode when opened: a file deleted or replaced since is not it.
    identity: (u64, u64),
}

fn identity(path: &Path) -> Option<(u64, u64)> {
    let st = rustix::fs::stat(path).ok()?;
    Some((st.st_dev as u64, st.st_ino as u64))
}

impl SqliteStore {
    /// Opens (creating if needed) `<data_dir>/statuscast.db` and runs the migrations. A
    /// `state.json` left by an earlier version is imported once and renamed.
    pub async fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(data_dir, true).await
    }

    /// `durable = false` skips fsync (`synchronous = OFF`): for simulations that measure
    /// sizes, never for serving.
    pub async fn open_with(data_dir: &Path, durable: bool) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::file(data_dir, "cannot create the data directory", e))?;
        let store = SqliteStore::open_file(&data_dir.join("statuscast.db"), durable).await?;
        store.import_state_json(data_dir).await?;
        Ok(store)
    }

    /// Opens (creating if needed) the database file at `path` (`--database-url sqlite://PATH`)
    /// and runs the migrations; its directory must exist.
    pub async fn open_file(path: &Path, durable: bool) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if durable { SqliteSynchronous::Full } else { SqliteSynchronous::Off })
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool =
            SqlitePoolOptions::new().max_connections(4).connect_with(options).await.map_err(|e| StoreError::open(path, e))?;
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Migrate { file: path.display().to_string(), source: e })?;
        let identity = identity(path).ok_or_else(|| StoreError::Lost(path.display().to_string()))?;
        Ok(SqliteStore { pool, path: path.to_path_buf(), identity })
    }

    /// Refuses to go on when the file at the path is no longer the one opened (one `stat`).
    fn still_there(&self) -> Result<(), StoreError> {
        if identity(&self.path) == Some(self.identity) {
            Ok(())
        } else {
            let lost = StoreError::Lost(self.path.display().to_string());
            tracing::error!("{lost}");
            Err(lost)
        }
    }

    pub async fn ready(&self) -> Result<(), StoreError> {
        self.still_there()?;
        sqlx::query("SELECT COUNT(*) FROM engine_state")
            .execute(&self.pool)
            .await
            .map_err(StoreError::doing("reading the database"))?;
        Ok(())
    }

    async fn import_state_json(&self, data_dir: &Path) -> Result<(), StoreError> {
        let legacy = crate::server::store::legacy::StateFile::open(data_dir)?;
        if !legacy.path().exists() {
            return Ok(());
        }
        let state = legacy.load()?;
        if self.load_state().await? == PersistedState::default() {
            self.save_state(&state).await?;
        }
        let done = legacy.path().with_extension("json.imported");
        std::fs::rename(legacy.path(), &done).map_err(|e| StoreError::file(legacy.path(), "cannot rename", e))?;
        tracing::info!("imported {} into the database", legacy.path().display());
        Ok(())
    }

    pub async fn load_state(&self) -> Result<PersistedState, StoreError> {
        let row = sqlx::query("SELECT reserved_version, override_json FROM engine_state WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::doing("reading the engine state"))?;
        let Some(row) = row else { return Ok(PersistedState::default()) };
        let version: i64 = row.get(0);
        let json: Option<String> = row.get(1);
        let operator_override = match json {
            None => None,
            Some(j) => Some(
                serde_json::from_str::<Override>(&j)
                    .map_err(|e| StoreError::Corrupt(format!("stored override is unreadable: {e}")))?,
            ),
        };
        Ok(PersistedState { version: version as u64, operator_override })
    }

    /// Committed (and synced) when this returns.
    pub async fn save_state(&self, state: &PersistedState) -> Result<(), StoreError> {
        let json = state.operator_override.as_ref().map(|o| serde_json::to_string(o).expect("serialises"));
        sqlx::query(
            "INSERT INTO engine_state (id, reserved_version, override_json) VALUES (1, ?, ?)
             ON CONFLICT (id) DO UPDATE SET reserved_version = excluded.reserved_version,
                                            override_json = excluded.override_json",
        )
        .bind(state.version as i64)
        .bind(json)
        .execute(&self.pool)
        .await
        .map_err(StoreError::doing("writing the engine state"))?;
        Ok(())
    }

    /// Bytes the database uses (pages in use, after a checkpoint of the WAL).
    pub async fn size_bytes(&self) -> Result<i64, StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count").fetch_one(&self.pool).await?;
        let free: i64 = sqlx::query_scalar("PRAGMA freelist_count").fetch_one(&self.pool).await?;
        let size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(&self.pool).await?;
        Ok((pages - free) * size)
    }
}

/// The interface, answered by the methods of the modules above (one per concern).
#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn ready(&self) -> Result<(), StoreError> {
        SqliteStore::ready(self).await
    }
    async fn load_state(&self) -> Result<PersistedState, StoreError> {
        SqliteStore::load_state(self).await
    }
    async fn save_state(&self, state: &PersistedState) -> Result<(), StoreError> {
        self.still_there()?;
        SqliteStore::save_state(self, state).await
    }
    async fn record(&self, rows: &[ResultRow]) -> Result<(), StoreError> {
        self.still_there()?;
        SqliteStore::record(self, rows).await
    }
    async fn history_of(
        &self,
        components: &[String],
        span: Span,
        since_ms: i64,
        step_ms: i64,
    ) -> Result<HashMap<String, Vec<Bucket>>, StoreError> {
        SqliteStore::history_of(self, components, span, since_ms, step_ms).await
    }
    async fn prune(&self, now_ms: i64) -> Result<u64, StoreError> {
        SqliteStore::prune(self, now_ms).await
    }
    async fn open_incident(&self, new: &NewIncident, now_ms: i64) -> Result<Incident, StoreError> {
        self.still_there()?;
        SqliteStore::open_incident(self, new, now_ms).await
    }
    async fn update_incident(&self, id: i64, update: &NewUpdate, now_ms: i64) -> Result<Incident, UpdateRefused> {
        self.still_there()?;
        SqliteStore::update_incident(self, id, update, now_ms).await
    }
    async fn incident(&self, id: i64) -> Result<Option<Incident>, StoreError> {
        SqliteStore::incident(self, id).await
    }
    async fn active_incidents(&self) -> Result<Vec<Incident>, StoreError> {
        SqliteStore::active_incidents(self).await
    }
    async fn resolved_incidents(&self, after: (i64, i64), limit: i64) -> Result<Vec<Incident>, StoreError> {
        SqliteStore::resolved_incidents(self, after, limit).await
    }
    async fn incidents_since(&self, since_ms: i64) -> Result<Vec<Incident>, StoreError> {
        SqliteStore::incidents_since(self, since_ms).await
    }
    async fn add_maintenance(&self, new: &NewMaintenance, now_ms: i64) -> Result<MaintenanceWindow, StoreError> {
        self.still_there()?;
        SqliteStore::add_maintenance(self, new, now_ms).await
    }
    async fn current_maintenance(&self, now_ms: i64) -> Result<Vec<MaintenanceWindow>, StoreError> {
        SqliteStore::current_maintenance(self, now_ms).await
    }
    async fn recent_maintenance(&self, limit: i64) -> Result<Vec<MaintenanceWindow>, StoreError> {
        SqliteStore::recent_maintenance(self, limit).await
    }
    async fn cancel_maintenance(&self, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        self.still_there()?;
        SqliteStore::cancel_maintenance(self, id, now_ms).await
    }
    async fn add_session(&self, id_sha256: &str, session: &StoredSession) -> Result<(), StoreError> {
        self.still_there()?;
        SqliteStore::add_session(self, id_sha256, session).await
    }
    async fn session(&self, id_sha256: &str, now_ms: i64) -> Result<Option<StoredSession>, StoreError> {
        SqliteStore::session(self, id_sha256, now_ms).await
    }
    async fn end_session(&self, id_sha256: &str) -> Result<(), StoreError> {
        SqliteStore::end_session(self, id_sha256).await
    }
    async fn prune_sessions(&self, now_ms: i64) -> Result<u64, StoreError> {
        SqliteStore::prune_sessions(self, now_ms).await
    }
    async fn login_failures(&self, client: &str) -> Result<Option<LoginFailures>, StoreError> {
        SqliteStore::login_failures(self, client).await
    }
    async fn add_login_failure(&self, client: &str, now_ms: i64, window_ms: i64) -> Result<(), StoreError> {
        self.still_there()?;
        SqliteStore::add_login_failure(self, client, now_ms, window_ms).await
    }
    async fn clear_login_failures(&self, client: &str) -> Result<(), StoreError> {
        SqliteStore::clear_login_failures(self, client).await
    }
    async fn prune_login_failures(&self, before_ms: i64) -> Result<u64, StoreError> {
        SqliteStore::prune_login_failures(self, before_ms).await
    }
    async fn count(&self, table: Table) -> Result<i64, StoreError> {
        SqliteStore::count(self, table).await
    }
    async fn export(&self, table: Table) -> Result<Rows, StoreError> {
        SqliteStore::export(self, table).await
    }
    async fn import(&self, rows: &Rows, replace: bool) -> Result<(), StoreError> {
        self.still_there()?;
        SqliteStore::import(self, rows, replace).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_legacy_state_json_is_imported_once() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = crate::server::store::legacy::StateFile::open(dir.path()).unwrap();
        let state = PersistedState { version: 1000, operator_override: None };
        legacy.save(&state).unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        assert_eq!(store.load_state().await.unwrap(), state);
        assert!(!dir.path().join("state.json").exists());
        assert!(dir.path().join("state.json.imported").exists());
    }
}
