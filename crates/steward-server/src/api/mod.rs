//! The JSON API under `/api/v1`, one module per feature, each with its `router()`.

pub mod accounts;
pub mod apps;
pub mod challenge;
pub mod health;
pub mod live;
pub mod me;
pub mod notify;
pub mod openapi;
pub mod profile;
pub mod recovery;
pub mod session;
pub mod sessions;

use axum::Router;

use crate::state::AppState;

/// Every API route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(accounts::router())
        .merge(apps::router())
        .merge(challenge::router())
        .merge(me::router())
        .merge(notify::router())
        .merge(profile::router())
        .merge(recovery::router())
        .merge(session::router())
        .merge(sessions::router())
        .merge(live::router())
        .merge(openapi::router())
        .fallback(|| async { crate::error::ApiError::NotFound })
        .method_not_allowed_fallback(|| async { crate::error::ApiError::MethodNotAllowed })
}
