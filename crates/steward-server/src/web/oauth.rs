//! The person's side of OAuth: the authorization request an app opens in the
//! browser (sign in, consent for third-party apps, "you are signed in — return
//! to the app") and RP-initiated sign-out. The device-code pages are in
//! `web::device`, Connected Apps in `web::connected_apps`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use steward_core::oauth::authorize::{AuthorizeError, AuthorizeParams};
use steward_core::oauth::grant::{Granted, RequestState};
use steward_core::oauth::prompt::Step;
use steward_core::oauth::redirect::check_redirect;
use steward_core::secret::parse_secret;

use crate::api::session::end_sessions;
use crate::error::ApiError;
use crate::http::browser::Browser;
use crate::http::client::{Client, MaybeUser};
use crate::state::AppState;
use crate::web::form::FormBody;
use crate::web::signup::Notice;
use crate::web::view::{Nav, page, same_account, see_other, with_retry_after};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/authorize", get(authorize))
        .route("/oauth/authorize/{handle}", get(show).post(decide))
        .route("/oauth/logout", get(logout_form).post(logout))
}

#[derive(Template)]
#[template(path = "oauth/approve.html")]
struct ApprovePage {
    nav: Nav,
    app: String,
    logo: String,
    consent: bool,
    access: Vec<String>,
    username: String,
    this_path: String,
}

#[derive(Template)]
#[template(path = "oauth/other_account.html")]
struct OtherAccountPage {
    nav: Nav,
    app: String,
    /// The hinted account, when this browser holds it: (id, username).
    switch_to: Option<(String, String)>,
    next: String,
    this_path: String,
}

#[derive(Template)]
#[template(path = "oauth/done.html")]
struct DonePage {
    nav: Nav,
    heading: String,
    message: String,
    app: String,
    redirect: String,
}

#[derive(Template)]
#[template(path = "oauth/logout.html")]
struct LogoutPage {
    nav: Nav,
    app: String,
    client_id: String,
    redirect: String,
    state: String,
}

pub(super) fn notice(nav: Nav, status: StatusCode, heading: &str, message: String) -> Response {
    page(
        status,
        &Notice {
            nav,
            heading: heading.into(),
            message,
            link_href: "/".into(),
            link_text: "Go to Steward".into(),
        },
    )
}

/// Over the per-IP limit (requests and typed codes are rate limited like sign-in).
pub(super) fn too_many(nav: Nav, e: &ApiError) -> Response {
    with_retry_after(
        notice(
            nav,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            "Wait a minute, then try again.".into(),
        ),
        e,
    )
}

/// `GET /oauth/authorize`: checks the request, keeps it five minutes and moves the
/// browser to the page that finishes it (so a reload never starts it again).
async fn authorize(
    State(st): State<AppState>,
    client: Client,
    browser: Browser,
    nav: Nav,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    // Each request is stored for five minutes: limited per IP so none can flood the table.
    if let Err(e) = st.limits.credential_ip(client.ip()) {
        return Ok(too_many(nav, &e));
    }
    let mut seen = std::collections::HashSet::new();
    if pairs.iter().any(|(k, _)| !seen.insert(k.as_str())) {
        return Ok(notice(
            nav,
            StatusCode::BAD_REQUEST,
            "This sign-in link is not valid",
            "A parameter appears twice in the request the app sent. Start again from the app."
                .into(),
        ));
    }
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let params = AuthorizeParams {
        response_type: get("response_type"),
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        nonce: get("nonce"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        prompt: get("prompt"),
        max_age: get("max_age"),
        id_token_hint: get("id_token_hint"),
    };
    Ok(match st.steward.start_authorization(&params).await? {
        // prompt=none shows no page, whatever the answer (OpenID Connect Core §3.1.2.6).
        Ok(started) if started.silent => {
            let active = browser.active.as_ref().map(|h| &h.who);
            match st
                .steward
                .authorize_silently(&started.handle, active, &client.0)
                .await?
            {
                Some(url) => see_other(url.as_str()),
                None => closed(nav, RequestState::Used),
            }
        }
        Ok(started) => see_other(&format!("/oauth/authorize/{}", started.handle)),
        Err(AuthorizeError::UnknownClient) => notice(
            nav,
            StatusCode::BAD_REQUEST,
            "Unknown app",
            "The app that sent you here is not registered with this Steward server.".into(),
        ),
        Err(AuthorizeError::BadRedirect(_)) => notice(
            nav,
            StatusCode::BAD_REQUEST,
            "This sign-in link is not valid",
            "The app asked to send you back to an address it has not registered, so Steward will not send you there.".into(),
        ),
        Err(AuthorizeError::Redirect {
            mut redirect_uri,
            error,
            description,
            state,
        }) => {
            {
                let mut q = redirect_uri.query_pairs_mut();
                q.append_pair("error", error);
                q.append_pair("error_description", &description);
                if let Some(s) = &state {
                    q.append_pair("state", s);
                }
                q.append_pair("iss", st.steward.issuer());
            }
            // Sent back at once only to the built-in apps (loopback). A third-party
            // app is registered by anyone, so an automatic redirect to it would make
            // Steward an open redirector (RFC 9700 §4.11.2): the person clicks. A
            // request that asked for no page at all (prompt=none) gets no page either:
            // its answers are redirected anyway (OpenID Connect Core §3.1.2.6).
            let first_party = match params.client_id.as_deref() {
                Some(id) => st
                    .steward
                    .find_client(id)
                    .await?
                    .is_some_and(|c| c.first_party),
                None => false,
            };
            let silent = params
                .prompt
                .as_deref()
                .is_some_and(|p| p.split_ascii_whitespace().any(|w| w == "none"));
            if first_party || silent {
                see_other(redirect_uri.as_str())
            } else {
                page(
                    StatusCode::BAD_REQUEST,
                    &Notice {
                        nav,
                        heading: "The app's sign-in request was refused".into(),
                        message: description,
                        link_href: redirect_uri.to_string(),
                        link_text: format!(
                            "Return to {}",
                            redirect_uri.host_str().unwrap_or("the app")
                        ),
                    },
                )
            }
        }
    })
}

/// What to show for a request that cannot be finished.
fn closed(nav: Nav, state: RequestState) -> Response {
    match state {
        RequestState::Expired { client_name } => notice(
            nav,
            StatusCode::GONE,
            "This sign-in request expired",
            format!("Sign-in requests last five minutes. Start again from {client_name}."),
        ),
        RequestState::Used => notice(
            nav,
            StatusCode::GONE,
            "This sign-in request was already completed",
            "Return to the app. To sign in again, start again from the app.".into(),
        ),
        _ => notice(
            nav,
            StatusCode::NOT_FOUND,
            "Unknown sign-in request",
            "Start again from the app.".into(),
        ),
    }
}

fn done(nav: Nav, granted: &Granted) -> Response {
    let message = if granted.native {
        format!("You can return to {} now.", granted.client_name)
    } else {
        format!("Taking you back to {}…", granted.client_name)
    };
    page(
        StatusCode::OK,
        &DonePage {
            nav,
            heading: "You are signed in".into(),
            message,
            app: granted.client_name.clone(),
            redirect: granted.redirect.to_string(),
        },
    )
}

/// `?chosen=1` once the person picked an account for the request (select_account).
#[derive(Debug, Default, Deserialize)]
struct ShowQuery {
    chosen: Option<String>,
}

/// The page's path with its state, URL-encoded for a `next=` parameter.
fn next_param(path: &str) -> String {
    url::form_urlencoded::byte_serialize(path.as_bytes()).collect()
}

/// `GET /oauth/authorize/{handle}`: sign in (again) or pick an account if needed,
/// then consent or confirm.
async fn show(
    State(st): State<AppState>,
    client: Client,
    browser: Browser,
    nav: Nav,
    Path(handle): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, ApiError> {
    let state = st.steward.authorization_request(&handle).await?;
    let RequestState::Live(live) = state else {
        return Ok(closed(nav, state));
    };
    let this_path = format!("/oauth/authorize/{handle}");
    let chosen = q.chosen.is_some();
    let back = if chosen {
        format!("{this_path}?chosen=1")
    } else {
        this_path.clone()
    };
    let active = browser.active.as_ref().map(|h| &h.who);
    let others: Vec<_> = browser.others.iter().map(|h| h.who.account().id).collect();
    let step = st
        .steward
        .authorization_step(&live, active, &others, chosen)
        .await?;
    let who = match (step, active) {
        // Signed out of the active account while others wait: pick one (or add one).
        (Step::SignIn, _) | (_, None) if !others.is_empty() => {
            let after = format!("{this_path}?chosen=1");
            return Ok(see_other(&format!("/accounts?next={}", next_param(&after))));
        }
        (Step::SignIn, _) | (_, None) => {
            return Ok(see_other(&format!("/signin?next={}", next_param(&back))));
        }
        (Step::ChooseAccount, _) => {
            let after = format!("{this_path}?chosen=1");
            return Ok(see_other(&format!("/accounts?next={}", next_param(&after))));
        }
        (Step::Reauthenticate, _) => {
            return Ok(see_other(&format!(
                "/signin?reauth=1&next={}",
                next_param(&back)
            )));
        }
        (Step::OtherAccount { held }, _) => {
            let hinted = live.request.hint_sub.and_then(|id| {
                browser
                    .others
                    .iter()
                    .find(|h| held && h.who.account().id == id)
                    .map(|h| (id.to_string(), h.who.account().username.clone()))
            });
            return Ok(page(
                StatusCode::OK,
                &OtherAccountPage {
                    app: live.client.name.clone(),
                    switch_to: hinted,
                    next: back,
                    this_path,
                    nav,
                },
            ));
        }
        (Step::Approve, Some(who)) => {
            return Ok(
                match st
                    .steward
                    .approve_authorization(who, &handle, &client.0)
                    .await?
                {
                    Some(granted) => done(nav, &granted),
                    None => closed(nav, RequestState::Used),
                },
            );
        }
        (Step::Ask { .. }, Some(who)) => who,
    };
    let needs_consent = matches!(step, Step::Ask { consent: true });
    let logo = needs_consent && live.client.logo_url.is_some();
    let res = page(
        StatusCode::OK,
        &ApprovePage {
            app: live.client.name.clone(),
            logo: live.client.logo_url.clone().unwrap_or_default(),
            consent: needs_consent,
            access: live
                .request
                .scopes
                .iter()
                .map(|s| s.describe().to_owned())
                .collect(),
            username: who.account().username.clone(),
            this_path,
            nav,
        },
    );
    Ok(if logo { allow_logo(res) } else { res })
}

/// An Allow/Deny form (also the device pages').
#[derive(Debug, Deserialize)]
pub(super) struct DecisionForm {
    #[serde(default)]
    pub(super) decision: String,
    #[serde(default)]
    pub(super) as_account: String,
    #[serde(default)]
    pub(super) user_code: String,
}

/// `POST /oauth/authorize/{handle}`: Allow / Continue, or Deny / Cancel.
async fn decide(
    State(st): State<AppState>,
    client: Client,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    Path(handle): Path<String>,
    FormBody(f): FormBody<DecisionForm>,
) -> Result<Response, ApiError> {
    if parse_secret(&handle).is_none() {
        return Ok(closed(nav, RequestState::Unknown));
    }
    let Some(who) = who else {
        return Ok(see_other(&format!(
            "/signin?next=/oauth/authorize/{handle}"
        )));
    };
    same_account(&who, &f.as_account)?;
    if f.decision == "allow" {
        return Ok(
            match st
                .steward
                .approve_authorization(&who, &handle, &client.0)
                .await?
            {
                Some(granted) => done(nav, &granted),
                // Still live: this account may not answer it yet (a fresh sign-in or
                // another account is needed), which the request's page sorts out.
                None => match st.steward.authorization_request(&handle).await? {
                    RequestState::Live(_) => see_other(&format!("/oauth/authorize/{handle}")),
                    other => closed(nav, other),
                },
            },
        );
    }
    let state = st.steward.authorization_request(&handle).await?;
    let name = match &state {
        RequestState::Live(l) => l.client.name.clone(),
        _ => return Ok(closed(nav, state)),
    };
    match st.steward.deny_authorization(&handle).await? {
        Some(url) => Ok(page(
            StatusCode::OK,
            &DonePage {
                nav,
                heading: "Sign-in cancelled".into(),
                message: format!("{name} was not signed in. Taking you back…"),
                app: name,
                redirect: url.to_string(),
            },
        )),
        None => Ok(closed(nav, RequestState::Used)),
    }
}

#[derive(Debug, Deserialize)]
struct LogoutParams {
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    #[serde(default)]
    as_account: String,
}

/// The registered address to return to after sign-out, if the app named one.
async fn logout_target(
    st: &AppState,
    p: &LogoutParams,
) -> Result<(String, Option<String>), ApiError> {
    let Some(id) = p.client_id.as_deref() else {
        return Ok((String::new(), None));
    };
    let Some(client) = st.steward.find_client(id).await? else {
        return Ok((String::new(), None));
    };
    let target = p
        .post_logout_redirect_uri
        .as_deref()
        .and_then(|u| check_redirect(&client.redirect_uris, u).ok())
        .map(|mut u| {
            if let Some(s) = p.state.as_deref().filter(|s| s.len() <= 512) {
                u.query_pairs_mut().append_pair("state", s);
            }
            u.to_string()
        });
    Ok((client.name, target))
}

/// `GET /oauth/logout` (OpenID Connect RP-Initiated Logout): asks before signing out.
async fn logout_form(
    State(st): State<AppState>,
    nav: Nav,
    Query(p): Query<LogoutParams>,
) -> Result<Response, ApiError> {
    let (app, _) = logout_target(&st, &p).await?;
    Ok(page(
        StatusCode::OK,
        &LogoutPage {
            nav,
            app,
            client_id: p.client_id.clone().unwrap_or_default(),
            redirect: p.post_logout_redirect_uri.clone().unwrap_or_default(),
            state: p.state.clone().unwrap_or_default(),
        },
    ))
}

/// `POST /oauth/logout`: signs this browser's account out and returns to the app
/// when it named a registered address.
async fn logout(
    State(st): State<AppState>,
    client: Client,
    mut browser: Browser,
    nav: Nav,
    FormBody(p): FormBody<LogoutParams>,
) -> Result<Response, ApiError> {
    if let Some(active) = &browser.active {
        same_account(&active.who, &p.as_account)?;
    }
    end_sessions(&st, &mut browser, false, &client.0).await?;
    let (app, target) = logout_target(&st, &p).await?;
    drop(nav);
    // A link, not an automatic redirect: without an ID token proving which app asked,
    // following any registered address at once would be an open redirect.
    let mut res = match target {
        Some(url) => page(
            StatusCode::OK,
            &Notice {
                nav: Nav::of(None),
                heading: "You are signed out".into(),
                message: "You are signed out of Steward in this browser.".into(),
                link_href: url,
                link_text: format!("Return to {app}"),
            },
        ),
        None => see_other("/"),
    };
    browser.write(&st, st.steward.now(), res.headers_mut());
    Ok(res)
}

/// The consent page may show the app's logo from its HTTPS address.
fn allow_logo(mut res: Response) -> Response {
    res.headers_mut().insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(crate::http::security::CSP_WITH_HTTPS_IMAGES),
    );
    res
}
