//! `GET /api/v1/challenge`: a proof-of-work challenge for the "I'm not a robot" check.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use steward_proto::{Challenge, ErrorBody};

use super::openapi::RATE_LIMITED;
use crate::error::ApiResult;
use crate::http::client::Client;
use crate::state::AppState;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/challenge", get(challenge))
}

/// A fresh ALTCHA challenge (SHA-256); solve it and send the base64 JSON solution as `altcha`.
#[utoipa::path(get, path = "/api/v1/challenge", tag = "accounts", operation_id = "get_challenge",
    responses(
        (status = 200, description = "A fresh challenge, valid for 10 minutes and usable once", body = Challenge),
        (status = 429, description = RATE_LIMITED, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
pub async fn challenge(State(st): State<AppState>, client: Client) -> ApiResult<Json<Challenge>> {
    st.limits.credential_ip(client.ip())?;
    Ok(Json(st.steward.challenge()))
}
