//! Active sessions and security activity of the signed-in account.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use steward_proto::{ErrorBody, Revoked, SecurityActivity, SessionList};
use utoipa::IntoParams;
use uuid::Uuid;

use super::openapi::NOT_SIGNED_IN;
use crate::error::{ApiError, ApiResult};
use crate::http::client::{Client, CurrentUser};
use crate::state::AppState;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sessions", get(list).delete(revoke_others))
        .route("/api/v1/sessions/{id}", delete(revoke))
        .route("/api/v1/me/security-activity", get(activity))
}

/// Every device signed in to this account, most recently used first.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", operation_id = "list_sessions",
    responses(
        (status = 200, description = "This account's active sessions, most recently used first, this one marked `current`", body = SessionList),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
) -> ApiResult<Json<SessionList>> {
    Ok(Json(SessionList {
        sessions: st.steward.list_sessions(&who).await?,
    }))
}

/// Revokes one session (this one too, if named). It stops working on its next
/// request on every server. A session that is not this account's is `404`, as is one
/// that does not exist.
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "sessions", operation_id = "revoke_session",
    params(("id" = Uuid, Path, description = "Session id from the list")),
    responses(
        (status = 204, description = "Revoked: the session stops working on its next request, on every server"),
        (status = 400, description = "`id` is not a UUID (`malformed_request`)", body = ErrorBody),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody),
        (status = 404, description = "No session of this account has that id (`not_found`)", body = ErrorBody)))]
pub async fn revoke(
    State(st): State<AppState>,
    client: Client,
    CurrentUser(who): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(&id)
        .map_err(|_| ApiError::Malformed("The session id is not a valid UUID.".into()))?;
    st.steward.revoke_session(&who, id, &client.api()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes every session of this account except the one making the request.
#[utoipa::path(delete, path = "/api/v1/sessions", tag = "sessions", operation_id = "revoke_other_sessions",
    responses(
        (status = 200, description = "Every session of this account but the current one ended; how many", body = Revoked),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody)))]
pub async fn revoke_others(
    State(st): State<AppState>,
    client: Client,
    CurrentUser(who): CurrentUser,
) -> ApiResult<Json<Revoked>> {
    let revoked = st
        .steward
        .revoke_other_sessions(&who, &client.api())
        .await?;
    Ok(Json(Revoked { revoked }))
}

/// Paging through security activity.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// `next_before` from the previous page.
    pub before: Option<Uuid>,
    /// Events per page, 1–100 (default 25).
    pub limit: Option<u32>,
}

/// This account's security events, newest first.
#[utoipa::path(get, path = "/api/v1/me/security-activity", tag = "sessions", operation_id = "list_security_activity", params(ActivityQuery),
    responses(
        (status = 200, description = "One page of security events, newest first, with `next_before` for the next page", body = SecurityActivity),
        (status = 400, description = "`before` is not a UUID or `limit` not a number (`malformed_request`)", body = ErrorBody),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody),
        (status = 422, description = "`limit` outside 1–100 (`validation_failed`)", body = ErrorBody)))]
pub async fn activity(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
    q: Result<Query<ActivityQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<SecurityActivity>> {
    let Query(q) = q.map_err(|e| ApiError::Malformed(format!("Bad query: {}", e.body_text())))?;
    Ok(Json(
        st.steward
            .security_activity(&who, q.before, q.limit)
            .await?,
    ))
}
