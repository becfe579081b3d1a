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
use crate::oauth::prompt::{Person, Prompt, Situation, Step, next_step};
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
    #[serde(default)]
    prompt: Prompt,
    #[serde(default)]
    max_age: Option<i64>,
    #[serde(default)]
    hint_sub: Option<Uuid>,
}

/// A request kept for the person: the handle naming it in the page's URL, and
/// whether it must be answered without any page (`prompt=none`).
#[derive(Debug, Clone)]
pub struct Started {
    /// The handle (secret, in the URL of the page that finishes it).
    pub handle: String,
    /// `prompt=none`: answer the app at once with [`Steward::authorize_silently`].
    pub silent: bool,
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
    ) -> CoreResult<Result<Started, AuthorizeError>> {
        let client = match params.client_id.as_deref() {
            Some(id) => self.find_client(id).await?,
            None => None,
        };
        let hint = params
            .id_token_hint
            .as_deref()
            .map(|t| self.hinted_account(t));
        let pending = match check_request(params, client.as_ref(), hint, self.now()) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let data = RequestData {
            redirect_uri: pending.redirect_uri.to_string(),
            scope: scope_string(&pending.scopes),
            state: pending.state.clone(),
            nonce: pending.nonce.clone(),
            challenge: pending.challenge.as_str().to_owned(),
            prompt: pending.prompt,
            max_age: pending.max_age,
            hint_sub: pending.hint_sub,
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
        Ok(Ok(Started {
            handle: handle.plain,
            silent: pending.prompt.none,
        }))
    }

    /// The account an `id_token_hint` names, if it is an ID token this server signed
    /// (with a key still published; its expiry does not matter, OpenID Connect Core
    /// §3.1.2.1) for this issuer.
    fn hinted_account(&self, token: &str) -> Option<Uuid> {
        let claims = self.signer.verify(token)?;
        if claims.get("iss").and_then(|v| v.as_str()) != Some(self.issuer()) {
            return None;
        }
        claims
            .get("sub")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
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
            prompt: data.prompt,
            max_age: data.max_age,
            hint_sub: data.hint_sub,
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

    /// What the request does next for a browser acting as `active` and holding
    /// sessions of `others` too; `chosen` once the person picked an account for it.
    pub async fn authorization_step(
        &self,
        live: &LiveRequest,
        active: Option<&SignedIn>,
        others: &[Uuid],
        chosen: bool,
    ) -> CoreResult<Step> {
        let consent_missing = match active {
            Some(who) if !live.client.first_party => {
                live.needs_consent(self.consent_of(who, &live.client.id).await?.as_ref())
            }
            _ => false,
        };
        Ok(next_step(&Situation {
            request: &live.request,
            first_party: live.client.first_party,
            person: active.map(|w| Person {
                account_id: w.account().id,
                auth_time: w.session().created_at,
            }),
            holds_hinted: live.request.hint_sub.is_some_and(|h| others.contains(&h)),
            chosen,
            consent_missing,
            now: self.now(),
        }))
    }

    /// `prompt=none`: where to send the browser at once, without any page: the app's
    /// redirect URI with a code, or with `login_required`, `consent_required` or
    /// `interaction_required` (OpenID Connect Core §3.1.2.6). `None` if the request is
    /// no longer live.
    pub async fn authorize_silently(
        &self,
        handle: &str,
        active: Option<&SignedIn>,
        client_info: &ClientInfo,
    ) -> CoreResult<Option<Url>> {
        let RequestState::Live(live) = self.authorization_request(handle).await? else {
            return Ok(None);
        };
        let step = self.authorization_step(&live, active, &[], false).await?;
        if let (None, Some(who)) = (step.silent_error(), active) {
            return Ok(self
                .approve_authorization(who, handle, client_info)
                .await?
                .map(|g| g.redirect));
        }
        let (error, description) = match step.silent_error().unwrap_or("login_required") {
            "consent_required" => (
                "consent_required",
                "The person has not allowed this app what it asks for.",
            ),
            "interaction_required" => (
                "interaction_required",
                "The person must confirm this sign-in on a Steward page.",
            ),
            _ => ("login_required", "The person must sign in."),
        };
        Ok(Some(self.error_redirect(&live.request, error, description)))
    }

    /// The app's redirect URI with an error, its `state` and `iss` (RFC 9207).
    fn error_redirect(
        &self,
        request: &PendingAuthorization,
        error: &str,
        description: &str,
    ) -> Url {
        let mut redirect = request.redirect_uri.clone();
        {
            let mut q = redirect.query_pairs_mut();
            q.append_pair("error", error);
            q.append_pair("error_description", description);
            if let Some(state) = &request.state {
                q.append_pair("state", state);
            }
            q.append_pair("iss", self.issuer());
        }
        redirect
    }

    /// The person agreed (or nothing needs asking): issues the code and says where
    /// to send the browser. Third-party grants are remembered and written to the
    /// disclosure log. `None` if the request is no longer live, or `who` may not
    /// answer it yet (another account was asked for, or a fresh sign-in is needed).
    pub async fn approve_authorization(
        &self,
        who: &SignedIn,
        handle: &str,
        client_info: &ClientInfo,
    ) -> CoreResult<Option<Granted>> {
        let RequestState::Live(live) = self.authorization_request(handle).await? else {
            return Ok(None);
        };
        // The page is only a view: the rules hold for a form posted without it too.
        if !self
            .authorization_step(&live, Some(who), &[], true)
            .await?
            .can_answer()
        {
            return Ok(None);
        }
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
        Ok(Some(self.error_redirect(
            &live.request,
            "access_denied",
            "The person did not allow the app.",
        )))
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
