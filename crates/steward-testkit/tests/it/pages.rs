//! The pages over plain HTTP (forms as a browser posts them), for what the browser test does not cover.

use steward_testkit::TestServer;

use crate::common::{PASSWORD, confirmed_account, me};

fn session_cookie(r: &steward_testkit::client::Answer) -> Option<String> {
    r.set_cookies()
        .into_iter()
        .find(|c| c.starts_with("steward_session="))
}

#[tokio::test]
async fn sign_in_form_sets_the_session_and_redirects_to_a_local_next_only() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "ada@example.com", "ada").await;
    let c = s.client().unwrap();
    let r = c
        .post_form(
            "/signin",
            &[
                ("identifier", "ada"),
                ("password", PASSWORD),
                ("remember", "true"),
                ("next", "/settings"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 303);
    // The first sign-in through the page offers "tell us about yourself" first.
    assert_eq!(r.headers["location"], "/welcome?next=%2Fsettings");
    assert!(session_cookie(&r).unwrap().contains("Max-Age="));
    assert_eq!(me(&c).await.0, 200);
    let id = me(&c).await.1["id"].as_str().unwrap().to_owned();
    let welcome = c.get("/welcome?next=%2Fsettings").await.unwrap();
    assert!(
        welcome.text.contains("Tell us about yourself") && welcome.text.contains("Skip for now")
    );
    let r = c
        .post_form(
            "/welcome",
            &[
                ("as_account", &id),
                ("next", "/settings"),
                ("action", "skip"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.headers["location"], "/settings");

    let c = s.client().unwrap();
    let r = c
        .post_form(
            "/signin",
            &[
                ("identifier", "ada"),
                ("password", PASSWORD),
                ("next", "https://evil.example"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.headers["location"], "/");
    assert!(
        !session_cookie(&r).unwrap().contains("Max-Age="),
        "not remembered: a browser-session cookie"
    );
    for sneaky in ["/\t/evil.example", "/\\evil.example", "/%0a/x\n"] {
        let c = s.client().unwrap();
        let r = c
            .post_form(
                "/signin",
                &[
                    ("identifier", "ada"),
                    ("password", PASSWORD),
                    ("next", sneaky),
                ],
            )
            .await
            .unwrap();
        assert_eq!(r.status, 303, "{sneaky:?}");
        assert_eq!(r.headers["location"], "/", "{sneaky:?}");
    }
}

#[tokio::test]
async fn a_wrong_password_shows_one_message_and_keeps_the_identifier() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let r = c
        .post_form(
            "/signin",
            &[
                ("identifier", "someone"),
                ("password", "wrong password here"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Incorrect email/username or password."));
    assert!(r.text.contains("value=\"someone\""));
    assert!(session_cookie(&r).is_none());
}

#[tokio::test]
async fn settings_needs_sign_in_and_changes_the_password() {
    let s = TestServer::start().await.unwrap();
    let anon = s.client().unwrap();
    let r = anon.get("/settings").await.unwrap();
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/signin?next=/settings");

    let c = confirmed_account(&s, "bea@example.com", "bea").await;
    let page = c.get("/settings").await.unwrap();
    assert!(page.text.contains("bea@example.com") && page.text.contains("Confirmed"));
    let id = me(&c).await.1["id"].as_str().unwrap().to_owned();
    assert!(
        page.text
            .contains(&format!("name=\"as_account\" value=\"{id}\""))
    );
    // Filled in as another account (switched in another tab): refused, nothing changed.
    let r = c
        .post_form(
            "/settings/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
                ("as_account", &uuid::Uuid::now_v7().to_string()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 422);
    assert!(r.text.contains("You switched accounts"), "{}", r.text);
    let r = c
        .post_form(
            "/settings/password",
            &[
                ("current_password", "wrong one"),
                ("new_password", "a brand new passphrase"),
                ("as_account", &id),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Your current password is not correct."));
    assert!(r.text.contains("aria-invalid=\"true\""));
    let r = c
        .post_form(
            "/settings/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
                ("as_account", &id),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.text.contains("Your password was changed."));
}

#[tokio::test]
async fn the_confirmation_link_asks_for_a_click_before_using_the_token() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    assert_eq!(
        crate::common::sign_up(&c, "cy@example.com", "cyd", PASSWORD)
            .await
            .status,
        201
    );
    let mail = s
        .smtp
        .wait_for("cy@example.com", "Confirm your")
        .await
        .unwrap();
    let link = mail.link(&format!("{}/verify-email", s.base)).unwrap();
    let token = mail.token(&format!("{}/verify-email", s.base)).unwrap();
    // A mail scanner fetching the link does not confirm anything.
    let page = c.get(link.trim_start_matches(&s.base)).await.unwrap();
    assert!(page.text.contains("Confirm email address"));
    let done = c
        .post_form("/verify-email", &[("token", &token)])
        .await
        .unwrap();
    assert!(done.text.contains("Email confirmed"), "{}", done.text);
    let again = c
        .post_form("/verify-email", &[("token", &token)])
        .await
        .unwrap();
    assert_eq!(again.status, 400);
    assert!(again.text.contains("no longer works"));
}

#[tokio::test]
async fn trouble_signing_in_says_the_same_for_any_address_and_resets_through_the_page() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "di@example.com", "dina").await;
    let c = s.client().unwrap();
    let known = c
        .post_form(
            "/trouble-signing-in",
            &[
                ("email", "di@example.com"),
                ("need", "password"),
                ("altcha", &c.altcha().await.unwrap()),
            ],
        )
        .await
        .unwrap();
    let unknown = c
        .post_form(
            "/trouble-signing-in",
            &[
                ("email", "zz@example.com"),
                ("need", "password"),
                ("altcha", &c.altcha().await.unwrap()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(known.status, 200);
    assert_eq!(known.text, unknown.text);

    let mail = s
        .smtp
        .wait_for("di@example.com", "Reset your")
        .await
        .unwrap();
    let link = mail.link(&format!("{}/reset-password", s.base)).unwrap();
    let token = mail.token(&format!("{}/reset-password", s.base)).unwrap();
    let form = c.get(link.trim_start_matches(&s.base)).await.unwrap();
    assert!(form.text.contains("Choose a new password"));
    let done = c
        .post_form(
            "/reset-password",
            &[
                ("token", &token),
                ("new_password", "another fine passphrase"),
            ],
        )
        .await
        .unwrap();
    assert!(done.text.contains("Password changed"));
    let stale = c.get(link.trim_start_matches(&s.base)).await.unwrap();
    assert_eq!(stale.status, 400);
    assert!(stale.text.contains("no longer works"));
}

#[tokio::test]
async fn the_mailbox_page_is_off_when_smtp_is_configured() {
    let s = TestServer::start().await.unwrap();
    assert_eq!(
        s.client().unwrap().get("/mailbox").await.unwrap().status,
        404
    );
}

/// A DNS-rebinding page: a browser at `http://attacker.example:PORT`, whose name
/// the attacker pointed at 127.0.0.1, reaches the loopback server with the
/// attacker's name in `Host`. It must not read the mailbox's live links.
#[tokio::test]
async fn the_mailbox_page_answers_only_to_the_public_host_and_loopback_names() {
    let s = TestServer::builder()
        .config(|c| c.mail.smtp_url = None)
        .start()
        .await
        .unwrap();
    let port = s.running.addr.port();
    let c = s.client().unwrap();
    let r = crate::common::sign_up(&c, "local@example.com", "local", PASSWORD).await;
    assert_eq!(r.status, 201);
    let with_host = |host: String| {
        let url = format!("{}/mailbox", s.base);
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .header("host", &host)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // The public host (the test server's public URL is http://127.0.0.1:PORT).
    let mut shown = None;
    for _ in 0..100 {
        let (status, text) = with_host(format!("127.0.0.1:{port}")).await;
        if status == 200 && text.contains("Confirm your Steward email address") {
            shown = Some(text);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(shown.is_some(), "the public host is served");
    for host in [
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        format!("LocalHost:{port}"),
    ] {
        let (status, text) = with_host(host.clone()).await;
        assert_eq!(status, 200, "{host}");
        assert!(text.contains("verify-email?token="), "{host}");
    }
    // Any other name, or the right name on another port: the 404 of an unknown page.
    for host in [
        format!("attacker.example:{port}"),
        "attacker.example".to_owned(),
        format!("localhost.attacker.example:{port}"),
        format!("127.0.0.1.attacker.example:{port}"),
        format!("localhost:{}", port.wrapping_add(1)),
        "localhost".to_owned(),
        format!("127.0.0.2:{port}"),
        String::new(),
    ] {
        let (status, text) = with_host(host.clone()).await;
        assert_eq!(status, 404, "Host: {host}");
        assert!(!text.contains("token="), "Host: {host}: {text}");
        assert!(!text.contains("local@example.com"), "Host: {host}");
    }
}

#[tokio::test]
async fn active_sessions_page_lists_and_revokes_and_refuses_a_form_from_another_account() {
    let s = TestServer::start().await.unwrap();
    let web = confirmed_account(&s, "kai@example.com", "kai").await;
    let other = s.client().unwrap();
    assert_eq!(
        crate::common::sign_in(&other, "kai", PASSWORD, false)
            .await
            .status,
        200
    );
    let page = web.get("/account/sessions").await.unwrap();
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Active Sessions") && page.text.contains("This device"));
    assert!(page.text.contains("Revoke all sessions"));
    let list = other.get("/api/v1/sessions").await.unwrap();
    let other_id = list.json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let me_id = me(&web).await.1["id"].as_str().unwrap().to_owned();
    assert!(page.text.contains(&other_id));

    // A form filled in as another account (switched in another tab) changes nothing.
    let r = web
        .post_form(
            &format!("/account/sessions/{other_id}/revoke"),
            &[("as_account", &uuid::Uuid::now_v7().to_string())],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 409);
    assert!(r.text.contains("You switched accounts"), "{}", r.text);
    assert_eq!(me(&other).await.0, 200);

    let r = web
        .post_form(
            &format!("/account/sessions/{other_id}/revoke"),
            &[("as_account", &me_id)],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.text.contains("The session was revoked"));
    assert_eq!(me(&other).await.0, 401);
    let r = web
        .post_form(
            &format!("/account/sessions/{other_id}/revoke"),
            &[("as_account", &me_id)],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 404, "already gone");

    // The activity page shows what happened, newest first.
    let act = web.get("/account/activity").await.unwrap();
    assert_eq!(act.status, 200);
    let revoked = act.text.find("Session revoked").unwrap();
    let created = act.text.find("Account created").unwrap();
    assert!(revoked < created, "newest first");
    // Signed out: both pages send to sign-in.
    let anon = s.client().unwrap();
    for p in ["/account/sessions", "/account/activity"] {
        let r = anon.get(p).await.unwrap();
        assert_eq!(r.status, 303);
        assert!(
            r.headers["location"]
                .to_str()
                .unwrap()
                .starts_with("/signin")
        );
    }
}

#[tokio::test]
async fn the_menu_adds_switches_and_signs_out_accounts_without_javascript() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "lea@example.com", "lea").await;
    confirmed_account(&s, "max@example.com", "max").await;
    let c = s.client().unwrap();
    let sign = |user: &'static str, add: bool| {
        let c = c.clone();
        async move {
            let mut f = vec![("identifier", user), ("password", PASSWORD)];
            if add {
                f.push(("add", "1"));
            }
            c.post_form("/signin", &f).await.unwrap()
        }
    };
    assert_eq!(sign("lea", false).await.status, 303);
    // Signed in, /signin goes home unless adding an account.
    assert_eq!(c.get("/signin").await.unwrap().status, 303);
    let add = c.get("/signin?add=1").await.unwrap();
    assert!(add.text.contains("Add a new account") && add.text.contains("<strong>lea</strong>"));
    assert_eq!(sign("max", true).await.status, 303);
    let home = c.get("/").await.unwrap();
    assert!(home.text.contains("Welcome, max"));
    assert!(
        home.text.contains("data-username=\"lea\""),
        "lea in the switcher"
    );
    let lea_id = c.get("/api/v1/session/accounts").await.unwrap().json["accounts"][1]["account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c
        .post_form(
            "/accounts/switch",
            &[("account_id", &lea_id), ("next", "/settings")],
        )
        .await
        .unwrap();
    assert_eq!(
        (r.status.as_u16(), r.headers["location"].to_str().unwrap()),
        (303, "/settings")
    );
    assert!(c.get("/").await.unwrap().text.contains("Welcome, lea"));
    let r = c
        .post_form("/accounts/switch", &[("account_id", "not-an-id")])
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    // A "Sign out" from a page shown as max, sent now that lea is active: refused.
    let max_id = c.get("/api/v1/session/accounts").await.unwrap().json["accounts"][1]["account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c
        .post_form("/signout", &[("as_account", &max_id)])
        .await
        .unwrap();
    assert_eq!(r.status, 409);
    assert!(r.text.contains("nobody was signed out"));
    assert!(c.get("/").await.unwrap().text.contains("Welcome, lea"));
    // Sign out of lea: max is still signed in, offered on the chooser.
    let r = c
        .post_form("/signout", &[("as_account", &lea_id)])
        .await
        .unwrap();
    assert_eq!(r.headers["location"], "/accounts");
    let chooser = c.get("/accounts").await.unwrap();
    assert!(chooser.text.contains("Continue as <strong>max</strong>"));
    assert_eq!(me(&c).await.0, 401, "not acting as max until chosen");
    let r = c.post_form("/signout", &[("scope", "all")]).await.unwrap();
    assert_eq!(r.headers["location"], "/");
    assert!(
        !c.get("/accounts")
            .await
            .unwrap()
            .text
            .contains("Continue as")
    );
}
