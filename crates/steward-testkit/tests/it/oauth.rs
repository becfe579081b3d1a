//! The OAuth 2.0 / OpenID Connect provider against a running server: a real
//! third-party client library (Python Authlib) through every flow, and the
//! refusals a provider must make, over plain HTTP.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use steward_testkit::client::Answer;
use steward_testkit::{ApiClient, TestServer};

use crate::common::{confirmed_account, python};

pub(crate) const VERIFIER: &str =
    "dBjftJeZ4CVP-mJ92ZpxvBEyYqq8RzvtmRhLV2e0yXSPA4ZAjN-ZHZz6ub6dxgB7AlFUXaA";
pub(crate) const LOOPBACK: &str = "http://127.0.0.1:53682/callback";

pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

pub(crate) fn location(a: &Answer) -> String {
    a.headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub(crate) fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The authorization request a native app (the CLI) sends.
pub(crate) fn cli_request(verifier_challenge: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", "steward-cli".into()),
        ("redirect_uri", LOOPBACK.into()),
        ("scope", "openid email offline_access".into()),
        ("state", "s-1".into()),
        ("code_challenge", verifier_challenge.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

/// Opens an authorization request in `c`'s "browser" and answers Allow when asked;
/// returns where the confirmation page sends the browser.
pub(crate) async fn authorize(c: &ApiClient, params: &[(&str, String)]) -> String {
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let start = c
        .get(&format!("/oauth/authorize?{}", query(&pairs)))
        .await
        .unwrap();
    assert_eq!(start.status, 303, "{}", start.text);
    let page_path = location(&start);
    assert!(page_path.starts_with("/oauth/authorize/"), "{page_path}");
    let mut page = c.get(&page_path).await.unwrap();
    if page.text.contains("id=\"allow\"") {
        let account = page
            .text
            .split("name=\"as_account\" value=\"")
            .nth(1)
            .unwrap();
        let account = &account[..account.find('"').unwrap()];
        page = c
            .post_form(
                &page_path,
                &[("decision", "allow"), ("as_account", account)],
            )
            .await
            .unwrap();
    }
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("You are signed in"), "{}", page.text);
    let target = page.text.split("content=\"1;url=").nth(1).unwrap();
    target[..target.find('"').unwrap()].replace("&amp;", "&")
}

pub(crate) async fn token(c: &ApiClient, fields: &[(&str, &str)]) -> Answer {
    c.post_form("/oauth/token", fields).await.unwrap()
}

pub(crate) async fn exchange(c: &ApiClient, code: &str, client_id: &str, verifier: &str) -> Answer {
    token(
        c,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", LOOPBACK),
            ("client_id", client_id),
            ("code_verifier", verifier),
        ],
    )
    .await
}

pub(crate) async fn bearer_me(s: &TestServer, access: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/api/v1/me", s.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

pub(crate) async fn bearer_userinfo(s: &TestServer, access: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/oauth/userinfo", s.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn authlib_completes_discovery_code_pkce_refresh_userinfo_introspection_revocation_and_device_flow()
 {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let redirect = "https://app.example.test/callback";
    let app = ada
        .post(
            "/api/v1/apps",
            json!({"name": "Example Notes", "redirect_uris": [redirect],
                   "scopes": ["openid", "profile", "email", "offline_access"]}),
        )
        .await
        .unwrap();
    assert_eq!(app.status, 201, "{}", app.text);
    let cookie = format!("steward_session={}", ada.cookie("steward_session").unwrap());
    let py = python();
    let out = tokio::process::Command::new(&py)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/oauth/authlib_client.py"
        ))
        .env("STEWARD_BASE", &s.base)
        .env("STEWARD_COOKIE", cookie)
        .env(
            "STEWARD_CLIENT_ID",
            app.json["app"]["client_id"].as_str().unwrap(),
        )
        .env(
            "STEWARD_CLIENT_SECRET",
            app.json["client_secret"].as_str().unwrap(),
        )
        .env("STEWARD_REDIRECT_URI", redirect)
        .env("STEWARD_EMAIL", "ada@example.com")
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!("cannot run {py} ({e}): run scripts/test, which installs Authlib")
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("ok"),
        "authlib: {stdout}\n{stderr}"
    );

    // The grant is remembered, listed as a connected app, and in the disclosure log.
    let apps = ada.get("/api/v1/me/connected-apps").await.unwrap();
    assert_eq!(
        apps.json["apps"][0]["name"], "Example Notes",
        "{}",
        apps.text
    );
    let log = ada.get("/api/v1/me/disclosures").await.unwrap();
    let first = &log.json["disclosures"][0];
    assert_eq!(first["recipient"], "Example Notes");
    assert!(
        first["categories"]
            .as_array()
            .unwrap()
            .contains(&json!("email_address"))
    );
    s.stop().await;
}

#[tokio::test]
async fn bad_authorization_requests_are_refused_where_the_rfcs_say() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let ch = challenge(VERIFIER);
    let with = |k: &'static str, v: &str| {
        let mut p = cli_request(&ch);
        p.retain(|(key, _)| *key != k);
        p.push((k, v.to_owned()));
        p
    };
    let get = |p: Vec<(&'static str, String)>| {
        let c = c.clone();
        async move {
            let pairs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.get(&format!("/oauth/authorize?{}", query(&pairs)))
                .await
                .unwrap()
        }
    };
    // plain PKCE: sent back to the (registered) app as invalid_request.
    let r = get(with("code_challenge_method", "plain")).await;
    assert_eq!(r.status, 303);
    let back = location(&r);
    assert!(
        back.starts_with("http://127.0.0.1:53682/callback?"),
        "{back}"
    );
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    assert_eq!(param(&back, "state").as_deref(), Some("s-1"));
    // A redirect URI that is not registered is never followed.
    for bad in [
        "http://evil.example/callback",
        "http://localhost:53682/callback",
        "http://127.0.0.1:53682/other",
    ] {
        let r = get(with("redirect_uri", bad)).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(location(&r).is_empty(), "no redirect to {bad}");
    }
    let r = get(with("client_id", "no-such-app")).await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("Unknown app"));
    // Finishing after five minutes shows the expired page.
    let r = get(cli_request(&ch)).await;
    let page = location(&r);
    s.advance(time::Duration::minutes(5));
    let r = c.get(&page).await.unwrap();
    assert_eq!(r.status, 410);
    assert!(
        r.text.contains("This sign-in request expired") && r.text.contains("Steward CLI"),
        "{}",
        r.text
    );
    // Requests are stored, so one address cannot make them without limit.
    let mut limited = None;
    for _ in 0..40 {
        let r = get(cli_request(&ch)).await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("rate limited within 40 requests");
    assert!(r.headers.contains_key("retry-after") && r.text.contains("Too many attempts"));
    s.stop().await;
}

#[tokio::test]
async fn token_requests_check_pkce_client_and_single_use() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let app = s.client().unwrap();
    let ch = challenge(VERIFIER);
    let code = param(&authorize(&ada, &cli_request(&ch)).await, "code").unwrap();

    // Wrong verifier: refused (the code stays usable: see oidc.rs).
    let r = exchange(&app, &code, "steward-cli", &"a".repeat(43)).await;
    assert_eq!(
        (r.status.as_u16(), r.json["error"].as_str()),
        (400, Some("invalid_grant")),
        "{}",
        r.text
    );

    // Missing verifier.
    let code = param(&authorize(&ada, &cli_request(&ch)).await, "code").unwrap();
    let r = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", LOOPBACK),
            ("client_id", "steward-cli"),
        ],
    )
    .await;
    assert_eq!(r.json["error"], "invalid_request", "{}", r.text);

    // A code for another client.
    let code = param(&authorize(&ada, &cli_request(&ch)).await, "code").unwrap();
    let r = exchange(&app, &code, "steward-desktop", VERIFIER).await;
    assert_eq!(r.json["error"], "invalid_grant", "{}", r.text);

    // A reused code: refused, and the tokens its first use gave stop working.
    let code = param(&authorize(&ada, &cli_request(&ch)).await, "code").unwrap();
    let first = exchange(&app, &code, "steward-cli", VERIFIER).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let access = first.json["access_token"].as_str().unwrap().to_owned();
    assert_eq!(bearer_me(&s, &access).await, 200);
    let again = exchange(&app, &code, "steward-cli", VERIFIER).await;
    assert_eq!(again.json["error"], "invalid_grant");
    assert_eq!(
        bearer_me(&s, &access).await,
        401,
        "the replay ended the sign-in"
    );

    // Unknown grant types and malformed bodies get OAuth errors, not 500s.
    let r = token(
        &app,
        &[("grant_type", "password"), ("client_id", "steward-cli")],
    )
    .await;
    assert_eq!(r.json["error"], "unsupported_grant_type");
    let r = app
        .send_raw(
            reqwest::Method::POST,
            "/oauth/token",
            "application/x-www-form-urlencoded",
            b"grant_type=a&grant_type=b".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(
        (r.status.as_u16(), r.json["error"].as_str()),
        (400, Some("invalid_request"))
    );
    s.stop().await;
}

#[tokio::test]
async fn an_app_sign_in_is_an_active_session_named_after_the_app_and_revocable_there() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let app = s.client().unwrap();
    let code = param(
        &authorize(&ada, &cli_request(&challenge(VERIFIER))).await,
        "code",
    )
    .unwrap();
    let t = exchange(&app, &code, "steward-cli", VERIFIER).await;
    let access = t.json["access_token"].as_str().unwrap().to_owned();
    let refresh = t.json["refresh_token"].as_str().unwrap().to_owned();
    let list = ada.get("/api/v1/sessions").await.unwrap();
    let sessions = list.json["sessions"].as_array().unwrap();
    let cli: &Value = sessions
        .iter()
        .find(|s| s["device"] == "Steward CLI")
        .expect("listed by app name");
    // The app sees its own session as current.
    let mine = reqwest::Client::new()
        .get(format!("{}/api/v1/sessions", s.base))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(
        mine["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == cli["id"] && x["current"] == true)
    );
    let r = ada
        .delete(&format!("/api/v1/sessions/{}", cli["id"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(r.status, 204);
    assert_eq!(bearer_me(&s, &access).await, 401);
    let r = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "steward-cli"),
        ],
    )
    .await;
    assert_eq!(
        r.json["error"], "invalid_grant",
        "revoking the session ends its refresh chain"
    );
    s.stop().await;
}

/// In Chromium: register an app on Your Apps, sign in to it through the consent
/// screen, see it on Connected Apps with what it received, and remove its access.
#[tokio::test]
async fn a_third_party_app_is_registered_consented_to_listed_and_removed_in_chromium() {
    use crate::cli::{click, sign_in_and_skip_welcome, wait_for};
    use steward_testkit::browser::Browser;
    use thirtyfour::prelude::*;

    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "ada@example.com", "ada").await;
    let browser = Browser::start().await.unwrap();
    let d = &browser.driver;
    d.goto(&format!("{}/developer/apps", s.base)).await.unwrap();
    sign_in_and_skip_welcome(d, "ada").await;
    let redirect = "http://127.0.0.1:9/callback";
    let (client_id, secret) =
        crate::oidc_pages::register_on_page(d, "Example Notes", redirect, None).await;

    let ch = challenge(VERIFIER);
    let q = query(&[
        ("response_type", "code"),
        ("client_id", &client_id),
        ("redirect_uri", redirect),
        ("scope", "openid email"),
        ("state", "xyz"),
        ("code_challenge", &ch),
        ("code_challenge_method", "S256"),
    ]);
    d.goto(&format!("{}/oauth/authorize?{q}", s.base))
        .await
        .unwrap();
    let consent = wait_for(d, &["wants to access your Steward account"]).await;
    assert!(consent.contains("Example Notes") && consent.contains("Your email address"));
    assert!(
        !consent.contains("Your username"),
        "only what was asked for is listed"
    );
    click(d, By::Id("allow")).await;
    wait_for(d, &["You are signed in"]).await;
    let back = d
        .find(By::Css("#oauth-done a.button"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(back.starts_with(redirect) && param(&back, "state").as_deref() == Some("xyz"));
    let code = param(&back, "code").unwrap();
    let http = reqwest::Client::new();
    let t: Value = http
        .post(format!("{}/oauth/token", s.base))
        .basic_auth(&client_id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = t["access_token"].as_str().unwrap().to_owned();
    assert_eq!(bearer_userinfo(&s, &access).await, 200);
    assert_eq!(
        bearer_me(&s, &access).await,
        403,
        "a third-party token does not open the account API"
    );

    d.goto(&format!("{}/account/apps", s.base)).await.unwrap();
    let apps = wait_for(d, &["Connected Apps"]).await;
    assert!(apps.contains("Example Notes") && apps.contains("What was shared"));
    assert!(
        apps.contains("account_id, email_address"),
        "the disclosure log lists the data"
    );
    click(
        d,
        By::Css(format!(
            "form[action='/account/apps/{client_id}/revoke'] button"
        )),
    )
    .await;
    wait_for(d, &["can no longer access your account"]).await;
    assert_eq!(
        bearer_userinfo(&s, &access).await,
        401,
        "its tokens died with the access"
    );
    browser.quit().await.unwrap();
    s.stop().await;
}

#[tokio::test]
async fn registering_an_app_checks_every_field_and_deleting_it_ends_its_sign_ins() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let r = ada
        .post(
            "/api/v1/apps",
            json!({"name": " ", "redirect_uris": ["http://notes.example/cb"],
                   "logo_url": "javascript:alert(1)", "scopes": ["openid", "admin"]}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 422, "{}", r.text);
    for field in ["name", "redirect_uris", "logo_url", "scopes"] {
        assert!(
            r.json["error"]["fields"][field].is_string(),
            "{field}: {}",
            r.text
        );
    }
    let anonymous = s.client().unwrap();
    let r = anonymous
        .post(
            "/api/v1/apps",
            json!({"name": "x", "redirect_uris": [], "scopes": []}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 401);

    let app = ada
        .post(
            "/api/v1/apps",
            json!({"name": "Pocket", "redirect_uris": [LOOPBACK], "scopes": ["openid"], "public": true}),
        )
        .await
        .unwrap();
    assert_eq!(app.status, 201, "{}", app.text);
    assert!(
        app.json["client_secret"].is_null(),
        "a public app has no secret"
    );
    let id = app.json["app"]["client_id"].as_str().unwrap().to_owned();
    let list = ada.get("/api/v1/apps").await.unwrap();
    assert_eq!(list.json["apps"][0]["client_id"], id.as_str());
    let r = ada
        .post(
            "/api/v1/apps",
            json!({"name": "Steward CLI", "redirect_uris": [LOOPBACK], "scopes": ["openid"]}),
        )
        .await
        .unwrap();
    assert_eq!(
        r.status, 422,
        "a third-party app cannot pass for a built-in one"
    );

    // The consent screen shows a registered logo (and only that page lets images
    // from other HTTPS origins load).
    let logo = ada
        .post(
            "/api/v1/apps",
            json!({"name": "Sketch", "redirect_uris": [LOOPBACK], "scopes": ["openid"],
                   "logo_url": "https://cdn.example/sketch.png"}),
        )
        .await
        .unwrap();
    let mut with_logo = cli_request(&challenge(VERIFIER));
    with_logo.retain(|(k, _)| *k != "client_id" && *k != "scope");
    with_logo.push((
        "client_id",
        logo.json["app"]["client_id"].as_str().unwrap().into(),
    ));
    with_logo.push(("scope", "openid".into()));
    let pairs: Vec<(&str, &str)> = with_logo.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let start = ada
        .get(&format!("/oauth/authorize?{}", query(&pairs)))
        .await
        .unwrap();
    let consent = ada.get(&location(&start)).await.unwrap();
    assert!(
        consent
            .text
            .contains("src=\"https://cdn.example/sketch.png\""),
        "{}",
        consent.text
    );
    let csp = consent.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("img-src 'self' data: https:"), "{csp}");
    let home = ada.get("/").await.unwrap();
    assert!(
        home.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("img-src 'self' data:;")
    );

    // A refused request from a third-party app is shown with a link back, not
    // redirected at once (anyone can register an app: no open redirect).
    let mut plain = cli_request(&challenge(VERIFIER));
    plain.retain(|(k, _)| *k != "client_id" && *k != "code_challenge_method");
    plain.push(("client_id", id.clone()));
    plain.push(("code_challenge_method", "plain".into()));
    let pairs: Vec<(&str, &str)> = plain.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = ada
        .get(&format!("/oauth/authorize?{}", query(&pairs)))
        .await
        .unwrap();
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(location(&r).is_empty());
    assert!(r.text.contains("Return to 127.0.0.1") && r.text.contains("error=invalid_request"));

    let mut params = cli_request(&challenge(VERIFIER));
    params.retain(|(k, _)| *k != "client_id" && *k != "scope");
    params.push(("client_id", id.clone()));
    params.push(("scope", "openid".into()));
    let code = param(&authorize(&ada, &params).await, "code").unwrap();
    let t = exchange(&s.client().unwrap(), &code, &id, VERIFIER).await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert!(
        t.json["refresh_token"].is_null(),
        "no offline_access, no refresh token"
    );
    let access = t.json["access_token"].as_str().unwrap().to_owned();
    assert_eq!(bearer_userinfo(&s, &access).await, 200);
    assert_eq!(
        bearer_me(&s, &access).await,
        403,
        "a third-party token does not open the account API"
    );

    let bob = confirmed_account(&s, "bob@example.com", "bob").await;
    assert_eq!(
        bob.delete(&format!("/api/v1/apps/{id}"))
            .await
            .unwrap()
            .status,
        404,
        "not his"
    );
    assert_eq!(
        ada.delete(&format!("/api/v1/apps/{id}"))
            .await
            .unwrap()
            .status,
        204
    );
    assert_eq!(bearer_userinfo(&s, &access).await, 401);
    s.stop().await;
}

#[tokio::test]
async fn rp_initiated_sign_out_asks_then_returns_only_to_a_registered_address() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let back = "https://notes.example/signed-out";
    let app = ada
        .post(
            "/api/v1/apps",
            json!({"name": "Notes", "redirect_uris": ["https://notes.example/cb", back], "scopes": ["openid"]}),
        )
        .await
        .unwrap();
    let id = app.json["app"]["client_id"].as_str().unwrap().to_owned();
    let q = query(&[
        ("client_id", &id),
        ("post_logout_redirect_uri", back),
        ("state", "bye"),
    ]);
    let ask = ada.get(&format!("/oauth/logout?{q}")).await.unwrap();
    assert_eq!(ask.status, 200);
    assert!(
        ask.text.contains("Notes asks to sign you out"),
        "{}",
        ask.text
    );
    assert_eq!(
        crate::common::me(&ada).await.0,
        200,
        "nothing happens before the person agrees"
    );
    let account = crate::common::me(&ada).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = ada
        .post_form(
            "/oauth/logout",
            &[
                ("client_id", &id),
                ("post_logout_redirect_uri", back),
                ("state", "bye"),
                ("as_account", &account),
            ],
        )
        .await
        .unwrap();
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("You are signed out"));
    assert!(
        done.text
            .contains("https://notes.example/signed-out?state=bye"),
        "{}",
        done.text
    );
    assert_eq!(crate::common::me(&ada).await.0, 401);

    // An address the app did not register is not followed.
    let c = confirmed_account(&s, "bob@example.com", "bob").await;
    let bob = crate::common::me(&c).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c
        .post_form(
            "/oauth/logout",
            &[
                ("client_id", &id),
                ("post_logout_redirect_uri", "https://evil.example/"),
                ("as_account", &bob),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 303);
    assert_eq!(location(&r), "/");
    s.stop().await;
}
