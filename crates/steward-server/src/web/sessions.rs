//! Active sessions (list, revoke one, revoke all) and Security activity pages.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use steward_core::session::SignedIn;
use steward_proto::{SecurityEventView, SessionView};
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::client::{Client, MaybeUser};
use crate::state::AppState;
use crate::web::form::FormBody;
use crate::web::view::{FormErrors, Nav, form_status, page, same_account, see_other};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/sessions", get(show))
        .route("/account/sessions/revoke-all", post(revoke_all))
        .route("/account/sessions/{id}/revoke", post(revoke))
        .route("/account/activity", get(activity))
}

/// A session as the page shows it.
struct Row {
    id: String,
    current: bool,
    device: String,
    ip: String,
    location: String,
    created: String,
    last_seen: String,
    expires: String,
    remember: bool,
}

#[derive(Template)]
#[template(path = "account/sessions.html")]
struct SessionsPage {
    nav: Nav,
    errors: FormErrors,
    flash: Option<String>,
    rows: Vec<Row>,
}

struct EventRow {
    description: String,
    at: String,
    device: String,
    ip: String,
    location: String,
    detail: String,
    kind: String,
}

#[derive(Template)]
#[template(path = "account/activity.html")]
struct ActivityPage {
    nav: Nav,
    rows: Vec<EventRow>,
    next: Option<String>,
    retention_days: i64,
}

#[derive(Debug, Deserialize)]
struct GuardForm {
    #[serde(default)]
    as_account: String,
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    before: Option<String>,
}

fn when(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.format(&f).unwrap_or_default()
}

fn row(s: SessionView) -> Row {
    Row {
        id: s.id.to_string(),
        current: s.current,
        device: s.device,
        ip: s.ip.unwrap_or_default(),
        location: s.location.unwrap_or_default(),
        created: when(s.created_at),
        last_seen: when(s.last_seen_at),
        expires: when(s.expires_at),
        remember: s.remember,
    }
}

fn event_row(e: SecurityEventView) -> EventRow {
    EventRow {
        description: e.description,
        at: when(e.at),
        device: e.device.unwrap_or_default(),
        ip: e.ip.unwrap_or_default(),
        location: e.location.unwrap_or_default(),
        detail: e.detail.unwrap_or_default(),
        kind: e.kind,
    }
}

fn to_signin(path: &str) -> Response {
    see_other(&format!("/signin?next={path}"))
}

async fn render(
    st: &AppState,
    nav: Nav,
    who: &SignedIn,
    status: StatusCode,
    errors: FormErrors,
    flash: Option<String>,
) -> Response {
    match st.steward.list_sessions(who).await {
        Ok(list) => page(
            status,
            &SessionsPage {
                nav,
                errors,
                flash,
                rows: list.into_iter().map(row).collect(),
            },
        ),
        Err(e) => {
            let e = ApiError::from(e);
            page(
                form_status(&e),
                &SessionsPage {
                    nav,
                    errors: FormErrors::from_error(&e),
                    flash: None,
                    rows: Vec::new(),
                },
            )
        }
    }
}

async fn show(State(st): State<AppState>, MaybeUser(who): MaybeUser, nav: Nav) -> Response {
    let Some(who) = who else {
        return to_signin("/account/sessions");
    };
    render(&st, nav, &who, StatusCode::OK, FormErrors::none(), None).await
}

async fn revoke(
    State(st): State<AppState>,
    client: Client,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    Path(id): Path<String>,
    FormBody(f): FormBody<GuardForm>,
) -> Response {
    let Some(who) = who else {
        return to_signin("/account/sessions");
    };
    let result: Result<(), ApiError> = async {
        same_account(&who, &f.as_account)?;
        let id = Uuid::parse_str(&id)
            .map_err(|_| ApiError::Malformed("The session id is not a valid UUID.".into()))?;
        st.steward.revoke_session(&who, id, &client.0).await?;
        Ok(())
    }
    .await;
    match result {
        // Revoking this very session is signing out here.
        Ok(()) if id == who.session().id.to_string() => see_other("/"),
        Ok(()) => {
            render(
                &st,
                nav,
                &who,
                StatusCode::OK,
                FormErrors::none(),
                Some("The session was revoked. That device is signed out.".into()),
            )
            .await
        }
        Err(e) => {
            let status = match e.status() {
                StatusCode::NOT_FOUND | StatusCode::CONFLICT => e.status(),
                _ => form_status(&e),
            };
            render(&st, nav, &who, status, FormErrors::from_error(&e), None).await
        }
    }
}

async fn revoke_all(
    State(st): State<AppState>,
    client: Client,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    FormBody(f): FormBody<GuardForm>,
) -> Response {
    let Some(who) = who else {
        return to_signin("/account/sessions");
    };
    let result: Result<u64, ApiError> = async {
        same_account(&who, &f.as_account)?;
        Ok(st.steward.revoke_other_sessions(&who, &client.0).await?)
    }
    .await;
    match result {
        Ok(n) => {
            let flash = match n {
                0 => "There were no other sessions to revoke.".to_owned(),
                1 => "1 other session was revoked.".to_owned(),
                n => format!("{n} other sessions were revoked."),
            };
            render(
                &st,
                nav,
                &who,
                StatusCode::OK,
                FormErrors::none(),
                Some(flash),
            )
            .await
        }
        Err(e) => {
            let status = if e.status() == StatusCode::CONFLICT {
                e.status()
            } else {
                form_status(&e)
            };
            render(&st, nav, &who, status, FormErrors::from_error(&e), None).await
        }
    }
}

async fn activity(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    Query(q): Query<PageQuery>,
) -> Response {
    let Some(who) = who else {
        return to_signin("/account/activity");
    };
    // A malformed cursor shows the first page rather than an error.
    let before = q.before.as_deref().and_then(|b| Uuid::parse_str(b).ok());
    match st.steward.security_activity(&who, before, None).await {
        Ok(a) => page(
            StatusCode::OK,
            &ActivityPage {
                nav,
                rows: a.events.into_iter().map(event_row).collect(),
                next: a.next_before.map(|id| id.to_string()),
                retention_days: st.steward.config().activity_retention.whole_days(),
            },
        ),
        Err(e) => {
            let e = ApiError::from(e);
            page(
                form_status(&e),
                &ActivityPage {
                    nav,
                    rows: Vec::new(),
                    next: None,
                    retention_days: st.steward.config().activity_retention.whole_days(),
                },
            )
        }
    }
}
