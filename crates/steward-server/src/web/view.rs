//! What every page needs: the header's account menu, rendering, form errors, redirects.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use steward_core::session::SignedIn;

use crate::error::ApiError;
use crate::http::browser::Browser;
use crate::state::AppState;

/// The signed-in person as the header shows them, and the other accounts of this browser.
#[derive(Debug, Clone)]
pub struct Nav {
    /// Username, when signed in.
    pub username: Option<String>,
    /// Initial for the avatar.
    pub initial: String,
    /// Whether the email is confirmed (pages show a banner otherwise).
    pub verified: bool,
    /// The active account's id; forms carry it so that a switch in another tab
    /// cannot make them act on the wrong account.
    pub account_id: String,
    /// Other accounts signed in in this browser, to switch to.
    pub others: Vec<NavAccount>,
    /// Unread in-app notifications (the bell's count).
    pub unread: u64,
}

/// An account in the switcher.
#[derive(Debug, Clone)]
pub struct NavAccount {
    /// Account id (the switch form sends it).
    pub id: String,
    /// Username.
    pub username: String,
    /// Initial for the avatar.
    pub initial: String,
}

fn initial(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_ascii_uppercase().to_string())
        .unwrap_or_default()
}

impl Nav {
    /// The header for one session (or none), without other accounts.
    pub fn of(who: Option<&SignedIn>) -> Self {
        match who {
            Some(w) => {
                let name = w.account().username.clone();
                Nav {
                    initial: initial(&name),
                    username: Some(name),
                    verified: w.account().email_verified_at.is_some(),
                    account_id: w.account().id.to_string(),
                    others: Vec::new(),
                    unread: 0,
                }
            }
            None => Nav {
                username: None,
                initial: String::new(),
                verified: true,
                account_id: String::new(),
                others: Vec::new(),
                unread: 0,
            },
        }
    }

    /// The header for everything this browser is signed in to.
    pub fn for_browser(b: &Browser) -> Self {
        let mut nav = Nav::of(b.active.as_ref().map(|h| &h.who));
        nav.others = b
            .others
            .iter()
            .map(|h| NavAccount {
                id: h.who.account().id.to_string(),
                username: h.who.account().username.clone(),
                initial: initial(&h.who.account().username),
            })
            .collect();
        nav
    }
}

impl FromRequestParts<AppState> for Nav {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let browser = Browser::from_request_parts(parts, state).await?;
        let mut nav = Nav::for_browser(&browser);
        if let Some(active) = &browser.active {
            // The bell's count; a page still renders if it cannot be read.
            nav.unread = state
                .steward
                .unread_notifications(&active.who)
                .await
                .unwrap_or(0);
        }
        Ok(nav)
    }
}

/// Refuses a form filled in as another account than the one now active (the
/// person switched in another tab): nothing is changed, the page says why.
pub fn same_account(who: &SignedIn, as_account: &str) -> Result<(), ApiError> {
    if who.account().id.to_string() == as_account {
        Ok(())
    } else {
        Err(ApiError::AccountSwitched)
    }
}

/// Field errors and a summary for a form.
#[derive(Debug, Clone, Default)]
pub struct FormErrors {
    /// Sentence at the top of the form.
    pub summary: Option<String>,
    /// Field → reason.
    pub fields: BTreeMap<String, String>,
}

impl FormErrors {
    /// No errors.
    pub fn none() -> Self {
        Self::default()
    }

    /// Errors from a failed use case.
    pub fn from_error(e: &ApiError) -> Self {
        Self {
            summary: Some(e.message()),
            fields: e.fields(),
        }
    }

    /// The reason for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    /// Whether `field` has an error (for `aria-invalid`).
    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }
}

/// Renders a template with a status, or a plain 500 page if rendering fails.
pub fn page<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<h1>Something went wrong</h1>".to_owned()),
            )
                .into_response()
        }
    }
}

/// A `303 See Other` to a local path.
pub fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

/// Status for a failed form submission.
pub fn form_status(e: &ApiError) -> StatusCode {
    match e.status() {
        s if s.is_server_error() => s,
        StatusCode::TOO_MANY_REQUESTS => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// Adds `Retry-After` to a form answer for a rate-limited request.
pub fn with_retry_after(mut res: Response, e: &ApiError) -> Response {
    if let Some(wait) = e.retry_after()
        && let Ok(v) = wait.as_secs().max(1).to_string().parse()
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// Only local paths are followed after sign-in, never another site.
pub fn safe_next(next: Option<&str>) -> &str {
    // Browsers drop tabs and newlines and read `\\` as `/`, so any of them could turn
    // a local path into `//other.site`: refuse them anywhere, not just at the start.
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.len() <= 512
                && !n.contains("://")
                && !n.contains('\\')
                && !n.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            n
        }
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/settings")), "/settings");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "/\t/evil.example",
            "/\n/evil.example",
            "/a\\b",
            "/ /x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
