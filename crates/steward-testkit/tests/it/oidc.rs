//! OpenID Connect conformance and hardening of the token side: a failed code
//! exchange leaves the code to its app, the token endpoints have their own
//! per-IP limit, apps may choose RS256 ID tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use steward_testkit::TestServer;

use crate::common::{PASSWORD, confirmed_account, sign_in};
use crate::oauth::{
    VERIFIER, authorize, bearer_me, challenge, cli_request, exchange, param, token,
};

/// Another client, a wrong verifier or a wrong redirect URI must not use up the
/// code: the real app still signs in with it. Once redeemed, a replay still ends
/// the sign-in, and two redemptions at the same moment give one token.
#[tokio::test]
async fn a_failed_code_exchange_leaves_the_code_to_its_app() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let app = s.client().unwrap();
    let code = param(
        &authorize(&ada, &cli_request(&challenge(VERIFIER))).await,
        "code",
    )
    .unwrap();

    let r = exchange(&app, &code, "steward-desktop", VERIFIER).await;
    assert_eq!(
        r.json["error"], "invalid_grant",
        "another client: {}",
        r.text
    );
    let r = exchange(&app, &code, "steward-cli", &"a".repeat(43)).await;
    assert_eq!(
        r.json["error"], "invalid_grant",
        "wrong verifier: {}",
        r.text
    );
    let r = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:1/callback"),
            ("client_id", "steward-cli"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(
        r.json["error"], "invalid_grant",
        "wrong redirect: {}",
        r.text
    );

    let ok = exchange(&app, &code, "steward-cli", VERIFIER).await;
    assert_eq!(ok.status, 200, "the real app still signs in: {}", ok.text);
    let access = ok.json["access_token"].as_str().unwrap().to_owned();
    assert_eq!(bearer_me(&s, &access).await, 200);
    let again = exchange(&app, &code, "steward-cli", VERIFIER).await;
    assert_eq!(again.json["error"], "invalid_grant");
    assert_eq!(
        bearer_me(&s, &access).await,
        401,
        "a replay after success still ends the sign-in it made"
    );

    // Two correct redemptions at once: exactly one gets tokens.
    for _ in 0..3 {
        let code = param(
            &authorize(&ada, &cli_request(&challenge(VERIFIER))).await,
            "code",
        )
        .unwrap();
        let (a, b) = tokio::join!(
            exchange(&app, &code, "steward-cli", VERIFIER),
            exchange(&app, &code, "steward-cli", VERIFIER)
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 400], "{} / {}", a.text, b.text);
    }
    s.stop().await;
}

/// The token, introspection and revocation endpoints share a per-IP bucket of
/// their own: past it they answer 429 with `Retry-After` in the RFC 6749 error
/// format, and sign-in (the credential bucket) is untouched.
#[tokio::test]
async fn token_introspection_and_revocation_have_their_own_per_ip_limit() {
    let s = TestServer::start().await.unwrap();
    let ada = s.client().unwrap();
    confirmed_account(&s, "ada@example.com", "ada").await;
    let app = s.client().unwrap();
    let mut limited = None;
    for i in 0..800 {
        let path = ["/oauth/token", "/oauth/introspect", "/oauth/revoke"][i % 3];
        let r = app
            .post_form(
                path,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", "x"),
                    ("token", "x"),
                    ("client_id", "no-such-client"),
                ],
            )
            .await
            .unwrap();
        if r.status == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.json["error"], "invalid_client", "{path}: {}", r.text);
    }
    let r = limited.expect("limited within 800 requests");
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait >= 1, "Retry-After {wait}");
    assert_eq!(r.json["error"], "temporarily_unavailable", "{}", r.text);
    assert!(r.json["error_description"].is_string());
    assert_eq!(r.headers["cache-control"], "no-store");
    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let r = app
            .post_form(path, &[("token", "x"), ("client_id", "steward-cli")])
            .await
            .unwrap();
        assert_eq!(r.status, 429, "{path} shares the bucket");
    }
    // A separate bucket: signing in from the same address still works.
    assert_eq!(sign_in(&ada, "ada", PASSWORD, false).await.status, 200);
    s.stop().await;
}

/// An app registered for RS256 gets RS256 ID tokens, which a strict client (told
/// the app's `id_token_signed_response_alg`) verifies against the JWKS, and so
/// does Authlib; ES256 stays the default. Discovery lists both.
#[tokio::test]
async fn an_app_registered_for_rs256_gets_rs256_id_tokens_verified_from_the_jwks() {
    use crate::oidc_rp::{Rp, allow, first_sign_in, page_landing, visit};
    use serde_json::json;

    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    // The server's clock stands still: move it so requests come after the sign-in.
    s.advance(time::Duration::minutes(1));
    let anon = s.client().unwrap();
    let meta = anon.get("/.well-known/openid-configuration").await.unwrap();
    assert_eq!(
        meta.json["id_token_signing_alg_values_supported"],
        json!(["ES256", "RS256"])
    );
    assert_eq!(
        meta.json["prompt_values_supported"],
        json!(["none", "login", "consent", "select_account"])
    );
    let r = ada
        .post(
            "/api/v1/apps",
            json!({"name": "Bad alg", "redirect_uris": ["https://x.example/cb"],
                   "scopes": ["openid"], "id_token_signed_response_alg": "HS256"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.json["error"]["fields"]["id_token_signed_response_alg"].is_string());

    let rs = Rp::register(&s, &ada, Some("RS256")).await;
    assert_eq!(rs.alg, "RS256");
    let es = Rp::register(&s, &ada, None).await;
    assert_eq!(es.alg, "ES256", "ES256 is the default");
    let list = ada.get("/api/v1/apps").await.unwrap();
    let mut algs: Vec<_> = list.json["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["id_token_signed_response_alg"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    algs.sort();
    assert_eq!(algs, ["ES256", "RS256"], "stored with each app");

    let out = first_sign_in(&rs, &ada).await;
    assert_eq!(out["alg"], "RS256", "{out}");
    let jwks = anon.get("/oauth/jwks").await.unwrap();
    let key = jwks.json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == out["kid"])
        .expect("the signing key is published")
        .clone();
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str()),
        (Some("RSA"), Some("RS256"))
    );
    assert!(
        URL_SAFE_NO_PAD
            .decode(key["n"].as_str().unwrap())
            .unwrap()
            .len()
            >= 256,
        "at least 2048 bits"
    );
    // A second, independent library verifies the same token from the JWKS.
    let check = r#"
import json, os, requests
from authlib.jose import JsonWebKey, jwt
jwks = JsonWebKey.import_key_set(requests.get(os.environ["BASE"] + "/oauth/jwks").json())
claims = jwt.decode(os.environ["TOKEN"], jwks)
claims.validate(now=claims["iat"])  # the test server's clock is its own
print(json.dumps({"alg": claims.header["alg"], "sub": claims["sub"]}))
"#;
    let py = tokio::process::Command::new(crate::common::python())
        .args(["-c", check])
        .env("BASE", &s.base)
        .env("TOKEN", out["id_token"].as_str().unwrap())
        .output()
        .await
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&py.stdout).unwrap();
    assert_eq!(seen["alg"], "RS256");
    assert_eq!(seen["sub"], out["claims"]["sub"]);

    let out = first_sign_in(&es, &ada).await;
    assert_eq!(out["alg"], "ES256");
    // The strict client really checks the algorithm: told RS256, it refuses ES256.
    let confused = Rp {
        alg: "RS256".into(),
        ..es.clone()
    };
    let st = confused.start(json!({})).await;
    let (page, path) = page_landing(visit(&ada, &st.path(&s.base)).await);
    let back = allow(&ada, &page, &path).await;
    let refused = confused.try_finish(&st, &back).await;
    assert!(refused.is_err(), "{refused:?}");
    s.stop().await;
}
