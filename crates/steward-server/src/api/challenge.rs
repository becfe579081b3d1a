//! `GET /api/v1/challenge`: a proof-of-work challenge for the "I'm not a robot" check.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use steward_core::challenge::Strength;
use steward_proto::{Challenge, ErrorBody};
use utoipa::IntoParams;

use super::openapi::RATE_LIMITED;
use crate::error::{ApiError, ApiResult};
use crate::http::client::Client;
use crate::state::AppState;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/challenge", get(challenge))
}

/// Which challenge `GET /api/v1/challenge` hands out.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChallengeQuery {
    /// `normal` (default), or `strong`: about ten times the work, accepted past an
    /// address's hourly email quota (`email_quota_exceeded`).
    pub strength: Option<String>,
}

/// A fresh ALTCHA challenge (SHA-256); solve it and send the base64 JSON solution as `altcha`.
#[utoipa::path(get, path = "/api/v1/challenge", tag = "accounts", operation_id = "get_challenge",
    params(ChallengeQuery),
    responses(
        (status = 200, description = "A fresh challenge, valid for 10 minutes and usable once", body = Challenge),
        (status = 400, description = "An unknown `strength` (`malformed_request`)", body = ErrorBody),
        (status = 429, description = RATE_LIMITED, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
pub async fn challenge(
    State(st): State<AppState>,
    client: Client,
    q: Result<Query<ChallengeQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Challenge>> {
    st.limits.credential_ip(client.ip())?;
    let Query(q) = q.map_err(|e| ApiError::Malformed(format!("Bad query: {}", e.body_text())))?;
    let strength = match q.strength.as_deref() {
        None | Some("normal") => Strength::Normal,
        Some("strong") => Strength::Strong,
        Some(_) => {
            return Err(ApiError::Malformed(
                "strength must be normal or strong.".into(),
            ));
        }
    };
    Ok(Json(st.steward.challenge(strength)))
}
