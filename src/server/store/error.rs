//! What can go wrong in storage, for every backend.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or reached.
    #[error("{target}: cannot open the database: {source}")]
    Open { target: String, source: sqlx::Error },
    /// The schema could not be brought up to date.
    #[error("{file}: migrations failed: {source}")]
    Migrate { file: String, source: sqlx::migrate::MigrateError },
    /// A statement failed; `doing` says what the store was doing.
    #[error("{doing}: {source}")]
    Database { doing: &'static str, source: sqlx::Error },
    /// A file beside the database (the data directory, a legacy state file).
    #[error("{path}: {doing}: {source}")]
    File { path: String, doing: &'static str, source: std::io::Error },
    /// Stored data that cannot be read back (never overwritten by the store).
    #[error("{0}")]
    Corrupt(String),
    /// The database file was deleted or replaced under the running server: writes would go
    /// to a file nobody will open again, so they are refused until it is restored.
    #[error("{0}: the database file was deleted or replaced while statuscast was running; writes are refused (restore it and restart)")]
    Lost(String),
}

impl StoreError {
    /// A `map_err` for a statement: `.map_err(StoreError::doing("writing the incident"))`.
    pub fn doing(doing: &'static str) -> impl Fn(sqlx::Error) -> StoreError + Copy {
        move |source| StoreError::Database { doing, source }
    }

    /// The database cannot be reached now (down, restarting, the connection lost, the pool
    /// out of connections): nothing was written, and the same call may succeed later. The
    /// HTTP layer answers these with 503.
    pub fn is_unavailable(&self) -> bool {
        let source = match self {
            StoreError::Open { .. } | StoreError::Lost(_) => return true,
            StoreError::Database { source, .. } => source,
            _ => return false,
        };
        match source {
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
            sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
            // PostgreSQL's connection exceptions (08…) and shutdowns (57P01–57P03).
            sqlx::Error::Database(e) => e.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
            _ => false,
        }
    }

    pub fn open(target: &Path, source: sqlx::Error) -> StoreError {
        StoreError::Open { target: target.display().to_string(), source }
    }

    pub fn file(path: &Path, doing: &'static str, source: std::io::Error) -> StoreError {
        StoreError::File { path: path.display().to_string(), doing, source }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(source: sqlx::Error) -> Self {
        StoreError::Database { doing: "querying the database", source }
    }
}
