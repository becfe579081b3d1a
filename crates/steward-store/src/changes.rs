//! The change feed between nodes: PostgreSQL `NOTIFY` sent in the transaction
//! that ends sessions or changes an account (so it goes out only on commit),
//! heard by every node's `LISTEN`. SQLite serves one node, which needs no feed.
//! A quiet listener sends itself a heartbeat, so a connection that died without
//! an error is noticed within seconds rather than trusted forever.

use async_trait::async_trait;
use std::time::{Duration, Instant};

use sqlx::PgPool;
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

/// Payload of the heartbeat a listener sends itself (not an account id).
const PING: &str = "ping";
/// Quiet time after which a listener checks its connection with a heartbeat; a
/// heartbeat unanswered for as long again means the connection died silently
/// (NAT timeout, failover), and the feed is reported broken.
const QUIET: Duration = Duration::from_secs(5);

struct PgChanges {
    listener: PgListener,
    pool: PgPool,
    /// When the unanswered heartbeat was sent.
    pinged: Option<Instant>,
}

#[async_trait]
impl ChangeListener for PgChanges {
    async fn next(&mut self) -> StoreResult<Uuid> {
        loop {
            let heard = match tokio::time::timeout(QUIET, self.listener.try_recv()).await {
                Ok(result) => result.map_err(backend)?,
                Err(_quiet) => {
                    if self.pinged.is_some_and(|at| at.elapsed() >= QUIET) {
                        return Err(StoreError::Backend(
                            "change feed silent: heartbeat not heard back".into(),
                        ));
                    }
                    if self.pinged.is_none() {
                        sqlx::query("SELECT pg_notify($1, $2)")
                            .bind(CHANNEL)
                            .bind(PING)
                            .execute(&self.pool)
                            .await
                            .map_err(backend)?;
                        self.pinged = Some(Instant::now());
                    }
                    continue;
                }
            };
            // `try_recv` reports a lost connection as `None` rather than reconnecting
            // silently: notices sent meanwhile are lost, and the caller must know.
            let note =
                heard.ok_or_else(|| StoreError::Backend("change feed connection lost".into()))?;
            // Any notice (ours, another node's heartbeat, a change) proves the line is up.
            self.pinged = None;
            if note.payload() == PING {
                continue;
            }
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
                Ok(Some(Box::new(PgChanges {
                    listener,
                    pool: pool.clone(),
                    pinged: None,
                })))
            }
        }
    }
}
