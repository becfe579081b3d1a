//! The one error type that crosses the core boundary.

use std::collections::BTreeMap;
use std::time::Duration;

/// Field name → reason, for validation failures.
pub type FieldErrors = BTreeMap<&'static str, String>;

/// Result of a use case.
pub type CoreResult<T> = Result<T, CoreError>;

/// Why a use case did not succeed. The server maps each variant to one HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Input breaks a rule; each field says why.
    #[error("validation failed: {0:?}")]
    Validation(FieldErrors),
    /// Identifier and password do not match (same answer whether or not the account exists).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The current password given for a change is wrong.
    #[error("wrong current password")]
    WrongPassword,
    /// No valid session.
    #[error("not signed in")]
    Unauthenticated,
    /// The thing named does not exist, or is not the caller's to see.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The username is taken.
    #[error("username taken")]
    UsernameTaken,
    /// An emailed token is unknown, expired, used or superseded.
    #[error("invalid or expired token")]
    InvalidToken,
    /// The proof-of-work answer is missing, wrong, expired or reused.
    #[error("challenge failed: {0}")]
    ChallengeFailed(&'static str),
    /// Too many attempts.
    #[error("rate limited, retry after {0:?}")]
    RateLimited(Duration),
    /// The hourly quota of emails to this address is used up (by whoever asked): wait,
    /// or retry with a strong proof of work.
    #[error("email quota exceeded, retry after {0:?}")]
    EmailQuota(Duration),
    /// The account uploaded its hourly share of photos: retry after the duration.
    #[error("photo uploads exceeded, retry after {0:?}")]
    PhotoQuota(Duration),
    /// Too many failed sign-ins on this identifier: retry with a solved proof of work.
    /// The same answer whether or not an account has the identifier.
    #[error("challenge required")]
    ChallengeRequired,
    /// The server is saturated (the password hasher turned the attempt away): retry
    /// after the duration. Says nothing about the account.
    #[error("busy, retry after {0:?}")]
    Busy(Duration),
    /// The store could not be reached or failed.
    #[error("storage: {0}")]
    Storage(String),
    /// Something that should not happen did; details are logged, not shown.
    #[error("internal: {0}")]
    Internal(String),
    /// An OAuth request was refused (RFC 6749 §5.2 codes such as `invalid_grant`).
    #[error("oauth {error}: {description}")]
    OAuth {
        /// The standard error code.
        error: &'static str,
        /// A sentence for the app's developer.
        description: String,
    },
}

impl CoreError {
    /// An OAuth error.
    pub fn oauth(error: &'static str, description: impl Into<String>) -> Self {
        Self::OAuth {
            error,
            description: description.into(),
        }
    }
}

impl CoreError {
    /// A validation error about one field.
    pub fn field(field: &'static str, reason: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field, reason.into());
        Self::Validation(fields)
    }
}

/// Errors a store reports; the use cases turn them into [`CoreError`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint on the email address was hit.
    #[error("email already in use")]
    EmailTaken,
    /// A unique constraint on the username was hit.
    #[error("username already in use")]
    UsernameTaken,
    /// The database failed or could not be reached.
    #[error("{0}")]
    Backend(String),
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UsernameTaken => CoreError::UsernameTaken,
            other => CoreError::Storage(other.to_string()),
        }
    }
}
