//! The OpenAPI 3.1 document at `GET /api/openapi.json`.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::state::AppState;

/// The `401` of every endpoint that needs a signed-in account.
pub(crate) const NOT_SIGNED_IN: &str =
    "Not signed in (`unauthenticated`): no valid session cookie or `Authorization: Bearer` token";
/// The `429` of every rate-limited endpoint.
pub(crate) const RATE_LIMITED: &str =
    "Too many attempts (`rate_limited`); try again after `Retry-After` seconds";
/// The `400` of every endpoint that reads a JSON body.
/// The 429 of endpoints that send mail on request.
pub(crate) const QUOTA_OR_RATE_LIMITED: &str = "Too many requests from this address (`rate_limited`), or the email address was sent its hourly quota of emails on request (`email_quota_exceeded`: retry with a strong `altcha`, or from a browser that signed in to the account before); see `Retry-After`";
pub(crate) const MALFORMED: &str = "The body is not JSON of the documented shape (`malformed_request`); `message` says what is wrong";

/// The document, assembled from the handlers' annotations.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Steward", description = "Self-hosted account server: sign-up, sign-in, sessions, security activity and recovery."),
    paths(
        super::challenge::challenge,
        super::accounts::sign_up,
        super::accounts::verify_email,
        super::accounts::resend,
        super::session::sign_in,
        super::session::sign_out,
        super::session::accounts,
        super::session::switch,
        super::sessions::list,
        super::sessions::revoke,
        super::sessions::revoke_others,
        super::sessions::activity,
        super::live::live,
        super::me::me,
        super::me::change_password,
        super::me::change_username,
        super::me::change_email,
        super::me::confirm_email,
        super::notify::preferences,
        super::notify::update_preferences,
        super::notify::list,
        super::notify::read,
        super::notify::read_all,
        super::profile::show,
        super::profile::update,
        super::profile::upload_photo,
        super::profile::remove_photo,
        super::recovery::reset_password,
        super::recovery::complete_reset,
        super::recovery::remind_username,
        super::apps::register,
        super::apps::list,
        super::apps::remove,
        super::apps::connected,
        super::apps::disconnect,
        super::apps::disclosures,
    ),
    tags(
        (name = "accounts", description = "Sign-up and email confirmation"),
        (name = "session", description = "Sign-in and sign-out (cookie sessions), several accounts in one browser"),
        (name = "sessions", description = "Active sessions and security activity"),
        (name = "me", description = "The signed-in account"),
        (name = "recovery", description = "Trouble signing in"),
        (name = "notifications", description = "Notification preferences, marketing consent and in-app notifications"),
        (name = "apps", description = "Third-party apps: registration, Connected apps, disclosure log. The OAuth 2.0 / OpenID Connect endpoints themselves are advertised at /.well-known/openid-configuration"),
    )
)]
pub struct ApiDoc;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}
