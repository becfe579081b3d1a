//! The OAuth 2.0 / OpenID Connect client side of `steward login`: discovery,
//! PKCE (RFC 7636, S256 only), the loopback redirect listener (RFC 8252), the
//! device authorization grant (RFC 8628), and the token endpoint (code
//! exchange, refresh with rotation) and revocation (RFC 7009).
//!
//! `steward` is the public client `steward-cli`: no client secret, PKCE on
//! every authorization request, redirect URI `http://127.0.0.1:{port}/callback`
//! on a port the system picks.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::{StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use url::Url;

use crate::api::{endpoint, transport_error};
use crate::error::{CliError, Result, printable};
use crate::secret::Secret;

/// `client_id` of the command-line tool.
pub const CLIENT_ID: &str = "steward-cli";
/// Scopes asked for: identity, and a refresh token to stay signed in.
pub const SCOPE: &str = "openid profile email offline_access";
/// How long `steward login` waits for the browser to come back.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Where discovery lives under the server's base URL.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// `grant_type` of the device authorization grant.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The server's OpenID configuration: where each endpoint is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Discovery {
    /// `iss` of the ID tokens.
    pub issuer: String,
    /// Where the browser goes to sign in.
    pub authorization_endpoint: String,
    /// Code exchange, refresh and device polling.
    pub token_endpoint: String,
    /// Start of the device grant (RFC 8628).
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    /// OpenID Connect userinfo.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// Token revocation (RFC 7009).
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// RP-initiated logout.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// Fetches `{server}/.well-known/openid-configuration`.
pub async fn discover(http: &reqwest::Client, server: &str) -> Result<Discovery> {
    let bad = |reason: String| CliError::Discovery {
        server: server.to_owned(),
        reason,
    };
    let resp = http
        .get(endpoint(server, DISCOVERY_PATH))
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| transport_error(server, &e))?;
    if !resp.status().is_success() {
        return Err(bad(format!(
            "{DISCOVERY_PATH} answered HTTP {}",
            resp.status().as_u16()
        )));
    }
    let disc: Discovery = resp
        .json()
        .await
        .map_err(|e| bad(format!("{DISCOVERY_PATH} is not valid: {e}")))?;
    let endpoints = [
        Some(&disc.authorization_endpoint),
        Some(&disc.token_endpoint),
        disc.device_authorization_endpoint.as_ref(),
        disc.userinfo_endpoint.as_ref(),
        disc.revocation_endpoint.as_ref(),
        disc.end_session_endpoint.as_ref(),
    ];
    for e in endpoints.into_iter().flatten() {
        Url::parse(e).map_err(|_| bad(format!("endpoint \"{}\" is not a URL", printable(e))))?;
    }
    Ok(disc)
}

/// A PKCE pair: the verifier stays here, the challenge goes in the URL.
#[derive(Debug, Clone)]
pub struct Pkce {
    /// 43 characters of base64url (32 random bytes).
    pub verifier: Secret,
    /// `BASE64URL-NOPAD(SHA-256(verifier))`.
    pub challenge: String,
}

impl Pkce {
    /// A fresh random pair.
    pub fn generate() -> Self {
        Self::from_verifier(&random_token())
    }

    /// The pair for a given verifier (for tests against RFC 7636's example).
    pub fn from_verifier(verifier: &str) -> Self {
        Self {
            verifier: Secret::new(verifier),
            challenge: URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        }
    }
}

/// 32 random bytes as 43 base64url characters: verifiers, `state`, `nonce`.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes[..]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// One authorization request: what goes out and what must come back.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    /// Echoed back on the callback; anything else is refused.
    pub state: String,
    /// Must appear in the ID token.
    pub nonce: String,
    /// PKCE pair.
    pub pkce: Pkce,
    /// `http://127.0.0.1:{port}/callback`.
    pub redirect_uri: String,
}

impl AuthRequest {
    /// A request with fresh random `state`, `nonce` and PKCE verifier.
    pub fn new(redirect_uri: impl Into<String>) -> Self {
        Self {
            state: random_token(),
            nonce: random_token(),
            pkce: Pkce::generate(),
            redirect_uri: redirect_uri.into(),
        }
    }

    /// The URL to open in the browser.
    pub fn url(&self, disc: &Discovery) -> Result<Url> {
        let mut url =
            Url::parse(&disc.authorization_endpoint).map_err(|_| CliError::Discovery {
                server: disc.issuer.clone(),
                reason: "authorization_endpoint is not a URL".into(),
            })?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", CLIENT_ID)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", SCOPE)
            .append_pair("state", &self.state)
            .append_pair("nonce", &self.nonce)
            .append_pair("code_challenge", &self.pkce.challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(url)
    }
}

/// A successful token endpoint answer.
#[derive(Clone, Deserialize)]
pub struct TokenResponse {
    /// Bearer token for the API.
    pub access_token: Secret,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token lasts.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// The next refresh token (a new one on every refresh).
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// OpenID Connect ID token.
    #[serde(default)]
    pub id_token: Option<Secret>,
    /// Scopes granted.
    #[serde(default)]
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field("scope", &self.scope)
            .finish()
    }
}

/// An OAuth error answer (RFC 6749 §5.2).
#[derive(Debug, Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// POSTs a form to an OAuth endpoint and reads the JSON answer; error answers
/// become [`CliError::OAuth`].
async fn post_form<T: DeserializeOwned>(
    http: &reqwest::Client,
    server: &str,
    url: &str,
    form: &[(&str, &str)],
) -> Result<T> {
    let resp = http
        .post(url)
        .header(header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await
        .map_err(|e| transport_error(server, &e))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| transport_error(server, &e))?;
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| CliError::Protocol {
            server: server.to_owned(),
            reason: format!("unreadable answer from {url}: {e}"),
        });
    }
    Err(oauth_error(server, status, &body))
}

fn oauth_error(server: &str, status: StatusCode, body: &[u8]) -> CliError {
    match serde_json::from_slice::<OAuthErrorBody>(body) {
        Ok(e) => {
            let code = printable(&e.error);
            CliError::OAuth {
                description: e
                    .error_description
                    .map(|d| printable(&d))
                    .unwrap_or_else(|| code.clone()),
                code,
            }
        }
        Err(_) => CliError::Protocol {
            server: server.to_owned(),
            reason: format!("HTTP {}", status.as_u16()),
        },
    }
}

fn checked(server: &str, tokens: TokenResponse) -> Result<TokenResponse> {
    if tokens.token_type.eq_ignore_ascii_case("bearer") {
        Ok(tokens)
    } else {
        Err(CliError::Protocol {
            server: server.to_owned(),
            reason: format!(
                "token type \"{}\" is not Bearer",
                printable(&tokens.token_type)
            ),
        })
    }
}

/// Exchanges an authorization code (with its PKCE verifier) for tokens.
pub async fn exchange_code(
    http: &reqwest::Client,
    disc: &Discovery,
    server: &str,
    code: &Secret,
    request: &AuthRequest,
) -> Result<TokenResponse> {
    let tokens = post_form(
        http,
        server,
        &disc.token_endpoint,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", &request.redirect_uri),
            ("client_id", CLIENT_ID),
            ("code_verifier", request.pkce.verifier.expose()),
        ],
    )
    .await?;
    checked(server, tokens)
}

/// Trades a refresh token for new tokens. The server rotates refresh tokens:
/// the one sent is dead afterwards, so the caller must store the new one
/// before doing anything else.
pub async fn refresh(
    http: &reqwest::Client,
    disc: &Discovery,
    server: &str,
    refresh_token: &Secret,
) -> Result<TokenResponse> {
    let tokens = post_form(
        http,
        server,
        &disc.token_endpoint,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", CLIENT_ID),
        ],
    )
    .await?;
    checked(server, tokens)
}

/// Revokes a refresh token (RFC 7009), which ends that login on the server.
pub async fn revoke(
    http: &reqwest::Client,
    disc: &Discovery,
    server: &str,
    refresh_token: &Secret,
) -> Result<()> {
    let Some(url) = disc.revocation_endpoint.as_deref() else {
        return Err(CliError::Protocol {
            server: server.to_owned(),
            reason: "the server publishes no revocation endpoint".into(),
        });
    };
    let resp = http
        .post(url)
        .form(&[
            ("token", refresh_token.expose()),
            ("token_type_hint", "refresh_token"),
            ("client_id", CLIENT_ID),
        ])
        .send()
        .await
        .map_err(|e| transport_error(server, &e))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let body = resp.bytes().await.unwrap_or_default();
    Err(oauth_error(server, status, &body))
}

/// The answer of the device authorization endpoint (RFC 8628 §3.2).
#[derive(Clone, Deserialize)]
pub struct DeviceAuthorization {
    /// Polled with; secret.
    pub device_code: Secret,
    /// What the person types.
    pub user_code: String,
    /// Where they type it.
    pub verification_uri: String,
    /// The same with the code filled in.
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    /// Seconds until the codes expire.
    pub expires_in: u64,
    /// Seconds between polls (5 if absent).
    #[serde(default)]
    pub interval: Option<u64>,
}

impl std::fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("device_code", &self.device_code)
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("verification_uri_complete", &self.verification_uri_complete)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish()
    }
}

/// Starts the device grant.
pub async fn device_authorize(
    http: &reqwest::Client,
    disc: &Discovery,
    server: &str,
) -> Result<DeviceAuthorization> {
    let Some(url) = disc.device_authorization_endpoint.as_deref() else {
        return Err(CliError::NoDeviceGrant(server.to_owned()));
    };
    let mut dev: DeviceAuthorization = post_form(
        http,
        server,
        url,
        &[("client_id", CLIENT_ID), ("scope", SCOPE)],
    )
    .await?;
    dev.user_code = printable(&dev.user_code);
    dev.verification_uri = printable(&dev.verification_uri);
    dev.verification_uri_complete = dev.verification_uri_complete.map(|u| printable(&u));
    Ok(dev)
}

/// What to do after a device poll answered with an error code.
#[derive(Debug)]
pub enum PollStep {
    /// Nobody approved yet: poll again after the interval.
    Wait,
    /// Polling too fast: add 5 seconds to the interval, then poll again.
    SlowDown,
    /// Stop with this error.
    Stop(CliError),
}

/// RFC 8628 §3.5: what each token endpoint error means while polling.
pub fn poll_step(code: &str, description: &str) -> PollStep {
    match code {
        "authorization_pending" => PollStep::Wait,
        "slow_down" => PollStep::SlowDown,
        "access_denied" => PollStep::Stop(CliError::AccessDenied),
        "expired_token" => PollStep::Stop(CliError::DeviceExpired),
        other => PollStep::Stop(CliError::OAuth {
            code: other.to_owned(),
            description: description.to_owned(),
        }),
    }
}

/// Polls the token endpoint until the person approves, refuses, or the code
/// expires.
pub async fn device_poll(
    http: &reqwest::Client,
    disc: &Discovery,
    server: &str,
    dev: &DeviceAuthorization,
) -> Result<TokenResponse> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(dev.expires_in);
    let mut interval = dev.interval.unwrap_or(5).max(1);
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        if tokio::time::Instant::now() >= deadline {
            return Err(CliError::DeviceExpired);
        }
        let answer = post_form::<TokenResponse>(
            http,
            server,
            &disc.token_endpoint,
            &[
                ("grant_type", DEVICE_GRANT),
                ("device_code", dev.device_code.expose()),
                ("client_id", CLIENT_ID),
            ],
        )
        .await;
        match answer {
            Ok(tokens) => return checked(server, tokens),
            Err(CliError::OAuth { code, description }) => match poll_step(&code, &description) {
                PollStep::Wait => {}
                PollStep::SlowDown => interval += 5,
                PollStep::Stop(e) => return Err(e),
            },
            Err(e) => return Err(e),
        }
    }
}

/// The ID token claims `steward` checks. The token comes straight from the
/// token endpoint over the connection the client opened, so (OpenID Connect
/// Core §3.1.3.7) its signature is not checked here; its issuer, audience and
/// nonce are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the account id.
    pub sub: String,
    /// Audiences.
    pub aud: Vec<String>,
    /// The nonce of the authorization request, if one was sent.
    pub nonce: Option<String>,
}

/// Reads the claims of an ID token (a JWT) without checking its signature.
pub fn id_token_claims(id_token: &Secret) -> Result<IdClaims> {
    let bad = |why: &str| CliError::BadIdToken(why.to_owned());
    let payload = id_token
        .expose()
        .split('.')
        .nth(1)
        .ok_or_else(|| bad("not a JWT"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| bad("not a JWT"))?;
    let claims: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|_| bad("not a JWT"))?;
    let text = |name: &str| claims.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    let aud = match claims.get("aud") {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    Ok(IdClaims {
        iss: text("iss").ok_or_else(|| bad("no issuer"))?,
        sub: text("sub").ok_or_else(|| bad("no subject"))?,
        aud,
        nonce: text("nonce"),
    })
}

/// Checks issuer, audience and (for the browser flow) nonce.
pub fn check_id_token(claims: &IdClaims, issuer: &str, nonce: Option<&str>) -> Result<()> {
    if claims.iss != issuer {
        return Err(CliError::BadIdToken("issuer mismatch".into()));
    }
    if !claims.aud.iter().any(|a| a == CLIENT_ID) {
        return Err(CliError::BadIdToken("audience mismatch".into()));
    }
    if let Some(nonce) = nonce
        && claims.nonce.as_deref() != Some(nonce)
    {
        return Err(CliError::BadIdToken("nonce mismatch".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc() -> Discovery {
        Discovery {
            issuer: "https://id.example".into(),
            authorization_endpoint: "https://id.example/oauth/authorize".into(),
            token_endpoint: "https://id.example/oauth/token".into(),
            device_authorization_endpoint: None,
            userinfo_endpoint: None,
            revocation_endpoint: None,
            end_session_endpoint: None,
        }
    }

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(p.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn generated_verifiers_are_valid_and_fresh() {
        let a = Pkce::generate();
        let b = Pkce::generate();
        let v = a.verifier.expose();
        assert!((43..=128).contains(&v.len()));
        assert!(
            v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
        );
        assert_ne!(v, b.verifier.expose());
        assert_eq!(a.challenge, Pkce::from_verifier(v).challenge);
        assert_ne!(random_token(), random_token());
    }

    #[test]
    fn authorization_url_has_every_parameter() {
        let req = AuthRequest::new("http://127.0.0.1:4321/callback");
        let url = req.url(&disc()).unwrap();
        assert!(
            url.as_str()
                .starts_with("https://id.example/oauth/authorize?")
        );
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "steward-cli");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:4321/callback");
        assert_eq!(q["scope"], "openid profile email offline_access");
        assert_eq!(q["state"], req.state);
        assert_eq!(q["nonce"], req.nonce);
        assert_eq!(q["code_challenge"], req.pkce.challenge);
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(!url.as_str().contains(req.pkce.verifier.expose()));
    }

    #[test]
    fn poll_steps_follow_rfc_8628() {
        assert!(matches!(
            poll_step("authorization_pending", ""),
            PollStep::Wait
        ));
        assert!(matches!(poll_step("slow_down", ""), PollStep::SlowDown));
        let PollStep::Stop(e) = poll_step("access_denied", "") else {
            panic!("access_denied must stop")
        };
        assert_eq!(e.to_string(), "Sign-in was refused in the browser.");
        let PollStep::Stop(e) = poll_step("expired_token", "") else {
            panic!("expired_token must stop")
        };
        assert_eq!(
            e.to_string(),
            "The code expired; run `steward login --device` again."
        );
        assert!(matches!(
            poll_step("invalid_client", "x"),
            PollStep::Stop(CliError::OAuth { .. })
        ));
    }

    fn jwt(claims: serde_json::Value) -> Secret {
        Secret::new(format!(
            "eyJhbGciOiJFUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(claims.to_string())
        ))
    }

    #[test]
    fn id_token_issuer_audience_and_nonce_are_checked() {
        let good = serde_json::json!({
            "iss": "https://id.example", "sub": "0193", "aud": "steward-cli", "nonce": "n1"
        });
        let c = id_token_claims(&jwt(good)).unwrap();
        assert_eq!(c.sub, "0193");
        assert!(check_id_token(&c, "https://id.example", Some("n1")).is_ok());
        assert!(check_id_token(&c, "https://id.example", None).is_ok());
        assert!(check_id_token(&c, "https://id.example", Some("n2")).is_err());
        assert!(check_id_token(&c, "https://other.example", Some("n1")).is_err());
        let c = id_token_claims(&jwt(serde_json::json!({
            "iss": "https://id.example", "sub": "0193", "aud": ["x", "steward-cli"]
        })))
        .unwrap();
        assert!(check_id_token(&c, "https://id.example", None).is_ok());
        assert!(check_id_token(&c, "https://id.example", Some("n1")).is_err());
        let c = id_token_claims(&jwt(serde_json::json!({
            "iss": "https://id.example", "sub": "0193", "aud": "other"
        })))
        .unwrap();
        assert!(check_id_token(&c, "https://id.example", None).is_err());
        assert!(id_token_claims(&Secret::new("garbage")).is_err());
    }

    #[test]
    fn token_response_debug_hides_tokens() {
        let t: TokenResponse = serde_json::from_value(serde_json::json!({
            "access_token": "AT-SECRET", "token_type": "Bearer", "expires_in": 60,
            "refresh_token": "RT-SECRET", "id_token": "ID-SECRET", "scope": "openid"
        }))
        .unwrap();
        let shown = format!("{t:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
    }
}
