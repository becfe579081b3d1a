//! OAuth 2.0 / OpenID Connect wire types: what the standard endpoints answer
//! (field names fixed by the RFCs) and Steward's own app-management API.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A successful token response (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// Bearer token for the API and `userinfo`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Present with `offline_access` (always for the built-in apps); a new one on every use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Signed ES256 JWT, with the `openid` scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Scopes granted, space-separated.
    pub scope: String,
}

/// An OAuth error (RFC 6749 §5.2, RFC 8628 §3.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope`, `authorization_pending`, `slow_down`,
    /// `access_denied`, `expired_token`, `temporarily_unavailable` (429, per-IP limit).
    pub error: String,
    /// A sentence for the developer.
    pub error_description: String,
}

/// The answer of the device authorization endpoint (RFC 8628 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceAuthorizationResponse {
    /// Secret the device polls with.
    pub device_code: String,
    /// What the person types, `XXXX-XXXX`.
    pub user_code: String,
    /// Where the person types it.
    pub verification_uri: String,
    /// The same page with the code filled in.
    pub verification_uri_complete: String,
    /// Seconds until the codes expire.
    pub expires_in: i64,
    /// Seconds to wait between polls.
    pub interval: i64,
}

/// Token introspection answer (RFC 7662 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct IntrospectionResponse {
    /// Whether the token is live (everything else is absent when not).
    pub active: bool,
    /// Scopes, space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client the token was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The account's username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `access_token` or `refresh_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// Expiry, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issued at, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The account id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
}

/// `GET /oauth/userinfo` (OpenID Connect Core §5.3): claims allowed by the token's scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserInfo {
    /// The account id.
    pub sub: String,
    /// Username (`profile` scope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Email address (`email` scope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the address is confirmed (`email` scope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

/// `POST /api/v1/apps`: register a third-party app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegisterAppRequest {
    /// Shown on the consent screen, Connected apps and Active sessions (1–60 characters).
    pub name: String,
    /// Where people are sent back: `https://…`, or `http://` only for loopback addresses.
    pub redirect_uris: Vec<String>,
    /// `https://` URL of a logo, optional.
    #[serde(default)]
    pub logo_url: Option<String>,
    /// Scopes the app may ask for: `openid`, `profile`, `email`, `offline_access`.
    pub scopes: Vec<String>,
    /// `true` for an app that cannot keep a secret (native, single-page): no client secret.
    #[serde(default)]
    pub public: bool,
    /// How its ID tokens are signed: `ES256` (the default) or `RS256`.
    #[serde(default)]
    pub id_token_signed_response_alg: Option<String>,
}

/// A registered app, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppView {
    /// The `client_id`.
    pub client_id: String,
    /// Name.
    pub name: String,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// Scopes it may ask for.
    pub scopes: Vec<String>,
    /// Whether it is a public client (no secret).
    pub public: bool,
    /// How its ID tokens are signed: `ES256` or `RS256`.
    pub id_token_signed_response_alg: String,
    /// Registered at.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The answer to registering an app: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegisteredApp {
    /// The app.
    pub app: AppView,
    /// The client secret (confidential apps); store it now, it is not shown again.
    pub client_secret: Option<String>,
}

/// `GET /api/v1/apps`: the apps the signed-in person registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppList {
    /// The apps, newest first.
    pub apps: Vec<AppView>,
}

/// A third-party app the person let sign them in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConnectedApp {
    /// The app's `client_id`.
    pub client_id: String,
    /// The app's name.
    pub name: String,
    /// Its logo.
    pub logo_url: Option<String>,
    /// What it may receive, in words ("Your email address").
    pub access: Vec<String>,
    /// Scopes granted.
    pub scopes: Vec<String>,
    /// When it was allowed.
    #[serde(with = "time::serde::rfc3339")]
    pub granted_at: OffsetDateTime,
}

/// `GET /api/v1/me/connected-apps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConnectedApps {
    /// Connected apps, most recently allowed first.
    pub apps: Vec<ConnectedApp>,
}

/// One entry of the disclosure log: personal data given to a third party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DisclosureView {
    /// Entry id.
    pub id: Uuid,
    /// Who received it (the app's name).
    pub recipient: String,
    /// The app's `client_id`.
    pub recipient_id: String,
    /// Categories of data: `account_id`, `username`, `email_address`.
    pub categories: Vec<String>,
    /// Why.
    pub purpose: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}
