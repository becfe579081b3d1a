//! Checking an authorization request (RFC 6749 §4.1.1 with PKCE and OpenID
//! Connect): what is wrong with it decides whether the browser may be sent back
//! to the client with an error, or must be shown the error itself.

use time::OffsetDateTime;
use url::Url;

use uuid::Uuid;

use crate::oauth::client::{Client, Scope};
use crate::oauth::pkce::{CodeChallenge, PkceError};
use crate::oauth::prompt::{Prompt, parse_max_age};
use crate::oauth::redirect::{RedirectError, check_redirect};

/// How long a person has to finish signing in after the app opened the browser.
pub const REQUEST_LIFETIME: time::Duration = time::Duration::minutes(5);
/// Longest `state` or `nonce` accepted.
const MAX_OPAQUE: usize = 512;

/// The query of `GET /oauth/authorize`, as sent.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// Where to send the browser back.
    pub redirect_uri: Option<String>,
    /// Space-separated scopes.
    pub scope: Option<String>,
    /// Returned unchanged to the client.
    pub state: Option<String>,
    /// Put in the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge.
    pub code_challenge: Option<String>,
    /// PKCE method; only `S256`.
    pub code_challenge_method: Option<String>,
    /// OpenID Connect `prompt`: `none`, or any of `login`, `consent`, `select_account`.
    pub prompt: Option<String>,
    /// OpenID Connect `max_age`: the longest ago, in seconds, the person may have signed in.
    pub max_age: Option<String>,
    /// OpenID Connect `id_token_hint`: an ID token this server issued, naming the account.
    pub id_token_hint: Option<String>,
}

/// A checked request, waiting for the person to sign in (and consent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAuthorization {
    /// The client.
    pub client_id: String,
    /// The checked redirect URI (with the port the app chose).
    pub redirect_uri: Url,
    /// Scopes granted if the person agrees, sorted.
    pub scopes: Vec<Scope>,
    /// Returned unchanged.
    pub state: Option<String>,
    /// For the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge the token request must answer.
    pub challenge: CodeChallenge,
    /// What the app asks of the person.
    pub prompt: Prompt,
    /// `max_age`, seconds.
    pub max_age: Option<i64>,
    /// The account the `id_token_hint` names.
    pub hint_sub: Option<Uuid>,
    /// When the app opened the browser.
    pub created_at: OffsetDateTime,
    /// After this, finishing shows "this sign-in request expired".
    pub expires_at: OffsetDateTime,
}

impl PendingAuthorization {
    /// Whether the five minutes are over.
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// No or unknown `client_id`: shown to the person, never redirected.
    UnknownClient,
    /// A `redirect_uri` that is missing or not registered: shown, never redirected
    /// (an open redirector otherwise).
    BadRedirect(Option<RedirectError>),
    /// Anything else: sent back to the (checked) redirect URI as `error=…`.
    Redirect {
        /// The checked redirect URI.
        redirect_uri: Box<Url>,
        /// `invalid_request`, `unsupported_response_type` or `invalid_scope`.
        error: &'static str,
        /// `error_description`.
        description: String,
        /// The client's `state`, echoed.
        state: Option<String>,
    },
}

/// Checks a request from `client` (looked up by the caller from `client_id`).
/// `hint` is what the caller made of `id_token_hint`: absent, the account it names,
/// or `Some(None)` for a token this server did not issue.
pub fn check_request(
    params: &AuthorizeParams,
    client: Option<&Client>,
    hint: Option<Option<Uuid>>,
    now: OffsetDateTime,
) -> Result<PendingAuthorization, AuthorizeError> {
    let client = client
        .filter(|c| params.client_id.as_deref() == Some(c.id.as_str()))
        .ok_or(AuthorizeError::UnknownClient)?;
    let presented = params
        .redirect_uri
        .as_deref()
        .ok_or(AuthorizeError::BadRedirect(None))?;
    let redirect_uri = check_redirect(&client.redirect_uris, presented)
        .map_err(|e| AuthorizeError::BadRedirect(Some(e)))?;
    // From here on the redirect URI is trusted, so errors go back to the client.
    let state = params.state.clone();
    let fail = |error: &'static str, description: &str| AuthorizeError::Redirect {
        redirect_uri: Box::new(redirect_uri.clone()),
        error,
        description: description.to_owned(),
        state: state.clone().filter(|s| s.len() <= MAX_OPAQUE),
    };
    if params.response_type.as_deref() != Some("code") {
        return Err(fail(
            "unsupported_response_type",
            "Only response_type=code is supported.",
        ));
    }
    if params.state.as_ref().is_some_and(|s| s.len() > MAX_OPAQUE)
        || params.nonce.as_ref().is_some_and(|s| s.len() > MAX_OPAQUE)
    {
        return Err(fail(
            "invalid_request",
            "state and nonce may be at most 512 characters.",
        ));
    }
    let challenge = CodeChallenge::parse(
        params.code_challenge.as_deref(),
        params.code_challenge_method.as_deref(),
    )
    .map_err(|e| {
        fail(
            "invalid_request",
            match e {
                PkceError::MissingChallenge => "code_challenge is required (PKCE).",
                PkceError::UnsupportedMethod => "code_challenge_method must be S256.",
                _ => "code_challenge must be a base64url SHA-256 digest.",
            },
        )
    })?;
    let prompt = Prompt::parse(params.prompt.as_deref()).map_err(|e| fail("invalid_request", e))?;
    let max_age =
        parse_max_age(params.max_age.as_deref()).map_err(|e| fail("invalid_request", e))?;
    let hint_sub = match hint {
        None => None,
        Some(Some(sub)) => Some(sub),
        Some(None) => {
            return Err(fail(
                "invalid_request",
                "id_token_hint must be an ID token this server issued.",
            ));
        }
    };
    let mut scopes = Vec::new();
    for word in params
        .scope
        .as_deref()
        .unwrap_or_default()
        .split_ascii_whitespace()
    {
        match Scope::parse(word) {
            Some(s) if client.scopes.contains(&s) => scopes.push(s),
            _ => {
                return Err(fail(
                    "invalid_scope",
                    &format!(
                        "Unknown or not allowed scope: {}",
                        word.chars().take(64).collect::<String>()
                    ),
                ));
            }
        }
    }
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(fail(
            "invalid_scope",
            "Ask for at least one scope, such as openid.",
        ));
    }
    Ok(PendingAuthorization {
        client_id: client.id.clone(),
        redirect_uri,
        scopes,
        state: params.state.clone(),
        nonce: params.nonce.clone(),
        challenge,
        prompt,
        max_age,
        hint_sub,
        created_at: now,
        expires_at: now + REQUEST_LIFETIME,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::client::builtin_clients;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn cli() -> Client {
        builtin_clients()
            .into_iter()
            .find(|c| c.id == "steward-cli")
            .unwrap()
    }

    fn params() -> AuthorizeParams {
        AuthorizeParams {
            response_type: Some("code".into()),
            client_id: Some("steward-cli".into()),
            redirect_uri: Some("http://127.0.0.1:53682/callback".into()),
            scope: Some("openid email offline_access openid".into()),
            state: Some("xyz".into()),
            nonce: Some("n-0S6_WzA2Mj".into()),
            code_challenge: Some(CHALLENGE.into()),
            code_challenge_method: Some("S256".into()),
            ..AuthorizeParams::default()
        }
    }

    #[test]
    fn a_good_native_request_is_pending_for_five_minutes() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let p = check_request(&params(), Some(&cli()), None, now).unwrap();
        assert_eq!(p.redirect_uri.as_str(), "http://127.0.0.1:53682/callback");
        assert_eq!(
            p.scopes,
            [Scope::OpenId, Scope::Email, Scope::OfflineAccess]
        );
        assert_eq!(p.state.as_deref(), Some("xyz"));
        assert!(!p.expired(now + time::Duration::minutes(5) - time::Duration::SECOND));
        assert!(
            p.expired(now + time::Duration::minutes(5)),
            "expires at 5 minutes"
        );
    }

    #[test]
    fn unknown_clients_and_bad_redirects_are_never_redirected_to() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut p = params();
        p.client_id = Some("steward-desktop".into());
        assert_eq!(
            check_request(&p, Some(&cli()), None, now),
            Err(AuthorizeError::UnknownClient),
            "client_id must be the looked-up client"
        );
        assert_eq!(
            check_request(&params(), None, None, now),
            Err(AuthorizeError::UnknownClient)
        );
        let mut p = params();
        p.redirect_uri = Some("https://evil.example/callback".into());
        assert_eq!(
            check_request(&p, Some(&cli()), None, now),
            Err(AuthorizeError::BadRedirect(Some(
                RedirectError::NotRegistered
            )))
        );
        p.redirect_uri = None;
        assert_eq!(
            check_request(&p, Some(&cli()), None, now),
            Err(AuthorizeError::BadRedirect(None))
        );
    }

    fn redirected_error(p: &AuthorizeParams) -> &'static str {
        match check_request(p, Some(&cli()), None, OffsetDateTime::UNIX_EPOCH) {
            Err(AuthorizeError::Redirect { error, state, .. }) => {
                assert_eq!(
                    state.as_deref(),
                    p.state.as_deref().filter(|s| s.len() <= 512)
                );
                error
            }
            other => panic!("expected a redirected error, got {other:?}"),
        }
    }

    #[test]
    fn other_mistakes_go_back_to_the_app_with_an_error() {
        let mut p = params();
        p.response_type = Some("token".into());
        assert_eq!(redirected_error(&p), "unsupported_response_type");
        let mut p = params();
        p.code_challenge_method = Some("plain".into());
        assert_eq!(redirected_error(&p), "invalid_request");
        let mut p = params();
        p.code_challenge = None;
        assert_eq!(redirected_error(&p), "invalid_request");
        let mut p = params();
        p.scope = Some("openid admin".into());
        assert_eq!(redirected_error(&p), "invalid_scope");
        let mut p = params();
        p.scope = None;
        assert_eq!(redirected_error(&p), "invalid_scope");
        let mut p = params();
        p.nonce = Some("n".repeat(513));
        assert_eq!(redirected_error(&p), "invalid_request");
        let mut p = params();
        p.state = Some("s".repeat(513));
        assert_eq!(redirected_error(&p), "invalid_request");
        for (prompt, max_age) in [("none login", None), ("sometimes", None), ("", Some("-1"))] {
            let mut p = params();
            p.prompt = Some(prompt.into());
            p.max_age = max_age.map(str::to_owned);
            assert_eq!(
                redirected_error(&p),
                "invalid_request",
                "{prompt} {max_age:?}"
            );
        }
        assert!(
            matches!(
                check_request(
                    &params(),
                    Some(&cli()),
                    Some(None),
                    OffsetDateTime::UNIX_EPOCH
                ),
                Err(AuthorizeError::Redirect {
                    error: "invalid_request",
                    ..
                })
            ),
            "an id_token_hint we did not issue"
        );
    }
}
