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
}

impl StoreError {
    /// A `map_err` for a statement: `.map_err(StoreError::doing("writing the incident"))`.
    pub fn doing(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| StoreError::Database { doing, source }
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
