//! The signed-in person's profile.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use steward_proto::ErrorBody;
use steward_proto::profile::{ProfileView, UpdateProfileRequest};

use crate::error::ApiResult;
use crate::http::client::CurrentUser;
use crate::http::json::JsonBody;
use crate::state::AppState;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/me/profile", get(show).put(update))
}

/// Name, about, role, company, links and whether the profile is public.
#[utoipa::path(get, path = "/api/v1/me/profile", tag = "me",
    responses((status = 200, body = ProfileView), (status = 401, body = ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
) -> ApiResult<Json<ProfileView>> {
    Ok(Json(st.steward.profile(&who).await?))
}

/// Replaces the profile (absent or empty fields are cleared). A refused field
/// (`422` with `fields`) saves nothing.
#[utoipa::path(put, path = "/api/v1/me/profile", tag = "me", request_body = UpdateProfileRequest,
    responses((status = 200, body = ProfileView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
    JsonBody(req): JsonBody<UpdateProfileRequest>,
) -> ApiResult<Json<ProfileView>> {
    Ok(Json(st.steward.update_profile(&who, &req).await?))
}
