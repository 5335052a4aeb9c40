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

pub const RAW_RETENTION_MS: i64 = 24 * 3_600_000;
pub const MINUTE_RETENTION_MS: i64 = 48 * 3_600_000;
pub const HOUR_RETENTION_MS: i64 = 35 * 86_400_000;
pub const DAY_RETENTION_MS: i64 = 400 * 86_400_000;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// One check result to record.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultRow {
    pub component: String,
    pub at_ms: i64,
    pub level: Level,
    pub latency_ms: Option<u32>,
}

/// A rolled-up bucket of results.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Bucket {
    pub start_ms: i64,
    pub samples: i64,
    /// Results that were operational (or under maintenance).
    pub operational: i64,
    pub worst_level: Level,
    pub latency_avg_ms: Option<f64>,
    pub latency_max_ms: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Span {
    Minute,
    Hour,
    Day,
}

impl Span {
    fn name(self) -> &'static str {
        match self {
            Span::Minute => "minute",
            Span::Hour => "hour",
            Span::Day => "day",
        }
    }
    fn millis(self) -> i64 {
        match self {
            Span::Minute => 60_000,
            Span::Hour => 3_600_000,
            Span::Day => 86_400_000,
        }
    }
}

fn level_code(l: Level) -> i64 {
    match l {
        Level::Operational => 0,
        Level::UnderMaintenance => 1,
        Level::DegradedPerformance => 2,
        Level::PartialOutage => 3,
        Level::MajorOutage => 4,
    }
}

fn level_of(code: i64) -> Level {
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

    /// Records results and updates their rollups, in one transaction. Rollups are summed in
    /// memory first, so a batch costs a few multi-row statements, not one per result.
    pub async fn record(&self, rows: &[ResultRow]) -> Result<(), String> {
        if rows.is_empty() {
            return Ok(());
        }
        #[derive(Default)]
        struct Agg {
            samples: i64,
            operational: i64,
            worst: i64,
            latency_sum: i64,
            latency_count: i64,
            latency_max: i64,
        }
        let mut rollups: std::collections::BTreeMap<(&str, &'static str, i64), Agg> = Default::default();
        for r in rows {
            let level = level_code(r.level);
            for span in [Span::Minute, Span::Hour, Span::Day] {
                let start = r.at_ms - r.at_ms.rem_euclid(span.millis());
                let a = rollups.entry((r.component.as_str(), span.name(), start)).or_default();
                a.samples += 1;
                a.operational += (level <= 1) as i64;
                a.worst = a.worst.max(level);
                if let Some(l) = r.latency_ms {
                    a.latency_sum += l as i64;
                    a.latency_count += 1;
                    a.latency_max = a.latency_max.max(l as i64);
                }
            }
        }
        let mut tx = self.pool.begin().await.map_err(|e| e.to_string())?;
        for chunk in rows.chunks(4000) {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO check_results (component, at_ms, level, latency_ms) ");
            q.push_values(chunk, |mut b, r| {
                b.push_bind(&r.component)
                    .push_bind(r.at_ms)
                    .push_bind(level_code(r.level))
                    .push_bind(r.latency_ms.map(|l| l as i64));
            });
            q.build().execute(&mut *tx).await.map_err(|e| e.to_string())?;
        }
        let rollups: Vec<_> = rollups.into_iter().collect();
        for chunk in rollups.chunks(3000) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO check_rollups (component, span, start_ms, samples, operational, worst_level, latency_sum, latency_count, latency_max) ",
            );
            q.push_values(chunk, |mut b, ((component, span, start), a)| {
                b.push_bind(*component)
                    .push_bind(*span)
                    .push_bind(*start)
                    .push_bind(a.samples)
                    .push_bind(a.operational)
                    .push_bind(a.worst)
                    .push_bind(a.latency_sum)
                    .push_bind(a.latency_count)
                    .push_bind(a.latency_max);
            });
            q.push(
                " ON CONFLICT (component, span, start_ms) DO UPDATE SET
                   samples = samples + excluded.samples,
                   operational = operational + excluded.operational,
                   worst_level = MAX(worst_level, excluded.worst_level),
                   latency_sum = latency_sum + excluded.latency_sum,
                   latency_count = latency_count + excluded.latency_count,
                   latency_max = MAX(latency_max, excluded.latency_max)",
            );
            q.build().execute(&mut *tx).await.map_err(|e| e.to_string())?;
        }
        tx.commit().await.map_err(|e| e.to_string())
    }

    /// Buckets of `span` for a component from `since_ms` on, oldest first. Buckets with no
    /// results are absent: no data is unknown, not up.
    pub async fn history(&self, component: &str, span: Span, since_ms: i64) -> Result<Vec<Bucket>, String> {
        let rows = sqlx::query(
            "SELECT start_ms, samples, operational, worst_level, latency_sum, latency_count, latency_max
             FROM check_rollups WHERE component = ? AND span = ? AND start_ms >= ? ORDER BY start_ms",
        )
        .bind(component)
        .bind(span.name())
        .bind(since_ms - since_ms.rem_euclid(span.millis()))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| e.to_string())?;
        Ok(rows
            .iter()
            .map(|r| {
                let count: i64 = r.get(5);
                Bucket {
                    start_ms: r.get(0),
                    samples: r.get(1),
                    operational: r.get(2),
                    worst_level: level_of(r.get(3)),
                    latency_avg_ms: (count > 0).then(|| r.get::<i64, _>(4) as f64 / count as f64),
                    latency_max_ms: (count > 0).then(|| r.get(6)),
                }
            })
            .collect())
    }

    /// Deletes what is past its retention window (relative to `now_ms`).
    pub async fn prune(&self, now_ms: i64) -> Result<u64, String> {
        let mut tx = self.pool.begin().await.map_err(|e| e.to_string())?;
        let mut deleted = 0;
        let steps: [(&str, i64); 4] = [
            ("DELETE FROM check_results WHERE at_ms < ?", now_ms - RAW_RETENTION_MS),
            ("DELETE FROM check_rollups WHERE span = 'minute' AND start_ms < ?", now_ms - MINUTE_RETENTION_MS),
            ("DELETE FROM check_rollups WHERE span = 'hour' AND start_ms < ?", now_ms - HOUR_RETENTION_MS),
            ("DELETE FROM check_rollups WHERE span = 'day' AND start_ms < ?", now_ms - DAY_RETENTION_MS),
        ];
        for (sql, before) in steps {
            deleted += sqlx::query(sql).bind(before).execute(&mut *tx).await.map_err(|e| e.to_string())?.rows_affected();
        }
        tx.commit().await.map_err(|e| e.to_string())?;
        Ok(deleted)
    }

    /// Adds a maintenance window; committed when this returns.
    pub async fn add_maintenance(
        &self,
        title: &str,
        starts_ms: i64,
        ends_ms: i64,
        components: &[String],
        now_ms: i64,
    ) -> Result<crate::server::maintenance::Window, String> {
        let json = serde_json::to_string(components).expect("serialises");
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO maintenance (title, starts_ms, ends_ms, components_json, created_ms) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(title)
        .bind(starts_ms)
        .bind(ends_ms)
        .bind(json)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| format!("writing the maintenance window: {e}"))?;
        Ok(crate::server::maintenance::Window { id, title: title.into(), starts_ms, ends_ms, components: components.to_vec() })
    }

    /// Windows not cancelled and not over at `now_ms`, soonest first.
    pub async fn current_maintenance(&self, now_ms: i64) -> Result<Vec<crate::server::maintenance::Window>, String> {
        let rows = sqlx::query(
            "SELECT id, title, starts_ms, ends_ms, components_json FROM maintenance
             WHERE cancelled = 0 AND ends_ms > ? ORDER BY starts_ms, id",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| e.to_string())?;
        rows.iter()
            .map(|r| {
                let json: String = r.get(4);
                Ok(crate::server::maintenance::Window {
                    id: r.get(0),
                    title: r.get(1),
                    starts_ms: r.get(2),
                    ends_ms: r.get(3),
                    components: serde_json::from_str(&json).map_err(|e| format!("stored window unreadable: {e}"))?,
                })
            })
            .collect()
    }

    /// Cancels a window that is not over; false if there is no such window.
    pub async fn cancel_maintenance(&self, id: i64, now_ms: i64) -> Result<bool, String> {
        let done = sqlx::query("UPDATE maintenance SET cancelled = 1 WHERE id = ? AND cancelled = 0 AND ends_ms > ?")
            .bind(id)
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(|e| e.to_string())?;
        Ok(done.rows_affected() == 1)
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

    #[tokio::test]
    async fn results_roll_up_per_minute_hour_and_day() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let day = 86_400_000;
        let t0 = 20_000 * day; // midnight UTC
        let row = |at, level, latency| ResultRow { component: "api".into(), at_ms: at, level, latency_ms: latency };
        store
            .record(&[
                row(t0 + 1_000, Level::Operational, Some(10)),
                row(t0 + 31_000, Level::Operational, Some(30)),
                row(t0 + 61_000, Level::MajorOutage, None),
                row(t0 + day + 5_000, Level::DegradedPerformance, Some(50)),
            ])
            .await
            .unwrap();
        let minutes = store.history("api", Span::Minute, t0).await.unwrap();
        assert_eq!(minutes.len(), 3);
        assert_eq!((minutes[0].samples, minutes[0].operational), (2, 2));
        assert_eq!(minutes[0].latency_avg_ms, Some(20.0));
        assert_eq!(minutes[1].worst_level, Level::MajorOutage);
        assert_eq!(minutes[1].latency_avg_ms, None);
        let days = store.history("api", Span::Day, t0).await.unwrap();
        assert_eq!(days.len(), 2);
        assert_eq!((days[0].samples, days[0].operational, days[0].worst_level), (3, 2, Level::MajorOutage));
        assert_eq!(days[0].latency_max_ms, Some(30));
        assert_eq!(days[1].worst_level, Level::DegradedPerformance);
        assert!(store.history("other", Span::Day, t0).await.unwrap().is_empty(), "no data is not uptime");

        // Retention: a day and a half later the raw rows and the first minutes are gone.
        let deleted = store.prune(t0 + day + day / 2 + 49 * 3_600_000).await.unwrap();
        assert!(deleted >= 3, "{deleted}");
        assert!(store.history("api", Span::Minute, t0).await.unwrap().is_empty());
        assert_eq!(store.history("api", Span::Day, t0).await.unwrap().len(), 2, "days are kept");
    }
}
