//! Signing in and out.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Me;

/// `POST /api/v1/session`: sign in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// Email address or username.
    pub identifier: String,
    /// Password.
    pub password: String,
    /// "Keep me signed in": 30 days instead of 30 minutes.
    #[serde(default)]
    pub remember: bool,
    /// A solved proof-of-work challenge (`GET /api/v1/challenge`), needed only after
    /// the answer `challenge_required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub altcha: Option<String>,
}

/// Answer to a successful sign-in; the session itself travels in the cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SignInResponse {
    /// The account now signed in.
    pub account: Me,
    /// When this session ends and a new sign-in is needed.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// One signed-in device, as its owner sees it on Active sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    /// Session id (not the secret token); used to revoke it.
    pub id: Uuid,
    /// Whether this is the session making the request.
    pub current: bool,
    /// Browser and operating system, or the program's name.
    pub device: String,
    /// Address the session signed in from.
    pub ip: Option<String>,
    /// Approximate location of that address, when the server has a GeoIP database.
    pub location: Option<String>,
    /// Signed in at.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last request (updated at most once a minute).
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    /// When it ends unless used again (or, with "Keep me signed in", regardless).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Whether "Keep me signed in" was ticked (30 days instead of 30 minutes).
    pub remember: bool,
}

/// `GET /api/v1/sessions`: the account's active sessions, most recently used first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionList {
    /// Every live session of the signed-in account.
    pub sessions: Vec<SessionView>,
}

/// `DELETE /api/v1/sessions`: how many sessions were revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Revoked {
    /// Sessions ended.
    pub revoked: u64,
}

/// One entry of the security activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SecurityEventView {
    /// Event id; pass the last one as `before` for the next page.
    pub id: Uuid,
    /// `account_created`, `signed_in`, `sign_in_failed`, `new_device`, `signed_out`,
    /// `session_revoked`, `sessions_revoked`, `password_changed`, `password_reset`,
    /// `password_reset_requested`, `username_reminder_requested`, `email_verified`,
    /// `email_changed`.
    pub kind: String,
    /// The event in words.
    pub description: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Browser and system, or program, that made the request (dropped with the address).
    pub device: Option<String>,
    /// Address the request came from (dropped after the retention period).
    pub ip: Option<String>,
    /// Approximate location of that address, when the server has a GeoIP database.
    pub location: Option<String>,
    /// For revocations: which device, or how many sessions.
    pub detail: Option<String>,
}

/// `GET /api/v1/me/security-activity`: one page, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SecurityActivity {
    /// The events.
    pub events: Vec<SecurityEventView>,
    /// Pass as `before` to get older events; absent on the last page.
    pub next_before: Option<Uuid>,
}

/// An account signed in in this browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BrowserAccount {
    /// Account id; pass it to switch.
    pub account_id: Uuid,
    /// Username.
    pub username: String,
    /// Email address.
    pub email: String,
    /// Whether pages and API calls from this browser act as this account now.
    pub active: bool,
    /// When this account's session here ends unless used.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `GET /api/v1/session/accounts`: the accounts signed in in this browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BrowserAccounts {
    /// Active one first.
    pub accounts: Vec<BrowserAccount>,
}

/// `POST /api/v1/session/switch`: act as another account signed in in this browser.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchAccountRequest {
    /// One of the accounts listed by `GET /api/v1/session/accounts`.
    pub account_id: Uuid,
}
