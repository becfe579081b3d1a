//! Emailed single-use tokens: issue (voiding older ones), peek, and use up atomically.

use async_trait::async_trait;
use sqlx::Row;
use steward_core::activity::SecurityEvent;
use steward_core::mail::OutgoingMail;
use steward_core::ports::{EmailToken, StoreResult, TokenKind, TokenStore};
use steward_core::secret::SecretHash;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::enqueue_in_tx;
use crate::activity::record_in_tx;
use crate::changes::notify_in_tx;
use crate::{SqlStore, Ts, backend};

/// Voids the unused tokens of one kind of an account inside a transaction; how many.
macro_rules! void_in_tx {
    ($tx:expr, $account:expr, $kind:expr, $now:expr) => {
        sqlx::query(
            "UPDATE email_tokens SET used_at = $1 WHERE account_id = $2 AND kind = $3 AND used_at IS NULL",
        )
        .bind(Ts($now))
        .bind($account)
        .bind($kind.as_str())
        .execute(&mut *$tx)
        .await
        .map(|r| r.rows_affected())
        .map_err(backend)
    };
}
pub(crate) use void_in_tx;

/// Locks an account's row inside a transaction with a write that changes nothing
/// (portable: PostgreSQL locks the row, SQLite takes its one writer lock); with a
/// hash, only if the password is still that one. Whether the row was there to lock.
macro_rules! lock_account_in_tx {
    ($tx:expr, $account:expr, $hash:expr) => {
        sqlx::query(
            "UPDATE accounts SET password_hash = password_hash WHERE id = $1 AND ($2 IS NULL OR password_hash = $2)",
        )
        .bind($account)
        .bind($hash)
        .execute(&mut *$tx)
        .await
        .map(|r| r.rows_affected() == 1)
        .map_err(backend)
    };
}

#[async_trait]
impl TokenStore for SqlStore {
    async fn issue_token(
        &self,
        t: &EmailToken,
        mails: &[OutgoingMail],
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            // A newer link voids every older unused one of the same kind.
            sqlx::query(
                "DELETE FROM email_tokens WHERE account_id = $1 AND kind = $2 AND used_at IS NULL",
            )
            .bind(t.account_id)
            .bind(t.kind.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            sqlx::query(
                "INSERT INTO email_tokens (id, account_id, kind, token_hash, email_key, created_at, expires_at, new_email)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(t.id)
            .bind(t.account_id)
            .bind(t.kind.as_str())
            .bind(&t.hash.0[..])
            .bind(&t.email_key)
            .bind(Ts(t.created_at))
            .bind(Ts(t.expires_at))
            .bind(&t.new_email)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            for mail in mails {
                enqueue_in_tx!(tx, mail, now).map_err(backend)?;
            }
            tx.commit().await.map_err(backend)
        })
    }

    async fn issue_email_change(
        &self,
        t: &EmailToken,
        mails: &[OutgoingMail],
        session_id: Uuid,
        verified_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            // A write first: it takes the account's row lock (the whole database on
            // SQLite) and checks the password the person just re-entered is still the
            // one, so a password change, reset or revocation runs wholly before or after.
            let locked = lock_account_in_tx!(tx, t.account_id, Some(verified_hash))?;
            let live = sqlx::query(
                "SELECT 1 FROM sessions WHERE id = $1 AND account_id = $2 AND expires_at > $3",
            )
            .bind(session_id)
            .bind(t.account_id)
            .bind(Ts(now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?
            .is_some();
            if !locked || !live {
                return Ok(false);
            }
            sqlx::query(
                "DELETE FROM email_tokens WHERE account_id = $1 AND kind = $2 AND used_at IS NULL",
            )
            .bind(t.account_id)
            .bind(t.kind.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            sqlx::query(
                "INSERT INTO email_tokens (id, account_id, kind, token_hash, email_key, created_at, expires_at, new_email)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(t.id)
            .bind(t.account_id)
            .bind(t.kind.as_str())
            .bind(&t.hash.0[..])
            .bind(&t.email_key)
            .bind(Ts(t.created_at))
            .bind(Ts(t.expires_at))
            .bind(&t.new_email)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            for mail in mails {
                enqueue_in_tx!(tx, mail, now).map_err(backend)?;
            }
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn confirm_email_change(
        &self,
        hash: &SecretHash,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<Option<String>> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            let used = sqlx::query(
                "UPDATE email_tokens SET used_at = $1
                 WHERE token_hash = $2 AND kind = 'change_email' AND used_at IS NULL AND expires_at > $1
                   AND account_id = $3 AND new_email IS NOT NULL
                 RETURNING email_key, new_email",
            )
            .bind(Ts(now))
            .bind(&hash.0[..])
            .bind(event.account_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
            let Some(row) = used else {
                return Ok(None);
            };
            let key: String = row.try_get("email_key").map_err(backend)?;
            let email: String = row.try_get("new_email").map_err(backend)?;
            // A unique violation (another account took the address meanwhile) rolls
            // everything back, the token included, and maps to `EmailTaken`.
            sqlx::query(
                "UPDATE accounts SET email = $1, email_key = $2, email_verified_at = $3, updated_at = $3
                 WHERE id = $4",
            )
            .bind(&email)
            .bind(&key)
            .bind(Ts(now))
            .bind(event.account_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            // Every other unused link went to the old address, which is no longer the
            // account's: a reset or confirmation mailed there must not work any more.
            sqlx::query(
                "UPDATE email_tokens SET used_at = $1 WHERE account_id = $2 AND used_at IS NULL",
            )
            .bind(Ts(now))
            .bind(event.account_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            record_in_tx!(tx, event)?;
            notify_in_tx!(self, tx, event.account_id);
            tx.commit().await.map_err(backend)?;
            Ok(Some(email))
        })
    }

    async fn peek_token(
        &self,
        kind: TokenKind,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Uuid>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query(
                "SELECT t.account_id FROM email_tokens t JOIN accounts a ON a.id = t.account_id
                 WHERE t.token_hash = $1 AND t.kind = $2 AND t.used_at IS NULL AND t.expires_at > $3
                   AND (t.kind = 'change_email' OR t.email_key = a.email_key)",
            )
            .bind(&hash.0[..])
            .bind(kind.as_str())
            .bind(Ts(now))
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
            row.map(|r| r.try_get::<Uuid, _>("account_id"))
                .transpose()
                .map_err(backend)
        })
    }

    async fn confirm_email(
        &self,
        hash: &SecretHash,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            let used = sqlx::query(
                "UPDATE email_tokens SET used_at = $1
                 WHERE token_hash = $2 AND kind = 'verify_email' AND used_at IS NULL AND expires_at > $1
                   AND account_id = $3
                   AND email_key = (SELECT a.email_key FROM accounts a WHERE a.id = email_tokens.account_id)
                 RETURNING account_id, email_key",
            )
            .bind(Ts(now))
            .bind(&hash.0[..])
            .bind(event.account_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
            let Some(row) = used else {
                return Ok(false);
            };
            let account_id: Uuid = row.try_get("account_id").map_err(backend)?;
            let email_key: String = row.try_get("email_key").map_err(backend)?;
            // The token was sent to the current address (checked above); keep the first
            // confirmation time.
            sqlx::query(
                "UPDATE accounts SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $1
                 WHERE id = $2 AND email_key = $3",
            )
            .bind(Ts(now))
            .bind(account_id)
            .bind(&email_key)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            record_in_tx!(tx, event)?;
            // Other nodes' cached sessions still say "unconfirmed".
            notify_in_tx!(self, tx, account_id);
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn complete_reset(
        &self,
        hash: &SecretHash,
        phc: &str,
        mail: &OutgoingMail,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<Option<bool>> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            // Only a link sent to the account's current address resets its password.
            let used = sqlx::query(
                "UPDATE email_tokens SET used_at = $1
                 WHERE token_hash = $2 AND kind = 'reset_password' AND used_at IS NULL AND expires_at > $1
                   AND email_key = (SELECT a.email_key FROM accounts a WHERE a.id = email_tokens.account_id)
                 RETURNING account_id",
            )
            .bind(Ts(now))
            .bind(&hash.0[..])
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
            let Some(row) = used else {
                return Ok(None);
            };
            let account_id: Uuid = row.try_get("account_id").map_err(backend)?;
            sqlx::query("UPDATE accounts SET password_hash = $1, updated_at = $2, password_changed_at = $2 WHERE id = $3")
                .bind(phc)
                .bind(Ts(now))
                .bind(account_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            // A pending email change may be the intruder's: a reset cancels it.
            let cancelled = void_in_tx!(tx, account_id, TokenKind::ChangeEmail, now)?;
            enqueue_in_tx!(tx, mail, now).map_err(backend)?;
            record_in_tx!(tx, event)?;
            notify_in_tx!(self, tx, account_id);
            tx.commit().await.map_err(backend)?;
            Ok(Some(cancelled > 0))
        })
    }

    async fn void_tokens(
        &self,
        account_id: Uuid,
        kind: TokenKind,
        now: OffsetDateTime,
    ) -> StoreResult<u64> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            // Waits for a token being issued for this account to commit, so it is voided too.
            lock_account_in_tx!(tx, account_id, None::<&str>)?;
            let n = void_in_tx!(tx, account_id, kind, now)?;
            tx.commit().await.map_err(backend)?;
            Ok(n)
        })
    }
}
