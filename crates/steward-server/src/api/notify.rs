//! Notification preferences and in-app notifications of the signed-in account.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use steward_proto::ErrorBody;
use steward_proto::notify::{
    NotificationList, NotificationPreferences, UpdateNotificationPreferences,
};
use uuid::Uuid;

use super::openapi::{MALFORMED, NOT_SIGNED_IN};
use crate::error::{ApiError, ApiResult};
use crate::http::client::{Client, CurrentUser};
use crate::http::json::JsonBody;
use crate::state::AppState;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/me/notification-preferences",
            get(preferences).put(update_preferences),
        )
        .route("/api/v1/me/notifications", get(list))
        .route("/api/v1/me/notifications/read-all", post(read_all))
        .route("/api/v1/me/notifications/{id}/read", post(read))
}

/// Email and in-app channels per category, the marketing opt-in, and which emails
/// always go out.
#[utoipa::path(get, path = "/api/v1/me/notification-preferences", tag = "notifications", operation_id = "get_notification_preferences",
    responses(
        (status = 200, description = "Channels per category, the marketing opt-in and the emails that always go out", body = NotificationPreferences),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody)))]
pub async fn preferences(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
) -> ApiResult<Json<NotificationPreferences>> {
    Ok(Json(st.steward.notification_preferences(&who).await?))
}

/// Sets preferences. Changing `marketing_email` is recorded as consent given or withdrawn.
#[utoipa::path(put, path = "/api/v1/me/notification-preferences", tag = "notifications", operation_id = "update_notification_preferences",
    request_body(content = UpdateNotificationPreferences, description = "The categories to set (others keep their setting) and, optionally, the marketing opt-in"),
    responses(
        (status = 200, description = "Saved: the preferences as they are now; a marketing change is in the consent ledger", body = NotificationPreferences),
        (status = 400, description = MALFORMED, body = ErrorBody),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody),
        (status = 422, description = "An unknown category (`validation_failed`)", body = ErrorBody)))]
pub async fn update_preferences(
    State(st): State<AppState>,
    client: Client,
    CurrentUser(who): CurrentUser,
    JsonBody(req): JsonBody<UpdateNotificationPreferences>,
) -> ApiResult<Json<NotificationPreferences>> {
    Ok(Json(
        st.steward
            .update_notification_preferences(&who, &req, &client.api())
            .await?,
    ))
}

/// The 50 latest in-app notifications and the unread count.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications", operation_id = "list_notifications",
    responses(
        (status = 200, description = "The 50 latest in-app notifications, newest first, and the unread count", body = NotificationList),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
) -> ApiResult<Json<NotificationList>> {
    Ok(Json(st.steward.notifications(&who).await?))
}

/// Marks one notification read.
#[utoipa::path(post, path = "/api/v1/me/notifications/{id}/read", tag = "notifications", operation_id = "mark_notification_read",
    params(("id" = Uuid, Path, description = "Notification id")),
    responses(
        (status = 204, description = "Marked read"),
        (status = 400, description = "`id` is not a UUID (`malformed_request`)", body = ErrorBody),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody),
        (status = 404, description = "No notification of this account has that id (`not_found`)", body = ErrorBody)))]
pub async fn read(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(&id)
        .map_err(|_| ApiError::Malformed("The notification id is not a valid UUID.".into()))?;
    st.steward.mark_notification_read(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Marks every notification read.
#[utoipa::path(post, path = "/api/v1/me/notifications/read-all", tag = "notifications", operation_id = "mark_all_notifications_read",
    responses(
        (status = 204, description = "Every notification of this account is marked read"),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody)))]
pub async fn read_all(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
) -> ApiResult<StatusCode> {
    st.steward.mark_all_notifications_read(&who).await?;
    Ok(StatusCode::NO_CONTENT)
}
