//! Sessions, looked up with their account in one round trip. Every write that
//! ends sessions tells the other nodes in the same transaction.

use async_trait::async_trait;
use sqlx::Row;
use steward_core::account::Account;
use steward_core::activity::SecurityEvent;
use steward_core::mail::OutgoingMail;
use steward_core::ports::{SessionStore, StoreResult};
use steward_core::secret::SecretHash;
use steward_core::session::{AppSession, Session};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::{account_from_row, enqueue_in_tx};
use crate::activity::record_in_tx;
use crate::changes::notify_in_tx;
use crate::{SqlStore, Ts, backend};

/// Decodes a session from a row whose session columns are named as in the table,
/// except `id` and `created_at`, read from `$id` and `$created`.
macro_rules! session_from_row {
    ($row:expr, $id:literal, $created:literal) => {{
        let r = $row;
        let token: Vec<u8> = r.try_get("token_hash")?;
        Session {
            id: r.try_get($id)?,
            account_id: r.try_get("account_id")?,
            token_hash: SecretHash(
                token
                    .try_into()
                    .map_err(|_| sqlx::Error::Decode("token hash length".into()))?,
            ),
            created_at: r.try_get::<Ts, _>($created)?.0,
            last_seen_at: r.try_get::<Ts, _>("last_seen_at")?.0,
            expires_at: r.try_get::<Ts, _>("expires_at")?.0,
            remember: r.try_get("remember")?,
            ip: r.try_get("ip")?,
            user_agent: r.try_get("user_agent")?,
            app: match r.try_get::<Option<String>, _>("client_id")? {
                None => None,
                Some(client_id) => Some(AppSession {
                    client_id,
                    client_name: r
                        .try_get::<Option<String>, _>("client_name")?
                        .unwrap_or_default(),
                    scope: r.try_get::<Option<String>, _>("scope")?.unwrap_or_default(),
                    access_expires_at: r
                        .try_get::<Option<Ts>, _>("access_expires_at")?
                        .map_or(OffsetDateTime::UNIX_EPOCH, |t| t.0),
                    auth_time: r
                        .try_get::<Option<Ts>, _>("auth_time")?
                        .map_or(OffsetDateTime::UNIX_EPOCH, |t| t.0),
                }),
            },
        }
    }};
}
pub(crate) use session_from_row;

#[async_trait]
impl SessionStore for SqlStore {
    async fn create_session(
        &self,
        s: &Session,
        verified_hash: &str,
        events: &[SecurityEvent],
        mail: Option<&OutgoingMail>,
    ) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, account_id, token_hash, created_at, last_seen_at, expires_at, remember, ip, user_agent)
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
                 WHERE EXISTS (SELECT 1 FROM accounts WHERE id = $2 AND password_hash = $10)",
            )
            .bind(s.id)
            .bind(s.account_id)
            .bind(&s.token_hash.0[..])
            .bind(Ts(s.created_at))
            .bind(Ts(s.last_seen_at))
            .bind(Ts(s.expires_at))
            .bind(s.remember)
            .bind(&s.ip)
            .bind(&s.user_agent)
            .bind(verified_hash)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected()
                == 1;
            if !inserted {
                return Ok(false);
            }
            for e in events {
                record_in_tx!(tx, e)?;
            }
            if let Some(m) = mail {
                enqueue_in_tx!(tx, m, s.created_at).map_err(backend)?;
            }
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn session_by_token(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Option<(Session, Account)>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query(
                "SELECT s.id AS session_id, s.created_at AS session_created_at, s.account_id, s.token_hash,
                        s.last_seen_at, s.expires_at, s.remember, s.ip, s.user_agent, s.client_id,
                        s.client_name, s.scope, s.access_expires_at, s.auth_time,
                        a.id, a.email, a.username, a.password_hash, a.email_verified_at, a.created_at,
                        a.password_changed_at
                 FROM sessions s JOIN accounts a ON a.id = s.account_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2",
            )
            .bind(&hash.0[..])
            .bind(Ts(now))
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
            row.map(|r| -> Result<(Session, Account), sqlx::Error> {
                let account = account_from_row!(&r);
                let session = session_from_row!(&r, "session_id", "session_created_at");
                Ok((session, account))
            })
            .transpose()
            .map_err(backend)
        })
    }

    async fn sessions_of(
        &self,
        account_id: Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Session>> {
        on_db!(self, read, |pool| {
            let rows = sqlx::query(
                "SELECT id, account_id, token_hash, created_at, last_seen_at, expires_at, remember, ip,
                        user_agent, client_id, client_name, scope, access_expires_at, auth_time
                 FROM sessions WHERE account_id = $1 AND expires_at > $2
                 ORDER BY last_seen_at DESC, id DESC",
            )
            .bind(account_id)
            .bind(Ts(now))
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            rows.iter()
                .map(|r| -> Result<Session, sqlx::Error> {
                    Ok(session_from_row!(r, "id", "created_at"))
                })
                .collect::<Result<_, _>>()
                .map_err(backend)
        })
    }

    async fn touch_session(
        &self,
        id: Uuid,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
        unless_after: OffsetDateTime,
    ) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            sqlx::query(
                "UPDATE sessions SET last_seen_at = $1, expires_at = $2
                 WHERE id = $3 AND last_seen_at <= $4 AND expires_at > $1",
            )
            .bind(Ts(now))
            .bind(Ts(expires_at))
            .bind(id)
            .bind(Ts(unless_after))
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
            .map_err(backend)
        })
    }

    async fn end_session(
        &self,
        account_id: Uuid,
        id: Uuid,
        event: Option<&SecurityEvent>,
    ) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            let ended = sqlx::query("DELETE FROM sessions WHERE id = $1 AND account_id = $2")
                .bind(id)
                .bind(account_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected()
                > 0;
            if !ended {
                return Ok(false);
            }
            if let Some(e) = event {
                record_in_tx!(tx, e)?;
            }
            notify_in_tx!(self, tx, account_id);
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn end_sessions_except(
        &self,
        account_id: Uuid,
        keep: Option<Uuid>,
        event: Option<&SecurityEvent>,
    ) -> StoreResult<u64> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            // A NULL `keep` matches no row, so every session ends.
            let ended = sqlx::query(
                "DELETE FROM sessions WHERE account_id = $1 AND ($2 IS NULL OR id <> $2)",
            )
            .bind(account_id)
            .bind(keep)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected();
            if ended == 0 {
                return Ok(0);
            }
            if let Some(e) = event {
                record_in_tx!(tx, &e.clone().detail(ended.to_string()))?;
            }
            notify_in_tx!(self, tx, account_id);
            tx.commit().await.map_err(backend)?;
            Ok(ended)
        })
    }

    async fn purge_expired_sessions(&self, now: OffsetDateTime) -> StoreResult<u64> {
        on_db!(self, write, |pool| {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(Ts(now))
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(backend)
        })
    }
}
