//! Whole tables in PostgreSQL, for `statuscast copy` (see `store::copy`).

use super::incidents::COLUMNS as INCIDENT_COLUMNS;
use super::PgStore;
use crate::server::store::copy::{Rows, Table};
use crate::server::store::rows::{
    components_json, login_failures_of, result_of, rollup_of, session_of, stored_window_of, ResultColumns, RollupColumns,
    StoredWindowColumns,
};
use crate::server::store::StoreError;
use sqlx::{Postgres, Transaction};

impl PgStore {
    pub async fn count(&self, table: Table) -> Result<i64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM {}", table.name());
        sqlx::query_scalar(&sql).fetch_one(&self.pool).await.map_err(StoreError::doing("counting rows"))
    }

    pub async fn export(&self, table: Table) -> Result<Rows, StoreError> {
        let doing = StoreError::doing("reading the table");
        Ok(match table {
            Table::EngineState => {
                Rows::EngineState(if self.count(table).await? > 0 { Some(self.load_state().await?) } else { None })
            }
            Table::CheckResults => {
                let rows: Vec<ResultColumns> = sqlx::query_as(
                    "SELECT component, at_ms, level::BIGINT, latency_ms::BIGINT FROM check_results ORDER BY at_ms",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(doing)?;
                Rows::CheckResults(rows.into_iter().map(result_of).collect())
            }
            Table::CheckRollups => {
                let rows: Vec<RollupColumns> = sqlx::query_as(
                    "SELECT component, span, start_ms, samples, operational, worst_level::BIGINT, latency_sum, latency_count,
                            latency_max, minutes FROM check_rollups ORDER BY component, span, start_ms",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(doing)?;
                Rows::CheckRollups(rows.into_iter().map(rollup_of).collect::<Result<_, _>>()?)
            }
            Table::Maintenance => {
                let rows: Vec<StoredWindowColumns> = sqlx::query_as(
                    "SELECT id, title, starts_ms, ends_ms, components_json, created_ms, cancelled::BIGINT FROM maintenance ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(doing)?;
                Rows::Maintenance(rows.into_iter().map(stored_window_of).collect::<Result<_, _>>()?)
            }
            Table::Incidents => {
                let sql = format!("{INCIDENT_COLUMNS} ORDER BY id");
                Rows::Incidents(self.with_updates(sqlx::query_as(&sql).fetch_all(&self.pool).await).await?)
            }
            Table::AdminSessions => {
                let rows: Vec<(String, String, i64)> =
                    sqlx::query_as("SELECT id_sha256, csrf, expires_ms FROM admin_sessions ORDER BY id_sha256")
                        .fetch_all(&self.pool)
                        .await
                        .map_err(doing)?;
                Rows::AdminSessions(rows.into_iter().map(session_of).collect())
            }
            Table::LoginFailures => {
                let rows: Vec<(String, i64, i64)> =
                    sqlx::query_as("SELECT client, window_start_ms, failures::BIGINT FROM login_failures ORDER BY client")
                        .fetch_all(&self.pool)
                        .await
                        .map_err(doing)?;
                Rows::LoginFailures(rows.into_iter().map(|(client, start, n)| (client, login_failures_of((start, n)))).collect())
            }
            Table::Subscribers => {
                use crate::server::store::outbox::{subscriber_row_of, SUBSCRIBER_ROWS};
                type Columns = (i64, String, String, String, String, i64, Option<i64>, i64);
                let rows: Vec<Columns> = sqlx::query_as(SUBSCRIBER_ROWS).fetch_all(&self.pool).await.map_err(doing)?;
                Rows::Subscribers(rows.into_iter().map(subscriber_row_of).collect::<Result<_, _>>()?)
            }
        })
    }

    pub async fn import(&self, rows: &Rows, replace: bool) -> Result<(), StoreError> {
        let doing = StoreError::doing("writing the table");
        let mut tx = self.pool.begin().await.map_err(doing)?;
        if replace {
            for t in rows.table().sql_tables() {
                sqlx::query(&format!("DELETE FROM {t}")).execute(&mut *tx).await.map_err(doing)?;
            }
        }
        insert(&mut tx, rows).await.map_err(doing)?;
        tx.commit().await.map_err(doing)
    }
}

async fn insert(tx: &mut Transaction<'_, Postgres>, rows: &Rows) -> Result<(), sqlx::Error> {
    match rows {
        Rows::EngineState(None) => {}
        Rows::EngineState(Some(state)) => {
            let json = state.operator_override.as_ref().map(|o| serde_json::to_string(o).expect("serialises"));
            sqlx::query("INSERT INTO engine_state (id, reserved_version, override_json) VALUES (1, $1, $2)")
                .bind(state.version as i64)
                .bind(json)
                .execute(&mut **tx)
                .await?;
        }
        Rows::CheckResults(results) => {
            for chunk in results.chunks(50_000) {
                super::history::insert_results(tx, chunk).await?;
            }
        }
        // Into an empty table the upsert only inserts: rows as they were, `minutes` included.
        Rows::CheckRollups(rollups) => {
            for chunk in rollups.chunks(50_000) {
                super::history::add_rollups(tx, chunk).await?;
            }
        }
        Rows::Maintenance(windows) => {
            for w in windows {
                sqlx::query(
                    "INSERT INTO maintenance (id, title, starts_ms, ends_ms, components_json, created_ms, cancelled)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(w.window.id)
                .bind(&w.window.title)
                .bind(w.window.starts_ms)
                .bind(w.window.ends_ms)
                .bind(components_json(&w.window.components))
                .bind(w.created_ms)
                .bind(w.cancelled as i16)
                .execute(&mut **tx)
                .await?;
            }
            resume_ids(tx, "maintenance").await?;
        }
        Rows::Incidents(incidents) => {
            for i in incidents {
                sqlx::query(
                    "INSERT INTO incidents (id, title, impact, components_json, status, started_ms, resolved_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(i.id)
                .bind(&i.title)
                .bind(i.impact.as_str())
                .bind(components_json(&i.components))
                .bind(i.status.as_str())
                .bind(i.started_ms)
                .bind(i.resolved_ms)
                .execute(&mut **tx)
                .await?;
                // The timeline is newest first; written oldest first, so ids keep its order.
                for u in i.updates.iter().rev() {
                    sqlx::query("INSERT INTO incident_updates (incident_id, at_ms, status, message) VALUES ($1, $2, $3, $4)")
                        .bind(i.id)
                        .bind(u.at_ms)
                        .bind(u.status.as_str())
                        .bind(&u.message)
                        .execute(&mut **tx)
                        .await?;
                }
            }
            resume_ids(tx, "incidents").await?;
        }
        Rows::AdminSessions(sessions) => {
            for (id, s) in sessions {
                sqlx::query("INSERT INTO admin_sessions (id_sha256, csrf, expires_ms) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(&s.csrf)
                    .bind(s.expires_ms)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Rows::LoginFailures(failures) => {
            for (client, f) in failures {
                sqlx::query("INSERT INTO login_failures (client, window_start_ms, failures) VALUES ($1, $2, $3)")
                    .bind(client)
                    .bind(f.window_start_ms)
                    .bind(f.failures.min(i32::MAX as u32) as i32)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Rows::Subscribers(subscribers) => {
            super::outbox::insert_subscribers(tx, subscribers).await?;
            resume_ids(tx, "subscribers").await?;
        }
    }
    Ok(())
}

/// After rows were written with their ids: new rows get ids above them.
async fn resume_ids(tx: &mut Transaction<'_, Postgres>, table: &str) -> Result<(), sqlx::Error> {
    let sql = format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}");
    sqlx::query(&sql).execute(&mut **tx).await?;
    Ok(())
}
