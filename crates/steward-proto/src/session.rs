//! Signing in and out.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

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
