//! The OAuth provider's tables. An app's sign-in is a `sessions` row (see the
//! migration), so ending it is the same `DELETE` as for a browser session, its
//! refresh tokens go with it by cascade, and other nodes hear of it by `NOTIFY`.

use async_trait::async_trait;
use sqlx::Row;
use steward_core::account::Account;
use steward_core::activity::SecurityEvent;
use steward_core::error::StoreError;
use steward_core::ports::{
    AuthCode, DeviceDecision, DeviceGrant, Disclosure, OAuthConsent, OAuthStore, Redeemed,
    RegisteredClient, Rotation, StoreResult, StoredKey, StoredRequest,
};
use steward_core::secret::SecretHash;
use steward_core::session::{AppSession, Session};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::account_from_row;
use crate::activity::record_in_tx;
use crate::changes::notify_in_tx;
use crate::sessions::session_from_row;
use crate::{SqlStore, Ts, backend};

fn hash_of(bytes: Vec<u8>) -> Result<SecretHash, sqlx::Error> {
    bytes
        .try_into()
        .map(SecretHash)
        .map_err(|_| sqlx::Error::Decode("hash length".into()))
}

fn client_from_row(r: &impl RowExt) -> Result<RegisteredClient, sqlx::Error> {
    r.client()
}

/// Row decoding shared by both backends' row types.
trait RowExt {
    fn client(&self) -> Result<RegisteredClient, sqlx::Error>;
}

macro_rules! impl_row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn client(&self) -> Result<RegisteredClient, sqlx::Error> {
                let uris: String = self.try_get("redirect_uris")?;
                Ok(RegisteredClient {
                    id: self.try_get("id")?,
                    owner_id: self.try_get("owner_id")?,
                    name: self.try_get("name")?,
                    redirect_uris: serde_json::from_str(&uris)
                        .map_err(|e| sqlx::Error::Decode(e.into()))?,
                    logo_url: self.try_get("logo_url")?,
                    scopes: self.try_get("scopes")?,
                    secret_hash: self
                        .try_get::<Option<Vec<u8>>, _>("secret_hash")?
                        .map(hash_of)
                        .transpose()?,
                    id_token_alg: self.try_get("id_token_signed_response_alg")?,
                    created_at: self.try_get::<Ts, _>("created_at")?.0,
                })
            }
        }
    };
}
impl_row_ext!(sqlx::sqlite::SqliteRow);
impl_row_ext!(sqlx::postgres::PgRow);

macro_rules! code_from_row {
    ($r:expr) => {{
        let r = $r;
        AuthCode {
            hash: hash_of(r.try_get("code_hash")?)?,
            client_id: r.try_get("client_id")?,
            account_id: r.try_get("account_id")?,
            redirect_uri: r.try_get("redirect_uri")?,
            challenge: r.try_get("challenge")?,
            scope: r.try_get("scope")?,
            nonce: r.try_get("nonce")?,
            auth_time: r.try_get::<Ts, _>("auth_time")?.0,
            created_at: r.try_get::<Ts, _>("created_at")?.0,
            expires_at: r.try_get::<Ts, _>("expires_at")?.0,
        }
    }};
}

macro_rules! device_from_row {
    ($r:expr) => {{
        let r = $r;
        let account: Option<Uuid> = r.try_get("account_id")?;
        let approved: Option<bool> = r.try_get("approved")?;
        let auth_time: Option<Ts> = r.try_get("auth_time")?;
        DeviceGrant {
            device_hash: hash_of(r.try_get("device_hash")?)?,
            user_code: r.try_get("user_code")?,
            client_id: r.try_get("client_id")?,
            scope: r.try_get("scope")?,
            created_at: r.try_get::<Ts, _>("created_at")?.0,
            expires_at: r.try_get::<Ts, _>("expires_at")?.0,
            interval_secs: r.try_get("interval_secs")?,
            last_poll_at: r.try_get::<Option<Ts>, _>("last_poll_at")?.map(|t| t.0),
            decision: match (account, approved, auth_time) {
                (Some(account_id), Some(approved), Some(t)) => Some(DeviceDecision {
                    account_id,
                    approved,
                    auth_time: t.0,
                }),
                _ => None,
            },
        }
    }};
}

/// Remembers (or renews) a consent and writes a disclosure inside a transaction.
macro_rules! grant_in_tx {
    ($tx:expr, $consent:expr, $disclosure:expr) => {{
        if let Some(c) = $consent {
            sqlx::query(
                "INSERT INTO oauth_consents (account_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (account_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
            )
            .bind(c.account_id)
            .bind(&c.client_id)
            .bind(&c.scope)
            .bind(Ts(c.granted_at))
            .execute(&mut *$tx)
            .await
            .map_err(backend)?;
        }
        if let Some(d) = $disclosure {
            sqlx::query(
                "INSERT INTO disclosures (id, account_id, recipient, recipient_id, categories, purpose, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(d.id)
            .bind(d.account_id)
            .bind(&d.recipient)
            .bind(&d.recipient_id)
            .bind(&d.categories)
            .bind(&d.purpose)
            .bind(Ts(d.at))
            .execute(&mut *$tx)
            .await
            .map_err(backend)?;
        }
    }};
}

#[async_trait]
impl OAuthStore for SqlStore {
    async fn create_client(&self, c: &RegisteredClient) -> StoreResult<()> {
        let uris = serde_json::to_string(&c.redirect_uris)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        on_db!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO oauth_clients (id, owner_id, name, redirect_uris, logo_url, scopes, secret_hash, created_at,
                                            id_token_signed_response_alg)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&c.id)
            .bind(c.owner_id)
            .bind(&c.name)
            .bind(&uris)
            .bind(&c.logo_url)
            .bind(&c.scopes)
            .bind(c.secret_hash.as_ref().map(|h| h.0.to_vec()))
            .bind(Ts(c.created_at))
            .bind(&c.id_token_alg)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(backend)
        })
    }

    async fn client(&self, id: &str) -> StoreResult<Option<RegisteredClient>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query("SELECT * FROM oauth_clients WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            row.as_ref()
                .map(client_from_row)
                .transpose()
                .map_err(backend)
        })
    }

    async fn clients_of(&self, owner_id: Uuid) -> StoreResult<Vec<RegisteredClient>> {
        on_db!(self, read, |pool| {
            let rows = sqlx::query(
                "SELECT * FROM oauth_clients WHERE owner_id = $1 ORDER BY created_at DESC, id",
            )
            .bind(owner_id)
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            rows.iter()
                .map(client_from_row)
                .collect::<Result<_, _>>()
                .map_err(backend)
        })
    }

    async fn delete_client(&self, owner_id: Uuid, id: &str) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            let deleted = sqlx::query("DELETE FROM oauth_clients WHERE id = $1 AND owner_id = $2")
                .bind(id)
                .bind(owner_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected()
                == 1;
            if !deleted {
                return Ok(false);
            }
            let ended: Vec<Uuid> =
                sqlx::query("DELETE FROM sessions WHERE client_id = $1 RETURNING account_id")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(backend)?
                    .iter()
                    .map(|r| r.try_get("account_id"))
                    .collect::<Result<_, _>>()
                    .map_err(backend)?;
            for account in ended {
                notify_in_tx!(self, tx, account);
            }
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn save_request(&self, handle: &SecretHash, r: &StoredRequest) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO oauth_requests (handle_hash, client_id, request, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&handle.0[..])
            .bind(&r.client_id)
            .bind(&r.request)
            .bind(Ts(r.created_at))
            .bind(Ts(r.expires_at))
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(backend)
        })
    }

    async fn request(&self, handle: &SecretHash) -> StoreResult<Option<StoredRequest>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query("SELECT * FROM oauth_requests WHERE handle_hash = $1")
                .bind(&handle.0[..])
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            row.map(|r| -> Result<StoredRequest, sqlx::Error> {
                Ok(StoredRequest {
                    client_id: r.try_get("client_id")?,
                    request: r.try_get("request")?,
                    created_at: r.try_get::<Ts, _>("created_at")?.0,
                    expires_at: r.try_get::<Ts, _>("expires_at")?.0,
                    used_at: r.try_get::<Option<Ts>, _>("used_at")?.map(|t| t.0),
                })
            })
            .transpose()
            .map_err(backend)
        })
    }

    async fn issue_code(
        &self,
        handle: &SecretHash,
        c: &AuthCode,
        consent: Option<&OAuthConsent>,
        disclosure: Option<&Disclosure>,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            let used = sqlx::query(
                "UPDATE oauth_requests SET used_at = $1
                 WHERE handle_hash = $2 AND used_at IS NULL AND expires_at > $1",
            )
            .bind(Ts(now))
            .bind(&handle.0[..])
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected()
                == 1;
            if !used {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO oauth_codes (code_hash, client_id, account_id, redirect_uri, challenge, scope, nonce,
                                          auth_time, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&c.hash.0[..])
            .bind(&c.client_id)
            .bind(c.account_id)
            .bind(&c.redirect_uri)
            .bind(&c.challenge)
            .bind(&c.scope)
            .bind(&c.nonce)
            .bind(Ts(c.auth_time))
            .bind(Ts(c.created_at))
            .bind(Ts(c.expires_at))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            grant_in_tx!(tx, consent, disclosure);
            record_in_tx!(tx, event)?;
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn peek_code(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Redeemed<AuthCode>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query("SELECT * FROM oauth_codes WHERE code_hash = $1")
                .bind(&hash.0[..])
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            let Some(r) = row else {
                return Ok(Redeemed::Unknown);
            };
            (|| -> Result<Redeemed<AuthCode>, sqlx::Error> {
                if r.try_get::<Option<Ts>, _>("used_at")?.is_some() {
                    return Ok(Redeemed::Replayed {
                        account_id: r.try_get("account_id")?,
                        session_id: r.try_get("session_id")?,
                    });
                }
                let code = code_from_row!(&r);
                Ok(if code.expires_at > now {
                    Redeemed::Fresh(code)
                } else {
                    Redeemed::Unknown
                })
            })()
            .map_err(backend)
        })
    }

    async fn create_app_session(
        &self,
        s: &Session,
        refresh: Option<&SecretHash>,
        code: Option<&SecretHash>,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let app = s
            .app
            .as_ref()
            .ok_or_else(|| StoreError::Backend("an app session needs its app".into()))?;
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            if let Some(c) = code {
                // Conditional: of two redemptions at once, the second finds it used
                // (PostgreSQL re-checks the row once the first commits) and stores nothing.
                let redeemed = sqlx::query(
                    "UPDATE oauth_codes SET used_at = $1, session_id = $2
                     WHERE code_hash = $3 AND used_at IS NULL AND expires_at > $1",
                )
                .bind(Ts(now))
                .bind(s.id)
                .bind(&c.0[..])
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected()
                    == 1;
                if !redeemed {
                    return Ok(false);
                }
            }
            sqlx::query(
                "INSERT INTO sessions (id, account_id, token_hash, created_at, last_seen_at, expires_at, remember,
                                       ip, user_agent, client_id, client_name, scope, access_expires_at, auth_time)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
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
            .bind(&app.client_id)
            .bind(&app.client_name)
            .bind(&app.scope)
            .bind(Ts(app.access_expires_at))
            .bind(Ts(app.auth_time))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            if let Some(r) = refresh {
                sqlx::query(
                    "INSERT INTO oauth_refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)",
                )
                .bind(&r.0[..])
                .bind(s.id)
                .bind(Ts(now))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn refresh_token_session(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Option<(Session, Account, bool)>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query(
                "SELECT s.id AS session_id, s.created_at AS session_created_at, s.account_id, s.token_hash,
                        s.last_seen_at, s.expires_at, s.remember, s.ip, s.user_agent, s.client_id,
                        s.client_name, s.scope, s.access_expires_at, s.auth_time, a.id, a.email,
                        a.username, a.password_hash, a.email_verified_at, a.created_at,
                        a.password_changed_at, (r.used_at IS NOT NULL) AS used
                 FROM oauth_refresh_tokens r JOIN sessions s ON s.id = r.session_id
                 JOIN accounts a ON a.id = s.account_id
                 WHERE r.token_hash = $1 AND s.expires_at > $2",
            )
            .bind(&hash.0[..])
            .bind(Ts(now))
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
            row.map(|r| -> Result<(Session, Account, bool), sqlx::Error> {
                let account = account_from_row!(&r);
                let session = session_from_row!(&r, "session_id", "session_created_at");
                Ok((session, account, r.try_get("used")?))
            })
            .transpose()
            .map_err(backend)
        })
    }

    async fn rotate_refresh_token(
        &self,
        old: &SecretHash,
        session_id: Uuid,
        r: &Rotation,
    ) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            let used = sqlx::query(
                "UPDATE oauth_refresh_tokens SET used_at = $1
                 WHERE token_hash = $2 AND session_id = $3 AND used_at IS NULL",
            )
            .bind(Ts(r.at))
            .bind(&old.0[..])
            .bind(session_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected()
                == 1;
            if !used {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO oauth_refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(&r.refresh.0[..])
            .bind(session_id)
            .bind(Ts(r.at))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            let account: Uuid = sqlx::query(
                "UPDATE sessions SET token_hash = $1, access_expires_at = $2, expires_at = $3, last_seen_at = $4
                 WHERE id = $5 RETURNING account_id",
            )
            .bind(&r.access.0[..])
            .bind(Ts(r.access_expires_at))
            .bind(Ts(r.expires_at))
            .bind(Ts(r.at))
            .bind(session_id)
            .fetch_one(&mut *tx)
            .await
            .and_then(|row| row.try_get("account_id"))
            .map_err(backend)?;
            // Other nodes must forget the previous access token.
            notify_in_tx!(self, tx, account);
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn expire_access_token(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            let row = sqlx::query(
                "UPDATE sessions SET access_expires_at = $1
                 WHERE token_hash = $2 AND client_id IS NOT NULL AND access_expires_at > $1
                 RETURNING account_id",
            )
            .bind(Ts(now))
            .bind(&hash.0[..])
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
            let Some(row) = row else {
                return Ok(false);
            };
            let account: Uuid = row.try_get("account_id").map_err(backend)?;
            notify_in_tx!(self, tx, account);
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn create_device_grant(&self, g: &DeviceGrant) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO oauth_device_grants (device_hash, user_code, client_id, scope, created_at, expires_at, interval_secs)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&g.device_hash.0[..])
            .bind(&g.user_code)
            .bind(&g.client_id)
            .bind(&g.scope)
            .bind(Ts(g.created_at))
            .bind(Ts(g.expires_at))
            .bind(g.interval_secs)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(backend)
        })
    }

    async fn device_grant_by_user_code(
        &self,
        user_code: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<DeviceGrant>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query(
                "SELECT * FROM oauth_device_grants WHERE user_code = $1 AND expires_at > $2",
            )
            .bind(user_code)
            .bind(Ts(now))
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
            row.map(|r| -> Result<DeviceGrant, sqlx::Error> { Ok(device_from_row!(&r)) })
                .transpose()
                .map_err(backend)
        })
    }

    async fn device_grant(&self, device_hash: &SecretHash) -> StoreResult<Option<DeviceGrant>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query("SELECT * FROM oauth_device_grants WHERE device_hash = $1")
                .bind(&device_hash.0[..])
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            row.map(|r| -> Result<DeviceGrant, sqlx::Error> { Ok(device_from_row!(&r)) })
                .transpose()
                .map_err(backend)
        })
    }

    async fn decide_device_grant(
        &self,
        user_code: &str,
        d: &DeviceDecision,
        consent: Option<&OAuthConsent>,
        disclosure: Option<&Disclosure>,
        event: Option<&SecurityEvent>,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            let decided = sqlx::query(
                "UPDATE oauth_device_grants SET account_id = $1, approved = $2, auth_time = $3
                 WHERE user_code = $4 AND expires_at > $5 AND approved IS NULL",
            )
            .bind(d.account_id)
            .bind(d.approved)
            .bind(Ts(d.auth_time))
            .bind(user_code)
            .bind(Ts(now))
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected()
                == 1;
            if !decided {
                return Ok(false);
            }
            grant_in_tx!(tx, consent, disclosure);
            if let Some(e) = event {
                record_in_tx!(tx, e)?;
            }
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn record_device_poll(
        &self,
        device_hash: &SecretHash,
        at: OffsetDateTime,
        interval_secs: i64,
    ) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
                "UPDATE oauth_device_grants SET last_poll_at = $1, interval_secs = $2 WHERE device_hash = $3",
            )
            .bind(Ts(at))
            .bind(interval_secs)
            .bind(&device_hash.0[..])
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(backend)
        })
    }

    async fn take_device_grant(&self, device_hash: &SecretHash) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            sqlx::query(
                "DELETE FROM oauth_device_grants WHERE device_hash = $1 AND approved = TRUE",
            )
            .bind(&device_hash.0[..])
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
            .map_err(backend)
        })
    }

    async fn consent(
        &self,
        account_id: Uuid,
        client_id: &str,
    ) -> StoreResult<Option<OAuthConsent>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query(
                "SELECT scope, granted_at FROM oauth_consents WHERE account_id = $1 AND client_id = $2",
            )
            .bind(account_id)
            .bind(client_id)
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
            row.map(|r| -> Result<OAuthConsent, sqlx::Error> {
                Ok(OAuthConsent {
                    account_id,
                    client_id: client_id.to_owned(),
                    scope: r.try_get("scope")?,
                    granted_at: r.try_get::<Ts, _>("granted_at")?.0,
                })
            })
            .transpose()
            .map_err(backend)
        })
    }

    async fn consents_of(
        &self,
        account_id: Uuid,
    ) -> StoreResult<Vec<(OAuthConsent, RegisteredClient)>> {
        on_db!(self, read, |pool| {
            let rows = sqlx::query(
                "SELECT k.scope AS granted_scope, k.granted_at, c.*
                 FROM oauth_consents k JOIN oauth_clients c ON c.id = k.client_id
                 WHERE k.account_id = $1 ORDER BY k.granted_at DESC",
            )
            .bind(account_id)
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            rows.iter()
                .map(|r| -> Result<_, sqlx::Error> {
                    let client = client_from_row(r)?;
                    Ok((
                        OAuthConsent {
                            account_id,
                            client_id: client.id.clone(),
                            scope: r.try_get("granted_scope")?,
                            granted_at: r.try_get::<Ts, _>("granted_at")?.0,
                        },
                        client,
                    ))
                })
                .collect::<Result<_, _>>()
                .map_err(backend)
        })
    }

    async fn revoke_consent(
        &self,
        account_id: Uuid,
        client_id: &str,
        event: &SecurityEvent,
    ) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            let consents =
                sqlx::query("DELETE FROM oauth_consents WHERE account_id = $1 AND client_id = $2")
                    .bind(account_id)
                    .bind(client_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?
                    .rows_affected();
            let sessions =
                sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND client_id = $2")
                    .bind(account_id)
                    .bind(client_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?
                    .rows_affected();
            if consents + sessions == 0 {
                return Ok(false);
            }
            record_in_tx!(tx, event)?;
            notify_in_tx!(self, tx, account_id);
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn disclosures(&self, account_id: Uuid) -> StoreResult<Vec<Disclosure>> {
        on_db!(self, read, |pool| {
            let rows =
                sqlx::query("SELECT * FROM disclosures WHERE account_id = $1 ORDER BY id DESC")
                    .bind(account_id)
                    .fetch_all(pool)
                    .await
                    .map_err(backend)?;
            rows.iter()
                .map(|r| -> Result<Disclosure, sqlx::Error> {
                    Ok(Disclosure {
                        id: r.try_get("id")?,
                        account_id,
                        recipient: r.try_get("recipient")?,
                        recipient_id: r.try_get("recipient_id")?,
                        categories: r.try_get("categories")?,
                        purpose: r.try_get("purpose")?,
                        at: r.try_get::<Ts, _>("created_at")?.0,
                    })
                })
                .collect::<Result<_, _>>()
                .map_err(backend)
        })
    }

    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>> {
        on_db!(self, read, |pool| {
            let rows = sqlx::query("SELECT * FROM signing_keys ORDER BY created_at, kid")
                .fetch_all(pool)
                .await
                .map_err(backend)?;
            rows.iter()
                .map(|r| -> Result<StoredKey, sqlx::Error> {
                    Ok(StoredKey {
                        kid: r.try_get("kid")?,
                        alg: r.try_get("alg")?,
                        sealed: r.try_get("private_key")?,
                        created_at: r.try_get::<Ts, _>("created_at")?.0,
                    })
                })
                .collect::<Result<_, _>>()
                .map_err(backend)
        })
    }

    async fn add_signing_key(&self, k: &StoredKey) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO signing_keys (kid, alg, private_key, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&k.kid)
            .bind(&k.alg)
            .bind(&k.sealed)
            .bind(Ts(k.created_at))
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(backend)
        })
    }

    async fn delete_signing_keys_before(
        &self,
        alg: &str,
        before: OffsetDateTime,
    ) -> StoreResult<u64> {
        on_db!(self, write, |pool| {
            sqlx::query("DELETE FROM signing_keys WHERE alg = $1 AND created_at < $2")
                .bind(alg)
                .bind(Ts(before))
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(backend)
        })
    }

    async fn purge_oauth(&self, now: OffsetDateTime) -> StoreResult<u64> {
        on_db!(self, write, |pool| {
            let mut n = 0;
            for sql in [
                "DELETE FROM oauth_requests WHERE expires_at <= $1",
                "DELETE FROM oauth_codes WHERE expires_at <= $1",
                "DELETE FROM oauth_device_grants WHERE expires_at <= $1",
            ] {
                n += sqlx::query(sql)
                    .bind(Ts(now))
                    .execute(pool)
                    .await
                    .map_err(backend)?
                    .rows_affected();
            }
            Ok(n)
        })
    }
}
