//! The signed-in account: `GET /api/v1/me`, `PUT /api/v1/me/password`, `PUT /api/v1/me/username`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use steward_proto::{
    Accepted, ChangeEmailRequest, ChangePasswordRequest, ChangeUsernameRequest, ErrorBody, Me,
    VerifyEmailRequest,
};

use crate::error::ApiResult;
use crate::http::client::{Client, CurrentUser};
use crate::http::json::JsonBody;
use crate::state::AppState;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/password", put(change_password))
        .route("/api/v1/me/username", put(change_username))
        .route("/api/v1/me/email", post(change_email))
        .route("/api/v1/me/email/confirm", post(confirm_email))
}

/// Asks to change the email address: `current_password` and `new_email`. A link goes
/// to the new address and the change takes effect only when it is used; the current
/// address is told at once. `202` alike whether or not the new address already has
/// an account (that account's owner is told instead).
#[utoipa::path(post, path = "/api/v1/me/email", tag = "me", request_body = ChangeEmailRequest,
    responses((status = 202, body = Accepted), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn change_email(
    State(st): State<AppState>,
    client: Client,
    CurrentUser(who): CurrentUser,
    JsonBody(req): JsonBody<ChangeEmailRequest>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    st.limits.credential_ip(client.ip())?;
    st.steward
        .request_email_change(&who, &req.current_password, &req.new_email)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: "Check the new address: the change takes effect when you use the link we sent there.".into(),
        }),
    ))
}

/// Confirms an email change with the `token` from the link sent to the new address
/// (no sign-in needed).
#[utoipa::path(post, path = "/api/v1/me/email/confirm", tag = "me", request_body = VerifyEmailRequest,
    responses((status = 200, body = Accepted), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn confirm_email(
    State(st): State<AppState>,
    client: Client,
    JsonBody(req): JsonBody<VerifyEmailRequest>,
) -> ApiResult<Json<Accepted>> {
    st.limits.credential_ip(client.ip())?;
    let email = st
        .steward
        .confirm_email_change(&req.token, &client.api())
        .await?;
    Ok(Json(Accepted {
        message: format!("Your email address is now {email}."),
    }))
}

/// Changes the username. The old one stays reserved for this account for 30 days
/// (`accounts.username_hold_days`) and `/@old` redirects meanwhile.
#[utoipa::path(put, path = "/api/v1/me/username", tag = "me", request_body = ChangeUsernameRequest,
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_username(
    State(st): State<AppState>,
    client: Client,
    CurrentUser(who): CurrentUser,
    JsonBody(req): JsonBody<ChangeUsernameRequest>,
) -> ApiResult<Json<Me>> {
    let account = st
        .steward
        .change_username(&who, &req.username, &client.api())
        .await?;
    Ok(Json(account.to_me()))
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "me", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(CurrentUser(who): CurrentUser) -> Json<Me> {
    Json(who.account().to_me())
}

/// Changes the password. Other sessions end; the owner gets an email.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "me", request_body = ChangePasswordRequest,
    responses((status = 200, body = Accepted), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn change_password(
    State(st): State<AppState>,
    client: Client,
    CurrentUser(who): CurrentUser,
    JsonBody(req): JsonBody<ChangePasswordRequest>,
) -> ApiResult<Json<Accepted>> {
    st.limits.credential_ip(client.ip())?;
    st.steward
        .change_password(
            &who,
            &req.current_password,
            &req.new_password,
            &client.clone().api(),
        )
        .await?;
    Ok(Json(Accepted {
        message: "Your password was changed. Your other sessions were signed out.".into(),
    }))
}
