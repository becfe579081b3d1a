//! Sessions, looked up with their account in one round trip.

use async_trait::async_trait;
use sqlx::Row;
use steward_core::account::Account;
use steward_core::ports::{SessionStore, StoreResult};
use steward_core::secret::SecretHash;
use steward_core::session::Session;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::account_from_row;
use crate::{SqlStore, Ts, backend};

#[async_trait]
impl SessionStore for SqlStore {
    async fn create_session(&self, s: &Session, verified_hash: &str) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            sqlx::query(
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
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
            .map_err(backend)
        })
    }

    async fn session_by_token(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Option<(Session, Account)>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query(
                "SELECT s.id AS session_id, s.token_hash, s.created_at AS session_created_at, s.last_seen_at,
                        s.expires_at, s.remember, s.ip, s.user_agent,
                        a.id, a.email, a.username, a.password_hash, a.email_verified_at, a.created_at
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
                let token: Vec<u8> = r.try_get("token_hash")?;
                let session = Session {
                    id: r.try_get("session_id")?,
                    account_id: account.id,
                    token_hash: SecretHash(
                        token
                            .try_into()
                            .map_err(|_| sqlx::Error::Decode("token hash length".into()))?,
                    ),
                    created_at: r.try_get::<Ts, _>("session_created_at")?.0,
                    last_seen_at: r.try_get::<Ts, _>("last_seen_at")?.0,
                    expires_at: r.try_get::<Ts, _>("expires_at")?.0,
                    remember: r.try_get("remember")?,
                    ip: r.try_get("ip")?,
                    user_agent: r.try_get("user_agent")?,
                };
                Ok((session, account))
            })
            .transpose()
            .map_err(backend)
        })
    }

    async fn delete_session(&self, id: Uuid) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            sqlx::query("DELETE FROM sessions WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(backend)
        })
    }

    async fn delete_sessions_except(
        &self,
        account_id: Uuid,
        keep: Option<Uuid>,
    ) -> StoreResult<u64> {
        on_db!(self, write, |pool| {
            sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND ($2 IS NULL OR id <> $2)")
                .bind(account_id)
                .bind(keep)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(backend)
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
