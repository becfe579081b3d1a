//! Third-party apps over the JSON API: registering apps (developers), the apps a
//! person allowed (Connected apps) and the disclosure log of what they received.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use steward_proto::ErrorBody;
use steward_proto::oauth::{
    AppList, ConnectedApps, DisclosureView, RegisterAppRequest, RegisteredApp,
};
use utoipa::ToSchema;

use super::openapi::{MALFORMED, NOT_SIGNED_IN};
use crate::error::ApiResult;
use crate::http::client::{Client, CurrentUser};
use crate::http::json::JsonBody;
use crate::state::AppState;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps", get(list).post(register))
        .route("/api/v1/apps/{client_id}", delete(remove))
        .route("/api/v1/me/connected-apps", get(connected))
        .route("/api/v1/me/connected-apps/{client_id}", delete(disconnect))
        .route("/api/v1/me/disclosures", get(disclosures))
}

/// Registers a third-party app that signs people in with Steward. A confidential app
/// gets a client secret, shown only in this answer.
#[utoipa::path(post, path = "/api/v1/apps", tag = "apps", operation_id = "register_app",
    request_body(content = RegisterAppRequest, description = "The app's name, redirect URIs, optional logo URL, the scopes it may ask for, and whether it is public (no secret)"),
    responses(
        (status = 201, description = "Registered: the app with its `client_id` and, for a confidential app, the `client_secret`, shown only here", body = RegisteredApp),
        (status = 400, description = MALFORMED, body = ErrorBody),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody),
        (status = 422, description = "A bad name, redirect URI, logo URL or scope (`validation_failed`); `fields` names each", body = ErrorBody)))]
pub async fn register(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
    JsonBody(req): JsonBody<RegisterAppRequest>,
) -> ApiResult<(StatusCode, Json<RegisteredApp>)> {
    Ok((
        StatusCode::CREATED,
        Json(st.steward.register_app(&who, &req).await?),
    ))
}

/// The apps this account registered.
#[utoipa::path(get, path = "/api/v1/apps", tag = "apps", operation_id = "list_apps",
    responses(
        (status = 200, description = "The apps this account registered", body = AppList),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
) -> ApiResult<Json<AppList>> {
    Ok(Json(AppList {
        apps: st.steward.my_apps(&who).await?,
    }))
}

/// Deletes an app this account registered; everyone signed in to it is signed out of it.
#[utoipa::path(delete, path = "/api/v1/apps/{client_id}", tag = "apps", operation_id = "delete_app",
    params(("client_id" = String, Path, description = "The app's client_id")),
    responses(
        (status = 204, description = "Deleted: everyone signed in to the app is signed out of it"),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody),
        (status = 404, description = "This account registered no app with that client_id (`not_found`)", body = ErrorBody)))]
pub async fn remove(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
    Path(client_id): Path<String>,
) -> ApiResult<StatusCode> {
    st.steward.delete_app(&who, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Third-party apps this account allowed, with what each receives.
#[utoipa::path(get, path = "/api/v1/me/connected-apps", tag = "apps", operation_id = "list_connected_apps",
    responses(
        (status = 200, description = "The third-party apps this account allowed, with what each receives", body = ConnectedApps),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody)))]
pub async fn connected(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
) -> ApiResult<Json<ConnectedApps>> {
    Ok(Json(ConnectedApps {
        apps: st.steward.connected_apps(&who).await?,
    }))
}

/// Takes back an app's access: its sign-ins end and it must ask again.
#[utoipa::path(delete, path = "/api/v1/me/connected-apps/{client_id}", tag = "apps", operation_id = "disconnect_app",
    params(("client_id" = String, Path, description = "The app's client_id")),
    responses(
        (status = 204, description = "Disconnected: the app's sign-ins and tokens ended; it must ask again"),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody),
        (status = 404, description = "This account never allowed that app (`not_found`)", body = ErrorBody)))]
pub async fn disconnect(
    State(st): State<AppState>,
    client: Client,
    CurrentUser(who): CurrentUser,
    Path(client_id): Path<String>,
) -> ApiResult<StatusCode> {
    st.steward
        .revoke_app(&who, &client_id, &client.api())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me/disclosures`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Disclosures {
    /// Newest first.
    pub disclosures: Vec<DisclosureView>,
}

/// What was disclosed to third parties about this account (recipient, data, time).
#[utoipa::path(get, path = "/api/v1/me/disclosures", tag = "apps", operation_id = "list_disclosures",
    responses(
        (status = 200, description = "What was disclosed about this account to third parties, newest first", body = Disclosures),
        (status = 401, description = NOT_SIGNED_IN, body = ErrorBody)))]
pub async fn disclosures(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
) -> ApiResult<Json<Disclosures>> {
    Ok(Json(Disclosures {
        disclosures: st.steward.disclosures(&who).await?,
    }))
}
