//! Accounts and the consent ledger.

use async_trait::async_trait;
use sqlx::Row;
use steward_core::account::Account;
use steward_core::activity::SecurityEvent;
use steward_core::error::StoreError;
use steward_core::mail::OutgoingMail;
use steward_core::ports::{AccountStore, ConsentRecord, StoreResult, TokenKind};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::activity::record_in_tx;
use crate::changes::notify_in_tx;
use crate::tokens::void_in_tx;
use crate::{SqlStore, Ts, backend};

/// Most given-up usernames one account holds at once (the oldest are released first).
const MAX_USERNAME_HOLDS: i64 = 3;

/// Reads an [`Account`] from a row selected with `ACCOUNT_COLUMNS` (any backend).
macro_rules! account_from_row {
    ($row:expr) => {{
        let row = $row;
        Account {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            username: row.try_get("username")?,
            password_hash: row.try_get("password_hash")?,
            email_verified_at: row
                .try_get::<Option<Ts>, _>("email_verified_at")?
                .map(|t| t.0),
            created_at: row.try_get::<Ts, _>("created_at")?.0,
            password_changed_at: row
                .try_get::<Option<Ts>, _>("password_changed_at")?
                .map(|t| t.0),
        }
    }};
}
pub(crate) use account_from_row;

/// Appends a record to the consent ledger inside an open transaction.
macro_rules! consent_in_tx {
    ($tx:expr, $c:expr) => {{
        let c: &steward_core::ports::ConsentRecord = $c;
        sqlx::query(
            "INSERT INTO consents (id, account_id, purpose, legal_basis, notice_version, granted, method, ip_truncated, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(c.id)
        .bind(c.account_id)
        .bind(&c.purpose)
        .bind(&c.legal_basis)
        .bind(&c.notice_version)
        .bind(c.granted)
        .bind(&c.method)
        .bind(&c.ip_truncated)
        .bind(crate::Ts(c.at))
        .execute(&mut *$tx)
        .await
        .map_err(crate::backend)
    }};
}
pub(crate) use consent_in_tx;

/// Inserts the outbox row for `mail` inside an open transaction.
macro_rules! enqueue_in_tx {
    ($tx:expr, $mail:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO mail_outbox (id, kind, recipient, subject, body_text, body_html, created_at, next_attempt_at, attempts, list_unsubscribe)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 0, $8)",
        )
        .bind(Uuid::now_v7())
        .bind(&$mail.kind)
        .bind(&$mail.to)
        .bind(&$mail.subject)
        .bind(&$mail.text)
        .bind(&$mail.html)
        .bind(Ts($now))
        .bind(&$mail.unsubscribe)
        .execute(&mut *$tx)
        .await
    };
}
pub(crate) use enqueue_in_tx;

impl SqlStore {
    async fn account_where(&self, sql: &'static str, value: &str) -> StoreResult<Option<Account>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query(sql)
                .bind(value)
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            row.map(|r| -> Result<Account, sqlx::Error> { Ok(account_from_row!(&r)) })
                .transpose()
                .map_err(backend)
        })
    }
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn create_account(&self, new: &steward_core::ports::NewAccount) -> StoreResult<()> {
        let a = &new.account;
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            sqlx::query(
                "INSERT INTO accounts (id, email, email_key, username, password_hash, email_verified_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(a.id)
            .bind(&a.email)
            .bind(&new.email_key)
            .bind(&a.username)
            .bind(&a.password_hash)
            .bind(a.email_verified_at.map(Ts))
            .bind(Ts(a.created_at))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            for c in &new.consents {
                consent_in_tx!(tx, c)?;
            }
            let t = &new.verification;
            sqlx::query(
                "INSERT INTO email_tokens (id, account_id, kind, token_hash, email_key, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(t.id)
            .bind(t.account_id)
            .bind(t.kind.as_str())
            .bind(&t.hash.0[..])
            .bind(&t.email_key)
            .bind(Ts(t.created_at))
            .bind(Ts(t.expires_at))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            enqueue_in_tx!(tx, new.mail, a.created_at).map_err(backend)?;
            record_in_tx!(tx, &new.event)?;
            tx.commit().await.map_err(backend)
        })
    }

    async fn account_by_id(&self, id: Uuid) -> StoreResult<Option<Account>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query("SELECT id, email, username, password_hash, email_verified_at, created_at, password_changed_at FROM accounts WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            row.map(|r| -> Result<Account, sqlx::Error> { Ok(account_from_row!(&r)) })
                .transpose()
                .map_err(backend)
        })
    }

    async fn account_by_email(&self, email_key: &str) -> StoreResult<Option<Account>> {
        self.account_where(
            "SELECT id, email, username, password_hash, email_verified_at, created_at, password_changed_at FROM accounts WHERE email_key = $1",
            email_key,
        )
        .await
    }

    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        self.account_where(
            "SELECT id, email, username, password_hash, email_verified_at, created_at, password_changed_at FROM accounts WHERE username = $1",
            username,
        )
        .await
    }

    async fn email_keys_after(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<(Uuid, String, String)>> {
        on_db!(self, read, |pool| {
            let rows = sqlx::query(
                "SELECT id, email, email_key FROM accounts WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get("id")?,
                        r.try_get("email")?,
                        r.try_get("email_key")?,
                    ))
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(backend)
        })
    }

    async fn set_email_key(&self, account_id: Uuid, key: &str) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            sqlx::query("UPDATE accounts SET email_key = $1 WHERE id = $2")
                .bind(key)
                .bind(account_id)
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(backend)
        })
    }

    async fn update_password_hash(
        &self,
        account_id: Uuid,
        old: &str,
        new: &str,
    ) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
                "UPDATE accounts SET password_hash = $1 WHERE id = $2 AND password_hash = $3",
            )
            .bind(new)
            .bind(account_id)
            .bind(old)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(backend)
        })
    }

    async fn change_password(
        &self,
        account_id: Uuid,
        phc: &str,
        keep: Option<Uuid>,
        mail: &OutgoingMail,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            sqlx::query("UPDATE accounts SET password_hash = $1, updated_at = $2, password_changed_at = $2 WHERE id = $3")
                .bind(phc)
                .bind(Ts(now))
                .bind(account_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            // A NULL `keep` matches no row, so every session ends.
            sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND ($2 IS NULL OR id <> $2)")
                .bind(account_id)
                .bind(keep)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            sqlx::query("DELETE FROM email_tokens WHERE account_id = $1 AND kind = 'reset_password' AND used_at IS NULL")
                .bind(account_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            // Whoever asked to move the account to their address may hold a stolen
            // session: the owner changing the password cancels that.
            let cancelled = void_in_tx!(tx, account_id, TokenKind::ChangeEmail, now)?;
            enqueue_in_tx!(tx, mail, now).map_err(backend)?;
            record_in_tx!(tx, event)?;
            notify_in_tx!(self, tx, account_id);
            tx.commit().await.map_err(backend)?;
            Ok(cancelled > 0)
        })
    }

    async fn consents(&self, account_id: Uuid) -> StoreResult<Vec<ConsentRecord>> {
        on_db!(self, read, |pool| {
            let rows = sqlx::query(
                "SELECT id, account_id, purpose, legal_basis, notice_version, granted, method, ip_truncated, created_at
                 FROM consents WHERE account_id = $1 ORDER BY created_at, id",
            )
            .bind(account_id)
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            rows.iter()
                .map(|r| -> Result<ConsentRecord, sqlx::Error> {
                    Ok(ConsentRecord {
                        id: r.try_get("id")?,
                        account_id: r.try_get("account_id")?,
                        purpose: r.try_get("purpose")?,
                        legal_basis: r.try_get("legal_basis")?,
                        notice_version: r.try_get("notice_version")?,
                        granted: r.try_get("granted")?,
                        method: r.try_get("method")?,
                        ip_truncated: r.try_get("ip_truncated")?,
                        at: r.try_get::<Ts, _>("created_at")?.0,
                    })
                })
                .collect::<Result<_, _>>()
                .map_err(backend)
        })
    }

    async fn change_username(
        &self,
        account_id: Uuid,
        new: &str,
        hold_until: OffsetDateTime,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            let held_by_other = sqlx::query(
                "SELECT 1 FROM username_holds WHERE username = $1 AND until > $2 AND account_id <> $3",
            )
            .bind(new)
            .bind(Ts(now))
            .bind(account_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?
            .is_some();
            if held_by_other {
                return Err(StoreError::UsernameTaken);
            }
            let old: String = sqlx::query("SELECT username FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_one(&mut *tx)
                .await
                .and_then(|r| r.try_get("username"))
                .map_err(backend)?;
            // A unique violation here (someone has it) maps to `UsernameTaken`.
            sqlx::query("UPDATE accounts SET username = $1, updated_at = $2 WHERE id = $3")
                .bind(new)
                .bind(Ts(now))
                .bind(account_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            sqlx::query("DELETE FROM username_holds WHERE username = $1")
                .bind(new)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            sqlx::query(
                "INSERT INTO username_holds (username, account_id, until) VALUES ($1, $2, $3)
                 ON CONFLICT (username) DO UPDATE SET account_id = excluded.account_id, until = excluded.until",
            )
            .bind(&old)
            .bind(account_id)
            .bind(Ts(hold_until))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            // Renaming in a loop must not squat names: an account holds its few latest.
            sqlx::query(
                "DELETE FROM username_holds WHERE account_id = $1 AND username NOT IN
                   (SELECT username FROM username_holds WHERE account_id = $1 ORDER BY until DESC, username LIMIT $2)",
            )
            .bind(account_id)
            .bind(MAX_USERNAME_HOLDS)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            record_in_tx!(tx, event)?;
            notify_in_tx!(self, tx, account_id);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn username_hold(
        &self,
        username: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<(Uuid, String)>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query(
                "SELECT h.account_id, a.username FROM username_holds h JOIN accounts a ON a.id = h.account_id
                 WHERE h.username = $1 AND h.until > $2",
            )
            .bind(username)
            .bind(Ts(now))
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
            row.map(|r| -> Result<(Uuid, String), sqlx::Error> {
                Ok((r.try_get("account_id")?, r.try_get("username")?))
            })
            .transpose()
            .map_err(backend)
        })
    }
}
