//! Sign-up and email confirmation.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use steward_core::flow::registration::Registration;
use steward_proto::{Accepted, ErrorBody, SignUpRequest, VerifyEmailRequest};

use super::openapi::{NOT_SIGNED_IN, RATE_LIMITED};
use crate::error::ApiResult;
use crate::http::client::{Client, CurrentUser};
use crate::http::json::JsonBody;
use crate::state::AppState;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts", post(sign_up))
        .route("/api/v1/accounts/verify-email", post(verify_email))
        .route("/api/v1/accounts/verify-email/resend", post(resend))
}

/// The answer to every sign-up that passed validation, whether or not the email was new.
pub const SIGNUP_ACCEPTED: &str = "Check your email: we sent a link to confirm your address. If you already have an account, the email says so.";

/// Creates an account and sends a confirmation email. A taken email gets the same
/// answer (and its owner an email), so this cannot reveal who has an account.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", operation_id = "sign_up",
    request_body(content = SignUpRequest, description = "The new account's email, username and password, the two confirmations and a solved `altcha`"),
    responses(
        (status = 201, description = "Accepted: a confirmation link is on its way (or, for an email that has an account, a notice to its owner); the same answer either way", body = Accepted),
        (status = 400, description = "Malformed body (`malformed_request`) or a missing, wrong, expired or reused proof of work (`challenge_failed`)", body = ErrorBody),
        (status = 409, description = "The username is taken or held for its former owner (`username_taken`)", body = ErrorBody),
        (status = 422, description = "A field breaks a rule (`validation_failed`); `fields` names each", body = ErrorBody),
        (status = 429, description = RATE_LIMITED, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
pub async fn sign_up(
    State(st): State<AppState>,
    client: Client,
    JsonBody(req): JsonBody<SignUpRequest>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    st.limits.credential_ip(client.ip())?;
    let input = Registration {
        email: req.email,
        username: req.username,
        password: req.password,
        accept_terms: req.accept_terms,
        confirm_age: req.confirm_age,
        altcha: req.altcha,
    };
    st.steward.register(input, &client.api()).await?;
    Ok((
        StatusCode::CREATED,
        Json(Accepted {
            message: SIGNUP_ACCEPTED.into(),
        }),
    ))
}

/// Confirms an email address with the token from the link.
#[utoipa::path(post, path = "/api/v1/accounts/verify-email", tag = "accounts", operation_id = "verify_email",
    request_body(content = VerifyEmailRequest, description = "The `token` from the link in the confirmation email"),
    responses(
        (status = 200, description = "The email address is confirmed", body = Accepted),
        (status = 400, description = "Malformed body, or a token that is unknown, expired, used or replaced by a newer one (`invalid_token`)", body = ErrorBody),
        (status = 429, description = RATE_LIMITED, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
pub async fn verify_email(
    State(st): State<AppState>,
    client: Client,
    JsonBody(req): JsonBody<VerifyEmailRequest>,
) -> ApiResult<Json<Accepted>> {
    st.limits.credential_ip(client.ip())?;
    st.steward.verify_email(&req.token, &client.api()).await?;
    Ok(Json(Accepted {
        message: "Your email address is confirmed.".into(),
    }))
}

/// Sends a new confirmation link to the signed-in account's address.
#[utoipa::path(post, path = "/api/v1/accounts/verify-email/resend", tag = "accounts", operation_id = "resend_verification_email",
    responses(
        (status = 202, description = "Accepted: a new confirmation link is on its way if the address is not confirmed yet (older links stop working)", body = Accepted),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody),
        (status = 429, description = RATE_LIMITED, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
pub async fn resend(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    st.steward.resend_verification(&who).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: "If your address is not confirmed yet, a new link is on its way.".into(),
        }),
    ))
}
