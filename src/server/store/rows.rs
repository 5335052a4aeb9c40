//! What every backend stores the same way: level codes, the rollups a batch of results adds,
//! and the columns of buckets, incidents and maintenance windows as read back. Each backend
//! runs its own SQL and hands the plain column tuples here, so the meaning of a stored row is
//! written once.

use super::copy::StoredWindow;
use super::{Bucket, LoginFailures, ResultRow, Span, StoreError, StoredSession};
use crate::model::{Incident, IncidentUpdate, Level, MaintenanceWindow};
use std::collections::BTreeMap;

/// A level as stored: ordered so that `MAX` is the worst (maintenance counts as up).
pub fn level_code(l: Level) -> i64 {
    match l {
        Level::Operational => 0,
        Level::UnderMaintenance => 1,
        Level::DegradedPerformance => 2,
        Level::PartialOutage => 3,
        Level::MajorOutage => 4,
    }
}

pub fn level_of(code: i64) -> Level {
    match code {
        0 => Level::Operational,
        1 => Level::UnderMaintenance,
        2 => Level::DegradedPerformance,
        3 => Level::PartialOutage,
        _ => Level::MajorOutage,
    }
}

/// One stored rollup bucket, whole (what `statuscast copy` moves).
#[derive(Clone, Debug, PartialEq)]
pub struct RollupRow {
    pub component: String,
    pub span: Span,
    pub start_ms: i64,
    pub samples: i64,
    pub operational: i64,
    pub worst_level: i64,
    pub latency_sum: i64,
    pub latency_count: i64,
    pub latency_max: i64,
    pub minutes: i64,
}

/// The rollups a batch of results adds to, summed in memory, so a batch costs a few
/// multi-row upserts rather than one per result. `minutes` is left to the database (a
/// trigger counts each minute row's first insert into its hour and day).
pub fn rollups_of(rows: &[ResultRow]) -> Vec<RollupRow> {
    let mut sums: BTreeMap<(&str, &'static str, i64), RollupRow> = BTreeMap::new();
    for r in rows {
        let level = level_code(r.level);
        for span in [Span::Minute, Span::Hour, Span::Day] {
            let start_ms = r.at_ms - r.at_ms.rem_euclid(span.millis());
            let a = sums.entry((r.component.as_str(), span.name(), start_ms)).or_insert_with(|| RollupRow {
                component: r.component.clone(),
                span,
                start_ms,
                samples: 0,
                operational: 0,
                worst_level: 0,
                latency_sum: 0,
                latency_count: 0,
                latency_max: 0,
                minutes: 0,
            });
            a.samples += 1;
            a.operational += (level <= 1) as i64;
            a.worst_level = a.worst_level.max(level);
            if let Some(l) = r.latency_ms {
                a.latency_sum += l as i64;
                a.latency_count += 1;
                a.latency_max = a.latency_max.max(l as i64);
            }
        }
    }
    // Day and hour rows before minute rows ("day" < "hour" < "minute"): a minute's first
    // insert finds its hour and day to count itself into.
    sums.into_values().collect()
}

/// `component, step_start, samples, operational, worst_level, latency_sum, latency_count,
/// latency_max, minutes`: a history query's row.
pub type BucketColumns = (String, i64, i64, i64, i64, i64, i64, i64, i64);

pub fn bucket_of(c: BucketColumns) -> (String, Bucket) {
    let (component, start_ms, samples, operational, worst, latency_sum, latency_count, latency_max, minutes) = c;
    let bucket = Bucket {
        start_ms,
        samples,
        operational,
        worst_level: level_of(worst),
        latency_avg_ms: (latency_count > 0).then(|| latency_sum as f64 / latency_count as f64),
        latency_max_ms: (latency_count > 0).then_some(latency_max),
        minutes,
    };
    (component, bucket)
}

/// Components as stored: a JSON list of ids.
pub fn components_json(components: &[String]) -> String {
    serde_json::to_string(components).expect("a list of strings serialises")
}

fn components_of(json: &str, what: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("stored {what} has unreadable components: {e}")))
}

fn parse<T: std::str::FromStr>(v: &str, what: &str) -> Result<T, StoreError> {
    v.parse().map_err(|_| StoreError::Corrupt(format!("stored incident has an unreadable {what} {v:?}")))
}

/// `id, title, impact, components_json, status, started_ms, resolved_ms`.
pub type IncidentColumns = (i64, String, String, String, String, i64, Option<i64>);
/// `at_ms, status, message`, newest first.
pub type UpdateColumns = (i64, String, String);

pub fn incident_of(c: IncidentColumns, updates: Vec<UpdateColumns>) -> Result<Incident, StoreError> {
    let (id, title, impact, components, status, started_ms, resolved_ms) = c;
    Ok(Incident {
        id,
        title,
        impact: parse(&impact, "impact")?,
        components: components_of(&components, &format!("incident {id}"))?,
        status: parse(&status, "status")?,
        started_ms,
        resolved_ms,
        updates: updates
            .into_iter()
            .map(|(at_ms, status, message)| Ok(IncidentUpdate { at_ms, status: parse(&status, "status")?, message }))
            .collect::<Result<_, StoreError>>()?,
    })
}

/// `id, title, starts_ms, ends_ms, components_json`.
pub type WindowColumns = (i64, String, i64, i64, String);

pub fn window_of(c: WindowColumns) -> Result<MaintenanceWindow, StoreError> {
    let (id, title, starts_ms, ends_ms, components) = c;
    Ok(MaintenanceWindow { id, title, starts_ms, ends_ms, components: components_of(&components, "maintenance window")? })
}

// Whole rows, as `statuscast copy` reads them (every integer column read as BIGINT).

/// `component, at_ms, level, latency_ms` of `check_results`.
pub type ResultColumns = (String, i64, i64, Option<i64>);

pub fn result_of((component, at_ms, level, latency): ResultColumns) -> ResultRow {
    ResultRow { component, at_ms, level: level_of(level), latency_ms: latency.map(|l| l.clamp(0, u32::MAX as i64) as u32) }
}

/// `component, span, start_ms, samples, operational, worst_level, latency_sum, latency_count,
/// latency_max, minutes` of `check_rollups`.
pub type RollupColumns = (String, String, i64, i64, i64, i64, i64, i64, i64, i64);

pub fn rollup_of(c: RollupColumns) -> Result<RollupRow, StoreError> {
    let (component, span, start_ms, samples, operational, worst_level, latency_sum, latency_count, latency_max, minutes) = c;
    let span = Span::named(&span).ok_or_else(|| StoreError::Corrupt(format!("unknown rollup span {span:?}")))?;
    Ok(RollupRow {
        component,
        span,
        start_ms,
        samples,
        operational,
        worst_level,
        latency_sum,
        latency_count,
        latency_max,
        minutes,
    })
}

/// `id, title, starts_ms, ends_ms, components_json, created_ms, cancelled` of `maintenance`.
pub type StoredWindowColumns = (i64, String, i64, i64, String, i64, i64);

pub fn stored_window_of(c: StoredWindowColumns) -> Result<StoredWindow, StoreError> {
    let (id, title, starts_ms, ends_ms, components, created_ms, cancelled) = c;
    Ok(StoredWindow { window: window_of((id, title, starts_ms, ends_ms, components))?, created_ms, cancelled: cancelled != 0 })
}

/// `id_sha256, csrf, expires_ms` of `admin_sessions`.
pub fn session_of((id, csrf, expires_ms): (String, String, i64)) -> (String, StoredSession) {
    (id, StoredSession { csrf, expires_ms })
}

/// `window_start_ms, failures` of `login_failures`.
pub fn login_failures_of((window_start_ms, failures): (i64, i64)) -> LoginFailures {
    LoginFailures { window_start_ms, failures: failures.clamp(0, u32::MAX as i64) as u32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_codes_round_trip_and_order_by_badness() {
        for l in Level::ALL {
            assert_eq!(level_of(level_code(l)), l);
        }
        assert!(level_code(Level::UnderMaintenance) < level_code(Level::DegradedPerformance));
    }

    #[test]
    fn a_batch_sums_into_one_row_per_bucket_days_and_hours_first() {
        let row = |at, level, latency| ResultRow { component: "api".into(), at_ms: at, level, latency_ms: latency };
        let sums = rollups_of(&[row(1_000, Level::Operational, Some(10)), row(2_000, Level::MajorOutage, None)]);
        assert_eq!(sums.iter().map(|r| r.span).collect::<Vec<_>>(), [Span::Day, Span::Hour, Span::Minute]);
        let m = &sums[2];
        assert_eq!((m.samples, m.operational, m.worst_level, m.latency_sum, m.latency_count), (2, 1, 4, 10, 1));
    }
}
