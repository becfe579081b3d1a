//! Account Settings (password change, email confirmation) and the confirmation link page.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use steward_core::session::SignedIn;

use crate::error::ApiError;
use crate::http::client::{Client, MaybeUser};
use crate::state::AppState;
use crate::web::form::FormBody;
use crate::web::signup::Notice;
use crate::web::view::{
    FormErrors, Nav, form_status, page, same_account, see_other, with_retry_after,
};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings", get(show))
        .route("/settings/password", post(change_password))
        .route("/settings/username", post(change_username))
        .route("/settings/email", post(change_email))
        .route(
            "/confirm-email-change",
            get(show_confirm_change).post(confirm_change),
        )
        .route("/settings/resend-verification", post(resend))
        .route("/verify-email", get(show_verify).post(verify))
}

#[derive(Template)]
#[template(path = "account/settings.html")]
struct SettingsPage {
    nav: Nav,
    errors: FormErrors,
    flash: Option<String>,
    username: String,
    email: String,
    verified: bool,
    created: String,
    /// Errors of the username form (the password form has `errors`).
    username_errors: FormErrors,
    /// What was typed in the username form.
    new_username: String,
    /// Errors of the email form.
    email_errors: FormErrors,
    /// What was typed as the new address.
    new_email: String,
    hold_days: u32,
}

/// The email form.
#[derive(Debug, Deserialize)]
struct EmailForm {
    /// The current password (named apart from the password form's field on the same page).
    #[serde(default)]
    password: String,
    #[serde(default)]
    new_email: String,
    #[serde(default)]
    as_account: String,
}

#[derive(Template)]
#[template(path = "account/confirm_email_change.html")]
struct ConfirmChangePage {
    nav: Nav,
    token: String,
}

/// The username form.
#[derive(Debug, Deserialize)]
struct UsernameForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    as_account: String,
}

#[derive(Template)]
#[template(path = "account/verify_email.html")]
struct VerifyPage {
    nav: Nav,
    token: String,
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    /// The account the form was shown as.
    #[serde(default)]
    as_account: String,
}

/// A form that only carries the account it was shown as.
#[derive(Debug, Deserialize)]
struct GuardForm {
    #[serde(default)]
    as_account: String,
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    #[serde(default)]
    token: String,
}

fn settings(
    st: &AppState,
    nav: &Nav,
    who: &SignedIn,
    errors: FormErrors,
    flash: Option<String>,
) -> SettingsPage {
    let a = who.account();
    let date = time::macros::format_description!("[year]-[month]-[day]");
    SettingsPage {
        nav: nav.clone(),
        errors,
        flash,
        username: a.username.clone(),
        email: a.email.clone(),
        verified: a.email_verified_at.is_some(),
        created: a.created_at.format(&date).unwrap_or_default(),
        username_errors: FormErrors::none(),
        new_username: String::new(),
        email_errors: FormErrors::none(),
        new_email: String::new(),
        hold_days: st.cfg.accounts.username_hold_days,
    }
}

fn to_signin() -> Response {
    see_other("/signin?next=/settings")
}

async fn show(State(st): State<AppState>, MaybeUser(who): MaybeUser, nav: Nav) -> Response {
    match who {
        Some(who) => page(
            StatusCode::OK,
            &settings(&st, &nav, &who, FormErrors::none(), None),
        ),
        None => to_signin(),
    }
}

async fn change_password(
    State(st): State<AppState>,
    client: Client,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    FormBody(f): FormBody<PasswordForm>,
) -> Response {
    let Some(who) = who else { return to_signin() };
    let result: Result<(), ApiError> = async {
        same_account(&who, &f.as_account)?;
        st.limits.credential_ip(client.ip())?;
        st.steward
            .change_password(&who, &f.current_password, &f.new_password, &client.0)
            .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => page(
            StatusCode::OK,
            &settings(
                &st,
                &nav,
                &who,
                FormErrors::none(),
                Some("Your password was changed. Your other sessions were signed out.".into()),
            ),
        ),
        Err(e) => with_retry_after(
            page(
                form_status(&e),
                &settings(&st, &nav, &who, FormErrors::from_error(&e), None),
            ),
            &e,
        ),
    }
}

/// `POST /settings/email` (**Change Email**).
async fn change_email(
    State(st): State<AppState>,
    client: Client,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    FormBody(f): FormBody<EmailForm>,
) -> Response {
    let Some(who) = who else { return to_signin() };
    let result: Result<(), ApiError> = async {
        same_account(&who, &f.as_account)?;
        st.limits.credential_ip(client.ip())?;
        Ok(st
            .steward
            .request_email_change(&who, &f.password, &f.new_email)
            .await?)
    }
    .await;
    match result {
        Ok(()) => page(
            StatusCode::OK,
            &settings(
                &st,
                &nav,
                &who,
                FormErrors::none(),
                Some(format!(
                    "We sent a link to {}. Your address changes when you use it; until then you keep signing in with {}.",
                    f.new_email.trim(),
                    who.account().email
                )),
            ),
        ),
        Err(e) => {
            let mut p = settings(&st, &nav, &who, FormErrors::none(), None);
            p.email_errors = FormErrors::from_error(&e);
            if let Some(why) = p.email_errors.fields.remove("current_password") {
                p.email_errors.fields.insert("password".into(), why);
            }
            p.new_email = f.new_email.chars().take(254).collect();
            with_retry_after(page(form_status(&e), &p), &e)
        }
    }
}

async fn show_confirm_change(nav: Nav, Query(q): Query<TokenForm>) -> Response {
    page(
        StatusCode::OK,
        &ConfirmChangePage {
            nav,
            token: q.token,
        },
    )
}

/// `POST /confirm-email-change`: the link from the new address, used.
async fn confirm_change(
    State(st): State<AppState>,
    client: Client,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    FormBody(f): FormBody<TokenForm>,
) -> Response {
    let result: Result<String, ApiError> = async {
        st.limits.credential_ip(client.ip())?;
        Ok(st.steward.confirm_email_change(&f.token, &client.0).await?)
    }
    .await;
    let signed_in = who.is_some();
    match result {
        Ok(email) => page(
            StatusCode::OK,
            &Notice {
                nav,
                heading: "Email address changed".into(),
                message: format!("Your account's email address is now {email}."),
                link_href: if signed_in { "/settings".into() } else { "/signin".into() },
                link_text: if signed_in { "Account Settings".into() } else { "Sign In".into() },
            },
        ),
        Err(e) => with_retry_after(
            page(
                if e.status() == StatusCode::TOO_MANY_REQUESTS {
                    StatusCode::TOO_MANY_REQUESTS
                } else {
                    StatusCode::BAD_REQUEST
                },
                &Notice {
                    nav,
                    heading: "This link no longer works".into(),
                    message: match &e {
                        ApiError::Core(steward_core::CoreError::Validation(f)) => f
                            .values()
                            .next()
                            .cloned()
                            .unwrap_or_default(),
                        _ => "Links to confirm a new address work once and expire after 24 hours; a newer request replaces older links. Ask again from Account Settings.".into(),
                    },
                    link_href: "/settings#email-change".into(),
                    link_text: "Account Settings".into(),
                },
            ),
            &e,
        ),
    }
}

/// `POST /settings/username` (**Change Username**).
async fn change_username(
    State(st): State<AppState>,
    client: Client,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    FormBody(f): FormBody<UsernameForm>,
) -> Response {
    let Some(who) = who else { return to_signin() };
    let hold_days = st.cfg.accounts.username_hold_days;
    let result: Result<steward_core::account::Account, ApiError> = async {
        same_account(&who, &f.as_account)?;
        Ok(st
            .steward
            .change_username(&who, &f.username, &client.0)
            .await?)
    }
    .await;
    match result {
        Ok(account) => {
            let mut p = settings(
                &st,
                &nav,
                &who,
                FormErrors::none(),
                Some(format!(
                    "Your username is now {}. Your old username stays reserved for you for {hold_days} days, and links to it lead to your new one.",
                    account.username
                )),
            );
            p.username = account.username;
            page(StatusCode::OK, &p)
        }
        Err(e) => {
            let mut p = settings(&st, &nav, &who, FormErrors::none(), None);
            p.username_errors = FormErrors::from_error(&e);
            p.new_username = f.username.chars().take(64).collect();
            page(form_status(&e), &p)
        }
    }
}

async fn resend(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    FormBody(f): FormBody<GuardForm>,
) -> Response {
    let Some(who) = who else { return to_signin() };
    let result: Result<(), ApiError> = async {
        same_account(&who, &f.as_account)?;
        st.steward.resend_verification(&who).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => page(
            StatusCode::OK,
            &settings(
                &st,
                &nav,
                &who,
                FormErrors::none(),
                Some(format!(
                    "We sent a new confirmation link to {}.",
                    who.account().email
                )),
            ),
        ),
        Err(e) => with_retry_after(
            page(
                form_status(&e),
                &settings(&st, &nav, &who, FormErrors::from_error(&e), None),
            ),
            &e,
        ),
    }
}

/// The link opens a page with a button rather than confirming on GET, so mail
/// scanners that prefetch links cannot use the token up.
async fn show_verify(nav: Nav, Query(q): Query<TokenForm>) -> Response {
    page(
        StatusCode::OK,
        &VerifyPage {
            nav: nav.clone(),
            token: q.token,
        },
    )
}

async fn verify(
    State(st): State<AppState>,
    client: Client,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    FormBody(f): FormBody<TokenForm>,
) -> Response {
    let result: Result<_, ApiError> = async {
        st.limits.credential_ip(client.ip())?;
        Ok(st.steward.verify_email(&f.token, &client.0).await?)
    }
    .await;
    // Re-read the session so the banner reflects the confirmation.
    let nav = match &who {
        Some(_) if result.is_ok() => Nav {
            verified: true,
            ..nav.clone()
        },
        _ => nav.clone(),
    };
    let signed_in = who.is_some();
    match result {
        Ok(_) => page(
            StatusCode::OK,
            &Notice {
                nav,
                heading: "Email confirmed".into(),
                message: "Thank you: your email address is confirmed and your account is ready.".into(),
                link_href: if signed_in { "/".into() } else { "/signin".into() },
                link_text: if signed_in { "Continue".into() } else { "Sign In".into() },
            },
        ),
        Err(e) => with_retry_after(
            page(
                if e.status() == StatusCode::TOO_MANY_REQUESTS { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::BAD_REQUEST },
                &Notice {
                    nav,
                    heading: "This link no longer works".into(),
                    message: "Confirmation links work once and expire after 24 hours; a newer link replaces older ones. Sign in and ask for a new link from Account Settings.".into(),
                    link_href: "/settings#email".into(),
                    link_text: "Account Settings".into(),
                },
            ),
            &e,
        ),
    }
}
