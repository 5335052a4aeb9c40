//! `statuscast copy`: everything one store holds, moved into another (SQLite → PostgreSQL
//! when a deployment outgrows one machine, or back), table by table through the [`Store`]
//! trait, so any two backends can be copied between. Each table is written in one
//! transaction; a target that holds anything is refused unless told to replace it.

use super::rows::RollupRow;
use super::{LoginFailures, PersistedState, ResultRow, Store, StoreError, StoredSession};
use crate::model::{Incident, MaintenanceWindow};

/// The tables, in the order they are copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    EngineState,
    CheckResults,
    CheckRollups,
    Maintenance,
    Incidents,
    AdminSessions,
    LoginFailures,
    /// Viewers' subscriptions (the outbox's events and deliveries are not copied: copy when
    /// none are pending).
    Subscribers,
}

impl Table {
    pub const ALL: [Table; 8] = [
        Table::EngineState,
        Table::CheckResults,
        Table::CheckRollups,
        Table::Maintenance,
        Table::Incidents,
        Table::AdminSessions,
        Table::LoginFailures,
        Table::Subscribers,
    ];

    /// The database tables its rows live in, children first (the order to empty them).
    pub fn sql_tables(self) -> &'static [&'static str] {
        match self {
            Table::Incidents => &["incident_updates", "incidents"],
            Table::EngineState => &["engine_state"],
            Table::CheckResults => &["check_results"],
            Table::CheckRollups => &["check_rollups"],
            Table::Maintenance => &["maintenance"],
            Table::AdminSessions => &["admin_sessions"],
            Table::LoginFailures => &["login_failures"],
            Table::Subscribers => &["subscribers"],
        }
    }

    /// Its name in the database (incidents include their updates' table).
    pub fn name(self) -> &'static str {
        match self {
            Table::EngineState => "engine_state",
            Table::CheckResults => "check_results",
            Table::CheckRollups => "check_rollups",
            Table::Maintenance => "maintenance",
            Table::Incidents => "incidents",
            Table::AdminSessions => "admin_sessions",
            Table::LoginFailures => "login_failures",
            Table::Subscribers => "subscribers",
        }
    }
}

/// A maintenance window with what only the store keeps.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredWindow {
    pub window: MaintenanceWindow,
    pub created_ms: i64,
    pub cancelled: bool,
}

/// One table's rows, whole.
#[derive(Clone, Debug, PartialEq)]
pub enum Rows {
    EngineState(Option<PersistedState>),
    CheckResults(Vec<ResultRow>),
    CheckRollups(Vec<RollupRow>),
    Maintenance(Vec<StoredWindow>),
    /// With their timelines, ids kept.
    Incidents(Vec<Incident>),
    AdminSessions(Vec<(String, StoredSession)>),
    LoginFailures(Vec<(String, LoginFailures)>),
    /// With when each was last asked to confirm.
    Subscribers(Vec<(super::outbox::Subscriber, i64)>),
}

impl Rows {
    pub fn table(&self) -> Table {
        match self {
            Rows::EngineState(_) => Table::EngineState,
            Rows::CheckResults(_) => Table::CheckResults,
            Rows::CheckRollups(_) => Table::CheckRollups,
            Rows::Maintenance(_) => Table::Maintenance,
            Rows::Incidents(_) => Table::Incidents,
            Rows::AdminSessions(_) => Table::AdminSessions,
            Rows::LoginFailures(_) => Table::LoginFailures,
            Rows::Subscribers(_) => Table::Subscribers,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Rows::EngineState(s) => s.is_some() as usize,
            Rows::CheckResults(v) => v.len(),
            Rows::CheckRollups(v) => v.len(),
            Rows::Maintenance(v) => v.len(),
            Rows::Incidents(v) => v.len(),
            Rows::AdminSessions(v) => v.len(),
            Rows::LoginFailures(v) => v.len(),
            Rows::Subscribers(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a copy did not happen (or stopped).
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the target is not empty ({0}); pass --force to replace what it holds")]
    NotEmpty(String),
    #[error("copying {table}: {source}")]
    Table { table: &'static str, source: StoreError },
}

/// Copies every table of `from` into `to`; with `replace`, what `to` holds is replaced (each
/// table in the same transaction as its new rows). Returns the rows copied per table.
pub async fn copy(from: &dyn Store, to: &dyn Store, replace: bool) -> Result<Vec<(Table, usize)>, CopyError> {
    let failed = |table: Table| move |source| CopyError::Table { table: table.name(), source };
    if !replace {
        let mut held = Vec::new();
        for table in Table::ALL {
            let n = to.count(table).await.map_err(failed(table))?;
            if n > 0 {
                held.push(format!("{}: {n} rows", table.name()));
            }
        }
        if !held.is_empty() {
            return Err(CopyError::NotEmpty(held.join(", ")));
        }
    }
    let mut copied = Vec::new();
    for table in Table::ALL {
        let rows = from.export(table).await.map_err(failed(table))?;
        to.import(&rows, replace).await.map_err(failed(table))?;
        copied.push((table, rows.len()));
    }
    Ok(copied)
}
