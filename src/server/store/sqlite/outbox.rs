//! The notifications' outbox in SQLite (the statements are shared with PostgreSQL: see
//! `store::outbox`). Writers take the write lock at the start (`BEGIN IMMEDIATE`), so a
//! transaction that reads and then writes is never refused halfway.

use super::SqliteStore;

impl crate::server::store::outbox::Backend for SqliteStore {
    type Db = sqlx::Sqlite;
}

impl SqliteStore {
    async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }
}

crate::server::store::outbox::outbox_methods!(SqliteStore, "", "");
