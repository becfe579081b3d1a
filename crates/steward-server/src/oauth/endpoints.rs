//! The app-facing OAuth 2.0 / OpenID Connect endpoints: discovery, JWKS, token,
//! revocation (RFC 7009), introspection (RFC 7662), userinfo and device
//! authorization (RFC 8628). Bodies are form-encoded; answers and errors are the
//! JSON the RFCs define (`{"error": …, "error_description": …}`), never cached.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;
use steward_core::CoreError;
use steward_core::oauth::client::{IdTokenAlg, Scope};
use steward_core::oauth::prompt::PROMPT_VALUES;
use steward_core::oauth::token::{ClientCredentials, TokenRequest};
use steward_proto::oauth::OAuthErrorBody;

use crate::error::ApiError;
use crate::http::client::Client;
use crate::state::AppState;

/// Routes of the provider's endpoints for apps.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/oauth/jwks", get(jwks))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .route("/oauth/introspect", post(introspect))
        .route("/oauth/userinfo", get(userinfo).post(userinfo))
        .route("/oauth/device_authorization", post(device_authorization))
}

/// An OAuth error answer.
struct OAuthError {
    status: StatusCode,
    body: OAuthErrorBody,
    bearer: bool,
    /// For 429: how long to wait (`Retry-After`).
    retry_after: Option<std::time::Duration>,
}

impl OAuthError {
    fn new(error: &str, description: impl Into<String>) -> Self {
        Self {
            status: match error {
                "invalid_client" => StatusCode::UNAUTHORIZED,
                "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            },
            body: OAuthErrorBody {
                error: error.to_owned(),
                error_description: description.into(),
            },
            bearer: false,
            retry_after: None,
        }
    }

    /// Over a per-IP limit: 429 with `Retry-After`.
    fn rate_limited(error: &str, wait: std::time::Duration) -> Self {
        let mut err = Self::new(
            error,
            format!(
                "Too many requests from this address. Try again in {} seconds.",
                wait.as_secs().max(1)
            ),
        );
        err.status = StatusCode::TOO_MANY_REQUESTS;
        err.retry_after = Some(wait);
        err
    }
}

/// The per-IP bucket of the token, introspection and revocation endpoints.
fn token_limit(st: &AppState, client: &Client) -> Result<(), OAuthError> {
    st.limits.token_ip(client.ip()).map_err(|e| {
        OAuthError::rate_limited(
            "temporarily_unavailable",
            e.retry_after().unwrap_or(std::time::Duration::from_secs(1)),
        )
    })
}

impl From<CoreError> for OAuthError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::OAuth { error, description } => Self::new(error, description),
            other => {
                // Storage or internal trouble: the generic answer, logged once there.
                let res = ApiError::Core(other).into_response();
                Self {
                    status: res.status(),
                    body: OAuthErrorBody {
                        error: if res.status() == StatusCode::SERVICE_UNAVAILABLE {
                            "temporarily_unavailable".into()
                        } else {
                            "server_error".into()
                        },
                        error_description: "Try again shortly.".into(),
                    },
                    bearer: false,
                    retry_after: None,
                }
            }
        }
    }
}

impl From<ApiError> for OAuthError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Core(c) => c.into(),
            ApiError::RateLimited(d) => Self::rate_limited("slow_down", d),
            other => Self::new("invalid_request", other.to_string()),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(self.body.clone())).into_response();
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(wait) = self.retry_after {
            h.insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
        }
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = if self.bearer {
                format!(
                    "Bearer error=\"{}\", error_description=\"{}\"",
                    self.body.error,
                    self.body.error_description.replace('"', "'")
                )
            } else {
                "Basic realm=\"steward\"".to_owned()
            };
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                h.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        res
    }
}

fn no_store<T: serde::Serialize>(body: T) -> Response {
    let mut res = Json(body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Client credentials from HTTP Basic (RFC 6749 §2.3.1: each part form-encoded)
/// or the form; both at once is refused.
fn credentials(
    headers: &HeaderMap,
    id: Option<String>,
    secret: Option<String>,
) -> Result<ClientCredentials, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    let Some(basic) = basic else {
        return Ok(ClientCredentials { id, secret });
    };
    let bad = || OAuthError::new("invalid_client", "Malformed HTTP Basic credentials.");
    let decoded = STANDARD.decode(basic.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (user, pass) = text.split_once(':').ok_or_else(bad)?;
    let unform = |s: &str| {
        url::form_urlencoded::parse(s.as_bytes())
            .next()
            .map(|(k, _)| k.into_owned())
            .unwrap_or_default()
    };
    let (user, pass) = (unform(user), unform(pass));
    if secret.is_some() || id.as_deref().is_some_and(|i| i != user) {
        return Err(OAuthError::new(
            "invalid_request",
            "Authenticate the client one way only.",
        ));
    }
    Ok(ClientCredentials {
        id: Some(user),
        secret: Some(pass),
    })
}

fn form<T>(f: Result<Form<T>, FormRejection>) -> Result<T, OAuthError> {
    f.map(|Form(t)| t).map_err(|e| {
        OAuthError::new(
            "invalid_request",
            format!("The body must be application/x-www-form-urlencoded without repeated parameters: {e}"),
        )
    })
}

/// `GET /.well-known/openid-configuration`.
async fn discovery(State(st): State<AppState>) -> Response {
    let iss = st.steward.issuer().to_owned();
    let mut res = Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth/authorize"),
        "token_endpoint": format!("{iss}/oauth/token"),
        "userinfo_endpoint": format!("{iss}/oauth/userinfo"),
        "jwks_uri": format!("{iss}/oauth/jwks"),
        "revocation_endpoint": format!("{iss}/oauth/revoke"),
        "introspection_endpoint": format!("{iss}/oauth/introspect"),
        "device_authorization_endpoint": format!("{iss}/oauth/device_authorization"),
        "end_session_endpoint": format!("{iss}/oauth/logout"),
        "scopes_supported": Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": IdTokenAlg::ALL.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": PROMPT_VALUES,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid", "preferred_username", "email", "email_verified"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "claims_parameter_supported": false,
    }))
    .into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

/// `GET /oauth/jwks`: every published key (the next one before it signs, old ones
/// until their tokens expire).
async fn jwks(State(st): State<AppState>) -> Response {
    let mut res = Json(st.keys.jwks()).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    device_code: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// `POST /oauth/token`.
async fn token(
    State(st): State<AppState>,
    client: Client,
    headers: HeaderMap,
    f: Result<Form<TokenForm>, FormRejection>,
) -> Result<Response, OAuthError> {
    token_limit(&st, &client)?;
    let f = form(f)?;
    let creds = credentials(&headers, f.client_id, f.client_secret)?;
    let req = TokenRequest {
        grant_type: f.grant_type,
        code: f.code,
        redirect_uri: f.redirect_uri,
        code_verifier: f.code_verifier,
        refresh_token: f.refresh_token,
        device_code: f.device_code,
        scope: f.scope,
    };
    let tokens = st.steward.token(&creds, &req, &client.api()).await?;
    Ok(no_store(tokens))
}

#[derive(Debug, Deserialize)]
struct TokenParam {
    token: Option<String>,
    #[allow(dead_code)]
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// `POST /oauth/revoke` (RFC 7009): 200 whether or not the token was live.
async fn revoke(
    State(st): State<AppState>,
    client: Client,
    headers: HeaderMap,
    f: Result<Form<TokenParam>, FormRejection>,
) -> Result<Response, OAuthError> {
    token_limit(&st, &client)?;
    let f = form(f)?;
    let creds = credentials(&headers, f.client_id, f.client_secret)?;
    let token = f
        .token
        .ok_or_else(|| OAuthError::new("invalid_request", "token is required."))?;
    st.steward
        .revoke_token(&creds, &token, &client.api())
        .await?;
    Ok(no_store(json!({})))
}

/// `POST /oauth/introspect` (RFC 7662).
async fn introspect(
    State(st): State<AppState>,
    client: Client,
    headers: HeaderMap,
    f: Result<Form<TokenParam>, FormRejection>,
) -> Result<Response, OAuthError> {
    token_limit(&st, &client)?;
    let f = form(f)?;
    let creds = credentials(&headers, f.client_id, f.client_secret)?;
    let token = f
        .token
        .ok_or_else(|| OAuthError::new("invalid_request", "token is required."))?;
    Ok(no_store(st.steward.introspect(&creds, &token).await?))
}

/// `GET|POST /oauth/userinfo` with `Authorization: Bearer`.
async fn userinfo(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, OAuthError> {
    let invalid = |why: &str| OAuthError {
        status: StatusCode::UNAUTHORIZED,
        body: OAuthErrorBody {
            error: "invalid_token".into(),
            error_description: why.into(),
        },
        bearer: true,
        retry_after: None,
    };
    let token =
        bearer(&headers).ok_or_else(|| invalid("Send the access token as a Bearer token."))?;
    let who = st
        .steward
        .authenticate_bearer(token)
        .await
        .map_err(|e| match e {
            CoreError::Unauthenticated => {
                invalid("The access token is invalid, expired or revoked.")
            }
            other => other.into(),
        })?;
    let info = st.steward.userinfo(&who).map_err(|e| {
        let mut err = OAuthError::from(e);
        err.status = StatusCode::FORBIDDEN;
        err
    })?;
    Ok(no_store(info))
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    // The scheme is case-insensitive (RFC 9110 §11.1).
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[derive(Debug, Deserialize)]
struct DeviceForm {
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// `POST /oauth/device_authorization` (RFC 8628 §3.1).
async fn device_authorization(
    State(st): State<AppState>,
    client: Client,
    headers: HeaderMap,
    f: Result<Form<DeviceForm>, FormRejection>,
) -> Result<Response, OAuthError> {
    st.limits.credential_ip(client.ip())?;
    let f = form(f)?;
    let creds = credentials(&headers, f.client_id, f.client_secret)?;
    Ok(no_store(
        st.steward.start_device(&creds, f.scope.as_deref()).await?,
    ))
}
