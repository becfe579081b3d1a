//! Connected Apps: the third-party apps a person allowed, what each receives,
//! the log of what was shared, and taking an app's access back.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::error::ApiError;
use crate::http::client::{Client, MaybeUser};
use crate::state::AppState;
use crate::web::form::FormBody;
use crate::web::oauth::DecisionForm;
use crate::web::view::{Nav, page, same_account, see_other};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/apps", get(connected))
        .route("/account/apps/{client_id}/revoke", post(revoke_app))
}

struct AppRow {
    client_id: String,
    name: String,
    granted: String,
    access: Vec<String>,
}

struct DisclosureRow {
    at: String,
    recipient: String,
    categories: String,
}

#[derive(Template)]
#[template(path = "oauth/apps.html")]
struct AppsPage {
    nav: Nav,
    flash: Option<String>,
    apps: Vec<AppRow>,
    disclosures: Vec<DisclosureRow>,
}

fn when(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.format(&f).unwrap_or_default()
}

#[derive(Debug, Deserialize)]
struct FlashQuery {
    removed: Option<String>,
}

/// `GET /account/apps`: Connected apps and what was shared with them.
async fn connected(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    Query(q): Query<FlashQuery>,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/signin?next=/account/apps"));
    };
    let apps = st.steward.connected_apps(&who).await?;
    let disclosures = st.steward.disclosures(&who).await?;
    Ok(page(
        StatusCode::OK,
        &AppsPage {
            nav,
            flash: q
                .removed
                .map(|_| "The app can no longer access your account.".to_owned()),
            apps: apps
                .into_iter()
                .map(|a| AppRow {
                    client_id: a.client_id,
                    name: a.name,
                    granted: when(a.granted_at),
                    access: a.access,
                })
                .collect(),
            disclosures: disclosures
                .into_iter()
                .take(50)
                .map(|d| DisclosureRow {
                    at: when(d.at),
                    recipient: d.recipient,
                    categories: d.categories.join(", "),
                })
                .collect(),
        },
    ))
}

/// `POST /account/apps/{client_id}/revoke`.
async fn revoke_app(
    State(st): State<AppState>,
    client: Client,
    MaybeUser(who): MaybeUser,
    Path(client_id): Path<String>,
    FormBody(f): FormBody<DecisionForm>,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/signin?next=/account/apps"));
    };
    same_account(&who, &f.as_account)?;
    st.steward.revoke_app(&who, &client_id, &client.0).await?;
    Ok(see_other("/account/apps?removed=1"))
}
