//! Notification Preferences, the notifications behind the bell, and the
//! unsubscribe page (its POST is also the RFC 8058 one-click target).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use steward_core::notify::Category;
use steward_proto::notify::{PreferenceRow, UpdateNotificationPreferences};

use crate::error::ApiError;
use crate::http::client::{Client, MaybeUser};
use crate::state::AppState;
use crate::web::form::{FormBody, ticked};
use crate::web::signup::Notice;
use crate::web::view::{Nav, page, same_account, see_other};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/notifications", get(preferences).post(save))
        .route("/notifications", get(list))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/{id}/read", post(read))
        .route("/unsubscribe/{token}", get(confirm).post(unsubscribe))
}

struct Row {
    category: &'static str,
    label: &'static str,
    email: bool,
    in_app: bool,
}

#[derive(Template)]
#[template(path = "notify/preferences.html")]
struct PreferencesPage {
    nav: Nav,
    rows: Vec<Row>,
    marketing: bool,
    always: Vec<String>,
    flash: Option<String>,
}

struct Item {
    id: String,
    title: String,
    body: String,
    link: String,
    at: String,
    read: bool,
}

#[derive(Template)]
#[template(path = "notify/list.html")]
struct ListPage {
    nav: Nav,
    items: Vec<Item>,
    unread: u64,
}

#[derive(Template)]
#[template(path = "notify/unsubscribe.html")]
struct UnsubscribePage {
    nav: Nav,
    what: String,
    token: String,
}

#[derive(Debug, Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

/// `GET /settings/notifications`.
async fn preferences(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    Query(q): Query<SavedQuery>,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/signin?next=/settings/notifications"));
    };
    let p = st.steward.notification_preferences(&who).await?;
    let rows = Category::ALL
        .iter()
        .zip(p.categories)
        .map(|(c, r)| Row {
            category: c.as_str(),
            label: c.label(),
            email: r.email,
            in_app: r.in_app,
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        &PreferencesPage {
            nav,
            rows,
            marketing: p.marketing_email,
            always: p.always_sent,
            flash: q.saved.map(|_| "Your preferences were updated.".into()),
        },
    ))
}

/// `POST /settings/notifications` (**Update Preferences**): a box not ticked is off.
async fn save(
    State(st): State<AppState>,
    client: Client,
    MaybeUser(who): MaybeUser,
    FormBody(f): FormBody<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/signin?next=/settings/notifications"));
    };
    same_account(&who, f.get("as_account").map_or("", String::as_str))?;
    let on = |name: String| ticked(f.get(&name).map(String::as_str));
    let req = UpdateNotificationPreferences {
        categories: Category::ALL
            .iter()
            .map(|c| PreferenceRow {
                category: c.as_str().into(),
                email: on(format!("{}_email", c.as_str())),
                in_app: on(format!("{}_in_app", c.as_str())),
            })
            .collect(),
        marketing_email: Some(on("marketing_email".into())),
    };
    st.steward
        .update_notification_preferences(&who, &req, &client.0)
        .await?;
    Ok(see_other("/settings/notifications?saved=1"))
}

/// `GET /notifications`.
async fn list(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    nav: Nav,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/signin?next=/notifications"));
    };
    let l = st.steward.notifications(&who).await?;
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    Ok(page(
        StatusCode::OK,
        &ListPage {
            nav,
            unread: l.unread,
            items: l
                .notifications
                .into_iter()
                .map(|n| Item {
                    id: n.id.to_string(),
                    title: n.title,
                    body: n.body,
                    link: n.link.unwrap_or_default(),
                    at: n.created_at.format(&f).unwrap_or_default(),
                    read: n.read,
                })
                .collect(),
        },
    ))
}

#[derive(Debug, Deserialize)]
struct GuardForm {
    #[serde(default)]
    as_account: String,
}

/// `POST /notifications/{id}/read`.
async fn read(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    Path(id): Path<String>,
    FormBody(f): FormBody<GuardForm>,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/signin?next=/notifications"));
    };
    same_account(&who, &f.as_account)?;
    let id = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    st.steward.mark_notification_read(&who, id).await?;
    Ok(see_other("/notifications"))
}

/// `POST /notifications/read-all`.
async fn read_all(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    FormBody(f): FormBody<GuardForm>,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/signin?next=/notifications"));
    };
    same_account(&who, &f.as_account)?;
    st.steward.mark_all_notifications_read(&who).await?;
    Ok(see_other("/notifications"))
}

fn invalid(nav: Nav) -> Response {
    page(
        StatusCode::NOT_FOUND,
        &Notice {
            nav,
            heading: "This unsubscribe link is not valid".into(),
            message: "Sign in and choose what you get on Notification Preferences.".into(),
            link_href: "/settings/notifications".into(),
            link_text: "Notification Preferences".into(),
        },
    )
}

/// `GET /unsubscribe/{token}`: asks before unsubscribing (link scanners only GET).
async fn confirm(
    State(st): State<AppState>,
    nav: Nav,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let Some((_, what)) = st.steward.read_unsubscribe(&token).await? else {
        return Ok(invalid(nav));
    };
    Ok(page(
        StatusCode::OK,
        &UnsubscribePage {
            nav,
            what: what.describe().into(),
            token,
        },
    ))
}

/// `POST /unsubscribe/{token}`: the button, or a mail client's one-click POST
/// (`List-Unsubscribe=One-Click`); no sign-in, the token is the authority.
async fn unsubscribe(
    State(st): State<AppState>,
    client: Client,
    nav: Nav,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    match st.steward.unsubscribe(&token, &client.0).await {
        Ok(what) => Ok(page(
            StatusCode::OK,
            &Notice {
                nav,
                heading: "You are unsubscribed".into(),
                message: format!(
                    "You will no longer get emails about: {}. Emails that protect your account still go out.",
                    what.describe()
                ),
                link_href: "/settings/notifications".into(),
                link_text: "Notification Preferences".into(),
            },
        )),
        Err(steward_core::CoreError::InvalidToken) => Ok(invalid(nav)),
        Err(e) => Err(e.into()),
    }
}
