//! The profile page (avatar menu → Profile) and public profiles at `/@username`.

use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use steward_core::CoreError;
use steward_core::profile::photo::MAX_BYTES;
use steward_proto::profile::{ProfileLinks, ProfileView, UpdateProfileRequest};

use crate::error::ApiError;
use crate::http::client::MaybeUser;
use crate::state::AppState;
use crate::web::form::{FormBody, ticked};
use crate::web::signup::Notice;
use crate::web::view::{
    FormErrors, Nav, form_status, page, safe_next, same_account, see_other, with_retry_after,
};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/profile", get(edit).post(save))
        .route(
            "/settings/profile/photo",
            post(upload_photo)
                // The photo, the other form fields and multipart framing.
                .layer(DefaultBodyLimit::max(MAX_BYTES + 64 * 1024)),
        )
        .route("/settings/profile/photo/remove", post(remove_photo))
        .route("/photos/{id}/{file}", get(photo))
        .route("/@{username}", get(public))
        .route("/welcome", get(welcome).post(finish_welcome))
}

#[derive(Template)]
#[template(path = "profile/welcome.html")]
struct WelcomePage {
    nav: Nav,
    next: String,
    name: String,
    role: String,
    company: String,
    errors: FormErrors,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct WelcomeForm {
    #[serde(default)]
    as_account: String,
    next: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    action: String,
}

/// `GET /welcome`: the "tell us about yourself" step after the first sign-in.
async fn welcome(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    Query(q): Query<NextQuery>,
) -> Result<Response, ApiError> {
    let next = safe_next(q.next.as_deref()).to_owned();
    let Some(who) = who else {
        // Signed out (say, from this very page): nobody to welcome.
        return Ok(see_other("/"));
    };
    if !st.steward.needs_onboarding(&who).await? {
        return Ok(see_other(&next));
    }
    Ok(page(
        StatusCode::OK,
        &WelcomePage {
            nav,
            next,
            name: String::new(),
            role: String::new(),
            company: String::new(),
            errors: FormErrors::none(),
        },
    ))
}

/// `POST /welcome`: **Continue** saves name, role and company; **Skip for now** does not.
async fn finish_welcome(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    FormBody(f): FormBody<WelcomeForm>,
) -> Result<Response, ApiError> {
    let next = safe_next(f.next.as_deref()).to_owned();
    let Some(who) = who else {
        return Ok(see_other("/signin"));
    };
    same_account(&who, &f.as_account)?;
    let skip = f.action == "skip";
    match st
        .steward
        .complete_onboarding(&who, Some(&f.name), Some(&f.role), Some(&f.company), skip)
        .await
    {
        Ok(()) => Ok(see_other(&next)),
        Err(e) => {
            let e = ApiError::from(e);
            Ok(page(
                form_status(&e),
                &WelcomePage {
                    nav,
                    next,
                    name: f.name,
                    role: f.role,
                    company: f.company,
                    errors: FormErrors::from_error(&e),
                },
            ))
        }
    }
}

/// `POST /settings/profile/photo` (multipart: `as_account`, `photo`).
async fn upload_photo(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/signin?next=/settings/profile"));
    };
    let result: Result<(), ApiError> = async {
        let mut multipart = multipart.map_err(|e| ApiError::Malformed(e.body_text()))?;
        let (mut account, mut photo) = (String::new(), None);
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| too_large_or_malformed(e.status(), e.body_text()))?
        {
            match field.name() {
                Some("as_account") => {
                    account = field
                        .text()
                        .await
                        .map_err(|e| too_large_or_malformed(e.status(), e.body_text()))?;
                }
                Some("photo") => {
                    photo = Some(
                        field
                            .bytes()
                            .await
                            .map_err(|e| too_large_or_malformed(e.status(), e.body_text()))?,
                    );
                }
                _ => {}
            }
        }
        same_account(&who, &account)?;
        let photo = photo
            .filter(|p| !p.is_empty())
            .ok_or_else(|| CoreError::field("photo", "Choose a picture to upload."))?;
        st.steward.set_photo(&who, photo.to_vec()).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other("/settings/profile?saved=1")),
        Err(e @ ApiError::AccountSwitched) => Err(e),
        Err(e) => {
            let view = st.steward.profile(&who).await?;
            let errors = match &e {
                ApiError::TooLarge => {
                    let mut f = FormErrors::none();
                    f.summary = Some("The photo was not saved.".into());
                    f.fields
                        .insert("photo".into(), "The photo is larger than 5 MB.".into());
                    f
                }
                other => FormErrors::from_error(other),
            };
            let res = page(form_status(&e), &edit_page(nav, view, errors, None));
            Ok(with_retry_after(res, &e))
        }
    }
}

fn too_large_or_malformed(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge
    } else {
        ApiError::Malformed(text)
    }
}

#[derive(Debug, Deserialize)]
struct GuardForm {
    #[serde(default)]
    as_account: String,
}

/// `POST /settings/profile/photo/remove`.
async fn remove_photo(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    FormBody(f): FormBody<GuardForm>,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/signin?next=/settings/profile"));
    };
    same_account(&who, &f.as_account)?;
    st.steward.remove_photo(&who).await?;
    Ok(see_other("/settings/profile?saved=1"))
}

/// `GET /photos/{id}/{256|64}.jpg`: to everyone when the profile is public, else
/// to its owner only.
async fn photo(
    State(st): State<AppState>,
    MaybeUser(who): MaybeUser,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let size = match file.as_str() {
        "256.jpg" => 256,
        "64.jpg" => 64,
        _ => return Err(ApiError::NotFound),
    };
    let id = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let bytes = st
        .steward
        .photo(id, size, who.as_ref())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            // A new upload has a new address, so a copy never goes stale; a private
            // photo is kept out of shared caches.
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        bytes,
    )
        .into_response())
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
    photo: String,
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
    photo: String,
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
        photo: form.photo_url.clone().unwrap_or_default(),
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
            let photo_url = st.steward.profile(&who).await?.photo_url;
            let typed = ProfileView {
                photo_url,
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
        // A username given up recently leads to the new one, if that profile is public
        // (a private one must not reveal the rename).
        if let Some(new) = st.steward.renamed_to(&username).await?
            && st.steward.public_profile(&new).await?.is_some()
        {
            return Ok(Redirect::temporary(&format!("/@{new}")).into_response());
        }
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
            photo: p.photo_url(256).unwrap_or_default(),
            username: found.username,
            p,
            links,
        },
    ))
}
