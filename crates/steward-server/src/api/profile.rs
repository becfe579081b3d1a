//! The signed-in person's profile.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use steward_core::profile::photo::MAX_BYTES;
use steward_proto::ErrorBody;
use steward_proto::profile::{ProfileView, UpdateProfileRequest};

use super::openapi::{MALFORMED, NOT_SIGNED_IN};
use crate::error::ApiResult;
use crate::http::client::CurrentUser;
use crate::http::json::JsonBody;
use crate::state::AppState;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me/profile", get(show).put(update))
        .route(
            "/api/v1/me/profile/photo",
            put(upload_photo)
                .delete(remove_photo)
                // A little over 5 MB gets through, so a 5 MB photo is judged by the rules.
                .layer(DefaultBodyLimit::max(MAX_BYTES + 1)),
        )
}

/// Uploads a profile photo: the body is the image (PNG, JPEG or WebP, at most 5 MB,
/// 4096×4096 pixels and 8 bits per channel). It is re-encoded as 256 and 64 pixel
/// JPEGs without metadata. `413` over 5 MB; `422` with `fields.photo` for anything
/// else refused; `429` past the account's photo uploads per hour.
#[utoipa::path(put, path = "/api/v1/me/profile/photo", tag = "me", operation_id = "upload_profile_photo",
    request_body(description = "The image file itself: PNG, JPEG or WebP, at most 5 MB, 4096×4096 pixels and 8 bits per channel",
        content(("image/png"), ("image/jpeg"), ("image/webp"))),
    responses(
        (status = 200, description = "Saved: the profile with its new `photo_url`", body = ProfileView),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody),
        (status = 413, description = "The image is over 5 MB (`payload_too_large`)", body = ErrorBody),
        (status = 422, description = "Not a PNG, JPEG or WebP image, over 4096×4096 pixels, more than 8 bits per channel (a 16-bit PNG), or unreadable (`validation_failed`, `fields.photo`); nothing saved", body = ErrorBody),
        (status = 429, description = "The account uploaded `limits.photo_uploads_per_account_per_hour` photos in the last hour (`rate_limited`, `fields.photo` says when to retry); nothing saved", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
pub async fn upload_photo(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<ProfileView>> {
    let bytes = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => crate::error::ApiError::TooLarge,
        _ => crate::error::ApiError::Malformed(e.body_text()),
    })?;
    Ok(Json(st.steward.set_photo(&who, bytes.to_vec()).await?))
}

/// Removes the profile photo.
#[utoipa::path(delete, path = "/api/v1/me/profile/photo", tag = "me", operation_id = "remove_profile_photo",
    responses(
        (status = 200, description = "Removed: the profile without a photo", body = ProfileView),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody)))]
pub async fn remove_photo(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
) -> ApiResult<Json<ProfileView>> {
    Ok(Json(st.steward.remove_photo(&who).await?))
}

/// Name, about, role, company, links and whether the profile is public.
#[utoipa::path(get, path = "/api/v1/me/profile", tag = "me", operation_id = "get_profile",
    responses(
        (status = 200, description = "This account's profile, public or not", body = ProfileView),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
) -> ApiResult<Json<ProfileView>> {
    Ok(Json(st.steward.profile(&who).await?))
}

/// Replaces the profile (absent or empty fields are cleared). A refused field
/// (`422` with `fields`) saves nothing.
#[utoipa::path(put, path = "/api/v1/me/profile", tag = "me", operation_id = "update_profile",
    request_body(content = UpdateProfileRequest, description = "The whole profile: fields left out or empty are cleared"),
    responses(
        (status = 200, description = "Saved: the profile as it is now", body = ProfileView),
        (status = 400, description = MALFORMED, body = ErrorBody),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody),
        (status = 422, description = "A field breaks a rule (`validation_failed`); `fields` names each and nothing is saved", body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
    JsonBody(req): JsonBody<UpdateProfileRequest>,
) -> ApiResult<Json<ProfileView>> {
    Ok(Json(st.steward.update_profile(&who, &req).await?))
}
