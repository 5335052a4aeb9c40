//! Check history in PostgreSQL: raw results and their per-minute, -hour and -day rollups.

use super::PgStore;
use crate::server::store::rows::{bucket_of, level_code, rollups_of, BucketColumns, RollupRow};
use crate::server::store::{prune_steps, StoreError};
use crate::server::store::{Bucket, ResultRow, Span};
use sqlx::Row;
use std::collections::HashMap;

/// The upsert that adds rollups to the stored ones (inserting those not there yet), then
/// `$returning`.
macro_rules! upsert_sql {
    ($returning:literal) => {
        concat!(
            "INSERT INTO check_rollups AS r
                 (component, span, start_ms, samples, operational, worst_level, latency_sum, latency_count, latency_max, minutes)
             SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::BIGINT[], $5::BIGINT[], $6::SMALLINT[],
                                  $7::BIGINT[], $8::BIGINT[], $9::BIGINT[], $10::BIGINT[])
             ON CONFLICT (component, span, start_ms) DO UPDATE SET
                 samples = r.samples + excluded.samples,
                 operational = r.operational + excluded.operational,
                 worst_level = GREATEST(r.worst_level, excluded.worst_level),
                 latency_sum = r.latency_sum + excluded.latency_sum,
                 latency_count = r.latency_count + excluded.latency_count,
                 latency_max = GREATEST(r.latency_max, excluded.latency_max),
                 minutes = r.minutes + excluded.minutes ",
            $returning
        )
    };
}

impl PgStore {
    /// Records results and updates their rollups, in one transaction: one multi-row insert
    /// of the results, one upsert of the minutes they fall in, one of the hours and days
    /// (arrays unnested, so a batch of any size is three statements). An hour or day counts
    /// the minutes with results: the minute upsert says which of its rows are new.
    pub async fn record(&self, rows: &[ResultRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let doing = StoreError::doing("writing check results");
        let (minutes, mut longer): (Vec<RollupRow>, Vec<RollupRow>) =
            rollups_of(rows).into_iter().partition(|r| r.span == Span::Minute);
        let mut tx = self.pool.begin().await.map_err(doing)?;
        insert_results(&mut tx, rows).await.map_err(doing)?;
        // `xmax = 0`: the row was inserted by this statement, not updated.
        let upserted = upsert(upsert_sql!("RETURNING r.component, r.start_ms, (r.xmax = 0)"), &minutes)
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::doing("writing check rollups"))?;
        let mut new_minutes: HashMap<(&str, Span, i64), i64> = HashMap::new();
        for row in &upserted {
            let (component, start_ms, inserted): (&str, i64, bool) = (row.get(0), row.get(1), row.get(2));
            if inserted {
                for span in [Span::Hour, Span::Day] {
                    *new_minutes.entry((component, span, start_ms - start_ms.rem_euclid(span.millis()))).or_default() += 1;
                }
            }
        }
        for r in &mut longer {
            r.minutes = new_minutes.get(&(r.component.as_str(), r.span, r.start_ms)).copied().unwrap_or(0);
        }
        add_rollups(&mut tx, &longer).await.map_err(StoreError::doing("writing check rollups"))?;
        tx.commit().await.map_err(doing)
    }

    /// Buckets of `span` from `since_ms` on for each of `components`, merged into buckets of
    /// `step_ms` in SQL, by component, oldest first. One range scan of the primary key per
    /// component.
    pub async fn history_of(
        &self,
        components: &[String],
        span: Span,
        since_ms: i64,
        step_ms: i64,
    ) -> Result<HashMap<String, Vec<Bucket>>, StoreError> {
        let step = step_ms.max(span.millis());
        let rows: Vec<BucketColumns> = sqlx::query_as(
            "SELECT component, start_ms - start_ms % $1 AS step_start, SUM(samples)::BIGINT, SUM(operational)::BIGINT,
                    MAX(worst_level)::BIGINT, SUM(latency_sum)::BIGINT, SUM(latency_count)::BIGINT, MAX(latency_max),
                    SUM(CASE span WHEN 'minute' THEN 1 ELSE minutes END)::BIGINT
             FROM check_rollups WHERE component = ANY($2) AND span = $3 AND start_ms >= $4
             GROUP BY component, step_start ORDER BY component, step_start",
        )
        .bind(step)
        .bind(components)
        .bind(span.name())
        .bind(since_ms - since_ms.rem_euclid(step))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::doing("reading check history"))?;
        let mut out: HashMap<String, Vec<Bucket>> = HashMap::new();
        for r in rows {
            let (component, bucket) = bucket_of(r);
            out.entry(component).or_default().push(bucket);
        }
        Ok(out)
    }

    /// Deletes what is past its retention window (relative to `now_ms`).
    pub async fn prune(&self, now_ms: i64) -> Result<u64, StoreError> {
        let doing = StoreError::doing("pruning check history");
        let mut tx = self.pool.begin().await.map_err(doing)?;
        let mut deleted = 0;
        for (sql, before) in prune_steps(now_ms) {
            let done = sqlx::query(sql).bind(before).execute(&mut *tx).await;
            deleted += done.map_err(StoreError::doing("pruning check history"))?.rows_affected();
        }
        tx.commit().await.map_err(StoreError::doing("pruning check history"))?;
        Ok(deleted)
    }
}

/// Writes raw results (one statement, the columns as arrays), inside the caller's transaction.
pub(super) async fn insert_results(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    rows: &[ResultRow],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO check_results (component, at_ms, level, latency_ms)
         SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::SMALLINT[], $4::INTEGER[])",
    )
    .bind(rows.iter().map(|r| r.component.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.at_ms).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| level_code(r.level) as i16).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.latency_ms.map(|l| l.min(i32::MAX as u32) as i32)).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Adds rollups (their `minutes` included) to the stored ones, inserting those not there
/// yet, inside the caller's transaction.
pub(super) async fn add_rollups(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, rows: &[RollupRow]) -> Result<(), sqlx::Error> {
    upsert(upsert_sql!(""), rows).execute(&mut **tx).await?;
    Ok(())
}

/// `sql` (an [`upsert_sql!`]) with these rollups bound.
fn upsert<'a>(
    sql: &'static str,
    rollups: &'a [RollupRow],
) -> sqlx::query::Query<'a, sqlx::Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(sql)
        .bind(rollups.iter().map(|r| r.component.as_str()).collect::<Vec<_>>())
        .bind(rollups.iter().map(|r| r.span.name()).collect::<Vec<_>>())
        .bind(rollups.iter().map(|r| r.start_ms).collect::<Vec<_>>())
        .bind(rollups.iter().map(|r| r.samples).collect::<Vec<_>>())
        .bind(rollups.iter().map(|r| r.operational).collect::<Vec<_>>())
        .bind(rollups.iter().map(|r| r.worst_level as i16).collect::<Vec<_>>())
        .bind(rollups.iter().map(|r| r.latency_sum).collect::<Vec<_>>())
        .bind(rollups.iter().map(|r| r.latency_count).collect::<Vec<_>>())
        .bind(rollups.iter().map(|r| r.latency_max).collect::<Vec<_>>())
        .bind(rollups.iter().map(|r| r.minutes).collect::<Vec<_>>())
}
