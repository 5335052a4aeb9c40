//! Whole tables in SQLite, for `statuscast copy` (see `store::copy`).

use super::incidents::Which;
use super::SqliteStore;
use crate::server::store::copy::{Rows, Table};
use crate::server::store::rows::RollupRow;
use crate::server::store::rows::{
    components_json, login_failures_of, result_of, rollup_of, session_of, stored_window_of, ResultColumns, RollupColumns,
    StoredWindowColumns,
};
use crate::server::store::{Span, StoreError};
use sqlx::{QueryBuilder, Sqlite, Transaction};

impl SqliteStore {
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
                let rows: Vec<ResultColumns> =
                    sqlx::query_as("SELECT component, at_ms, level, latency_ms FROM check_results ORDER BY at_ms")
                        .fetch_all(&self.pool)
                        .await
                        .map_err(doing)?;
                Rows::CheckResults(rows.into_iter().map(result_of).collect())
            }
            Table::CheckRollups => {
                let rows: Vec<RollupColumns> = sqlx::query_as(
                    "SELECT component, span, start_ms, samples, operational, worst_level, latency_sum, latency_count,
                            latency_max, minutes FROM check_rollups ORDER BY component, span, start_ms",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(doing)?;
                Rows::CheckRollups(rows.into_iter().map(rollup_of).collect::<Result<_, _>>()?)
            }
            Table::Maintenance => {
                let rows: Vec<StoredWindowColumns> = sqlx::query_as(
                    "SELECT id, title, starts_ms, ends_ms, components_json, created_ms, cancelled FROM maintenance ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(doing)?;
                Rows::Maintenance(rows.into_iter().map(stored_window_of).collect::<Result<_, _>>()?)
            }
            Table::Incidents => Rows::Incidents(self.select_incidents(Which::All, i64::MAX).await?),
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
                    sqlx::query_as("SELECT client, window_start_ms, failures FROM login_failures ORDER BY client")
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

async fn insert(tx: &mut Transaction<'_, Sqlite>, rows: &Rows) -> Result<(), sqlx::Error> {
    match rows {
        Rows::EngineState(None) => {}
        Rows::EngineState(Some(state)) => {
            let json = state.operator_override.as_ref().map(|o| serde_json::to_string(o).expect("serialises"));
            sqlx::query("INSERT INTO engine_state (id, reserved_version, override_json) VALUES (1, ?, ?)")
                .bind(state.version as i64)
                .bind(json)
                .execute(&mut **tx)
                .await?;
        }
        Rows::CheckResults(results) => super::history::insert_results(tx, results).await?,
        Rows::CheckRollups(rollups) => {
            // Minutes first: the trigger that counts a minute into its hour and day then finds
            // none, and their copied counts stay as they were.
            let (minutes, rest): (Vec<&RollupRow>, Vec<&RollupRow>) = rollups.iter().partition(|r| r.span == Span::Minute);
            for chunk in minutes.chunks(3000).chain(rest.chunks(3000)) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO check_rollups (component, span, start_ms, samples, operational, worst_level, latency_sum,
                                                latency_count, latency_max, minutes) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.component)
                        .push_bind(r.span.name())
                        .push_bind(r.start_ms)
                        .push_bind(r.samples)
                        .push_bind(r.operational)
                        .push_bind(r.worst_level)
                        .push_bind(r.latency_sum)
                        .push_bind(r.latency_count)
                        .push_bind(r.latency_max)
                        .push_bind(r.minutes);
                });
                q.build().execute(&mut **tx).await?;
            }
        }
        Rows::Maintenance(windows) => {
            for w in windows {
                sqlx::query(
                    "INSERT INTO maintenance (id, title, starts_ms, ends_ms, components_json, created_ms, cancelled)
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(w.window.id)
                .bind(&w.window.title)
                .bind(w.window.starts_ms)
                .bind(w.window.ends_ms)
                .bind(components_json(&w.window.components))
                .bind(w.created_ms)
                .bind(w.cancelled as i64)
                .execute(&mut **tx)
                .await?;
            }
        }
        Rows::Incidents(incidents) => {
            for i in incidents {
                sqlx::query(
                    "INSERT INTO incidents (id, title, impact, components_json, status, started_ms, resolved_ms)
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
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
                    sqlx::query("INSERT INTO incident_updates (incident_id, at_ms, status, message) VALUES (?, ?, ?, ?)")
                        .bind(i.id)
                        .bind(u.at_ms)
                        .bind(u.status.as_str())
                        .bind(&u.message)
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Rows::AdminSessions(sessions) => {
            for (id, s) in sessions {
                sqlx::query("INSERT INTO admin_sessions (id_sha256, csrf, expires_ms) VALUES (?, ?, ?)")
                    .bind(id)
                    .bind(&s.csrf)
                    .bind(s.expires_ms)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Rows::LoginFailures(failures) => {
            for (client, f) in failures {
                sqlx::query("INSERT INTO login_failures (client, window_start_ms, failures) VALUES (?, ?, ?)")
                    .bind(client)
                    .bind(f.window_start_ms)
                    .bind(f.failures as i64)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Rows::Subscribers(subscribers) => {
            super::outbox::insert_subscribers(tx, subscribers).await?;
        }
    }
    Ok(())
}
