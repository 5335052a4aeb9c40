//! `statuscast copy --from URL --to URL [--force]`: everything one database holds (state,
//! check history, incidents, maintenance, sessions) into another, e.g. the embedded SQLite
//! file into PostgreSQL. Stop the servers that use `--from` first, so nothing is written to
//! it while it is read.

use crate::server::store::copy::{copy, CopyError};
use crate::server::store::url::{BadDatabaseUrl, DatabaseUrl};
use crate::server::store::StoreError;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum CopyCommandError {
    #[error("--from: {0}")]
    From(BadDatabaseUrl),
    #[error("--to: {0}")]
    To(BadDatabaseUrl),
    #[error("--from: {0}: no such database file")]
    Missing(String),
    #[error("--from and --to name the same database")]
    Same,
    #[error(transparent)]
    Open(#[from] StoreError),
    #[error(transparent)]
    Copy(#[from] CopyError),
}

pub async fn run(from: &str, to: &str, force: bool) -> Result<(), CopyCommandError> {
    let from = DatabaseUrl::parse(Some(from)).map_err(CopyCommandError::From)?;
    let to = DatabaseUrl::parse(Some(to)).map_err(CopyCommandError::To)?;
    if from == to {
        return Err(CopyCommandError::Same);
    }
    // Reading must not create an empty database where the user mistyped a path.
    let here = Path::new(".");
    if let DatabaseUrl::Sqlite(Some(path)) = &from {
        if !path.is_file() {
            return Err(CopyCommandError::Missing(path.display().to_string()));
        }
    }
    let started = std::time::Instant::now();
    let source = from.open(here).await?;
    let target = to.open(here).await?;
    let copied = copy(source.as_ref(), target.as_ref(), force).await?;
    for (table, rows) in &copied {
        println!("{:>16}: {rows} rows", table.name());
    }
    println!(
        "copied {} rows from {} to {} in {:.1} s",
        copied.iter().map(|(_, n)| n).sum::<usize>(),
        from.shown(here),
        to.shown(here),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
