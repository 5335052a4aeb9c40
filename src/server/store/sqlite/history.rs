//! Check history in SQLite: raw results and their per-minute, -hour and -day rollups.

use super::SqliteStore;
use crate::server::store::rows::{bucket_of, level_code, rollups_of, BucketColumns};
use crate::server::store::{prune_steps, StoreError};
use crate::server::store::{Bucket, ResultRow, Span};

/// Writes raw results (multi-row inserts of 4,000), inside the caller's transaction.
pub(super) async fn insert_results(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>, rows: &[ResultRow]) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(4000) {
        let mut q = sqlx::QueryBuilder::new("INSERT INTO check_results (component, at_ms, level, latency_ms) ");
        q.push_values(chunk, |mut b, r| {
            b.push_bind(&r.component).push_bind(r.at_ms).push_bind(level_code(r.level)).push_bind(r.latency_ms.map(|l| l as i64));
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

impl SqliteStore {
    /// Records results and updates their rollups, in one transaction. Rollups are summed in
    /// memory first, so a batch costs a few multi-row statements, not one per result.
    pub async fn record(&self, rows: &[ResultRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let rollups = rollups_of(rows);
        let mut tx = self.pool.begin().await?;
        insert_results(&mut tx, rows).await?;
        for chunk in rollups.chunks(3000) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO check_rollups (component, span, start_ms, samples, operational, worst_level, latency_sum, latency_count, latency_max) ",
            );
            q.push_values(chunk, |mut b, a| {
                b.push_bind(&a.component)
                    .push_bind(a.span.name())
                    .push_bind(a.start_ms)
                    .push_bind(a.samples)
                    .push_bind(a.operational)
                    .push_bind(a.worst_level)
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
            let rows: Vec<BucketColumns> = q.build_query_as().fetch_all(&self.pool).await?;
            for r in rows {
                let (component, bucket) = bucket_of(r);
                out.entry(component).or_default().push(bucket);
            }
        }
        Ok(out)
    }

    /// Deletes what is past its retention window (relative to `now_ms`).
    pub async fn prune(&self, now_ms: i64) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut deleted = 0;
        for (sql, before) in prune_steps(now_ms) {
            deleted += sqlx::query(sql).bind(before).execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
