//! The OpenID Connect pages in Chromium: registering an RS256 app on Your Apps,
//! `prompt=login` with `max_age=0` asking for the password (the strict client
//! then accepts the new `auth_time`), `select_account` on the account chooser,
//! and an `id_token_hint` for another account offering the switch.

use serde_json::json;
use steward_testkit::TestServer;
use steward_testkit::browser::Browser;
use thirtyfour::prelude::*;

use crate::cli::{click, sign_in_and_skip_welcome, sign_in_on_page, wait_for};
use crate::common::{PASSWORD, confirmed_account};
use crate::oidc_rp::{Rp, clock_ahead};

/// Where the "You are signed in" page took the browser: the app's callback (a
/// page of the test server, so the browser really arrives there).
async fn done_target(d: &WebDriver, redirect: &str) -> String {
    for _ in 0..200 {
        let url = d.current_url().await.unwrap().to_string();
        if url.starts_with(redirect) {
            return url;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "never sent back to the app; the page shows:\n{}",
        d.source().await.unwrap_or_default()
    );
}

/// Registers an app (openid and email) on the Your Apps page the browser is on;
/// returns its client id and secret. `alg` picks its ID token signature.
pub(crate) async fn register_on_page(
    d: &WebDriver,
    name: &str,
    redirect: &str,
    alg: Option<&str>,
) -> (String, String) {
    wait_for(d, &["Register an app"]).await;
    for (id, text) in [("name", name), ("redirect_uris", redirect)] {
        d.find(By::Id(id))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }
    click(d, By::Css("input[name='scope_email']")).await;
    if let Some(alg) = alg {
        click(
            d,
            By::Css(format!(
                "#id_token_signed_response_alg option[value='{alg}']"
            )),
        )
        .await;
    }
    click(
        d,
        By::Css("form[action='/developer/apps'] button[type='submit']"),
    )
    .await;
    wait_for(d, &["is registered"]).await;
    let text =
        |id: &'static str| async move { d.find(By::Id(id)).await.unwrap().text().await.unwrap() };
    (text("client-id").await, text("client-secret").await)
}

#[tokio::test]
async fn rs256_apps_re_authentication_and_account_choice_work_in_chromium() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "ada@example.com", "ada").await;
    confirmed_account(&s, "bob@example.com", "bob").await;
    let browser = Browser::start().await.unwrap();
    let d = &browser.driver;

    // Your Apps: register an app whose ID tokens are RS256.
    d.goto(&format!("{}/developer/apps", s.base)).await.unwrap();
    sign_in_and_skip_welcome(d, "ada").await;
    let redirect = format!("{}/rp-callback", s.base);
    let redirect = redirect.as_str();
    let (client_id, secret) = register_on_page(d, "Strict RP", redirect, Some("RS256")).await;
    let listed = d.source().await.unwrap();
    assert!(
        listed.contains("<dd class=\"id-token-alg\">RS256</dd>"),
        "{listed}"
    );
    let rp = Rp {
        base: s.base.clone(),
        client_id,
        secret,
        redirect: redirect.into(),
        alg: "RS256".into(),
    };

    // The first sign-in: consent, then an RS256 ID token the strict client verifies.
    let st = rp.start(json!({})).await;
    d.goto(&st.url).await.unwrap();
    wait_for(d, &["wants to access your Steward account"]).await;
    click(d, By::Id("allow")).await;
    let first = rp.finish(&st, &done_target(d, redirect).await).await;
    assert_eq!(first["alg"], "RS256");
    let signed_in_at = first["claims"]["auth_time"].as_i64().unwrap();

    // prompt=login with max_age=0: the password is asked again, auth_time moves, and
    // the strict client (which checks auth_time against max_age) accepts the token.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    clock_ahead(&s, time::Duration::seconds(30));
    let st = rp.start(json!({"prompt": "login", "max_age": 0})).await;
    d.goto(&st.url).await.unwrap();
    let page = wait_for(d, &["Confirm it"]).await;
    assert!(page.contains("enter your password again"), "{page}");
    let identifier = d
        .find(By::Id("identifier"))
        .await
        .unwrap()
        .value()
        .await
        .unwrap();
    assert_eq!(
        identifier.as_deref(),
        Some("ada"),
        "the account is filled in"
    );
    d.find(By::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    click(d, By::Css("form[action='/signin'] button[type='submit']")).await;
    let again = rp.finish(&st, &done_target(d, redirect).await).await;
    assert!(
        again["claims"]["auth_time"].as_i64().unwrap() > signed_in_at,
        "{again}"
    );

    // A second account in the browser, then select_account: the chooser lists both.
    d.goto(&format!("{}/signin?add=1", s.base)).await.unwrap();
    sign_in_on_page(d, "bob").await;
    wait_for(d, &["bob"]).await;
    s.advance(time::Duration::minutes(1));
    let st = rp.start(json!({"prompt": "select_account"})).await;
    d.goto(&st.url).await.unwrap();
    let chooser = wait_for(d, &["Choose an account"]).await;
    assert!(
        chooser.contains("Continue as <strong>bob</strong>"),
        "{chooser}"
    );
    click(
        d,
        By::XPath("//button[contains(@class,'account-choice')][.//strong[text()='ada']]"),
    )
    .await;
    wait_for(d, &["Continue as ada"]).await;
    click(d, By::Id("allow")).await;
    let chosen = rp.finish(&st, &done_target(d, redirect).await).await;
    assert_eq!(chosen["claims"]["sub"], first["claims"]["sub"]);

    // An id_token_hint for ada while bob is active offers the switch.
    d.goto(&format!("{}/accounts", s.base)).await.unwrap();
    click(
        d,
        By::XPath("//button[contains(@class,'account-choice')][.//strong[text()='bob']]"),
    )
    .await;
    let st = rp.start(json!({"id_token_hint": first["id_token"]})).await;
    d.goto(&st.url).await.unwrap();
    wait_for(d, &["asks for another account"]).await;
    click(d, By::Id("switch-account")).await;
    wait_for(d, &["Continue as ada"]).await;
    click(d, By::Id("allow")).await;
    let hinted = rp.finish(&st, &done_target(d, redirect).await).await;
    assert_eq!(hinted["claims"]["sub"], first["claims"]["sub"]);
    browser.quit().await.unwrap();
    s.stop().await;
}
