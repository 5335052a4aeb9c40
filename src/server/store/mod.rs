//! Durable storage: SQLite by default (a file in the data directory, created on first
//! start; migrations run at start; WAL; `synchronous = FULL`, so a committed write survives a
//! crash or power loss). [`Store`] is the interface the rest of the server uses, so a
//! PostgreSQL implementation can stand beside this one.
//!
//! History retention: raw check results are kept for 24 hours; per-minute rollups for 48
//! hours (the response-time chart); per-hour for 35 days; per-day for 400 days (the 90-day
//! uptime bars). Rollups are updated as results arrive; `prune` deletes what is past its
//! window, so the database does not grow without bound.

use crate::server::persist::PersistedState;
use crate::status::{Level, Override};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::Path;
use std::str::FromStr;

mod history;
mod incidents;
mod maintenance;
mod sessions;

pub use history::{Bucket, ResultRow, Span};
pub use incidents::{NewIncident, NewUpdate, UpdateRefused};
pub use sessions::StoredSession;

pub const RAW_RETENTION_MS: i64 = 24 * 3_600_000;
pub const MINUTE_RETENTION_MS: i64 = 48 * 3_600_000;
pub const HOUR_RETENTION_MS: i64 = 35 * 86_400_000;
pub const DAY_RETENTION_MS: i64 = 400 * 86_400_000;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub(crate) fn level_code(l: Level) -> i64 {
    match l {
        Level::Operational => 0,
        Level::UnderMaintenance => 1,
        Level::DegradedPerformance => 2,
        Level::PartialOutage => 3,
        Level::MajorOutage => 4,
    }
}

pub(crate) fn level_of(code: i64) -> Level {
    match code {
        0 => Level::Operational,
        1 => Level::UnderMaintenance,
        2 => Level::DegradedPerformance,
        3 => Level::PartialOutage,
        _ => Level::MajorOutage,
    }
}

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) `<data_dir>/statuscast.db` and runs the migrations. A
    /// `state.json` left by an earlier version is imported once and renamed.
    pub async fn open(data_dir: &Path) -> Result<Store, String> {
        Store::open_with(data_dir, true).await
    }

    /// `durable = false` skips fsync (`synchronous = OFF`): for simulations that measure
    /// sizes, never for serving.
    pub async fn open_with(data_dir: &Path, durable: bool) -> Result<Store, String> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| format!("cannot create data directory {}: {e}", data_dir.display()))?;
        let path = data_dir.join("statuscast.db");
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(|e| e.to_string())?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if durable { SqliteSynchronous::Full } else { SqliteSynchronous::Off })
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| format!("{}: {e}", path.display()))?;
        MIGRATOR.run(&pool).await.map_err(|e| format!("{}: migrations failed: {e}", path.display()))?;
        let store = Store { pool };
        store.import_state_json(data_dir).await?;
        Ok(store)
    }

    async fn import_state_json(&self, data_dir: &Path) -> Result<(), String> {
        let legacy = crate::server::persist::StateFile::open(data_dir)?;
        if !legacy.path().exists() {
            return Ok(());
        }
        let state = legacy.load()?;
        if self.load_state().await? == PersistedState::default() {
            self.save_state(&state).await?;
        }
        let done = legacy.path().with_extension("json.imported");
        std::fs::rename(legacy.path(), &done).map_err(|e| format!("{}: {e}", legacy.path().display()))?;
        tracing::info!("imported {} into the database", legacy.path().display());
        Ok(())
    }

    pub async fn load_state(&self) -> Result<PersistedState, String> {
        let row = sqlx::query("SELECT reserved_version, override_json FROM engine_state WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| format!("reading the engine state: {e}"))?;
        let Some(row) = row else { return Ok(PersistedState::default()) };
        let version: i64 = row.get(0);
        let json: Option<String> = row.get(1);
        let operator_override = match json {
            None => None,
            Some(j) => Some(
                serde_json::from_str::<Override>(&j).map_err(|e| format!("stored override is unreadable: {e}"))?,
            ),
        };
        Ok(PersistedState { version: version as u64, operator_override })
    }

    /// Committed (and synced) when this returns.
    pub async fn save_state(&self, state: &PersistedState) -> Result<(), String> {
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
        .map_err(|e| format!("writing the engine state: {e}"))?;
        Ok(())
    }

    /// Bytes the database uses (pages in use, after a checkpoint of the WAL).
    pub async fn size_bytes(&self) -> Result<i64, String> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await.map_err(|e| e.to_string())?;
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count").fetch_one(&self.pool).await.map_err(|e| e.to_string())?;
        let free: i64 = sqlx::query_scalar("PRAGMA freelist_count").fetch_one(&self.pool).await.map_err(|e| e.to_string())?;
        let size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(&self.pool).await.map_err(|e| e.to_string())?;
        Ok((pages - free) * size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn state_round_trips_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        assert_eq!(store.load_state().await.unwrap(), PersistedState::default());
        let state = PersistedState {
            version: 2000,
            operator_override: Some(Override { level: Level::PartialOutage, message: "db <slow>".into(), set_at_ms: 5 }),
        };
        store.save_state(&state).await.unwrap();
        drop(store);
        let again = Store::open(dir.path()).await.unwrap();
        assert_eq!(again.load_state().await.unwrap(), state);
        assert!(dir.path().join("statuscast.db").exists());
    }

    #[tokio::test]
    async fn a_legacy_state_json_is_imported_once() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = crate::server::persist::StateFile::open(dir.path()).unwrap();
        let state = PersistedState { version: 1000, operator_override: None };
        legacy.save(&state).unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        assert_eq!(store.load_state().await.unwrap(), state);
        assert!(!dir.path().join("state.json").exists());
        assert!(dir.path().join("state.json.imported").exists());
    }
}
