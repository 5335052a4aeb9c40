//! Check history in SQLite: raw results and their per-minute, -hour and -day rollups.

use super::{level_code, level_of, SqliteStore};
use crate::server::store::StoreError;
use crate::server::store::{Bucket, ResultRow, Span, DAY_RETENTION_MS, HOUR_RETENTION_MS, MINUTE_RETENTION_MS, RAW_RETENTION_MS};
use sqlx::Row;

/// A bucket from the row's columns `start_ms, samples, operational, worst_level, latency_sum,
/// latency_count, latency_max, minutes`, from index 1 (after the component).
fn bucket_of(r: &sqlx::sqlite::SqliteRow) -> Bucket {
    let at = 1;
    let count: i64 = r.get(at + 5);
    Bucket {
        start_ms: r.get(at),
        samples: r.get(at + 1),
        operational: r.get(at + 2),
        worst_level: level_of(r.get(at + 3)),
        latency_avg_ms: (count > 0).then(|| r.get::<i64, _>(at + 4) as f64 / count as f64),
        latency_max_ms: (count > 0).then(|| r.get(at + 6)),
        minutes: r.get(at + 7),
    }
}

impl SqliteStore {
    /// Records results and updates their rollups, in one transaction. Rollups are summed in
    /// memory first, so a batch costs a few multi-row statements, not one per result.
    pub async fn record(&self, rows: &[ResultRow]) -> Result<(), StoreError> {
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
        let mut tx = self.pool.begin().await?;
        for chunk in rows.chunks(4000) {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO check_results (component, at_ms, level, latency_ms) ");
            q.push_values(chunk, |mut b, r| {
                b.push_bind(&r.component)
                    .push_bind(r.at_ms)
                    .push_bind(level_code(r.level))
                    .push_bind(r.latency_ms.map(|l| l as i64));
            });
            q.build().execute(&mut *tx).await?;
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
            q.build().execute(&mut *tx).await?;
        }
        Ok(tx.commit().await?)
    }

    /// Buckets of `span` from `since_ms` on for each of `components`, merged into buckets of
    /// `step_ms` (in SQL, so a day of minutes comes back as 288 five-minute rows), by
    /// component, oldest first.
    pub async fn history_of(
        &self,
        components: &[String],
        span: Span,
        since_ms: i64,
        step_ms: i64,
    ) -> Result<std::collections::HashMap<String, Vec<Bucket>>, StoreError> {
        let step = step_ms.max(span.millis());
        let mut out: std::collections::HashMap<String, Vec<Bucket>> = Default::default();
        for chunk in components.chunks(500) {
            let mut q = sqlx::QueryBuilder::new("SELECT component, start_ms - start_ms % ");
            q.push_bind(step).push(
                " AS step_start, SUM(samples), SUM(operational), MAX(worst_level), SUM(latency_sum), SUM(latency_count),
                   MAX(latency_max), SUM(CASE span WHEN 'minute' THEN 1 ELSE minutes END)
                 FROM check_rollups WHERE span = ",
            );
            q.push_bind(span.name()).push(" AND start_ms >= ").push_bind(since_ms - since_ms.rem_euclid(step));
            q.push(" AND component IN (");
            let mut list = q.separated(", ");
            for c in chunk {
                list.push_bind(c);
            }
            q.push(") GROUP BY component, step_start ORDER BY component, step_start");
            let rows = q.build().fetch_all(&self.pool).await?;
            for r in &rows {
                out.entry(r.get(0)).or_default().push(bucket_of(r));
            }
        }
        Ok(out)
    }

    /// Deletes what is past its retention window (relative to `now_ms`).
    pub async fn prune(&self, now_ms: i64) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut deleted = 0;
        let steps: [(&str, i64); 4] = [
            ("DELETE FROM check_results WHERE at_ms < ?", now_ms - RAW_RETENTION_MS),
            ("DELETE FROM check_rollups WHERE span = 'minute' AND start_ms < ?", now_ms - MINUTE_RETENTION_MS),
            ("DELETE FROM check_rollups WHERE span = 'hour' AND start_ms < ?", now_ms - HOUR_RETENTION_MS),
            ("DELETE FROM check_rollups WHERE span = 'day' AND start_ms < ?", now_ms - DAY_RETENTION_MS),
        ];
        for (sql, before) in steps {
            deleted += sqlx::query(sql).bind(before).execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Level;
    use crate::server::store::Store;

    #[tokio::test]
    async fn results_roll_up_per_minute_hour_and_day() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
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
        assert_eq!((days[0].minutes, days[1].minutes), (2, 1), "distinct minutes with results");
        // A later batch in a minute already seen does not count it again; a new one does.
        store
            .record(&[row(t0 + 40_000, Level::Operational, Some(5)), row(t0 + 125_000, Level::Operational, None)])
            .await
            .unwrap();
        let days = store.history("api", Span::Day, t0).await.unwrap();
        assert_eq!(days[0].minutes, 3);
        assert_eq!(store.history("api", Span::Hour, t0).await.unwrap()[0].minutes, 3);
        assert!(store.history("other", Span::Day, t0).await.unwrap().is_empty(), "no data is not uptime");
        let of = store.history_of(&["api".into(), "other".into()], Span::Day, t0, Span::Day.millis()).await.unwrap();
        assert_eq!((of["api"].len(), of.get("other")), (2, None));
        assert_eq!(of["api"], days, "by day, as history() reads them");
        assert!(store.history_of(&["other".into()], Span::Day, t0, Span::Day.millis()).await.unwrap().is_empty());
        // Minutes merged into 5-minute steps: the first three minutes (five results) are one.
        let five = store.history_of(&["api".into()], Span::Minute, t0, 300_000).await.unwrap();
        let b = &five["api"][0];
        assert_eq!((b.start_ms, b.samples, b.operational, b.worst_level, b.minutes), (t0, 5, 4, Level::MajorOutage, 3));
        assert_eq!((b.latency_avg_ms, b.latency_max_ms), (Some(15.0), Some(30)), "weighted by results");

        // Retention: a day and a half later the raw rows and the first minutes are gone.
        let deleted = store.prune(t0 + day + day / 2 + 49 * 3_600_000).await.unwrap();
        assert!(deleted >= 3, "{deleted}");
        assert!(store.history("api", Span::Minute, t0).await.unwrap().is_empty());
        assert_eq!(store.history("api", Span::Day, t0).await.unwrap().len(), 2, "days are kept");
    }
}
