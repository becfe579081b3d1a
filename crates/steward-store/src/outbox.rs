//! The mail outbox: messages are queued in the same transaction as the change
//! that causes them, and claimed by the sender with a lease so that several
//! nodes never send one message twice at the same time.

use async_trait::async_trait;
use sqlx::Row;
use steward_core::mail::OutgoingMail;
use steward_core::ports::{OutboxStore, QueuedMail, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::enqueue_in_tx;
use crate::{Db, SqlStore, Ts, backend};

/// Longest delivery error kept.
const MAX_ERROR: usize = 500;

macro_rules! queued_from_row {
    ($r:expr) => {{
        let r = $r;
        QueuedMail {
            id: r.try_get("id")?,
            attempts: r.try_get("attempts")?,
            mail: OutgoingMail {
                kind: r.try_get("kind")?,
                to: r.try_get("recipient")?,
                subject: r.try_get("subject")?,
                text: r.try_get("body_text")?,
                html: r.try_get("body_html")?,
                unsubscribe: r.try_get("list_unsubscribe")?,
            },
        }
    }};
}

#[async_trait]
impl OutboxStore for SqlStore {
    async fn enqueue_mail(&self, mail: &OutgoingMail, now: OffsetDateTime) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            enqueue_in_tx!(tx, mail, now).map_err(backend)?;
            tx.commit().await.map_err(backend)
        })
    }

    async fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: i64,
    ) -> StoreResult<Vec<QueuedMail>> {
        // Same statement on both; PostgreSQL adds row locks that skip rows another node holds.
        const SQLITE: &str = "UPDATE mail_outbox SET locked_until = $1, attempts = attempts + 1
             WHERE id IN (SELECT id FROM mail_outbox
                          WHERE next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until <= $2)
                          ORDER BY next_attempt_at LIMIT $3)
             RETURNING id, kind, recipient, subject, body_text, body_html, attempts, list_unsubscribe";
        const POSTGRES: &str = "UPDATE mail_outbox SET locked_until = $1, attempts = attempts + 1
             WHERE id IN (SELECT id FROM mail_outbox
                          WHERE next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until <= $2)
                          ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING id, kind, recipient, subject, body_text, body_html, attempts, list_unsubscribe";
        let sql = match self.db {
            Db::Sqlite { .. } => SQLITE,
            Db::Postgres(_) => POSTGRES,
        };
        on_db!(self, write, |pool| {
            let rows = sqlx::query(sql)
                .bind(Ts(now + lease))
                .bind(Ts(now))
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(backend)?;
            rows.iter()
                .map(|r| -> Result<QueuedMail, sqlx::Error> { Ok(queued_from_row!(r)) })
                .collect::<Result<_, _>>()
                .map_err(backend)
        })
    }

    async fn mail_sent(&self, id: Uuid) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            sqlx::query("DELETE FROM mail_outbox WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(backend)
        })
    }

    async fn mail_failed(
        &self,
        id: Uuid,
        retry_at: OffsetDateTime,
        error: &str,
    ) -> StoreResult<()> {
        let error: String = error.chars().take(MAX_ERROR).collect();
        on_db!(self, write, |pool| {
            sqlx::query("UPDATE mail_outbox SET next_attempt_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3")
                .bind(Ts(retry_at))
                .bind(&error)
                .bind(id)
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(backend)
        })
    }

    async fn pending_mail(&self) -> StoreResult<i64> {
        on_db!(self, read, |pool| {
            sqlx::query("SELECT COUNT(*) AS n FROM mail_outbox")
                .fetch_one(pool)
                .await
                .and_then(|r| r.try_get::<i64, _>("n"))
                .map_err(backend)
        })
    }
}
