//! The profile page (avatar menu → Profile) and public profiles at `/@username`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use steward_proto::profile::{ProfileLinks, ProfileView, UpdateProfileRequest};

use crate::error::ApiError;
use crate::http::client::MaybeUser;
use crate::state::AppState;
use crate::web::form::{FormBody, ticked};
use crate::web::signup::Notice;
use crate::web::view::{FormErrors, Nav, form_status, page, same_account, see_other};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/profile", get(edit).post(save))
        .route("/@{username}", get(public))
}

/// A one-line input of the form.
struct TextField {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "profile/edit.html")]
struct EditPage {
    nav: Nav,
    username: String,
    about: String,
    form: ProfileView,
    text_fields: Vec<TextField>,
    errors: FormErrors,
    flash: Option<String>,
}

#[derive(Template)]
#[template(path = "profile/public.html")]
struct PublicPage {
    nav: Nav,
    title: String,
    username: String,
    p: steward_core::profile::Profile,
    links: Vec<(&'static str, String)>,
}

/// The form as posted.
#[derive(Debug, Default, Deserialize)]
struct ProfileForm {
    #[serde(default)]
    as_account: String,
    name: Option<String>,
    about: Option<String>,
    role: Option<String>,
    company: Option<String>,
    website: Option<String>,
    github: Option<String>,
    x: Option<String>,
    linkedin: Option<String>,
    public: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

fn fields(v: &ProfileView) -> Vec<TextField> {
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    vec![
        TextField {
            name: "name",
            label: "Name",
            kind: "text",
            value: s(&v.name),
        },
        TextField {
            name: "role",
            label: "Role",
            kind: "text",
            value: s(&v.role),
        },
        TextField {
            name: "company",
            label: "Company",
            kind: "text",
            value: s(&v.company),
        },
        TextField {
            name: "website",
            label: "Website",
            kind: "url",
            value: s(&v.links.website),
        },
        TextField {
            name: "github",
            label: "GitHub",
            kind: "url",
            value: s(&v.links.github),
        },
        TextField {
            name: "x",
            label: "X (Twitter)",
            kind: "url",
            value: s(&v.links.x),
        },
        TextField {
            name: "linkedin",
            label: "LinkedIn",
            kind: "url",
            value: s(&v.links.linkedin),
        },
    ]
}

fn edit_page(nav: Nav, form: ProfileView, errors: FormErrors, flash: Option<String>) -> EditPage {
    EditPage {
        nav,
        username: form.username.clone(),
        about: form.about.clone().unwrap_or_default(),
        text_fields: fields(&form),
        form,
        errors,
        flash,
    }
}

/// `GET /settings/profile`.
async fn edit(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    Query(q): Query<SavedQuery>,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/signin?next=/settings/profile"));
    };
    let view = st.steward.profile(&who).await?;
    let flash = q.saved.map(|_| "Your profile was updated.".to_owned());
    Ok(page(
        StatusCode::OK,
        &edit_page(nav, view, FormErrors::none(), flash),
    ))
}

/// `POST /settings/profile` (**Update Profile**).
async fn save(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    FormBody(f): FormBody<ProfileForm>,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/signin?next=/settings/profile"));
    };
    same_account(&who, &f.as_account)?;
    let req = UpdateProfileRequest {
        name: f.name,
        about: f.about,
        role: f.role,
        company: f.company,
        links: ProfileLinks {
            website: f.website,
            github: f.github,
            x: f.x,
            linkedin: f.linkedin,
        },
        public: ticked(f.public.as_deref()),
    };
    match st.steward.update_profile(&who, &req).await {
        Ok(_) => Ok(see_other("/settings/profile?saved=1")),
        Err(e) => {
            let e = ApiError::from(e);
            // Shown again as typed, so nothing the person wrote is lost.
            let typed = ProfileView {
                username: who.account().username.clone(),
                name: req.name,
                about: req.about,
                role: req.role,
                company: req.company,
                links: req.links,
                public: req.public,
            };
            Ok(page(
                form_status(&e),
                &edit_page(nav, typed, FormErrors::from_error(&e), None),
            ))
        }
    }
}

/// `GET /@username`: the public fields of a public profile; 404 otherwise (also
/// for accounts that do not exist, alike).
async fn public(
    State(st): State<AppState>,
    nav: Nav,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    let Some(found) = st.steward.public_profile(&username).await? else {
        return Ok(page(
            StatusCode::NOT_FOUND,
            &Notice {
                nav,
                heading: "Profile not found".into(),
                message: "There is no public profile at this address.".into(),
                link_href: "/".into(),
                link_text: "Go to Steward".into(),
            },
        ));
    };
    let p = found.profile;
    let links = [
        ("Website", p.website.clone()),
        ("GitHub", p.github.clone()),
        ("X", p.x.clone()),
        ("LinkedIn", p.linkedin.clone()),
    ]
    .into_iter()
    .filter_map(|(label, href)| href.map(|h| (label, h)))
    .collect();
    Ok(page(
        StatusCode::OK,
        &PublicPage {
            nav,
            title: p
                .name
                .clone()
                .unwrap_or_else(|| format!("@{}", found.username)),
            username: found.username,
            p,
            links,
        },
    ))
}
