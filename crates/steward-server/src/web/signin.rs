//! The "Sign in" page (also for adding another account), the account chooser,
//! switching, and signing out of one or every account.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;

use crate::api::session::{adopt_sign_in, end_sessions};
use crate::error::ApiError;
use crate::http::browser::Browser;
use crate::http::client::Client;
use crate::state::AppState;
use crate::web::form::{FormBody, ticked};
use crate::web::signup::Notice;
use crate::web::view::{
    FormErrors, Nav, form_status, page, safe_next, same_account, see_other, with_retry_after,
};
use steward_core::CoreError;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signin", get(show).post(submit))
        .route("/signout", post(sign_out))
        .route("/accounts", get(chooser))
        .route("/accounts/switch", post(switch))
}

#[derive(Template)]
#[template(path = "account/signin.html")]
struct SignInPage {
    nav: Nav,
    errors: FormErrors,
    identifier: String,
    remember: bool,
    next: String,
    adding: bool,
    /// Ask for the "I'm not a robot" check (after repeated failures on the identifier).
    challenge: bool,
    /// An app asked the person to prove who they are again (`prompt=login`, `max_age`).
    reauth: bool,
}

#[derive(Template)]
#[template(path = "account/accounts.html")]
struct ChooserPage {
    nav: Nav,
    next: String,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
    /// Present when "Add a new account" was chosen: show the form while signed in.
    add: Option<String>,
    /// Present when an app needs a fresh sign-in: show the form while signed in.
    reauth: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SwitchForm {
    #[serde(default)]
    account_id: String,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SignOutForm {
    /// `all`: every account in this browser.
    scope: Option<String>,
    /// The account the page was shown as (signing out one account only).
    as_account: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SignInForm {
    #[serde(default)]
    identifier: String,
    #[serde(default)]
    password: String,
    remember: Option<String>,
    next: Option<String>,
    add: Option<String>,
    altcha: Option<String>,
    reauth: Option<String>,
}

async fn show(browser: Browser, nav: Nav, Query(q): Query<NextQuery>) -> Response {
    let next = safe_next(q.next.as_deref()).to_owned();
    let adding = q.add.is_some();
    // The same sign-in as ever (throttling included); it replaces this browser's
    // session of the account, so the new one's time is when they last proved it.
    let reauth = q.reauth.is_some() && browser.active.is_some();
    if browser.active.is_some() && !adding && !reauth {
        return see_other(&next);
    }
    let identifier = match (&browser.active, reauth) {
        (Some(a), true) => a.who.account().username.clone(),
        _ => String::new(),
    };
    page(
        StatusCode::OK,
        &SignInPage {
            nav,
            errors: FormErrors::none(),
            identifier,
            remember: true,
            next,
            adding: adding && !reauth && browser.count() > 0,
            challenge: false,
            reauth,
        },
    )
}

async fn submit(
    State(st): State<AppState>,
    client: Client,
    headers: HeaderMap,
    browser: Browser,
    nav: Nav,
    FormBody(f): FormBody<SignInForm>,
) -> Response {
    let remember = ticked(f.remember.as_deref());
    let next = safe_next(f.next.as_deref()).to_owned();
    let reauth = f.reauth.is_some() && browser.active.is_some();
    let adding = f.add.is_some() && !reauth && browser.count() > 0;
    let result: Result<_, ApiError> = async {
        let trusted = st.devices.accounts(&headers, st.steward.now());
        if trusted.is_empty() {
            st.steward.shed_unvouched_sign_in()?;
        }
        st.limits.credential_ip(client.ip())?;
        browser.check_room(&f.identifier)?;
        Ok(st
            .steward
            .sign_in(
                &f.identifier,
                &f.password,
                remember,
                &client.0,
                &trusted,
                f.altcha.as_deref(),
            )
            .await?)
    }
    .await;
    let result = match result {
        Ok(new) => {
            // The first sign-in offers "tell us about yourself", except on the way to an
            // app's sign-in or a device code (those have their own clock).
            let onboard = !next.starts_with("/oauth/")
                && !next.starts_with("/device")
                && st
                    .steward
                    .needs_onboarding(&new.signed_in())
                    .await
                    .unwrap_or(false);
            let target = if onboard {
                format!(
                    "/welcome?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                )
            } else {
                next.clone()
            };
            let mut res = see_other(&target);
            adopt_sign_in(&st, browser, &headers, &new, &client.0, res.headers_mut())
                .await
                .map(|()| res)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(res) => res,
        Err(e) => {
            // Once a robot check was asked for, it stays on the form until sign-in works.
            let challenge = matches!(
                e,
                ApiError::Core(CoreError::ChallengeRequired | CoreError::ChallengeFailed(_))
            ) || f.altcha.is_some();
            let errors = FormErrors {
                summary: Some(e.message()),
                fields: e
                    .fields()
                    .into_iter()
                    .filter(|(k, _)| k == "altcha")
                    .collect(),
            };
            let body = SignInPage {
                nav,
                errors,
                identifier: f.identifier.clone(),
                remember,
                next,
                adding,
                challenge,
                reauth,
            };
            with_retry_after(page(form_status(&e), &body), &e)
        }
    }
}

/// The accounts signed in in this browser, to pick one (shown after signing out of
/// one while others remain, and from the menu).
async fn chooser(nav: Nav, Query(q): Query<NextQuery>) -> Response {
    let next = safe_next(q.next.as_deref()).to_owned();
    page(StatusCode::OK, &ChooserPage { nav, next })
}

async fn switch(
    State(st): State<AppState>,
    mut browser: Browser,
    nav: Nav,
    FormBody(f): FormBody<SwitchForm>,
) -> Response {
    let next = safe_next(f.next.as_deref()).to_owned();
    let switched = Uuid::parse_str(&f.account_id)
        .ok()
        .is_some_and(|id| browser.switch(id));
    if !switched {
        // A forged id, or an account whose session ended meanwhile: never trusted.
        tracing::info!("refused a switch to an account this browser holds no session of");
        return page(
            StatusCode::NOT_FOUND,
            &Notice {
                nav,
                heading: "That account is not signed in here".into(),
                message:
                    "Its session may have ended or been revoked. Sign in to it again to add it."
                        .into(),
                link_href: "/signin?add=1".into(),
                link_text: "Add an account".into(),
            },
        );
    }
    let mut res = see_other(&next);
    browser.write(&st, st.steward.now(), res.headers_mut());
    res
}

async fn sign_out(
    State(st): State<AppState>,
    client: Client,
    mut browser: Browser,
    nav: Nav,
    FormBody(f): FormBody<SignOutForm>,
) -> Response {
    let all = f.scope.as_deref() == Some("all");
    // A page shown as one account, sent after switching to another in another tab,
    // must not sign out the account switched to.
    if !all
        && let (Some(shown), Some(active)) = (f.as_account.as_deref(), &browser.active)
        && same_account(&active.who, shown).is_err()
    {
        return page(
            StatusCode::CONFLICT,
            &Notice {
                nav,
                heading: "You switched accounts".into(),
                message: "This page was opened as another account, so nobody was signed out. Reload the page and sign out again if you meant to.".into(),
                link_href: "/".into(),
                link_text: "Continue".into(),
            },
        );
    }
    if let Err(e) = end_sessions(&st, &mut browser, all, &client.0).await {
        tracing::warn!(error = %e, "sign-out failed");
    }
    // Other accounts stay signed in, but the browser does not act as one of them
    // until the person picks it.
    let mut res = see_other(if browser.others.is_empty() {
        "/"
    } else {
        "/accounts"
    });
    browser.write(&st, st.steward.now(), res.headers_mut());
    res
}
