//! "Trouble signing in?": reset the password or get the username by email.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use steward_proto::{Accepted, CompleteResetRequest, ErrorBody, RecoveryRequest};

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
#[utoipa::path(post, path = "/api/v1/recovery/password", tag = "recovery", request_body = RecoveryRequest,
    responses((status = 202, body = Accepted), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn reset_password(
    State(st): State<AppState>,
    client: Client,
    JsonBody(req): JsonBody<RecoveryRequest>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    st.limits.credential_ip(client.ip())?;
    st.steward
        .request_password_reset(&req.email, &req.altcha, &client.clone().api())
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: RECOVERY_ACCEPTED.into(),
        }),
    ))
}

/// Sets a new password with the token from the reset link; every session ends.
#[utoipa::path(post, path = "/api/v1/recovery/password/complete", tag = "recovery", request_body = CompleteResetRequest,
    responses((status = 200, body = Accepted), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
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
#[utoipa::path(post, path = "/api/v1/recovery/username", tag = "recovery", request_body = RecoveryRequest,
    responses((status = 202, body = Accepted), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn remind_username(
    State(st): State<AppState>,
    client: Client,
    JsonBody(req): JsonBody<RecoveryRequest>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    st.limits.credential_ip(client.ip())?;
    st.steward
        .request_username_reminder(&req.email, &req.altcha, &client.clone().api())
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: RECOVERY_ACCEPTED.into(),
        }),
    ))
}
