//! The device grant's page (RFC 8628): the person types the code shown on a
//! machine without a browser, checks it, and allows or denies that device.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::error::ApiError;
use crate::http::client::{Client, MaybeUser};
use crate::state::AppState;
use crate::web::form::FormBody;
use crate::web::oauth::{DecisionForm, notice, too_many};
use crate::web::view::{FormErrors, Nav, page, same_account, see_other};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/device", get(device_form).post(device_lookup))
        .route("/device/decide", post(device_decide))
}

struct DeviceView {
    app: String,
    user_code: String,
    access: Vec<String>,
    username: String,
}

#[derive(Template)]
#[template(path = "oauth/device.html")]
struct DevicePage {
    nav: Nav,
    errors: FormErrors,
    typed: String,
    request: Option<DeviceView>,
}

#[derive(Debug, Deserialize)]
struct DeviceQuery {
    user_code: Option<String>,
}

/// `GET /device`: the form to type the code shown on the device.
async fn device_form(nav: Nav, Query(q): Query<DeviceQuery>) -> Response {
    page(
        StatusCode::OK,
        &DevicePage {
            nav,
            errors: FormErrors::none(),
            typed: q.user_code.unwrap_or_default().chars().take(32).collect(),
            request: None,
        },
    )
}

/// `POST /device`: finds the request for the typed code and asks to confirm it.
async fn device_lookup(
    State(st): State<AppState>,
    client: Client,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    FormBody(f): FormBody<DecisionForm>,
) -> Result<Response, ApiError> {
    // Typing codes is guessing codes: limited like sign-in.
    if let Err(e) = st.limits.credential_ip(client.ip()) {
        return Ok(too_many(nav, &e));
    }
    let typed: String = f.user_code.chars().take(32).collect();
    let Some(who) = who else {
        let next = format!(
            "/device?user_code={}",
            url::form_urlencoded::byte_serialize(typed.as_bytes()).collect::<String>()
        );
        return Ok(see_other(&format!(
            "/signin?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        )));
    };
    let Some(request) = st.steward.device_request(&typed).await? else {
        let mut errors = FormErrors::none();
        errors.fields.insert(
            "user_code".into(),
            "This code is not valid or has expired. Check the code on your device.".into(),
        );
        return Ok(page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &DevicePage {
                nav,
                errors,
                typed,
                request: None,
            },
        ));
    };
    Ok(page(
        StatusCode::OK,
        &DevicePage {
            nav,
            errors: FormErrors::none(),
            typed: String::new(),
            request: Some(DeviceView {
                app: request.client.name,
                user_code: request.user_code,
                access: request
                    .scopes
                    .iter()
                    .map(|s| s.describe().to_owned())
                    .collect(),
                username: who.account().username.clone(),
            }),
        },
    ))
}

/// `POST /device/decide`: Allow or Deny the device.
async fn device_decide(
    State(st): State<AppState>,
    client: Client,
    MaybeUser(who): MaybeUser,
    nav: Nav,
    FormBody(f): FormBody<DecisionForm>,
) -> Result<Response, ApiError> {
    let Some(who) = who else {
        return Ok(see_other("/device"));
    };
    same_account(&who, &f.as_account)?;
    if let Err(e) = st.limits.credential_ip(client.ip()) {
        return Ok(too_many(nav, &e));
    }
    let approve = f.decision == "allow";
    let decided = st
        .steward
        .decide_device(&who, &f.user_code, approve, &client.0)
        .await?;
    Ok(match (decided, approve) {
        (true, true) => notice(
            nav,
            StatusCode::OK,
            "Device connected",
            "You can return to your device; it is signing in now.".into(),
        ),
        (true, false) => notice(
            nav,
            StatusCode::OK,
            "Device not connected",
            "The device was refused and will not be signed in.".into(),
        ),
        (false, _) => notice(
            nav,
            StatusCode::GONE,
            "This code is no longer valid",
            "It expired or was already used. Start again on your device.".into(),
        ),
    })
}
