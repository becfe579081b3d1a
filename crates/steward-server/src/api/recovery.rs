//! "Trouble signing in?": reset the password or get the username by email.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use steward_proto::{Accepted, CompleteResetRequest, ErrorBody, RecoveryRequest};

use super::openapi::{QUOTA_OR_RATE_LIMITED, RATE_LIMITED};
use crate::error::ApiResult;
use crate::http::client::Client;
use crate::http::json::JsonBody;
use crate::state::AppState;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/recovery/password", post(reset_password))
        .route("/api/v1/recovery/password/complete", post(complete_reset))
        .route("/api/v1/recovery/username", post(remind_username))
}

/// The answer to every recovery request, whether or not the address has an account.
pub const RECOVERY_ACCEPTED: &str = "If an account uses this email address, we sent it a message with instructions. Check your inbox and spam folder.";

/// Emails a password reset link if the address has an account. Always 202.
#[utoipa::path(post, path = "/api/v1/recovery/password", tag = "recovery", operation_id = "request_password_reset",
    request_body(content = RecoveryRequest, description = "The account's email address and a solved `altcha`"),
    responses(
        (status = 202, description = "Accepted: a reset link is on its way if the address has an account; the same answer either way", body = Accepted),
        (status = 400, description = "Malformed body (`malformed_request`) or a missing, wrong, expired or reused proof of work (`challenge_failed`)", body = ErrorBody),
        (status = 429, description = QUOTA_OR_RATE_LIMITED, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
pub async fn reset_password(
    State(st): State<AppState>,
    client: Client,
    headers: HeaderMap,
    JsonBody(req): JsonBody<RecoveryRequest>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    st.limits.credential_ip(client.ip())?;
    let vouched = st.devices.account_ids(&headers, st.steward.now());
    st.steward
        .request_password_reset(&req.email, &req.altcha, &client.clone().api(), &vouched)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: RECOVERY_ACCEPTED.into(),
        }),
    ))
}

/// Sets a new password with the token from the reset link; every session ends.
#[utoipa::path(post, path = "/api/v1/recovery/password/complete", tag = "recovery", operation_id = "complete_password_reset",
    request_body(content = CompleteResetRequest, description = "The `token` from the reset link and the new password"),
    responses(
        (status = 200, description = "The password is reset and every session of the account ended; sign in with the new one", body = Accepted),
        (status = 400, description = "Malformed body, or a token that is unknown, expired, used or replaced by a newer one (`invalid_token`)", body = ErrorBody),
        (status = 422, description = "The new password breaks a rule (`validation_failed`, `fields.new_password`)", body = ErrorBody),
        (status = 429, description = RATE_LIMITED, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
pub async fn complete_reset(
    State(st): State<AppState>,
    client: Client,
    JsonBody(req): JsonBody<CompleteResetRequest>,
) -> ApiResult<Json<Accepted>> {
    st.limits.credential_ip(client.ip())?;
    st.steward
        .complete_password_reset(&req.token, &req.new_password, &client.clone().api())
        .await?;
    Ok(Json(Accepted {
        message: "Your password was reset. Sign in with the new password.".into(),
    }))
}

/// Emails the username if the address has an account. Always 202.
#[utoipa::path(post, path = "/api/v1/recovery/username", tag = "recovery", operation_id = "request_username_reminder",
    request_body(content = RecoveryRequest, description = "The account's email address and a solved `altcha`"),
    responses(
        (status = 202, description = "Accepted: the username is on its way if the address has an account; the same answer either way", body = Accepted),
        (status = 400, description = "Malformed body (`malformed_request`) or a missing, wrong, expired or reused proof of work (`challenge_failed`)", body = ErrorBody),
        (status = 429, description = QUOTA_OR_RATE_LIMITED, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
pub async fn remind_username(
    State(st): State<AppState>,
    client: Client,
    headers: HeaderMap,
    JsonBody(req): JsonBody<RecoveryRequest>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    st.limits.credential_ip(client.ip())?;
    let vouched = st.devices.account_ids(&headers, st.steward.now());
    st.steward
        .request_username_reminder(&req.email, &req.altcha, &client.clone().api(), &vouched)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: RECOVERY_ACCEPTED.into(),
        }),
    ))
}
