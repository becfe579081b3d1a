//! The token side of the provider: client authentication, the token endpoint
//! (authorization code with PKCE, refresh with rotation and reuse detection,
//! device code), access tokens as bearer credentials, userinfo and device
//! authorization (RFC 8628). Introspection and revocation are in `revocation`.
//!
//! An app's sign-in is a session row: its token hash is the current access
//! token's, so Active sessions lists it, revoking it there ends it, and the
//! session cache and change feed serve bearer tokens exactly as they serve
//! cookies. Refresh tokens rotate on every use; a used one presented again ends
//! the whole sign-in (RFC 9700 §4.14.2).

use serde_json::json;
use steward_proto::oauth::{DeviceAuthorizationResponse, TokenResponse, UserInfo};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::account::Account;
use crate::activity::{EventKind, SecurityEvent};
use crate::error::{CoreError, CoreResult};
use crate::flow::login::truncate;
use crate::oauth::client::{Client, Scope, parse_scopes, scope_string, scopes_of};
use crate::oauth::device::{
    DEVICE_CODE_LIFETIME, DevicePolling, INTERVAL_SECS, PollAnswer, new_user_code,
};
use crate::oauth::pkce::{CodeChallenge, PkceError};
use crate::ports::{DeviceGrant, Redeemed, Rotation};
use crate::secret::{NewSecret, SecretHash, constant_time_eq, hash_secret, parse_secret};
use crate::session::{AppSession, ClientInfo, MAX_USER_AGENT, Session, SignedIn};
use crate::steward::Steward;

/// How a client identified itself: HTTP Basic or form fields.
#[derive(Debug, Clone, Default)]
pub struct ClientCredentials {
    /// `client_id`.
    pub id: Option<String>,
    /// `client_secret` (confidential clients).
    pub secret: Option<String>,
}

/// The form of `POST /oauth/token`.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    /// `authorization_code`, `refresh_token` or `urn:ietf:params:oauth:grant-type:device_code`.
    pub grant_type: Option<String>,
    /// Authorization code.
    pub code: Option<String>,
    /// Must repeat the authorization request's.
    pub redirect_uri: Option<String>,
    /// PKCE verifier.
    pub code_verifier: Option<String>,
    /// Refresh token.
    pub refresh_token: Option<String>,
    /// Device code.
    pub device_code: Option<String>,
    /// A narrower scope on refresh (ignored if equal).
    pub scope: Option<String>,
}

/// Device-code grant type (RFC 8628 §3.4).
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn invalid_grant(why: &str) -> CoreError {
    CoreError::oauth("invalid_grant", why)
}

impl Steward {
    /// Authenticates the client of a token, revocation or introspection request.
    /// Confidential apps must present their secret; public ones must not have one.
    pub async fn authenticate_client(&self, creds: &ClientCredentials) -> CoreResult<Client> {
        let unknown =
            || CoreError::oauth("invalid_client", "Unknown client or wrong client secret.");
        let id = creds
            .id
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(unknown)?;
        let client = self.find_client(id).await?.ok_or_else(unknown)?;
        match (&client.secret_hash, creds.secret.as_deref()) {
            (None, None) => Ok(client),
            (Some(expected), Some(given))
                if constant_time_eq(&expected.0, &hash_secret(given).0) =>
            {
                Ok(client)
            }
            _ => Err(unknown()),
        }
    }

    /// `POST /oauth/token`.
    pub async fn token(
        &self,
        creds: &ClientCredentials,
        req: &TokenRequest,
        from: &ClientInfo,
    ) -> CoreResult<TokenResponse> {
        let client = self.authenticate_client(creds).await?;
        match req.grant_type.as_deref() {
            Some("authorization_code") => self.exchange_code(&client, req, from).await,
            Some("refresh_token") => self.refresh(&client, req, from).await,
            Some(DEVICE_GRANT) => self.poll_device(&client, req, from).await,
            Some(_) => Err(CoreError::oauth(
                "unsupported_grant_type",
                "grant_type must be authorization_code, refresh_token or the device code grant.",
            )),
            None => Err(CoreError::oauth(
                "invalid_request",
                "grant_type is required.",
            )),
        }
    }

    async fn exchange_code(
        &self,
        client: &Client,
        req: &TokenRequest,
        from: &ClientInfo,
    ) -> CoreResult<TokenResponse> {
        let presented = req
            .code
            .as_deref()
            .ok_or_else(|| CoreError::oauth("invalid_request", "code is required."))?;
        let verifier = req.code_verifier.as_deref().ok_or_else(|| {
            CoreError::oauth("invalid_request", "code_verifier is required (PKCE).")
        })?;
        let hash = parse_secret(presented)
            .ok_or_else(|| invalid_grant("The code is invalid or expired."))?;
        let now = self.now();
        // Only looked at here: it is redeemed with the tokens, once every check passed,
        // so a request from another client or with a wrong verifier leaves it to its app.
        let code = match self.store.peek_code(&hash, now).await? {
            Redeemed::Fresh(code) => code,
            replayed @ Redeemed::Replayed { .. } => {
                return Err(self.code_replayed(replayed, client, from, now).await?);
            }
            Redeemed::Unknown => return Err(invalid_grant("The code is invalid or expired.")),
        };
        if code.client_id != client.id {
            return Err(invalid_grant("The code was issued to another client."));
        }
        // Compared as parsed URLs: the stored one is in normal form.
        let same_redirect = req
            .redirect_uri
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .zip(url::Url::parse(&code.redirect_uri).ok())
            .is_some_and(|(a, b)| a == b);
        if !same_redirect {
            return Err(invalid_grant(
                "redirect_uri must be the one of the authorization request.",
            ));
        }
        let challenge = CodeChallenge::parse(Some(&code.challenge), Some("S256"))
            .map_err(|e| CoreError::Internal(format!("stored challenge: {e:?}")))?;
        challenge.verify(verifier).map_err(|e| match e {
            PkceError::MalformedVerifier => CoreError::oauth(
                "invalid_request",
                "code_verifier must be 43-128 characters of [A-Za-z0-9-._~].",
            ),
            _ => invalid_grant("code_verifier does not match the code_challenge."),
        })?;
        let account = self
            .store
            .account_by_id(code.account_id)
            .await?
            .ok_or_else(|| invalid_grant("The account no longer exists."))?;
        let scopes = scopes_of(&code.scope);
        let grant = Grant {
            client,
            account: &account,
            scopes: &scopes,
            nonce: code.nonce.as_deref(),
            auth_time: code.auth_time,
        };
        self.issue_tokens(&grant, Some(&hash), from).await
    }

    /// A redeemed code came back: RFC 6749 §4.1.2 says it may have been stolen, so the
    /// sign-in its first use made ends. Returns the error to answer.
    async fn code_replayed(
        &self,
        state: Redeemed<crate::ports::AuthCode>,
        client: &Client,
        from: &ClientInfo,
        now: OffsetDateTime,
    ) -> CoreResult<CoreError> {
        if let Redeemed::Replayed {
            account_id,
            session_id: Some(id),
        } = state
        {
            let event = SecurityEvent::new(account_id, EventKind::AppTokenReused, from, now)
                .detail(client.name.clone());
            self.store.end_session(account_id, id, Some(&event)).await?;
            self.account_changed(account_id);
        }
        tracing::warn!(client = %client.id, "authorization code replayed");
        Ok(invalid_grant("The code was already used."))
    }

    async fn refresh(
        &self,
        client: &Client,
        req: &TokenRequest,
        from: &ClientInfo,
    ) -> CoreResult<TokenResponse> {
        let presented = req
            .refresh_token
            .as_deref()
            .ok_or_else(|| CoreError::oauth("invalid_request", "refresh_token is required."))?;
        let bad = || invalid_grant("The refresh token is invalid, expired or revoked.");
        let old = parse_secret(presented).ok_or_else(bad)?;
        let now = self.now();
        let (session, account, used) = self
            .store
            .refresh_token_session(&old, now)
            .await?
            .ok_or_else(bad)?;
        let Some(app) = session.app.clone() else {
            return Err(bad());
        };
        if app.client_id != client.id {
            return Err(invalid_grant(
                "The refresh token was issued to another client.",
            ));
        }
        if used {
            self.end_reused(&session, &app, from, now).await?;
            return Err(invalid_grant(
                "The refresh token was already used; this sign-in has been ended. Sign in again.",
            ));
        }
        let granted = scopes_of(&app.scope);
        if let Some(asked) = req.scope.as_deref() {
            // RFC 6749 §6: never more than was granted. The tokens keep the granted
            // scope, which the answer's `scope` states.
            let widens = asked
                .split_ascii_whitespace()
                .any(|w| Scope::parse(w).is_none_or(|s| !granted.contains(&s)));
            if widens {
                return Err(CoreError::oauth(
                    "invalid_scope",
                    "A refresh cannot add scopes to what was granted.",
                ));
            }
        }
        // Signed before anything is written: a token that cannot be signed yet (no RSA
        // key loaded) must not use up the refresh token.
        let id_token = granted
            .contains(&Scope::OpenId)
            .then(|| {
                self.id_token(
                    &Grant {
                        client,
                        account: &account,
                        scopes: &granted,
                        nonce: None,
                        auth_time: app.auth_time,
                    },
                    session.id,
                    now,
                )
            })
            .transpose()?;
        let access = NewSecret::generate();
        let refresh = NewSecret::generate();
        let rotation = Rotation {
            refresh: refresh.hash.clone(),
            access: access.hash.clone(),
            access_expires_at: now + self.cfg.oauth_access_ttl,
            expires_at: now + self.cfg.oauth_refresh_ttl,
            at: now,
        };
        if !self
            .store
            .rotate_refresh_token(&old, session.id, &rotation)
            .await?
        {
            // Another request used it between our read and write: a concurrent replay.
            self.end_reused(&session, &app, from, now).await?;
            return Err(invalid_grant(
                "The refresh token was already used; this sign-in has been ended. Sign in again.",
            ));
        }
        // The previous access token stops working at once, on every node.
        self.account_changed(account.id);
        Ok(TokenResponse {
            access_token: access.plain,
            token_type: "Bearer".into(),
            expires_in: self.cfg.oauth_access_ttl.whole_seconds(),
            refresh_token: Some(refresh.plain),
            id_token,
            scope: app.scope,
        })
    }

    /// A used refresh token came back: the chain may be stolen, so the sign-in ends.
    async fn end_reused(
        &self,
        session: &Session,
        app: &AppSession,
        from: &ClientInfo,
        now: OffsetDateTime,
    ) -> CoreResult<()> {
        let event = SecurityEvent::new(session.account_id, EventKind::AppTokenReused, from, now)
            .about(session)
            .detail(app.client_name.clone());
        self.store
            .end_session(session.account_id, session.id, Some(&event))
            .await?;
        self.account_changed(session.account_id);
        tracing::warn!(account = %session.account_id, client = %app.client_id, "refresh token reused; sign-in ended");
        Ok(())
    }

    async fn issue_tokens(
        &self,
        grant: &Grant<'_>,
        code: Option<&SecretHash>,
        from: &ClientInfo,
    ) -> CoreResult<TokenResponse> {
        let now = self.now();
        let access = NewSecret::generate();
        let access_expires_at = now + self.cfg.oauth_access_ttl;
        let refresh = (grant.client.first_party || grant.scopes.contains(&Scope::OfflineAccess))
            .then(NewSecret::generate);
        let session = Session {
            id: Uuid::now_v7(),
            account_id: grant.account.id,
            token_hash: access.hash.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: if refresh.is_some() {
                now + self.cfg.oauth_refresh_ttl
            } else {
                access_expires_at
            },
            remember: refresh.is_some(),
            ip: from.ip.map(|ip| ip.to_string()),
            user_agent: from
                .user_agent
                .as_deref()
                .map(|ua| truncate(ua, MAX_USER_AGENT)),
            app: Some(AppSession {
                client_id: grant.client.id.clone(),
                client_name: grant.client.name.clone(),
                scope: scope_string(grant.scopes),
                access_expires_at,
                auth_time: grant.auth_time,
            }),
        };
        // Signed before the code is redeemed, so a token that cannot be signed yet
        // leaves the code usable.
        let id_token = grant
            .scopes
            .contains(&Scope::OpenId)
            .then(|| self.id_token(grant, session.id, now))
            .transpose()?;
        let stored = self
            .store
            .create_app_session(&session, refresh.as_ref().map(|r| &r.hash), code, now)
            .await?;
        if !stored {
            // Another request redeemed the code between our look and this write.
            let Some(hash) = code else {
                return Err(CoreError::Internal("an app session was refused".into()));
            };
            let state = self.store.peek_code(hash, now).await?;
            return Err(self.code_replayed(state, grant.client, from, now).await?);
        }
        tracing::info!(account = %grant.account.id, client = %grant.client.id, session = %session.id, "tokens issued");
        Ok(TokenResponse {
            access_token: access.plain,
            token_type: "Bearer".into(),
            expires_in: self.cfg.oauth_access_ttl.whole_seconds(),
            refresh_token: refresh.map(|r| r.plain),
            id_token,
            scope: scope_string(grant.scopes),
        })
    }

    /// A signed ID token (OpenID Connect Core §2).
    fn id_token(
        &self,
        grant: &Grant<'_>,
        session_id: Uuid,
        now: OffsetDateTime,
    ) -> CoreResult<String> {
        let mut claims = json!({
            "iss": self.issuer(),
            "sub": grant.account.id.to_string(),
            "aud": grant.client.id,
            "azp": grant.client.id,
            "iat": now.unix_timestamp(),
            "exp": (now + self.cfg.oauth_access_ttl).unix_timestamp(),
            "auth_time": grant.auth_time.unix_timestamp(),
            "sid": session_id.to_string(),
            // One factor (a password): ISO/IEC 29115 level 1.
            "acr": "1",
            "amr": ["pwd"],
        });
        if let Some(map) = claims.as_object_mut() {
            if let Some(nonce) = grant.nonce {
                map.insert("nonce".into(), json!(nonce));
            }
            let info = userinfo_of(grant.account, grant.scopes);
            for (k, v) in [
                (
                    "preferred_username",
                    info.preferred_username.map(|v| json!(v)),
                ),
                ("email", info.email.map(|v| json!(v))),
                ("email_verified", info.email_verified.map(|v| json!(v))),
            ] {
                if let Some(v) = v {
                    map.insert(k.into(), v);
                }
            }
        }
        let alg = grant.client.id_token_alg;
        self.signer
            .sign(alg, &claims)
            .map_err(|e| CoreError::Internal(format!("signing an ID token: {e}")))?
            .ok_or_else(|| {
                tracing::warn!(alg = alg.as_str(), "no signing key of this algorithm loaded yet");
                CoreError::oauth(
                    "temporarily_unavailable",
                    "The server's signing key for this app is not ready yet. Try again in a few seconds.",
                )
            })
    }

    /// The app session an access token opens, for `userinfo` (any app).
    pub async fn authenticate_bearer(&self, token: &str) -> CoreResult<SignedIn> {
        self.authenticate_as(token, true).await
    }

    /// The app session an access token opens, for the account API (`/api/v1`): only
    /// the first-party apps act on the account; a third-party app's token carries
    /// just the claims it was granted, through `userinfo`.
    pub async fn authenticate_account_bearer(&self, token: &str) -> CoreResult<SignedIn> {
        let who = self.authenticate_as(token, true).await?;
        let first_party = who.session().app.as_ref().is_some_and(|a| {
            crate::oauth::client::builtin_clients()
                .iter()
                .any(|c| c.id == a.client_id)
        });
        if !first_party {
            return Err(CoreError::oauth(
                "insufficient_scope",
                "This app's token gives access to the userinfo endpoint only, not to the account API.",
            ));
        }
        Ok(who)
    }

    /// `GET /oauth/userinfo`: what the token's scopes allow; needs `openid`.
    pub fn userinfo(&self, who: &SignedIn) -> CoreResult<UserInfo> {
        let scopes = who
            .session()
            .app
            .as_ref()
            .map(|a| scopes_of(&a.scope))
            .unwrap_or_default();
        if !scopes.contains(&Scope::OpenId) {
            return Err(CoreError::oauth(
                "insufficient_scope",
                "userinfo needs the openid scope.",
            ));
        }
        Ok(userinfo_of(who.account(), &scopes))
    }

    /// `POST /oauth/device_authorization`: a device code and the user code to type.
    pub async fn start_device(
        &self,
        creds: &ClientCredentials,
        scope: Option<&str>,
    ) -> CoreResult<DeviceAuthorizationResponse> {
        let client = self.authenticate_client(creds).await?;
        let words: Vec<&str> = scope.unwrap_or_default().split_ascii_whitespace().collect();
        let scopes = parse_scopes(&words);
        if scopes.is_empty()
            || words
                .iter()
                .any(|w| Scope::parse(w).is_none_or(|s| !client.scopes.contains(&s)))
        {
            return Err(CoreError::oauth(
                "invalid_scope",
                "Ask for scopes the client may have, such as openid.",
            ));
        }
        let now = self.now();
        let device = NewSecret::generate();
        let grant = DeviceGrant {
            device_hash: device.hash.clone(),
            user_code: new_user_code(),
            client_id: client.id.clone(),
            scope: scope_string(&scopes),
            created_at: now,
            expires_at: now + DEVICE_CODE_LIFETIME,
            interval_secs: INTERVAL_SECS,
            last_poll_at: None,
            decision: None,
        };
        self.store.create_device_grant(&grant).await?;
        let verification_uri = self.link("/device");
        Ok(DeviceAuthorizationResponse {
            device_code: device.plain,
            verification_uri_complete: format!("{verification_uri}?user_code={}", grant.user_code),
            user_code: grant.user_code,
            verification_uri,
            expires_in: DEVICE_CODE_LIFETIME.whole_seconds(),
            interval: INTERVAL_SECS,
        })
    }

    async fn poll_device(
        &self,
        client: &Client,
        req: &TokenRequest,
        from: &ClientInfo,
    ) -> CoreResult<TokenResponse> {
        let presented = req
            .device_code
            .as_deref()
            .ok_or_else(|| CoreError::oauth("invalid_request", "device_code is required."))?;
        let bad = || invalid_grant("The device code is invalid.");
        let hash = parse_secret(presented).ok_or_else(bad)?;
        let grant = self.store.device_grant(&hash).await?.ok_or_else(bad)?;
        if grant.client_id != client.id {
            return Err(invalid_grant(
                "The device code was issued to another client.",
            ));
        }
        let now = self.now();
        let mut polling = DevicePolling {
            created_at: grant.created_at,
            interval_secs: grant.interval_secs,
            last_poll: grant.last_poll_at,
            decision: grant.decision.as_ref().map(|d| d.approved),
        };
        let answer = polling.poll(now);
        self.store
            .record_device_poll(&hash, now, polling.interval_secs)
            .await?;
        match answer {
            PollAnswer::Pending => Err(CoreError::oauth(
                "authorization_pending",
                "The person has not finished yet.",
            )),
            PollAnswer::SlowDown => Err(CoreError::oauth(
                "slow_down",
                format!("Poll at most every {} seconds.", polling.interval_secs),
            )),
            PollAnswer::Expired => Err(CoreError::oauth(
                "expired_token",
                "The device code expired; start again.",
            )),
            PollAnswer::Denied => Err(CoreError::oauth("access_denied", "The person refused.")),
            PollAnswer::Approved => {
                let decision = grant.decision.clone().ok_or_else(bad)?;
                if !self.store.take_device_grant(&hash).await? {
                    return Err(invalid_grant("The device code was already used."));
                }
                let account = self
                    .store
                    .account_by_id(decision.account_id)
                    .await?
                    .ok_or_else(|| invalid_grant("The account no longer exists."))?;
                let scopes = scopes_of(&grant.scope);
                let g = Grant {
                    client,
                    account: &account,
                    scopes: &scopes,
                    nonce: None,
                    auth_time: decision.auth_time,
                };
                self.issue_tokens(&g, None, from).await
            }
        }
    }
}

/// What a grant gives tokens for.
struct Grant<'a> {
    client: &'a Client,
    account: &'a Account,
    scopes: &'a [Scope],
    nonce: Option<&'a str>,
    auth_time: OffsetDateTime,
}

fn userinfo_of(account: &Account, scopes: &[Scope]) -> UserInfo {
    let email = scopes.contains(&Scope::Email);
    UserInfo {
        sub: account.id.to_string(),
        preferred_username: scopes
            .contains(&Scope::Profile)
            .then(|| account.username.clone()),
        email: email.then(|| account.email.clone()),
        email_verified: email.then(|| account.email_verified_at.is_some()),
    }
}
