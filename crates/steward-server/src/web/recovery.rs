//! "Trouble signing in?" and the password reset page.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use steward_core::CoreError;

use crate::api::recovery::RECOVERY_ACCEPTED;
use crate::error::ApiError;
use crate::http::client::Client;
use crate::state::AppState;
use crate::web::form::FormBody;
use crate::web::signup::Notice;
use crate::web::view::{FormErrors, Nav, form_status, page, with_retry_after};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/trouble-signing-in", get(show).post(submit))
        .route("/reset-password", get(show_reset).post(submit_reset))
}

#[derive(Template)]
#[template(path = "account/trouble.html")]
struct TroublePage {
    nav: Nav,
    errors: FormErrors,
    email: String,
    need: String,
    /// Offer the longer check (the address's email quota was used up).
    strong: bool,
}

#[derive(Template)]
#[template(path = "account/reset_password.html")]
struct ResetPage {
    nav: Nav,
    errors: FormErrors,
    token: String,
}

#[derive(Debug, Deserialize)]
struct TroubleForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    need: String,
    #[serde(default)]
    altcha: String,
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Debug, Deserialize)]
struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
}

async fn show(nav: Nav) -> Response {
    page(
        StatusCode::OK,
        &TroublePage {
            nav: nav.clone(),
            errors: FormErrors::none(),
            email: String::new(),
            need: "password".into(),
            strong: false,
        },
    )
}

async fn submit(
    State(st): State<AppState>,
    client: Client,
    headers: HeaderMap,
    nav: Nav,
    FormBody(f): FormBody<TroubleForm>,
) -> Response {
    let nav = nav.clone();
    let vouched = st.devices.account_ids(&headers, st.steward.now());
    let result: Result<(), ApiError> = async {
        st.limits.credential_ip(client.ip())?;
        if f.need == "username" {
            st.steward
                .request_username_reminder(&f.email, &f.altcha, &client.0, &vouched)
                .await?;
        } else {
            st.steward
                .request_password_reset(&f.email, &f.altcha, &client.0, &vouched)
                .await?;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => page(
            StatusCode::OK,
            &Notice {
                nav,
                heading: "Check your email".into(),
                message: RECOVERY_ACCEPTED.into(),
                link_href: "/signin".into(),
                link_text: "Back to Sign In".into(),
            },
        ),
        Err(e) => {
            let body = TroublePage {
                nav,
                errors: FormErrors::from_error(&e),
                email: f.email.clone(),
                need: f.need.clone(),
                strong: matches!(e, ApiError::Core(CoreError::EmailQuota(_))),
            };
            with_retry_after(page(form_status(&e), &body), &e)
        }
    }
}

fn expired(nav: Nav) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        &Notice {
            nav,
            heading: "This link no longer works".into(),
            message: "Password reset links work once and expire after an hour, and asking for a new link voids older ones. Ask for a new link.".into(),
            link_href: "/trouble-signing-in".into(),
            link_text: "Ask for a new link".into(),
        },
    )
}

async fn show_reset(State(st): State<AppState>, nav: Nav, Query(q): Query<TokenQuery>) -> Response {
    let nav = nav.clone();
    match st.steward.check_reset_token(&q.token).await {
        Ok(()) => page(
            StatusCode::OK,
            &ResetPage {
                nav,
                errors: FormErrors::none(),
                token: q.token,
            },
        ),
        Err(_) => expired(nav),
    }
}

async fn submit_reset(
    State(st): State<AppState>,
    client: Client,
    FormBody(f): FormBody<ResetForm>,
) -> Response {
    let nav = Nav::of(None);
    let result: Result<(), ApiError> = async {
        st.limits.credential_ip(client.ip())?;
        st.steward
            .complete_password_reset(&f.token, &f.new_password, &client.0)
            .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => page(
            StatusCode::OK,
            &Notice {
                nav,
                heading: "Password changed".into(),
                message: "Your password was reset and you were signed out everywhere. Sign in with your new password.".into(),
                link_href: "/signin".into(),
                link_text: "Sign In".into(),
            },
        ),
        Err(ApiError::Core(CoreError::InvalidToken)) => expired(nav),
        Err(e) => {
            let body = ResetPage { nav, errors: FormErrors::from_error(&e), token: f.token.clone() };
            with_retry_after(page(form_status(&e), &body), &e)
        }
    }
}
