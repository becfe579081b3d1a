//! The change feed between nodes: PostgreSQL `NOTIFY` sent in the transaction
//! that ends sessions or changes an account (so it goes out only on commit),
//! heard by every node's `LISTEN`. SQLite serves one node, which needs no feed.

use async_trait::async_trait;
use sqlx::postgres::PgListener;
use steward_core::error::StoreError;
use steward_core::ports::{ChangeFeed, ChangeListener, StoreResult};
use uuid::Uuid;

use crate::{Db, SqlStore, backend};

/// The notification channel; the payload is the account id.
pub(crate) const CHANNEL: &str = "steward_sessions";

/// Sends the change notice for an account inside an open transaction (PostgreSQL only).
macro_rules! notify_in_tx {
    ($store:expr, $tx:expr, $account:expr) => {
        if $store.backend() == crate::Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::changes::CHANNEL)
                .bind($account.to_string())
                .execute(&mut *$tx)
                .await
                .map_err(crate::backend)?;
        }
    };
}
pub(crate) use notify_in_tx;

struct PgChanges(PgListener);

#[async_trait]
impl ChangeListener for PgChanges {
    async fn next(&mut self) -> StoreResult<Uuid> {
        loop {
            // `try_recv` reports a lost connection as `None` rather than reconnecting
            // silently: notices sent meanwhile are lost, and the caller must know.
            let note = self
                .0
                .try_recv()
                .await
                .map_err(backend)?
                .ok_or_else(|| StoreError::Backend("change feed connection lost".into()))?;
            match note.payload().parse() {
                Ok(id) => return Ok(id),
                Err(_) => tracing::warn!(
                    payload = note.payload(),
                    "ignored a malformed change notice"
                ),
            }
        }
    }
}

#[async_trait]
impl ChangeFeed for SqlStore {
    async fn listen(&self) -> StoreResult<Option<Box<dyn ChangeListener>>> {
        match &self.db {
            Db::Sqlite { .. } => Ok(None),
            Db::Postgres(pool) => {
                let mut listener = PgListener::connect_with(pool).await.map_err(backend)?;
                listener.listen(CHANNEL).await.map_err(backend)?;
                Ok(Some(Box::new(PgChanges(listener))))
            }
        }
    }
}
