//! The provider's rules end to end on in-memory ports: code + PKCE, refresh
//! rotation and reuse detection, code replay, revocation, device grant, consent.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::{Harness, PASSWORD, minutes};
use crate::CoreError;
use crate::oauth::authorize::AuthorizeParams;
use crate::oauth::grant::RequestState;
use crate::oauth::token::{ClientCredentials, DEVICE_GRANT, TokenRequest};
use crate::ports::TokenSigner;
use crate::session::ClientInfo;

const VERIFIER: &str = "dBjftJeZ4CVP-mJ92ZpxvBEyYqq8RzvtmRhLV2e0yXSPA4ZAjN-ZHZz6ub6dxgB7AlFUXaA";
const REDIRECT: &str = "http://127.0.0.1:53682/callback";

/// Claims "signed" as plain JSON, so tests can read them.
#[derive(Debug)]
struct JsonSigner;

impl TokenSigner for JsonSigner {
    fn sign(
        &self,
        _alg: crate::oauth::client::IdTokenAlg,
        claims: &serde_json::Value,
    ) -> Result<Option<String>, String> {
        Ok(Some(claims.to_string()))
    }

    fn verify(&self, token: &str) -> Option<serde_json::Value> {
        serde_json::from_str(token).ok()
    }
}

fn cli() -> ClientCredentials {
    ClientCredentials {
        id: Some("steward-cli".into()),
        secret: None,
    }
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn oauth_error(e: CoreError) -> &'static str {
    match e {
        CoreError::OAuth { error, .. } => error,
        other => panic!("not an OAuth error: {other:?}"),
    }
}

impl Harness {
    async fn oauth() -> Self {
        let mut h = Self::with_ada().await;
        h.steward = h.steward.clone().with_signer(Arc::new(JsonSigner));
        h
    }

    /// Ada approves a CLI sign-in in the browser; returns the code.
    async fn cli_code(&self) -> String {
        let params = AuthorizeParams {
            response_type: Some("code".into()),
            client_id: Some("steward-cli".into()),
            redirect_uri: Some(REDIRECT.into()),
            scope: Some("openid email profile offline_access".into()),
            state: Some("st".into()),
            nonce: Some("n-1".into()),
            code_challenge: Some(challenge(VERIFIER)),
            code_challenge_method: Some("S256".into()),
            ..AuthorizeParams::default()
        };
        let handle = self
            .steward
            .start_authorization(&params)
            .await
            .unwrap()
            .unwrap()
            .handle;
        let who = self
            .sign_in("ada", PASSWORD, false)
            .await
            .unwrap()
            .signed_in();
        let granted = self
            .steward
            .approve_authorization(&who, &handle, &ClientInfo::default())
            .await
            .unwrap()
            .unwrap();
        assert!(granted.native);
        let q: std::collections::HashMap<_, _> =
            granted.redirect.query_pairs().into_owned().collect();
        assert_eq!(q["state"], "st");
        q["code"].clone()
    }

    fn exchange(&self, code: &str, verifier: &str) -> TokenRequest {
        TokenRequest {
            grant_type: Some("authorization_code".into()),
            code: Some(code.into()),
            redirect_uri: Some(REDIRECT.into()),
            code_verifier: Some(verifier.into()),
            ..TokenRequest::default()
        }
    }
}

#[tokio::test]
async fn code_with_pkce_gives_tokens_and_an_app_session() {
    let h = Harness::oauth().await;
    let code = h.cli_code().await;
    let t = h
        .steward
        .token(&cli(), &h.exchange(&code, VERIFIER), &ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(t.expires_in, 15 * 60);
    let claims: serde_json::Value = serde_json::from_str(t.id_token.as_deref().unwrap()).unwrap();
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["aud"], "steward-cli");
    assert_eq!(claims["email"], "Ada@example.com");
    let who = h
        .steward
        .authenticate_bearer(&t.access_token)
        .await
        .unwrap();
    assert_eq!(who.account().username, "ada");
    assert_eq!(
        h.steward
            .userinfo(&who)
            .unwrap()
            .preferred_username
            .as_deref(),
        Some("ada")
    );
    // An access token is no cookie, and a cookie no access token.
    assert!(h.steward.authenticate(&t.access_token).await.is_err());
    let sessions = h.steward.list_sessions(&who).await.unwrap();
    assert!(
        sessions
            .iter()
            .any(|s| s.current && s.device == "Steward CLI")
    );
    // The access token ends after 15 minutes.
    h.advance(minutes(16));
    assert!(
        h.steward
            .authenticate_bearer(&t.access_token)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn wrong_or_missing_verifier_and_replayed_code_are_refused() {
    let h = Harness::oauth().await;
    let code = h.cli_code().await;
    let other = "x".repeat(43);
    let e = h
        .steward
        .token(&cli(), &h.exchange(&code, &other), &ClientInfo::default())
        .await;
    assert_eq!(oauth_error(e.unwrap_err()), "invalid_grant");
    // The failed attempt leaves the code to its app.
    h.steward
        .token(&cli(), &h.exchange(&code, VERIFIER), &ClientInfo::default())
        .await
        .unwrap();

    let code = h.cli_code().await;
    let mut missing = h.exchange(&code, VERIFIER);
    missing.code_verifier = None;
    let e = h
        .steward
        .token(&cli(), &missing, &ClientInfo::default())
        .await;
    assert_eq!(oauth_error(e.unwrap_err()), "invalid_request");

    // A replayed code ends the sign-in its first use made.
    let code = h.cli_code().await;
    let t = h
        .steward
        .token(&cli(), &h.exchange(&code, VERIFIER), &ClientInfo::default())
        .await
        .unwrap();
    let e = h
        .steward
        .token(&cli(), &h.exchange(&code, VERIFIER), &ClientInfo::default())
        .await;
    assert_eq!(oauth_error(e.unwrap_err()), "invalid_grant");
    assert!(
        h.steward
            .authenticate_bearer(&t.access_token)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_code_for_another_client_or_redirect_is_refused() {
    let h = Harness::oauth().await;
    let code = h.cli_code().await;
    let desktop = ClientCredentials {
        id: Some("steward-desktop".into()),
        secret: None,
    };
    let e = h
        .steward
        .token(
            &desktop,
            &h.exchange(&code, VERIFIER),
            &ClientInfo::default(),
        )
        .await;
    assert_eq!(oauth_error(e.unwrap_err()), "invalid_grant");
    let code = h.cli_code().await;
    let mut req = h.exchange(&code, VERIFIER);
    req.redirect_uri = Some("http://127.0.0.1:1/callback".into());
    let e = h.steward.token(&cli(), &req, &ClientInfo::default()).await;
    assert_eq!(oauth_error(e.unwrap_err()), "invalid_grant");
    let unknown = ClientCredentials {
        id: Some("nope".into()),
        secret: None,
    };
    let e = h
        .steward
        .token(&unknown, &h.exchange("x", VERIFIER), &ClientInfo::default())
        .await;
    assert_eq!(oauth_error(e.unwrap_err()), "invalid_client");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_chain() {
    let h = Harness::oauth().await;
    let code = h.cli_code().await;
    let t1 = h
        .steward
        .token(&cli(), &h.exchange(&code, VERIFIER), &ClientInfo::default())
        .await
        .unwrap();
    let refresh = |rt: &str| TokenRequest {
        grant_type: Some("refresh_token".into()),
        refresh_token: Some(rt.into()),
        ..TokenRequest::default()
    };
    let r1 = t1.refresh_token.clone().unwrap();
    let t2 = h
        .steward
        .token(&cli(), &refresh(&r1), &ClientInfo::default())
        .await
        .unwrap();
    let r2 = t2.refresh_token.clone().unwrap();
    assert_ne!(r1, r2, "a new refresh token on every use");
    assert!(
        h.steward
            .authenticate_bearer(&t1.access_token)
            .await
            .is_err(),
        "old access token ended"
    );
    let who = h
        .steward
        .authenticate_bearer(&t2.access_token)
        .await
        .unwrap();
    // The first refresh token comes back: theft. The whole sign-in ends.
    let e = h
        .steward
        .token(&cli(), &refresh(&r1), &ClientInfo::default())
        .await;
    assert_eq!(oauth_error(e.unwrap_err()), "invalid_grant");
    assert!(
        h.steward
            .authenticate_bearer(&t2.access_token)
            .await
            .is_err()
    );
    let e = h
        .steward
        .token(&cli(), &refresh(&r2), &ClientInfo::default())
        .await;
    assert_eq!(oauth_error(e.unwrap_err()), "invalid_grant");
    let ada = h.account("ada").await;
    let kinds: Vec<_> = h.store.events_of(ada.id).iter().map(|e| e.kind).collect();
    assert!(
        kinds.contains(&crate::activity::EventKind::AppTokenReused),
        "{kinds:?}"
    );
    drop(who);
}

#[tokio::test]
async fn an_expired_request_cannot_be_finished() {
    let h = Harness::oauth().await;
    let params = AuthorizeParams {
        response_type: Some("code".into()),
        client_id: Some("steward-cli".into()),
        redirect_uri: Some(REDIRECT.into()),
        scope: Some("openid".into()),
        code_challenge: Some(challenge(VERIFIER)),
        code_challenge_method: Some("S256".into()),
        ..AuthorizeParams::default()
    };
    let handle = h
        .steward
        .start_authorization(&params)
        .await
        .unwrap()
        .unwrap()
        .handle;
    h.advance(minutes(5));
    let who = h.sign_in("ada", PASSWORD, false).await.unwrap().signed_in();
    assert!(matches!(
        h.steward.authorization_request(&handle).await.unwrap(),
        RequestState::Expired { .. }
    ));
    assert!(
        h.steward
            .approve_authorization(&who, &handle, &ClientInfo::default())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_device_grant_waits_for_the_person_then_issues_once() {
    let h = Harness::oauth().await;
    let d = h
        .steward
        .start_device(&cli(), Some("openid offline_access"))
        .await
        .unwrap();
    let poll = TokenRequest {
        grant_type: Some(DEVICE_GRANT.into()),
        device_code: Some(d.device_code.clone()),
        ..TokenRequest::default()
    };
    let e = h.steward.token(&cli(), &poll, &ClientInfo::default()).await;
    assert_eq!(oauth_error(e.unwrap_err()), "authorization_pending");
    let e = h.steward.token(&cli(), &poll, &ClientInfo::default()).await;
    assert_eq!(oauth_error(e.unwrap_err()), "slow_down", "polled at once");
    let who = h.sign_in("ada", PASSWORD, false).await.unwrap().signed_in();
    let typed = d.user_code.to_lowercase().replace('-', " ");
    assert!(
        h.steward
            .decide_device(&who, &typed, true, &ClientInfo::default())
            .await
            .unwrap()
    );
    h.advance(minutes(1));
    let t = h
        .steward
        .token(&cli(), &poll, &ClientInfo::default())
        .await
        .unwrap();
    assert!(t.refresh_token.is_some());
    h.advance(minutes(1));
    let e = h.steward.token(&cli(), &poll, &ClientInfo::default()).await;
    assert_eq!(
        oauth_error(e.unwrap_err()),
        "invalid_grant",
        "tokens issued once"
    );
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_the_sign_in() {
    let h = Harness::oauth().await;
    let code = h.cli_code().await;
    let t = h
        .steward
        .token(&cli(), &h.exchange(&code, VERIFIER), &ClientInfo::default())
        .await
        .unwrap();
    h.steward
        .revoke_token(
            &cli(),
            t.refresh_token.as_deref().unwrap(),
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    assert!(
        h.steward
            .authenticate_bearer(&t.access_token)
            .await
            .is_err()
    );
    let i = h
        .steward
        .introspect(&cli(), t.refresh_token.as_deref().unwrap())
        .await
        .unwrap();
    assert!(!i.active);
}

#[tokio::test]
async fn consent_is_remembered_as_everything_ever_allowed_and_asked_again_only_for_more() {
    use crate::oauth::grant::RequestState;
    use steward_proto::oauth::RegisterAppRequest;

    let h = Harness::oauth().await;
    let who = h.sign_in("ada", PASSWORD, false).await.unwrap().signed_in();
    let app = h
        .steward
        .register_app(
            &who,
            &RegisterAppRequest {
                name: "Notes".into(),
                redirect_uris: vec!["https://notes.example/cb".into()],
                logo_url: None,
                scopes: vec!["openid".into(), "email".into(), "profile".into()],
                public: false,
                id_token_signed_response_alg: None,
            },
        )
        .await
        .unwrap();
    let id = app.app.client_id;
    let ask = |scope: &str| AuthorizeParams {
        response_type: Some("code".into()),
        client_id: Some(id.clone()),
        redirect_uri: Some("https://notes.example/cb".into()),
        scope: Some(scope.into()),
        code_challenge: Some(challenge(VERIFIER)),
        code_challenge_method: Some("S256".into()),
        ..AuthorizeParams::default()
    };
    let needs = |h: &Harness, handle: String| {
        let (steward, who) = (h.steward.clone(), who.clone());
        async move {
            let RequestState::Live(live) = steward.authorization_request(&handle).await.unwrap()
            else {
                panic!("live")
            };
            live.needs_consent(
                steward
                    .consent_of(&who, &live.client.id)
                    .await
                    .unwrap()
                    .as_ref(),
            )
        }
    };
    for (scope, asked) in [
        ("openid email", true),
        ("openid", false),
        ("openid email", false),
        ("openid profile", true),
    ] {
        let handle = h
            .steward
            .start_authorization(&ask(scope))
            .await
            .unwrap()
            .unwrap()
            .handle;
        assert_eq!(needs(&h, handle.clone()).await, asked, "{scope}");
        h.steward
            .approve_authorization(&who, &handle, &ClientInfo::default())
            .await
            .unwrap()
            .unwrap();
    }
    let connected = h.steward.connected_apps(&who).await.unwrap();
    assert_eq!(connected[0].scopes, vec!["openid", "profile", "email"]);
    assert_eq!(
        h.steward.disclosures(&who).await.unwrap().len(),
        4,
        "every grant is logged"
    );
}
