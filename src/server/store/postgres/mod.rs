//! The PostgreSQL store, the shared engine: several instances (and `statuscast copy`) use
//! one database. Pooled connections; migrations (`migrations/postgres/`) run at start under
//! sqlx's advisory lock, so instances starting at once do not migrate twice. A connection
//! lost while PostgreSQL restarts is replaced by the pool on next use; until then calls fail
//! with errors that [`StoreError::is_unavailable`] recognises.

use super::copy::{Rows, Table};
use super::{
    Bucket, LoginFailures, NewIncident, NewMaintenance, NewUpdate, PersistedState, ResultRow, Span, Store, StoreError,
    StoredSession, UpdateRefused,
};
use crate::model::{Incident, MaintenanceWindow, Override};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};
use std::collections::HashMap;
use std::time::Duration;

pub mod cluster;
mod history;
mod incidents;
mod maintenance;
mod outbox;
mod sessions;
mod tables;
pub mod throwaway;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a call waits for a connection before it fails as unavailable (an operator's
/// write then answers 503 rather than hanging).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long start-up waits for the first connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// For the connections that must not come from the pool (`server::cluster`).
    options: std::sync::Arc<PgConnectOptions>,
}

impl PgStore {
    /// Connects to `url` (`postgres://…`), failing with the server's own reason when it
    /// cannot be reached or refuses the login, and brings the schema up to date. `shown` is
    /// the URL as error messages name it (without its password).
    pub async fn open(url: &str, shown: &str) -> Result<PgStore, StoreError> {
        let failed = |source| StoreError::Open { target: shown.to_string(), source };
        let options: PgConnectOptions = url.parse().map_err(failed)?;
        let options = options.application_name("statuscast");
        // One connection first, so an unreachable server or a wrong password is reported as
        // such (a pool would only say that it timed out).
        let first = tokio::time::timeout(CONNECT_TIMEOUT, sqlx::PgConnection::connect_with(&options))
            .await
            .map_err(|_| failed(sqlx::Error::PoolTimedOut))?
            .map_err(failed)?;
        first.close().await.map_err(failed)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options.clone());
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Migrate { file: shown.to_string(), source: e })?;
        Ok(PgStore { pool, options: std::sync::Arc::new(options) })
    }

    /// The options the pool connects with (for a dedicated connection).
    pub fn connect_options(&self) -> &PgConnectOptions {
        &self.options
    }

    pub async fn load_state(&self) -> Result<PersistedState, StoreError> {
        let row: Option<(i64, Option<String>)> =
            sqlx::query_as("SELECT reserved_version, override_json FROM engine_state WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::doing("reading the engine state"))?;
        let Some((version, json)) = row else { return Ok(PersistedState::default()) };
        let operator_override = match json {
            None => None,
            Some(j) => Some(
                serde_json::from_str::<Override>(&j)
                    .map_err(|e| StoreError::Corrupt(format!("stored override is unreadable: {e}")))?,
            ),
        };
        Ok(PersistedState { version: version as u64, operator_override })
    }

    /// Committed when this returns.
    pub async fn save_state(&self, state: &PersistedState) -> Result<(), StoreError> {
        let json = state.operator_override.as_ref().map(|o| serde_json::to_string(o).expect("serialises"));
        sqlx::query(
            "INSERT INTO engine_state (id, reserved_version, override_json) VALUES (1, $1, $2)
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

    /// Marks the space of deleted and updated rows for reuse (what autovacuum does in the
    /// background; a simulation that runs days of history in seconds calls it itself).
    pub async fn vacuum(&self) -> Result<(), StoreError> {
        sqlx::query("VACUUM").execute(&self.pool).await.map_err(StoreError::doing("vacuuming"))?;
        Ok(())
    }

    /// Bytes statuscast's tables take on disk, with their indexes and TOAST, after a vacuum
    /// (an empty database's own catalog, about 7.5 MiB, is not counted; nor is the WAL).
    pub async fn size_bytes(&self) -> Result<i64, StoreError> {
        sqlx::query("VACUUM ANALYZE").execute(&self.pool).await?;
        let mut total = 0;
        for table in super::copy::Table::ALL.iter().flat_map(|t| t.sql_tables()) {
            let sql = format!("SELECT pg_total_relation_size('{table}')");
            total += sqlx::query_scalar::<_, i64>(&sql).fetch_one(&self.pool).await?;
        }
        Ok(total)
    }
}

/// The interface, answered by the methods of the modules above (one per concern).
#[async_trait::async_trait]
impl Store for PgStore {
    async fn ready(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT COUNT(*) FROM engine_state")
            .execute(&self.pool)
            .await
            .map_err(StoreError::doing("reading the database"))?;
        Ok(())
    }
    async fn load_state(&self) -> Result<PersistedState, StoreError> {
        PgStore::load_state(self).await
    }
    async fn save_state(&self, state: &PersistedState) -> Result<(), StoreError> {
        PgStore::save_state(self, state).await
    }
    async fn record(&self, rows: &[ResultRow]) -> Result<(), StoreError> {
        PgStore::record(self, rows).await
    }
    async fn history_of(
        &self,
        components: &[String],
        span: Span,
        since_ms: i64,
        step_ms: i64,
    ) -> Result<HashMap<String, Vec<Bucket>>, StoreError> {
        PgStore::history_of(self, components, span, since_ms, step_ms).await
    }
    async fn prune(&self, now_ms: i64) -> Result<u64, StoreError> {
        PgStore::prune(self, now_ms).await
    }
    async fn open_incident(&self, new: &NewIncident, now_ms: i64) -> Result<Incident, StoreError> {
        PgStore::open_incident(self, new, now_ms).await
    }
    async fn update_incident(&self, id: i64, update: &NewUpdate, now_ms: i64) -> Result<Incident, UpdateRefused> {
        PgStore::update_incident(self, id, update, now_ms).await
    }
    async fn incident(&self, id: i64) -> Result<Option<Incident>, StoreError> {
        PgStore::incident(self, id).await
    }
    async fn active_incidents(&self) -> Result<Vec<Incident>, StoreError> {
        PgStore::active_incidents(self).await
    }
    async fn resolved_incidents(&self, after: (i64, i64), limit: i64) -> Result<Vec<Incident>, StoreError> {
        PgStore::resolved_incidents(self, after, limit).await
    }
    async fn incidents_since(&self, since_ms: i64) -> Result<Vec<Incident>, StoreError> {
        PgStore::incidents_since(self, since_ms).await
    }
    async fn add_maintenance(&self, new: &NewMaintenance, now_ms: i64) -> Result<MaintenanceWindow, StoreError> {
        PgStore::add_maintenance(self, new, now_ms).await
    }
    async fn current_maintenance(&self, now_ms: i64) -> Result<Vec<MaintenanceWindow>, StoreError> {
        PgStore::current_maintenance(self, now_ms).await
    }
    async fn recent_maintenance(&self, limit: i64) -> Result<Vec<MaintenanceWindow>, StoreError> {
        PgStore::recent_maintenance(self, limit).await
    }
    async fn cancel_maintenance(&self, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        PgStore::cancel_maintenance(self, id, now_ms).await
    }
    async fn add_session(&self, id_sha256: &str, session: &StoredSession) -> Result<(), StoreError> {
        PgStore::add_session(self, id_sha256, session).await
    }
    async fn session(&self, id_sha256: &str, now_ms: i64) -> Result<Option<StoredSession>, StoreError> {
        PgStore::session(self, id_sha256, now_ms).await
    }
    async fn end_session(&self, id_sha256: &str) -> Result<(), StoreError> {
        PgStore::end_session(self, id_sha256).await
    }
    async fn prune_sessions(&self, now_ms: i64) -> Result<u64, StoreError> {
        PgStore::prune_sessions(self, now_ms).await
    }
    async fn login_failures(&self, client: &str) -> Result<Option<LoginFailures>, StoreError> {
        PgStore::login_failures(self, client).await
    }
    async fn add_login_failure(&self, client: &str, now_ms: i64, window_ms: i64) -> Result<(), StoreError> {
        PgStore::add_login_failure(self, client, now_ms, window_ms).await
    }
    async fn clear_login_failures(&self, client: &str) -> Result<(), StoreError> {
        PgStore::clear_login_failures(self, client).await
    }
    async fn prune_login_failures(&self, before_ms: i64) -> Result<u64, StoreError> {
        PgStore::prune_login_failures(self, before_ms).await
    }
    async fn count(&self, table: Table) -> Result<i64, StoreError> {
        PgStore::count(self, table).await
    }
    async fn export(&self, table: Table) -> Result<Rows, StoreError> {
        PgStore::export(self, table).await
    }
    async fn import(&self, rows: &Rows, replace: bool) -> Result<(), StoreError> {
        PgStore::import(self, rows, replace).await
    }
}
