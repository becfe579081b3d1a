//! Signing in and out.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use steward_core::flow::login::NewSession;
use steward_proto::{ErrorBody, SignInRequest, SignInResponse};

use crate::error::ApiResult;
use crate::http::client::{Client, CurrentUser};
use crate::http::json::JsonBody;
use crate::state::AppState;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/session", post(sign_in).delete(sign_out))
}

/// Signs in with email or username. The session travels in an HttpOnly cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = SignInRequest,
    responses((status = 200, body = SignInResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn sign_in(
    State(st): State<AppState>,
    client: Client,
    headers: HeaderMap,
    JsonBody(req): JsonBody<SignInRequest>,
) -> ApiResult<Response> {
    st.limits.credential_ip(client.ip())?;
    let trusted = st.devices.accounts(&headers, st.steward.now());
    let new = st
        .steward
        .sign_in(
            &req.identifier,
            &req.password,
            req.remember,
            &client.api(),
            &trusted,
        )
        .await?;
    let body = SignInResponse {
        account: new.account.to_me(),
        expires_at: new.session.expires_at,
    };
    let mut res = Json(body).into_response();
    end_replaced_session(&st, &headers).await;
    set_session_cookies(&st, &headers, &new, res.headers_mut());
    Ok(res)
}

/// Signs out the current session.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn sign_out(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
) -> ApiResult<Response> {
    st.steward.sign_out(&who).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&st.cookies.clear_session()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// Ends the session whose cookie a new sign-in is about to overwrite: once the
/// cookie is replaced, nothing could use or end that session any more.
pub async fn end_replaced_session(st: &AppState, req_headers: &HeaderMap) {
    let Some(token) = st.cookies.session_token(req_headers) else {
        return;
    };
    if let Ok(old) = st.steward.authenticate(token).await
        && let Err(e) = st.steward.sign_out(&old).await
    {
        tracing::warn!(error = %e, "could not end the replaced session");
    }
}

/// Adds the session cookie and the refreshed device cookie after a sign-in.
pub fn set_session_cookies(
    st: &AppState,
    req_headers: &HeaderMap,
    new: &NewSession,
    out: &mut HeaderMap,
) {
    let now = st.steward.now();
    let session = st.cookies.session_cookie(
        &new.token.plain,
        new.session.remember,
        new.session.expires_at,
        now,
    );
    let device = st
        .devices
        .cookie_with(req_headers, new.account.id, now, st.cookies.secure);
    for c in [session, device] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            out.append(header::SET_COOKIE, v);
        }
    }
}
