//! Your Apps: registering and deleting the third-party apps that let people
//! sign in with Steward (the same rules as `POST /api/v1/apps`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use steward_core::session::SignedIn;
use steward_proto::oauth::{AppView, RegisterAppRequest};

use crate::error::ApiError;
use crate::http::client::MaybeUser;
use crate::state::AppState;
use crate::web::form::{FormBody, ticked};
use crate::web::view::{FormErrors, Nav, form_status, page, same_account, see_other};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/developer/apps", get(show).post(register))
        .route("/developer/apps/{client_id}/delete", post(remove))
}

/// The registration form as posted (and shown again with its errors).
#[derive(Debug, Default, Deserialize)]
struct AppForm {
    #[serde(default)]
    as_account: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    logo_url: String,
    scope_openid: Option<String>,
    scope_profile: Option<String>,
    scope_email: Option<String>,
    scope_offline_access: Option<String>,
    public: Option<String>,
    #[serde(default)]
    id_token_signed_response_alg: String,
}

/// The form's values for the template.
#[derive(Debug, Default)]
struct FormValues {
    name: String,
    redirect_uris: String,
    logo_url: String,
    openid: bool,
    profile: bool,
    email: bool,
    offline_access: bool,
    public: bool,
    /// `ES256` or `RS256` (anything else is shown back with its error).
    alg: String,
}

struct Created {
    name: String,
    client_id: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "oauth/developer.html")]
struct DeveloperPage {
    nav: Nav,
    apps: Vec<AppView>,
    form: FormValues,
    errors: FormErrors,
    created: Option<Created>,
    flash: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FlashQuery {
    deleted: Option<String>,
}

/// What the page shows besides the list of apps.
struct Shown {
    form: FormValues,
    errors: FormErrors,
    created: Option<Created>,
    flash: Option<String>,
}

impl Shown {
    /// An empty form (with `openid` ticked), no errors.
    fn fresh() -> Self {
        Self {
            form: FormValues {
                openid: true,
                alg: "ES256".into(),
                ..FormValues::default()
            },
            errors: FormErrors::none(),
            created: None,
            flash: None,
        }
    }
}

async fn render(
    st: &AppState,
    who: &SignedIn,
    nav: Nav,
    status: StatusCode,
    shown: Shown,
) -> Result<Response, ApiError> {
    let apps = st.steward.my_apps(who).await?;
    Ok(page(
        status,
        &DeveloperPage {
            nav,
            apps,
            form: shown.form,
            errors: shown.errors,
            created: shown.created,
            flash: shown.flash,
        },
    ))
}

/// `GET /developer/apps`.
async fn show(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    Query(q): Query<FlashQuery>,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/signin?next=/developer/apps"));
    };
    let shown = Shown {
        flash: q.deleted.map(|_| "The app was deleted.".to_owned()),
        ..Shown::fresh()
    };
    render(&st, &who, nav, StatusCode::OK, shown).await
}

/// `POST /developer/apps`.
async fn register(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    FormBody(f): FormBody<AppForm>,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/signin?next=/developer/apps"));
    };
    same_account(&who, &f.as_account)?;
    let values = FormValues {
        name: f.name.clone(),
        redirect_uris: f.redirect_uris.clone(),
        logo_url: f.logo_url.clone(),
        openid: ticked(f.scope_openid.as_deref()),
        profile: ticked(f.scope_profile.as_deref()),
        email: ticked(f.scope_email.as_deref()),
        offline_access: ticked(f.scope_offline_access.as_deref()),
        public: ticked(f.public.as_deref()),
        alg: f.id_token_signed_response_alg.clone(),
    };
    let scopes = [
        ("openid", values.openid),
        ("profile", values.profile),
        ("email", values.email),
        ("offline_access", values.offline_access),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(s, _)| s.to_owned())
    .collect();
    let req = RegisterAppRequest {
        name: f.name,
        redirect_uris: f
            .redirect_uris
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        logo_url: Some(f.logo_url.trim().to_owned()).filter(|s| !s.is_empty()),
        scopes,
        public: values.public,
        id_token_signed_response_alg: Some(f.id_token_signed_response_alg),
    };
    match st.steward.register_app(&who, &req).await {
        Ok(app) => {
            let created = Created {
                name: app.app.name,
                client_id: app.app.client_id,
                secret: app.client_secret.unwrap_or_default(),
            };
            let shown = Shown {
                created: Some(created),
                ..Shown::fresh()
            };
            render(&st, &who, nav, StatusCode::CREATED, shown).await
        }
        Err(e) => {
            let e = ApiError::from(e);
            let shown = Shown {
                form: values,
                errors: FormErrors::from_error(&e),
                created: None,
                flash: None,
            };
            render(&st, &who, nav, form_status(&e), shown).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct GuardForm {
    #[serde(default)]
    as_account: String,
}

/// `POST /developer/apps/{client_id}/delete`.
async fn remove(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    Path(client_id): Path<String>,
    FormBody(f): FormBody<GuardForm>,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/signin?next=/developer/apps"));
    };
    same_account(&who, &f.as_account)?;
    st.steward.delete_app(&who, &client_id).await?;
    Ok(see_other("/developer/apps?deleted=1"))
}
