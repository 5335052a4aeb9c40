//! The notifications' outbox in PostgreSQL (the statements are shared with SQLite: see
//! `store::outbox`). Rows read before a write are locked (`FOR UPDATE`); instances claiming
//! deliveries at once skip each other's rows (`SKIP LOCKED`), so each is sent by one.

use super::PgStore;

impl crate::server::store::outbox::Backend for PgStore {
    type Db = sqlx::Postgres;
}

impl PgStore {
    async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}

crate::server::store::outbox::outbox_methods!(PgStore, " FOR UPDATE", " FOR UPDATE SKIP LOCKED");
