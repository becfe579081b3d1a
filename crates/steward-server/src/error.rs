//! The one place where errors become HTTP answers.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use steward_core::CoreError;
use steward_proto::{ErrorBody, ErrorDetail, codes};

/// An API failure, rendered as `{"error": {...}}` with the right status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// From a use case.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// Unparsable or mistyped body.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// Body over the limit.
    #[error("payload too large")]
    TooLarge,
    /// Not `application/json`.
    #[error("unsupported media type")]
    UnsupportedMedia,
    /// Refused by CSRF protection.
    #[error("cross-site request")]
    CrossSite,
    /// Over a rate limit.
    #[error("rate limited")]
    RateLimited(Duration),
    /// No such route or resource.
    #[error("not found")]
    NotFound,
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The browser holds the most accounts allowed at once.
    #[error("too many accounts in this browser")]
    TooManyAccounts(usize),
    /// A form filled in as one account arrived after a switch to another.
    #[error("account switched since the form was shown")]
    AccountSwitched,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, String, BTreeMap<String, String>) {
        let none = BTreeMap::new;
        match self {
            ApiError::Core(e) => match e {
                CoreError::Validation(fields) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    codes::VALIDATION_FAILED,
                    "Some fields need attention.".into(),
                    fields
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), v.clone()))
                        .collect(),
                ),
                CoreError::InvalidCredentials => (
                    StatusCode::UNAUTHORIZED,
                    codes::INVALID_CREDENTIALS,
                    "Incorrect email/username or password.".into(),
                    none(),
                ),
                CoreError::WrongPassword => {
                    let mut f = BTreeMap::new();
                    f.insert(
                        "current_password".into(),
                        "Your current password is not correct.".into(),
                    );
                    (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        codes::WRONG_PASSWORD,
                        "Your current password is not correct.".into(),
                        f,
                    )
                }
                CoreError::Unauthenticated => (
                    StatusCode::UNAUTHORIZED,
                    codes::UNAUTHENTICATED,
                    "Sign in to continue.".into(),
                    none(),
                ),
                CoreError::NotFound(what) => (
                    StatusCode::NOT_FOUND,
                    codes::NOT_FOUND,
                    format!("No such {what}."),
                    none(),
                ),
                CoreError::UsernameTaken => {
                    let mut f = BTreeMap::new();
                    f.insert(
                        "username".into(),
                        "This username is taken. Choose another.".into(),
                    );
                    (
                        StatusCode::CONFLICT,
                        codes::USERNAME_TAKEN,
                        "This username is taken.".into(),
                        f,
                    )
                }
                CoreError::InvalidToken => (
                    StatusCode::BAD_REQUEST,
                    codes::INVALID_TOKEN,
                    "This link is invalid, expired or already used. Ask for a new one.".into(),
                    none(),
                ),
                CoreError::ChallengeFailed(why) => {
                    let mut f = BTreeMap::new();
                    f.insert(
                        "altcha".into(),
                        format!("The robot check failed ({why}). Try again."),
                    );
                    (
                        StatusCode::BAD_REQUEST,
                        codes::CHALLENGE_FAILED,
                        "The \"I'm not a robot\" check failed.".into(),
                        f,
                    )
                }
                CoreError::RateLimited(_) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    codes::RATE_LIMITED,
                    "Too many attempts. Try again later.".into(),
                    none(),
                ),
                CoreError::EmailQuota(_) => {
                    let mut f = BTreeMap::new();
                    f.insert(
                        "altcha".into(),
                        "To send one more anyway, do the longer check (a strong challenge: GET /api/v1/challenge?strength=strong).".into(),
                    );
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        codes::EMAIL_QUOTA_EXCEEDED,
                        "Many emails were already sent to this address in the last hour. Wait a while, or confirm with the longer \"I'm not a robot\" check to send one more.".into(),
                        f,
                    )
                }
                CoreError::PhotoQuota(wait) => {
                    let minutes = wait.as_secs().div_ceil(60).max(1);
                    let mut f = BTreeMap::new();
                    f.insert(
                        "photo".into(),
                        format!("You can upload another photo in about {minutes} minutes."),
                    );
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        codes::RATE_LIMITED,
                        "Too many photos were uploaded to this account in the last hour.".into(),
                        f,
                    )
                }
                CoreError::ChallengeRequired => {
                    let mut f = BTreeMap::new();
                    f.insert(
                        "altcha".into(),
                        "Tick \"I'm not a robot\" to continue.".into(),
                    );
                    (
                        StatusCode::UNAUTHORIZED,
                        codes::CHALLENGE_REQUIRED,
                        "There were many failed attempts to sign in with this email or username. Confirm you're not a robot, then sign in.".into(),
                        f,
                    )
                }
                CoreError::Busy(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    codes::UNAVAILABLE,
                    "Many people are signing in right now. Try again in a moment.".into(),
                    none(),
                ),
                CoreError::Storage(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    codes::UNAVAILABLE,
                    "The service is temporarily unavailable. Try again shortly.".into(),
                    none(),
                ),
                CoreError::OAuth { error, description } => (
                    match *error {
                        "invalid_client" => StatusCode::UNAUTHORIZED,
                        "insufficient_scope" => StatusCode::FORBIDDEN,
                        _ => StatusCode::BAD_REQUEST,
                    },
                    error,
                    description.clone(),
                    none(),
                ),
                CoreError::Internal(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    codes::INTERNAL,
                    "Something went wrong on our side.".into(),
                    none(),
                ),
            },
            ApiError::TooManyAccounts(max) => (
                StatusCode::CONFLICT,
                codes::TOO_MANY_ACCOUNTS,
                format!("You can be signed in to at most {max} accounts at once in one browser. Sign out of one to add another."),
                none(),
            ),
            ApiError::AccountSwitched => (
                StatusCode::CONFLICT,
                codes::ACCOUNT_SWITCHED,
                "You switched accounts since this page was opened, so nothing was changed. Reload the page to continue as the account now in use.".into(),
                none(),
            ),
            ApiError::Malformed(why) => (
                StatusCode::BAD_REQUEST,
                codes::MALFORMED_REQUEST,
                why.clone(),
                none(),
            ),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::PAYLOAD_TOO_LARGE,
                "The request body is too large.".into(),
                none(),
            ),
            ApiError::UnsupportedMedia => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                "Send the body as application/json.".into(),
                none(),
            ),
            ApiError::CrossSite => (
                StatusCode::FORBIDDEN,
                codes::CROSS_SITE_REQUEST,
                "Cross-site requests are not allowed.".into(),
                none(),
            ),
            ApiError::RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                codes::RATE_LIMITED,
                "Too many attempts. Try again later.".into(),
                none(),
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                codes::NOT_FOUND,
                "Not found.".into(),
                none(),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                codes::METHOD_NOT_ALLOWED,
                "This endpoint does not accept this method.".into(),
                none(),
            ),
        }
    }

    /// Seconds to put in `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited(d)
            | ApiError::Core(
                CoreError::RateLimited(d)
                | CoreError::Busy(d)
                | CoreError::EmailQuota(d)
                | CoreError::PhotoQuota(d),
            ) => Some(*d),
            _ => None,
        }
    }

    /// Status code of this error.
    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    /// Field errors as a map, for forms.
    pub fn fields(&self) -> BTreeMap<String, String> {
        self.parts().3
    }

    /// The human sentence.
    pub fn message(&self) -> String {
        self.parts().2
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, fields) = self.parts();
        match &self {
            ApiError::Core(CoreError::Storage(e)) => tracing::error!(error = %e, "storage failure"),
            ApiError::Core(CoreError::Internal(e)) => {
                tracing::error!(error = %e, "internal failure")
            }
            _ => {}
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message,
                fields,
            },
        };
        let mut res = (status, Json(body)).into_response();
        if let Some(wait) = self.retry_after() {
            let secs = wait.as_secs().max(1).to_string();
            if let Ok(v) = HeaderValue::from_str(&secs) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

impl ApiError {
    /// This error as a small HTML page (for page routes).
    pub fn into_response_page(self) -> Response {
        let status = self.status();
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{status}</title><link rel=\"stylesheet\" href=\"/assets/style.css\"></head><body><main id=\"main\"><section class=\"card narrow\"><h1>{}</h1><p><a href=\"/\">Home</a></p></section></main></body></html>",
            escape_html(&self.message())
        );
        (status, axum::response::Html(body)).into_response()
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Result of an API handler.
pub type ApiResult<T> = Result<T, ApiError>;
