//! OpenID Connect conformance and hardening of the token side: a failed code
//! exchange leaves the code to its app, the token endpoints have their own
//! per-IP limit.

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
