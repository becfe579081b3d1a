//! Sign-up, email confirmation, the signed-in account, recovery and password change.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// `POST /api/v1/accounts`: create an account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpRequest {
    /// Email address; a confirmation link is sent there.
    pub email: String,
    /// 3–39 characters of `a-z`, `0-9`, `-` and `_`.
    pub username: String,
    /// At least 8 characters; not a common password; not the username or email.
    pub password: String,
    /// Must be `true`: the Terms of Use and Privacy Policy are accepted.
    pub accept_terms: bool,
    /// Must be `true`: the person is 16 or older.
    pub confirm_age: bool,
    /// ALTCHA proof-of-work payload for a challenge from `GET /api/v1/challenge`.
    pub altcha: String,
}

/// Answer to a request whose outcome must not reveal whether an account exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    /// What happens next, in words.
    pub message: String,
}

/// `POST /api/v1/accounts/verify-email`: confirm an email address.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    /// The token from the confirmation link.
    pub token: String,
}

/// The signed-in account as `GET /api/v1/me` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Me {
    /// Account id (UUIDv7).
    pub id: Uuid,
    /// Email address as entered.
    pub email: String,
    /// Whether the address was confirmed through the emailed link.
    pub email_verified: bool,
    /// Username.
    pub username: String,
    /// When the account was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// `POST /api/v1/recovery/password` and `POST /api/v1/recovery/username`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryRequest {
    /// The account's email address.
    pub email: String,
    /// ALTCHA proof-of-work payload.
    pub altcha: String,
}

/// `POST /api/v1/recovery/password/complete`: set a new password from a reset link.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteResetRequest {
    /// The token from the reset link.
    pub token: String,
    /// The new password.
    pub new_password: String,
}

/// `PUT /api/v1/me/password`: change the password while signed in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password in use now.
    pub current_password: String,
    /// The new password.
    pub new_password: String,
}

/// `POST /api/v1/me/email`: ask to change the email address.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeEmailRequest {
    /// The password in use now.
    pub current_password: String,
    /// The new address; a confirmation link is sent to it.
    pub new_email: String,
}

/// `PUT /api/v1/me/username`: choose another username.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeUsernameRequest {
    /// The new username (rules as at sign-up).
    pub username: String,
}

/// `GET /api/v1/challenge`: an ALTCHA proof-of-work challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Challenge {
    /// Always `SHA-256`.
    pub algorithm: String,
    /// Hex SHA-256 of `salt` followed by the secret number.
    pub challenge: String,
    /// The largest number the solver must try.
    pub maxnumber: u64,
    /// Salt, carrying its expiry as `?expires=UNIX_SECONDS`.
    pub salt: String,
    /// Server's HMAC-SHA256 of `challenge`, hex.
    pub signature: String,
}

/// A solved challenge, sent base64-encoded as JSON in the `altcha` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChallengeSolution {
    /// Copied from the challenge.
    pub algorithm: String,
    /// Copied from the challenge.
    pub challenge: String,
    /// The number found.
    pub number: u64,
    /// Copied from the challenge.
    pub salt: String,
    /// Copied from the challenge.
    pub signature: String,
}
