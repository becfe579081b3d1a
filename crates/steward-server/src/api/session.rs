//! Signing in and out, and the accounts signed in in this browser.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use steward_core::CoreError;
use steward_core::flow::login::NewSession;
use steward_core::session::ClientInfo;
use steward_proto::{
    BrowserAccounts, ErrorBody, SignInRequest, SignInResponse, SwitchAccountRequest,
};
use utoipa::IntoParams;

use super::openapi::{MALFORMED, RATE_LIMITED};
use crate::error::{ApiError, ApiResult};
use crate::http::browser::Browser;
use crate::http::client::Client;
use crate::http::json::JsonBody;
use crate::state::AppState;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/session", post(sign_in).delete(sign_out))
        .route("/api/v1/session/accounts", get(accounts))
        .route("/api/v1/session/switch", post(switch))
}

/// Signs in with email or username. The session travels in an HttpOnly cookie.
/// Accounts already signed in in this browser stay signed in (switch back with
/// `POST /api/v1/session/switch`); signing in again to one of them replaces its session.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", operation_id = "sign_in",
    request_body(content = SignInRequest, description = "Email or username, password, whether to keep the session for 30 days, and (only after `challenge_required`) a solved proof of work"),
    responses(
        (status = 200, description = "Signed in: the session cookie is set and this account is the browser's active one", body = SignInResponse),
        (status = 400, description = "A malformed body (`malformed_request`), or an `altcha` answer that is wrong, expired or reused (`challenge_failed`)", body = ErrorBody),
        (status = 401, description = "Wrong identifier or password (`invalid_credentials`), or many failed sign-ins with this identifier so the request must carry a solved `altcha` (`challenge_required`); the same answers whether or not the account exists", body = ErrorBody),
        (status = 409, description = "The browser already holds the most accounts allowed (`too_many_accounts`)", body = ErrorBody),
        (status = 429, description = RATE_LIMITED, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
        (status = 503, description = "Too many sign-ins at once: this one was turned away before its password was checked (`unavailable`); retry after `Retry-After`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
pub async fn sign_in(
    State(st): State<AppState>,
    client: Client,
    headers: HeaderMap,
    browser: Browser,
    JsonBody(req): JsonBody<SignInRequest>,
) -> ApiResult<Response> {
    let trusted = st.devices.accounts(&headers, st.steward.now());
    if trusted.is_empty() {
        st.steward.shed_unvouched_sign_in()?;
    }
    st.limits.credential_ip(client.ip())?;
    browser.check_room(&req.identifier)?;
    let new = st
        .steward
        .sign_in(
            &req.identifier,
            &req.password,
            req.remember,
            &client.clone().api(),
            &trusted,
            req.altcha.as_deref(),
        )
        .await?;
    let body = SignInResponse {
        account: new.account.to_me(),
        expires_at: new.session.expires_at,
    };
    let mut res = Json(body).into_response();
    adopt_sign_in(
        &st,
        browser,
        &headers,
        &new,
        &client.api(),
        res.headers_mut(),
    )
    .await?;
    Ok(res)
}

/// Makes a fresh sign-in this browser's active account, ends any session of the same
/// account it replaces, and sets the cookies (session, other accounts, device).
pub async fn adopt_sign_in(
    st: &AppState,
    mut browser: Browser,
    req_headers: &HeaderMap,
    new: &NewSession,
    client: &ClientInfo,
    out: &mut HeaderMap,
) -> ApiResult<()> {
    for old in browser.adopt(new, new.signed_in()) {
        if let Err(e) = st.steward.sign_out(&old.who, client).await {
            tracing::warn!(error = %e, "could not end the replaced session");
        }
    }
    let now = st.steward.now();
    browser.write(st, now, out);
    let device = st.devices.cookie_with(req_headers, new.account.id, now);
    if let Ok(v) = axum::http::HeaderValue::from_str(&device) {
        out.append(axum::http::header::SET_COOKIE, v);
    }
    Ok(())
}

/// Which sessions `DELETE /api/v1/session` ends.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignOutQuery {
    /// `true`: every account signed in in this browser, not just the active one.
    #[serde(default)]
    pub all: bool,
}

/// Signs out the active account (or, with `all=true`, every account in this browser).
/// Other accounts stay signed in and are not switched to by themselves.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", operation_id = "sign_out", params(SignOutQuery),
    responses(
        (status = 204, description = "Signed out: the active account's session (or, with `all=true`, every one in this browser) ended and its cookie is cleared"),
        (status = 400, description = "A query that is not `all=true|false` (`malformed_request`)", body = ErrorBody),
        (status = 401, description = "No account is signed in in this browser (`unauthenticated`)", body = ErrorBody)))]
pub async fn sign_out(
    State(st): State<AppState>,
    client: Client,
    mut browser: Browser,
    q: Result<Query<SignOutQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q.map_err(|e| ApiError::Malformed(format!("Bad query: {}", e.body_text())))?;
    if browser.active.is_none() && !(q.all && browser.count() > 0) {
        return Err(CoreError::Unauthenticated.into());
    }
    let client = client.api();
    end_sessions(&st, &mut browser, q.all, &client).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    browser.write(&st, st.steward.now(), res.headers_mut());
    Ok(res)
}

/// Ends the active session, or every held session with `all`. Each is forgotten only
/// once it has ended, so a failure never leaves a live session without its cookie.
pub async fn end_sessions(
    st: &AppState,
    browser: &mut Browser,
    all: bool,
    client: &ClientInfo,
) -> ApiResult<()> {
    if let Some(active) = &browser.active {
        st.steward.sign_out(&active.who, client).await?;
        browser.active = None;
    }
    if all {
        let mut failed = None;
        let mut kept = Vec::new();
        for other in std::mem::take(&mut browser.others) {
            match st.steward.sign_out(&other.who, client).await {
                Ok(()) => {}
                Err(e) => {
                    kept.push(other);
                    failed = Some(e);
                }
            }
        }
        browser.others = kept;
        if let Some(e) = failed {
            return Err(e.into());
        }
    }
    Ok(())
}

/// The accounts signed in in this browser, the active one first.
#[utoipa::path(get, path = "/api/v1/session/accounts", tag = "session", operation_id = "list_browser_accounts",
    responses(
        (status = 200, description = "The accounts with a valid session in this browser, the active one first (empty when none)", body = BrowserAccounts)))]
pub async fn accounts(browser: Browser) -> Json<BrowserAccounts> {
    Json(BrowserAccounts {
        accounts: browser.accounts(),
    })
}

/// Acts as another account signed in in this browser, without its password.
/// An account this browser holds no valid session of is `404`.
#[utoipa::path(post, path = "/api/v1/session/switch", tag = "session", operation_id = "switch_account",
    request_body(content = SwitchAccountRequest, description = "The `account_id` of an account signed in in this browser"),
    responses(
        (status = 200, description = "Switched: that account is now the active one; the accounts in their new order", body = BrowserAccounts),
        (status = 400, description = MALFORMED, body = ErrorBody),
        (status = 404, description = "This browser holds no valid session of that account (`not_found`)", body = ErrorBody)))]
pub async fn switch(
    State(st): State<AppState>,
    mut browser: Browser,
    JsonBody(req): JsonBody<SwitchAccountRequest>,
) -> ApiResult<Response> {
    if !browser.switch(req.account_id) {
        return Err(ApiError::Core(CoreError::NotFound("signed-in account")));
    }
    let mut res = Json(BrowserAccounts {
        accounts: browser.accounts(),
    })
    .into_response();
    browser.write(&st, st.steward.now(), res.headers_mut());
    Ok(res)
}
