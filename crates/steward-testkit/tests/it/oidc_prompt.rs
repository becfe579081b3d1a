//! OpenID Connect `prompt`, `max_age` and `id_token_hint` (Core §3.1.2.1) with a
//! strict relying party (openid-client): no page for `prompt=none`, a real
//! password re-entry for `prompt=login` and `max_age`, with `auth_time` moving.

use serde_json::json;
use steward_testkit::client::Answer;
use steward_testkit::{ApiClient, TestServer};

use crate::common::{PASSWORD, confirmed_account, me};
use crate::oidc_rp::{
    Rp, allow, app_landing, clock_ahead, first_sign_in, forwarded_to, hidden, page_landing, visit,
};

#[tokio::test]
async fn prompt_none_answers_the_app_without_any_page() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let rp = Rp::register(&s, &ada, None).await;
    // The server's clock stands still: move it so requests come after the sign-in.
    s.advance(time::Duration::minutes(1));

    let anonymous = s.client().unwrap();
    let st = rp.start(json!({"prompt": "none"})).await;
    let back = app_landing(visit(&anonymous, &st.path(&s.base)).await);
    assert_eq!(rp.finish(&st, &back).await["error"], "login_required");

    // Signed in, but the app was never allowed: no consent page, an answer.
    let st = rp.start(json!({"prompt": "none"})).await;
    let back = app_landing(visit(&ada, &st.path(&s.base)).await);
    assert_eq!(rp.finish(&st, &back).await["error"], "consent_required");

    let first = first_sign_in(&rp, &ada).await;
    let st = rp.start(json!({"prompt": "none"})).await;
    let back = app_landing(visit(&ada, &st.path(&s.base)).await);
    let silent = rp.finish(&st, &back).await;
    assert_eq!(
        silent["claims"]["sub"], first["claims"]["sub"],
        "an allowed app signs in silently: {silent}"
    );

    // A built-in app's code goes to any local program: the person must click.
    let cli = Rp::cli(&s);
    let st = cli.start(json!({"prompt": "none"})).await;
    let back = app_landing(visit(&ada, &st.path(&s.base)).await);
    assert_eq!(
        cli.finish(&st, &back).await["error"],
        "interaction_required"
    );
    // `none` with anything else is malformed.
    let st = cli.start(json!({"prompt": "none login"})).await;
    let back = app_landing(visit(&ada, &st.path(&s.base)).await);
    assert_eq!(cli.finish(&st, &back).await["error"], "invalid_request");

    // A malformed prompt=none request of a third-party app is answered, not shown.
    let st = rp.start(json!({"prompt": "none", "max_age": "soon"})).await;
    let back = app_landing(visit(&ada, &st.path(&s.base)).await);
    assert_eq!(rp.finish(&st, &back).await["error"], "invalid_request");

    // A sign-in older than max_age would need the password: login_required.
    s.advance(time::Duration::minutes(10));
    let st = rp.start(json!({"prompt": "none", "max_age": 60})).await;
    let back = app_landing(visit(&ada, &st.path(&s.base)).await);
    assert_eq!(rp.finish(&st, &back).await["error"], "login_required");
    s.stop().await;
}

/// The re-authentication page of an authorization request, filled in.
async fn sign_in_again(c: &ApiClient, page: &Answer, password: &str) -> Answer {
    assert!(page.text.contains("Confirm it"), "{}", page.text);
    assert!(
        page.text.contains("value=\"ada\""),
        "the account is filled in: {}",
        page.text
    );
    c.post_form(
        "/signin",
        &[
            ("identifier", "ada"),
            ("password", password),
            ("remember", "true"),
            ("reauth", "1"),
            ("next", &hidden(page, "next")),
        ],
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn prompt_login_and_max_age_ask_for_the_password_again_and_move_auth_time() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let rp = Rp::register(&s, &ada, None).await;
    let first = first_sign_in(&rp, &ada).await;
    let signed_in_at = first["claims"]["auth_time"].as_i64().unwrap();
    // Real time passes (the relying party checks auth_time against its own clock).
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    clock_ahead(&s, time::Duration::seconds(30));

    // Recent enough for max_age: no password, and auth_time is the first sign-in.
    let st = rp.start(json!({"max_age": 3600})).await;
    let (page, path) = page_landing(visit(&ada, &st.path(&s.base)).await);
    assert!(!path.starts_with("/signin"), "no password asked: {path}");
    let out = rp.finish(&st, &allow(&ada, &page, &path).await).await;
    assert_eq!(out["claims"]["auth_time"].as_i64(), Some(signed_in_at));

    // max_age=0: the password again; the strict client accepts the new auth_time.
    let st = rp.start(json!({"max_age": 0})).await;
    let (page, path) = page_landing(visit(&ada, &st.path(&s.base)).await);
    assert!(path.starts_with("/signin?reauth=1"), "{path}");
    let wrong = sign_in_again(&ada, &page, "not the password").await;
    assert!(
        wrong.status != 303 && wrong.text.contains("Confirm it"),
        "a wrong password does not pass: {} {}",
        wrong.status,
        wrong.text
    );
    let r = sign_in_again(&ada, &page, PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let next = crate::oauth::location(&r);
    let (done, _) = page_landing(visit(&ada, &next).await);
    let out = rp.finish(&st, &forwarded_to(&done)).await;
    let reauthenticated = out["claims"]["auth_time"].as_i64().unwrap();
    assert!(reauthenticated > signed_in_at, "auth_time moved: {out}");
    assert_eq!(me(&ada).await.0, 200, "still signed in, on the new session");

    // prompt=login: the same, even straight after.
    s.advance(time::Duration::seconds(2));
    let st = rp.start(json!({"prompt": "login"})).await;
    let (page, path) = page_landing(visit(&ada, &st.path(&s.base)).await);
    assert!(path.starts_with("/signin?reauth=1"), "{path}");
    let r = sign_in_again(&ada, &page, PASSWORD).await;
    let (done, _) = page_landing(visit(&ada, &crate::oauth::location(&r)).await);
    let out = rp.finish(&st, &forwarded_to(&done)).await;
    assert!(out["claims"]["auth_time"].as_i64().unwrap() > reauthenticated);
    s.stop().await;
}

#[tokio::test]
async fn select_account_consent_and_id_token_hint_pick_the_right_account() {
    let s = TestServer::start().await.unwrap();
    let browser = confirmed_account(&s, "ada@example.com", "ada").await;
    let rp = Rp::register(&s, &browser, None).await;
    let ada = first_sign_in(&rp, &browser).await;
    let ada_id = ada["claims"]["sub"].as_str().unwrap().to_owned();
    let ada_token = ada["id_token"].as_str().unwrap().to_owned();
    let bob_alone = confirmed_account(&s, "bob@example.com", "bob").await;
    let bob_id = me(&bob_alone).await.1["id"].as_str().unwrap().to_owned();
    let r = browser
        .post_form(
            "/signin",
            &[("identifier", "bob"), ("password", PASSWORD), ("add", "1")],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 303, "bob added to the browser: {}", r.text);
    assert_eq!(me(&browser).await.1["id"], bob_id.as_str());
    // The server's clock stands still: move it so requests come after the sign-ins.
    s.advance(time::Duration::minutes(1));

    // The hint names ada while bob is active: offered a switch, never "Continue as bob".
    let st = rp.start(json!({"id_token_hint": ada_token})).await;
    let (page, path) = page_landing(visit(&browser, &st.path(&s.base)).await);
    assert!(
        page.text.contains("asks for another account") && page.text.contains("Switch to ada"),
        "{path}: {}",
        page.text
    );
    assert!(!page.text.contains("id=\"allow\""));
    let r = browser
        .post_form(
            "/accounts/switch",
            &[("account_id", &ada_id), ("next", &hidden(&page, "next"))],
        )
        .await
        .unwrap();
    let (page, path) = page_landing(visit(&browser, &crate::oauth::location(&r)).await);
    let out = rp.finish(&st, &allow(&browser, &page, &path).await).await;
    assert_eq!(out["claims"]["sub"], ada_id.as_str());

    // prompt=none with a hint for another account than the active one: login_required.
    browser
        .post_form(
            "/accounts/switch",
            &[("account_id", &bob_id), ("next", "/")],
        )
        .await
        .unwrap();
    let st = rp
        .start(json!({"prompt": "none", "id_token_hint": ada_token}))
        .await;
    let back = app_landing(visit(&browser, &st.path(&s.base)).await);
    assert_eq!(rp.finish(&st, &back).await["error"], "login_required");
    // A hint this server did not sign is refused.
    let st = rp.start(json!({"id_token_hint": "e30.e30.AAAA"})).await;
    let (page, _) = page_landing(visit(&browser, &st.path(&s.base)).await);
    assert_eq!(page.status, 400);
    assert!(page.text.contains("error=invalid_request"), "{}", page.text);

    // select_account: the chooser lists both; picking ada signs ada in.
    let st = rp.start(json!({"prompt": "select_account"})).await;
    let (page, path) = page_landing(visit(&browser, &st.path(&s.base)).await);
    assert!(path.starts_with("/accounts?next="), "{path}");
    assert!(
        page.text.contains("Continue as <strong>ada</strong>")
            && page.text.contains("Continue as <strong>bob</strong>"),
        "{}",
        page.text
    );
    let r = browser
        .post_form(
            "/accounts/switch",
            &[("account_id", &ada_id), ("next", &hidden(&page, "next"))],
        )
        .await
        .unwrap();
    let (page, path) = page_landing(visit(&browser, &crate::oauth::location(&r)).await);
    assert!(page.text.contains("Continue as ada"), "{}", page.text);
    let out = rp.finish(&st, &allow(&browser, &page, &path).await).await;
    assert_eq!(out["claims"]["sub"], ada_id.as_str());

    // prompt=consent asks again though ada allowed the app.
    let st = rp.start(json!({"prompt": "consent"})).await;
    let (page, path) = page_landing(visit(&browser, &st.path(&s.base)).await);
    assert!(page.text.contains("wants to access your Steward account"));
    let out = rp.finish(&st, &allow(&browser, &page, &path).await).await;
    assert_eq!(out["claims"]["sub"], ada_id.as_str());
    s.stop().await;
}
