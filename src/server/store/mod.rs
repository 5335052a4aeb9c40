//! Durable storage: the [`Store`] interface the rest of the server uses, and its types. The
//! embedded default is [`SqliteStore`] (one file in the data directory); [`PgStore`] is the
//! shared engine for deployments that outgrow one machine. [`url::open`] picks one from
//! `--database-url`; [`copy`] moves everything from one to the other. Both pass the same
//! behaviour tests (`contract.rs`).
//!
//! Every write is committed (and, for SQLite, synced) when its method returns, so a caller
//! can acknowledge it. A write that fails leaves nothing half-written (one transaction each).
//!
//! History retention: raw check results are kept for 24 hours; per-minute rollups for 48
//! hours (the response-time chart); per-hour for 35 days; per-day for 400 days (the 90-day
//! uptime bars). Rollups are updated as results arrive; `prune` deletes what is past its
//! window, so the database does not grow without bound.

#[cfg(test)]
mod contract;
pub mod copy;
mod error;
pub mod legacy;
pub mod outbox;
pub mod postgres;
pub mod rows;
mod sqlite;
pub mod url;

pub use error::StoreError;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use crate::model::{Impact, Incident, IncidentStatus, Level, MaintenanceWindow, Override};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub const RAW_RETENTION_MS: i64 = 24 * 3_600_000;
pub const MINUTE_RETENTION_MS: i64 = 48 * 3_600_000;
pub const HOUR_RETENTION_MS: i64 = 35 * 86_400_000;
pub const DAY_RETENTION_MS: i64 = 400 * 86_400_000;

/// What `prune` deletes, on every backend: each statement (`$1`, which SQLite and PostgreSQL
/// both take) with the oldest time it keeps, relative to `now_ms`.
pub(crate) fn prune_steps(now_ms: i64) -> [(&'static str, i64); 4] {
    [
        ("DELETE FROM check_results WHERE at_ms < $1", now_ms - RAW_RETENTION_MS),
        ("DELETE FROM check_rollups WHERE span = 'minute' AND start_ms < $1", now_ms - MINUTE_RETENTION_MS),
        ("DELETE FROM check_rollups WHERE span = 'hour' AND start_ms < $1", now_ms - HOUR_RETENTION_MS),
        ("DELETE FROM check_rollups WHERE span = 'day' AND start_ms < $1", now_ms - DAY_RETENTION_MS),
    ]
}

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
    /// Hours and days: how many of their minutes had results (0: not known, from before
    /// this was counted). Minutes: 1.
    pub minutes: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Span {
    Minute,
    Hour,
    Day,
}

impl Span {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Span::Minute => "minute",
            Span::Hour => "hour",
            Span::Day => "day",
        }
    }
    pub fn named(name: &str) -> Option<Span> {
        [Span::Minute, Span::Hour, Span::Day].into_iter().find(|s| s.name() == name)
    }
    pub fn millis(self) -> i64 {
        match self {
            Span::Minute => 60_000,
            Span::Hour => 3_600_000,
            Span::Day => 86_400_000,
        }
    }
}

/// A validated new incident (see `server::operator`).
#[derive(Clone, Debug, PartialEq)]
pub struct NewIncident {
    pub title: String,
    pub impact: Impact,
    pub components: Vec<String>,
    pub status: IncidentStatus,
    pub message: String,
}

/// A validated update of an incident; `impact` changes it when given.
#[derive(Clone, Debug, PartialEq)]
pub struct NewUpdate {
    pub status: IncidentStatus,
    pub message: String,
    pub impact: Option<Impact>,
}

/// Why an update was not written.
#[derive(Debug, thiserror::Error)]
pub enum UpdateRefused {
    #[error("no such incident")]
    NotFound,
    #[error("the incident is resolved; it takes no more updates")]
    Resolved,
    #[error(transparent)]
    Failed(#[from] StoreError),
}

/// A validated new maintenance window (see `server::operator`).
#[derive(Clone, Debug, PartialEq)]
pub struct NewMaintenance {
    pub title: String,
    pub starts_ms: i64,
    pub ends_ms: i64,
    pub components: Vec<String>,
}

/// An admin session (stored by the SHA-256 of its id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSession {
    pub csrf: String,
    pub expires_ms: i64,
}

/// Failed admin logins from one client address in its current window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginFailures {
    pub window_start_ms: i64,
    pub failures: u32,
}

/// The engine's durable state: the reserved snapshot version and the operator override.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistedState {
    pub version: u64,
    #[serde(rename = "override", default, skip_serializing_if = "Option::is_none")]
    pub operator_override: Option<Override>,
}

/// What the server needs from storage.
#[async_trait::async_trait]
pub trait Store: outbox::Outbox + Send + Sync {
    /// Whether the database answers and is the one opened at start (`/readyz`).
    async fn ready(&self) -> Result<(), StoreError>;

    // The engine's state: the version reservation and the operator override.
    async fn load_state(&self) -> Result<PersistedState, StoreError>;
    async fn save_state(&self, state: &PersistedState) -> Result<(), StoreError>;

    // Check history.
    /// Records results and updates their rollups, in one transaction.
    async fn record(&self, rows: &[ResultRow]) -> Result<(), StoreError>;
    /// Buckets of `span` for a component from `since_ms` on, oldest first. Periods without
    /// results are absent: no data is unknown, not up.
    async fn history(&self, component: &str, span: Span, since_ms: i64) -> Result<Vec<Bucket>, StoreError> {
        let mut by_component = self.history_of(&[component.to_string()], span, since_ms, span.millis()).await?;
        Ok(by_component.remove(component).unwrap_or_default())
    }
    /// The same for each of these components, by component, with buckets of `span` merged
    /// into buckets of `step_ms` (a multiple of the span's length).
    async fn history_of(
        &self,
        components: &[String],
        span: Span,
        since_ms: i64,
        step_ms: i64,
    ) -> Result<HashMap<String, Vec<Bucket>>, StoreError>;
    /// Deletes history past its retention; returns how many rows went.
    async fn prune(&self, now_ms: i64) -> Result<u64, StoreError>;

    // Incidents.
    /// Stores an incident with its first update.
    async fn open_incident(&self, new: &NewIncident, now_ms: i64) -> Result<Incident, StoreError>;
    /// Adds an update (moving the incident to its status); a resolved incident takes none.
    async fn update_incident(&self, id: i64, update: &NewUpdate, now_ms: i64) -> Result<Incident, UpdateRefused>;
    async fn incident(&self, id: i64) -> Result<Option<Incident>, StoreError>;
    /// Not resolved, newest first.
    async fn active_incidents(&self) -> Result<Vec<Incident>, StoreError>;
    /// Resolved, most recently resolved first, after `(resolved_ms, id)` in that order
    /// (`(i64::MAX, 0)` for the first page); at most `limit`.
    async fn resolved_incidents(&self, after: (i64, i64), limit: i64) -> Result<Vec<Incident>, StoreError>;
    /// Active at some time since `since_ms`, newest first.
    async fn incidents_since(&self, since_ms: i64) -> Result<Vec<Incident>, StoreError>;

    // Maintenance windows.
    async fn add_maintenance(&self, new: &NewMaintenance, now_ms: i64) -> Result<MaintenanceWindow, StoreError>;
    /// Not cancelled and not over at `now_ms`, soonest first.
    async fn current_maintenance(&self, now_ms: i64) -> Result<Vec<MaintenanceWindow>, StoreError>;
    /// Not cancelled (over, active or to come), the latest start first; at most `limit`.
    async fn recent_maintenance(&self, limit: i64) -> Result<Vec<MaintenanceWindow>, StoreError>;
    /// False if there is no such window that is not over.
    async fn cancel_maintenance(&self, id: i64, now_ms: i64) -> Result<bool, StoreError>;

    // Admin sessions, by the SHA-256 of their id.
    async fn add_session(&self, id_sha256: &str, session: &StoredSession) -> Result<(), StoreError>;
    /// The session, if it exists and has not expired at `now_ms`.
    async fn session(&self, id_sha256: &str, now_ms: i64) -> Result<Option<StoredSession>, StoreError>;
    async fn end_session(&self, id_sha256: &str) -> Result<(), StoreError>;
    async fn prune_sessions(&self, now_ms: i64) -> Result<u64, StoreError>;

    // Failed admin logins per client address (the policy is `http::admin::session`'s).
    async fn login_failures(&self, client: &str) -> Result<Option<LoginFailures>, StoreError>;
    /// Counts one failure, in the client's window if it began less than `window_ms` before
    /// `now_ms`, else in a new window starting now. One statement, so instances counting at
    /// once do not lose a failure.
    async fn add_login_failure(&self, client: &str, now_ms: i64, window_ms: i64) -> Result<(), StoreError>;
    async fn clear_login_failures(&self, client: &str) -> Result<(), StoreError>;
    /// Deletes windows that began before `before_ms`.
    async fn prune_login_failures(&self, before_ms: i64) -> Result<u64, StoreError>;

    // Whole tables, for `statuscast copy`.
    async fn count(&self, table: copy::Table) -> Result<i64, StoreError>;
    async fn export(&self, table: copy::Table) -> Result<copy::Rows, StoreError>;
    /// Writes the rows (ids kept) in one transaction; with `replace`, the table's rows are
    /// deleted first in that transaction.
    async fn import(&self, rows: &copy::Rows, replace: bool) -> Result<(), StoreError>;
}
