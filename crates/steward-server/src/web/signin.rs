//! The "Sign in" page and signing out.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::api::session::{end_replaced_session, set_session_cookies};
use crate::error::ApiError;
use crate::http::client::{Client, MaybeUser};
use crate::state::AppState;
use crate::web::form::{FormBody, ticked};
use crate::web::view::{
    FormErrors, Nav, form_status, page, safe_next, see_other, with_retry_after,
};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signin", get(show).post(submit))
        .route("/signout", post(sign_out))
}

#[derive(Template)]
#[template(path = "account/signin.html")]
struct SignInPage {
    nav: Nav,
    errors: FormErrors,
    identifier: String,
    remember: bool,
    next: String,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SignInForm {
    #[serde(default)]
    identifier: String,
    #[serde(default)]
    password: String,
    remember: Option<String>,
    next: Option<String>,
}

async fn show(MaybeUser(who): MaybeUser, Query(q): Query<NextQuery>) -> Response {
    let next = safe_next(q.next.as_deref()).to_owned();
    if who.is_some() {
        return see_other(&next);
    }
    page(
        StatusCode::OK,
        &SignInPage {
            nav: Nav::of(None),
            errors: FormErrors::none(),
            identifier: String::new(),
            remember: true,
            next,
        },
    )
}

async fn submit(
    State(st): State<AppState>,
    client: Client,
    headers: HeaderMap,
    FormBody(f): FormBody<SignInForm>,
) -> Response {
    let remember = ticked(f.remember.as_deref());
    let next = safe_next(f.next.as_deref()).to_owned();
    let result: Result<_, ApiError> = async {
        st.limits.credential_ip(client.ip())?;
        let trusted = st.devices.accounts(&headers, st.steward.now());
        Ok(st
            .steward
            .sign_in(&f.identifier, &f.password, remember, &client.0, &trusted)
            .await?)
    }
    .await;
    match result {
        Ok(new) => {
            let mut res = see_other(&next);
            end_replaced_session(&st, &headers).await;
            set_session_cookies(&st, &headers, &new, res.headers_mut());
            res
        }
        Err(e) => {
            let errors = FormErrors {
                summary: Some(e.message()),
                fields: Default::default(),
            };
            let body = SignInPage {
                nav: Nav::of(None),
                errors,
                identifier: f.identifier.clone(),
                remember,
                next,
            };
            with_retry_after(page(form_status(&e), &body), &e)
        }
    }
}

async fn sign_out(State(st): State<AppState>, MaybeUser(who): MaybeUser) -> Response {
    if let Some(who) = who
        && let Err(e) = st.steward.sign_out(&who).await
    {
        tracing::warn!(error = %e, "sign-out failed");
    }
    let mut res = see_other("/");
    if let Ok(v) = HeaderValue::from_str(&st.cookies.clear_session()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}
