//! The signed-in account: `GET /api/v1/me`, `PUT /api/v1/me/password`, `PUT /api/v1/me/username`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use steward_proto::{
    Accepted, ChangeEmailRequest, ChangePasswordRequest, ChangeUsernameRequest, ErrorBody, Me,
    VerifyEmailRequest,
};

use super::openapi::{MALFORMED, NOT_SIGNED_IN, RATE_LIMITED};
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
#[utoipa::path(post, path = "/api/v1/me/email", tag = "me", operation_id = "change_email",
    request_body(content = ChangeEmailRequest, description = "The current password and the new address"),
    responses(
        (status = 202, description = "Accepted: a link is on its way to the new address and a notice to the current one; the address changes only when the link is used", body = Accepted),
        (status = 400, description = MALFORMED, body = ErrorBody),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody),
        (status = 422, description = "Wrong current password (`wrong_password`) or an invalid new address (`validation_failed`, `fields.new_email`)", body = ErrorBody),
        (status = 429, description = RATE_LIMITED, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
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
#[utoipa::path(post, path = "/api/v1/me/email/confirm", tag = "me", operation_id = "confirm_email_change",
    request_body(content = VerifyEmailRequest, description = "The `token` from the link sent to the new address"),
    responses(
        (status = 200, description = "The account now has the new address, confirmed", body = Accepted),
        (status = 400, description = "Malformed body, or a token that is unknown, expired, used, replaced or cancelled (`invalid_token`)", body = ErrorBody),
        (status = 422, description = "Another account took the address meanwhile (`validation_failed`)", body = ErrorBody),
        (status = 429, description = RATE_LIMITED, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
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
#[utoipa::path(put, path = "/api/v1/me/username", tag = "me", operation_id = "change_username",
    request_body(content = ChangeUsernameRequest, description = "The new username"),
    responses(
        (status = 200, description = "Renamed: the account with its new username (the old one stays reserved for it for a while)", body = Me),
        (status = 400, description = MALFORMED, body = ErrorBody),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody),
        (status = 409, description = "Another account has or holds that username (`username_taken`)", body = ErrorBody),
        (status = 422, description = "The username breaks the sign-up rules (`validation_failed`)", body = ErrorBody)))]
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
#[utoipa::path(get, path = "/api/v1/me", tag = "me", operation_id = "get_me",
    responses(
        (status = 200, description = "The signed-in account", body = Me),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody)))]
pub async fn me(CurrentUser(who): CurrentUser) -> Json<Me> {
    Json(who.account().to_me())
}

/// Changes the password. Other sessions end; the owner gets an email.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "me", operation_id = "change_password",
    request_body(content = ChangePasswordRequest, description = "The current password and the new one"),
    responses(
        (status = 200, description = "Changed: every other session ended and the owner is emailed", body = Accepted),
        (status = 400, description = MALFORMED, body = ErrorBody),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody),
        (status = 422, description = "Wrong current password (`wrong_password`) or a new password that breaks a rule (`validation_failed`)", body = ErrorBody),
        (status = 429, description = RATE_LIMITED, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
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
