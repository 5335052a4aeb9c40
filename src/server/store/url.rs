//! `--database-url` / `STATUSCAST_DATABASE_URL`: which store to open. Absent, the SQLite file
//! `statuscast.db` in the data directory (the embedded default); `sqlite://PATH` another
//! SQLite file; `postgres://…` (or `postgresql://…`) a PostgreSQL database.

use super::{PgStore, SqliteStore, Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `None`: `<data_dir>/statuscast.db`, with the one-time import of a legacy `state.json`.
    Sqlite(Option<PathBuf>),
    Postgres(String),
}

/// A database URL that is not one statuscast can open; the message says what it takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadDatabaseUrl(String);

impl DatabaseUrl {
    pub fn parse(url: Option<&str>) -> Result<DatabaseUrl, BadDatabaseUrl> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else { return Ok(DatabaseUrl::Sqlite(None)) };
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() || path.contains('?') {
                return Err(BadDatabaseUrl(format!("{url:?}: expected sqlite://PATH, the path of the database file")));
            }
            return Ok(DatabaseUrl::Sqlite(Some(PathBuf::from(path))));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            url.parse::<sqlx::postgres::PgConnectOptions>()
                .map_err(|e| BadDatabaseUrl(format!("{}: not a PostgreSQL URL: {e}", redact(url))))?;
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        Err(BadDatabaseUrl(format!(
            "{}: unknown database; expected postgres://USER:PASSWORD@HOST:PORT/DATABASE or sqlite://PATH",
            redact(url)
        )))
    }

    /// As messages and logs name it: a PostgreSQL URL without its password.
    pub fn shown(&self, data_dir: &Path) -> String {
        match self {
            DatabaseUrl::Sqlite(None) => format!("sqlite://{}", data_dir.join("statuscast.db").display()),
            DatabaseUrl::Sqlite(Some(path)) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => redact(url),
        }
    }

    /// Opens the store (running its migrations).
    pub async fn open(&self, data_dir: &Path) -> Result<Arc<dyn Store>, StoreError> {
        Ok(match self {
            DatabaseUrl::Sqlite(None) => Arc::new(SqliteStore::open(data_dir).await?),
            DatabaseUrl::Sqlite(Some(path)) => Arc::new(SqliteStore::open_file(path, true).await?),
            DatabaseUrl::Postgres(url) => Arc::new(PgStore::open(url, &redact(url)).await?),
        })
    }
}

/// The URL with its password (if any) replaced by `***`.
fn redact(url: &str) -> String {
    match ::url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => match url.split_once('@') {
            Some((_, host)) => format!("postgres://***@{host}"),
            None => url.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_store() {
        assert_eq!(DatabaseUrl::parse(None).unwrap(), DatabaseUrl::Sqlite(None));
        assert_eq!(DatabaseUrl::parse(Some("  ")).unwrap(), DatabaseUrl::Sqlite(None));
        assert_eq!(DatabaseUrl::parse(Some("sqlite://data/x.db")).unwrap(), DatabaseUrl::Sqlite(Some("data/x.db".into())));
        assert_eq!(DatabaseUrl::parse(Some("sqlite:///var/x.db")).unwrap(), DatabaseUrl::Sqlite(Some("/var/x.db".into())));
        let pg = "postgres://sc:secret@db.internal:5432/status";
        assert_eq!(DatabaseUrl::parse(Some(pg)).unwrap(), DatabaseUrl::Postgres(pg.into()));
        assert!(matches!(DatabaseUrl::parse(Some("postgresql://localhost/x")).unwrap(), DatabaseUrl::Postgres(_)));
    }

    #[test]
    fn bad_urls_say_what_is_expected_and_never_show_the_password() {
        let e = DatabaseUrl::parse(Some("mysql://root:hunter2@db/x")).unwrap_err().to_string();
        assert!(e.contains("expected postgres://") && e.contains("sqlite://PATH"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let e = DatabaseUrl::parse(Some("postgres://u:hunter2@db:notaport/x")).unwrap_err().to_string();
        assert!(e.contains("not a PostgreSQL URL") && !e.contains("hunter2"), "{e}");
        assert!(DatabaseUrl::parse(Some("sqlite://")).unwrap_err().to_string().contains("expected sqlite://PATH"));
        let shown = DatabaseUrl::parse(Some("postgres://sc:secret@db:5432/status")).unwrap().shown(Path::new("data"));
        assert_eq!(shown, "postgres://sc:***@db:5432/status");
    }
}
