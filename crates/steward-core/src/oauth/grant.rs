//! How a person lets an app sign them in: the authorization request the app
//! opens in the browser (kept five minutes while they sign in), the consent a
//! third-party app needs, the code sent back to the app, and the device grant's
//! "enter the code" step.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

use crate::activity::{EventKind, SecurityEvent};
use crate::error::{CoreError, CoreResult};
use crate::oauth::authorize::{
    AuthorizeError, AuthorizeParams, PendingAuthorization, check_request,
};
use crate::oauth::client::{Client, Scope, scope_string, scopes_of};
use crate::oauth::device::normalise_user_code;
use crate::oauth::pkce::CodeChallenge;
use crate::ports::{AuthCode, DeviceDecision, Disclosure, OAuthConsent, StoredRequest};
use crate::secret::{NewSecret, parse_secret};
use crate::session::{ClientInfo, SignedIn};
use crate::steward::Steward;

/// How long an authorization code can be exchanged.
pub const CODE_LIFETIME: time::Duration = time::Duration::minutes(1);

/// Where an authorization request stands, for the page that finishes it.
#[derive(Debug, Clone)]
pub enum RequestState {
    /// Waiting for the person.
    Live(Box<LiveRequest>),
    /// The five minutes are over: "start again from the app".
    Expired {
        /// The app, to name it.
        client_name: String,
    },
    /// Already finished (a reload, or the back button).
    Used,
    /// No such request.
    Unknown,
}

/// A live request with its app.
#[derive(Debug, Clone)]
pub struct LiveRequest {
    /// The checked request.
    pub request: PendingAuthorization,
    /// The app.
    pub client: Client,
}

impl LiveRequest {
    /// Whether `who` must be asked (a third-party app they have not allowed these scopes).
    pub fn needs_consent(&self, allowed: Option<&OAuthConsent>) -> bool {
        if self.client.first_party {
            return false;
        }
        let allowed = allowed.map(|c| scopes_of(&c.scope));
        !allowed.is_some_and(|a| self.request.scopes.iter().all(|s| a.contains(s)))
    }
}

/// The checked request as stored (a private format: only this module reads it).
#[derive(Serialize, Deserialize)]
struct RequestData {
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    challenge: String,
}

/// What the person sees once the app has its code: the app's address to go back to.
#[derive(Debug, Clone)]
pub struct Granted {
    /// The redirect URI with `code`, `state` and `iss`.
    pub redirect: Url,
    /// The app's name.
    pub client_name: String,
    /// Whether it is a first-party native app (the page says "return to the app").
    pub native: bool,
}

/// A device authorization waiting for the person, for the confirmation page.
#[derive(Debug, Clone)]
pub struct DeviceRequest {
    /// The canonical user code.
    pub user_code: String,
    /// The app.
    pub client: Client,
    /// What it asks for.
    pub scopes: Vec<Scope>,
}

impl Steward {
    /// The app with this `client_id`: a built-in one or one registered by a person.
    pub async fn find_client(&self, id: &str) -> CoreResult<Option<Client>> {
        if let Some(c) = crate::oauth::client::builtin_clients()
            .into_iter()
            .find(|c| c.id == id)
        {
            return Ok(Some(c));
        }
        if id.is_empty() || id.len() > 100 {
            return Ok(None);
        }
        Ok(self.store.client(id).await?.map(|c| Client::registered(&c)))
    }

    /// Checks an authorization request and keeps it for five minutes while the
    /// person signs in. `Ok(handle)` names it in the page's URL; `Err` says whether
    /// to show the problem or send it back to the app.
    pub async fn start_authorization(
        &self,
        params: &AuthorizeParams,
    ) -> CoreResult<Result<String, AuthorizeError>> {
        let client = match params.client_id.as_deref() {
            Some(id) => self.find_client(id).await?,
            None => None,
        };
        let pending = match check_request(params, client.as_ref(), self.now()) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let data = RequestData {
            redirect_uri: pending.redirect_uri.to_string(),
            scope: scope_string(&pending.scopes),
            state: pending.state.clone(),
            nonce: pending.nonce.clone(),
            challenge: pending.challenge.as_str().to_owned(),
        };
        let handle = NewSecret::generate();
        let stored = StoredRequest {
            client_id: pending.client_id.clone(),
            request: serde_json::to_string(&data)
                .map_err(|e| CoreError::Internal(e.to_string()))?,
            created_at: pending.created_at,
            expires_at: pending.expires_at,
            used_at: None,
        };
        self.store.save_request(&handle.hash, &stored).await?;
        Ok(Ok(handle.plain))
    }

    /// Where the request named by `handle` stands.
    pub async fn authorization_request(&self, handle: &str) -> CoreResult<RequestState> {
        let Some(hash) = parse_secret(handle) else {
            return Ok(RequestState::Unknown);
        };
        let Some(stored) = self.store.request(&hash).await? else {
            return Ok(RequestState::Unknown);
        };
        let Some(client) = self.find_client(&stored.client_id).await? else {
            return Ok(RequestState::Unknown);
        };
        if stored.used_at.is_some() {
            return Ok(RequestState::Used);
        }
        if self.now() >= stored.expires_at {
            return Ok(RequestState::Expired {
                client_name: client.name,
            });
        }
        let data: RequestData = serde_json::from_str(&stored.request)
            .map_err(|e| CoreError::Internal(format!("stored request: {e}")))?;
        let request = PendingAuthorization {
            client_id: stored.client_id,
            redirect_uri: Url::parse(&data.redirect_uri)
                .map_err(|e| CoreError::Internal(format!("stored request: {e}")))?,
            scopes: scopes_of(&data.scope),
            state: data.state,
            nonce: data.nonce,
            challenge: CodeChallenge::parse(Some(&data.challenge), Some("S256"))
                .map_err(|e| CoreError::Internal(format!("stored request: {e:?}")))?,
            created_at: stored.created_at,
            expires_at: stored.expires_at,
        };
        Ok(RequestState::Live(Box::new(LiveRequest {
            request,
            client,
        })))
    }

    /// The consent `who` gave to an app, if any.
    pub async fn consent_of(
        &self,
        who: &SignedIn,
        client_id: &str,
    ) -> CoreResult<Option<OAuthConsent>> {
        Ok(self.store.consent(who.account().id, client_id).await?)
    }

    /// The person agreed (or a first-party app needs no asking): issues the code and
    /// says where to send the browser. Third-party grants are remembered and written
    /// to the disclosure log. `None` if the request is no longer live.
    pub async fn approve_authorization(
        &self,
        who: &SignedIn,
        handle: &str,
        client_info: &ClientInfo,
    ) -> CoreResult<Option<Granted>> {
        let RequestState::Live(live) = self.authorization_request(handle).await? else {
            return Ok(None);
        };
        let Some(hash) = parse_secret(handle) else {
            return Ok(None);
        };
        let now = self.now();
        let LiveRequest { request, client } = *live;
        let code = NewSecret::generate();
        let scope = scope_string(&request.scopes);
        let auth_code = AuthCode {
            hash: code.hash.clone(),
            client_id: client.id.clone(),
            account_id: who.account().id,
            redirect_uri: request.redirect_uri.to_string(),
            challenge: request.challenge.as_str().to_owned(),
            scope: scope.clone(),
            nonce: request.nonce.clone(),
            auth_time: who.session().created_at,
            created_at: now,
            expires_at: now + CODE_LIFETIME,
        };
        let (consent, disclosure) = self
            .third_party_grant(who.account().id, &client, &request.scopes, now)
            .await?;
        let event =
            SecurityEvent::new(who.account().id, EventKind::AppAuthorized, client_info, now)
                .detail(client.name.clone());
        let issued = self
            .store
            .issue_code(
                &hash,
                &auth_code,
                consent.as_ref(),
                disclosure.as_ref(),
                &event,
                now,
            )
            .await?;
        if !issued {
            return Ok(None);
        }
        let mut redirect = request.redirect_uri;
        {
            let mut q = redirect.query_pairs_mut();
            q.append_pair("code", &code.plain);
            if let Some(state) = &request.state {
                q.append_pair("state", state);
            }
            q.append_pair("iss", self.issuer());
        }
        tracing::info!(account = %who.account().id, client = %client.id, "authorization code issued");
        Ok(Some(Granted {
            redirect,
            client_name: client.name,
            native: client.first_party,
        }))
    }

    /// The person refused: where to send the browser (`error=access_denied`). `None`
    /// if the request is no longer live.
    pub async fn deny_authorization(&self, handle: &str) -> CoreResult<Option<Url>> {
        let RequestState::Live(live) = self.authorization_request(handle).await? else {
            return Ok(None);
        };
        let mut redirect = live.request.redirect_uri;
        {
            let mut q = redirect.query_pairs_mut();
            q.append_pair("error", "access_denied");
            q.append_pair("error_description", "The person did not allow the app.");
            if let Some(state) = &live.request.state {
                q.append_pair("state", state);
            }
            q.append_pair("iss", self.issuer());
        }
        Ok(Some(redirect))
    }

    /// The remembered consent and disclosure-log entry a grant to `client` makes
    /// (none for first-party apps: nothing leaves Steward). The consent remembered
    /// is everything ever allowed to the app, so a narrower sign-in does not make
    /// Connected Apps under-report what earlier tokens can still fetch.
    async fn third_party_grant(
        &self,
        account_id: Uuid,
        client: &Client,
        scopes: &[Scope],
        now: OffsetDateTime,
    ) -> CoreResult<(Option<OAuthConsent>, Option<Disclosure>)> {
        if client.first_party {
            return Ok((None, None));
        }
        let mut allowed = scopes.to_vec();
        if let Some(before) = self.store.consent(account_id, &client.id).await? {
            allowed.extend(scopes_of(&before.scope));
        }
        allowed.sort();
        allowed.dedup();
        let consent = OAuthConsent {
            account_id,
            client_id: client.id.clone(),
            scope: scope_string(&allowed),
            granted_at: now,
        };
        let categories: Vec<&str> = scopes.iter().filter_map(|s| s.data_category()).collect();
        let disclosure = Disclosure {
            id: Uuid::now_v7(),
            account_id,
            recipient: client.name.clone(),
            recipient_id: client.id.clone(),
            categories: categories.join(","),
            purpose: "Sign-in to a third-party app you authorised".into(),
            at: now,
        };
        Ok((Some(consent), Some(disclosure)))
    }

    /// The device authorization a person typed the code of, if it is live and undecided.
    pub async fn device_request(&self, typed: &str) -> CoreResult<Option<DeviceRequest>> {
        let Some(code) = normalise_user_code(typed) else {
            return Ok(None);
        };
        let Some(grant) = self
            .store
            .device_grant_by_user_code(&code, self.now())
            .await?
        else {
            return Ok(None);
        };
        if grant.decision.is_some() {
            return Ok(None);
        }
        let Some(client) = self.find_client(&grant.client_id).await? else {
            return Ok(None);
        };
        Ok(Some(DeviceRequest {
            user_code: grant.user_code,
            client,
            scopes: scopes_of(&grant.scope),
        }))
    }

    /// Records the person's answer to a device authorization; `false` if it was no
    /// longer live.
    pub async fn decide_device(
        &self,
        who: &SignedIn,
        typed: &str,
        approve: bool,
        client_info: &ClientInfo,
    ) -> CoreResult<bool> {
        let Some(request) = self.device_request(typed).await? else {
            return Ok(false);
        };
        let now = self.now();
        let decision = DeviceDecision {
            account_id: who.account().id,
            approved: approve,
            auth_time: who.session().created_at,
        };
        let (consent, disclosure) = if approve {
            self.third_party_grant(who.account().id, &request.client, &request.scopes, now)
                .await?
        } else {
            (None, None)
        };
        let event = approve.then(|| {
            SecurityEvent::new(who.account().id, EventKind::AppAuthorized, client_info, now)
                .detail(request.client.name.clone())
        });
        Ok(self
            .store
            .decide_device_grant(
                &request.user_code,
                &decision,
                consent.as_ref(),
                disclosure.as_ref(),
                event.as_ref(),
                now,
            )
            .await?)
    }

    /// The issuer identifier (the public URL without a trailing slash).
    pub fn issuer(&self) -> &str {
        self.cfg.public_url.trim_end_matches('/')
    }
}
