//! The one error body every failing API call returns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"error": {...}}`: the body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// A machine-readable code, a human sentence and, for validation errors, the fields at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `invalid_credentials`.
    pub code: String,
    /// A sentence for people; may change between versions.
    pub message: String,
    /// Field name → reason, for `422`/`400` answers about specific fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

/// Stable error codes. Clients match on these, never on messages.
pub mod codes {
    /// The body is not valid JSON or has the wrong shape.
    pub const MALFORMED_REQUEST: &str = "malformed_request";
    /// One or more fields break a rule; see `fields`.
    pub const VALIDATION_FAILED: &str = "validation_failed";
    /// Email/username and password do not match an account.
    pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
    /// The request needs a signed-in session.
    pub const UNAUTHENTICATED: &str = "unauthenticated";
    /// Signed in, but not allowed.
    pub const FORBIDDEN: &str = "forbidden";
    /// Nothing here (or nothing you may know about).
    pub const NOT_FOUND: &str = "not_found";
    /// The endpoint exists but not with this HTTP method.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// The username is already taken.
    pub const USERNAME_TAKEN: &str = "username_taken";
    /// A link token that is unknown, expired, used or replaced by a newer one.
    pub const INVALID_TOKEN: &str = "invalid_token";
    /// The proof-of-work ("I'm not a robot") answer is missing, wrong, expired or reused.
    pub const CHALLENGE_FAILED: &str = "challenge_failed";
    /// Too many attempts; retry after the `Retry-After` header.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The address was sent its hourly quota of emails on request: wait `Retry-After`,
    /// or retry with a solved strong challenge (`GET /api/v1/challenge?strength=strong`).
    pub const EMAIL_QUOTA_EXCEEDED: &str = "email_quota_exceeded";
    /// Too many failed sign-ins on this identifier: retry with a solved proof of work
    /// (`altcha`). The same answer whether or not the account exists.
    pub const CHALLENGE_REQUIRED: &str = "challenge_required";
    /// The body is larger than the server accepts.
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// The request is cross-site and was refused (CSRF protection).
    pub const CROSS_SITE_REQUEST: &str = "cross_site_request";
    /// The request's `Content-Type` is not JSON.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    /// Something failed on the server; details are in the server log.
    pub const INTERNAL: &str = "internal_error";
    /// The server is temporarily unable to serve the request.
    pub const UNAVAILABLE: &str = "unavailable";
    /// The current password given is wrong.
    pub const WRONG_PASSWORD: &str = "wrong_password";
    /// The browser already holds as many signed-in accounts as allowed.
    pub const TOO_MANY_ACCOUNTS: &str = "too_many_accounts";
    /// A form was filled in as one account and sent after switching to another.
    pub const ACCOUNT_SWITCHED: &str = "account_switched";
}
