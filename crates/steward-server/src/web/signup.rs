//! The "Create account" page.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use steward_core::flow::registration::Registration;

use crate::error::ApiError;
use crate::http::client::Client;
use crate::state::AppState;
use crate::web::form::{FormBody, ticked};
use crate::web::view::{FormErrors, Nav, form_status, page, with_retry_after};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new().route("/signup", get(show).post(submit))
}

#[derive(Template)]
#[template(path = "account/signup.html")]
struct SignUpPage {
    nav: Nav,
    errors: FormErrors,
    email: String,
    username: String,
    accept_terms: bool,
    confirm_age: bool,
    terms_version: String,
    privacy_version: String,
    /// Offer the longer check (the address's email quota was used up).
    strong: bool,
}

#[derive(Template)]
#[template(path = "account/notice.html")]
pub(crate) struct Notice {
    pub nav: Nav,
    pub heading: String,
    pub message: String,
    pub link_href: String,
    pub link_text: String,
}

/// The sign-up form as posted.
#[derive(Debug, Deserialize)]
struct SignUpForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    accept_terms: Option<String>,
    confirm_age: Option<String>,
    #[serde(default)]
    altcha: String,
}

fn form_page(
    st: &AppState,
    nav: Nav,
    errors: FormErrors,
    f: Option<&SignUpForm>,
    strong: bool,
) -> SignUpPage {
    SignUpPage {
        nav,
        errors,
        email: f.map(|f| f.email.clone()).unwrap_or_default(),
        username: f.map(|f| f.username.clone()).unwrap_or_default(),
        accept_terms: f.is_some_and(|f| ticked(f.accept_terms.as_deref())),
        confirm_age: f.is_some_and(|f| ticked(f.confirm_age.as_deref())),
        terms_version: st.cfg.legal.terms_version.clone(),
        privacy_version: st.cfg.legal.privacy_version.clone(),
        strong,
    }
}

async fn show(State(st): State<AppState>, nav: Nav) -> Response {
    page(
        StatusCode::OK,
        &form_page(&st, nav.clone(), FormErrors::none(), None, false),
    )
}

async fn submit(
    State(st): State<AppState>,
    client: Client,
    nav: Nav,
    FormBody(f): FormBody<SignUpForm>,
) -> Response {
    let nav = nav.clone();
    let result: Result<(), ApiError> = async {
        st.limits.credential_ip(client.ip())?;
        let input = Registration {
            email: f.email.clone(),
            username: f.username.clone(),
            password: f.password.clone(),
            accept_terms: ticked(f.accept_terms.as_deref()),
            confirm_age: ticked(f.confirm_age.as_deref()),
            altcha: f.altcha.clone(),
        };
        st.steward.register(input, &client.0).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => page(
            StatusCode::OK,
            &Notice {
                nav,
                heading: "Check your email".into(),
                message: format!(
                    "We sent a link to {} to confirm your address. Follow it to finish setting up your account. If you already have an account, the email says so.",
                    f.email.trim()
                ),
                link_href: "/signin".into(),
                link_text: "Go to Sign In".into(),
            },
        ),
        Err(e) => with_retry_after(
            page(
                form_status(&e),
                &form_page(
                    &st,
                    nav,
                    FormErrors::from_error(&e),
                    Some(&f),
                    matches!(e, ApiError::Core(steward_core::CoreError::EmailQuota(_))),
                ),
            ),
            &e,
        ),
    }
}
