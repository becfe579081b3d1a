//! Trouble signing in: password reset and username reminder.

use serde_json::json;
use steward_testkit::{ApiClient, TestServer};

use crate::common::{PASSWORD, confirmed_account, me, sign_in};

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn ask_reset(s: &TestServer, email: &str) -> steward_testkit::client::Answer {
    let c = s.client().unwrap();
    c.post(
        "/api/v1/recovery/password",
        json!({"email": email, "altcha": c.altcha().await.unwrap()}),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn reset_link_sets_a_new_password_and_signs_out_everywhere() {
    let s = TestServer::start().await.unwrap();
    let old_session = confirmed_account(&s, "ada@example.com", "ada").await;
    let r = ask_reset(&s, "ADA@example.com").await;
    assert_eq!(r.status, 202);
    let mail = s
        .smtp
        .wait_for("ada@example.com", "Reset your Steward password")
        .await
        .unwrap();
    let token = mail
        .token(&format!("{}/reset-password?token=", s.base))
        .unwrap();

    let c = s.client().unwrap();
    let done = c
        .post(
            "/api/v1/recovery/password/complete",
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await
        .unwrap();
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(me(&old_session).await.0, 401, "every session ended");
    assert_eq!(sign_in(&c, "ada", PASSWORD, false).await.status, 401);
    assert_eq!(sign_in(&c, "ada", NEW_PASSWORD, false).await.status, 200);
    s.smtp
        .wait_for("ada@example.com", "password was changed")
        .await
        .unwrap();

    let reuse = c
        .post(
            "/api/v1/recovery/password/complete",
            json!({"token": token, "new_password": "yet another passphrase"}),
        )
        .await
        .unwrap();
    assert_eq!(reuse.code(), "invalid_token");
}

#[tokio::test]
async fn reset_links_expire_after_an_hour_and_newer_links_void_older_ones() {
    let s = TestServer::builder()
        .config(|c| c.limits.emails_per_address_per_hour = 100)
        .start()
        .await
        .unwrap();
    confirmed_account(&s, "bea@example.com", "bea").await;
    ask_reset(&s, "bea@example.com").await;
    let first = s
        .smtp
        .wait_for_nth("bea@example.com", "Reset your", 0)
        .await
        .unwrap();
    ask_reset(&s, "bea@example.com").await;
    let second = s
        .smtp
        .wait_for_nth("bea@example.com", "Reset your", 1)
        .await
        .unwrap();
    let prefix = format!("{}/reset-password", s.base);
    let c = s.client().unwrap();

    let old = c
        .post(
            "/api/v1/recovery/password/complete",
            json!({"token": first.token(&prefix).unwrap(), "new_password": NEW_PASSWORD}),
        )
        .await
        .unwrap();
    assert_eq!(old.code(), "invalid_token", "voided by the newer link");

    s.advance(time::Duration::minutes(60));
    let late = c
        .post(
            "/api/v1/recovery/password/complete",
            json!({"token": second.token(&prefix).unwrap(), "new_password": NEW_PASSWORD}),
        )
        .await
        .unwrap();
    assert_eq!(late.code(), "invalid_token", "expired after an hour");
    assert_eq!(
        sign_in(&c, "bea", PASSWORD, false).await.status,
        200,
        "password unchanged"
    );
}

#[tokio::test]
async fn recovery_answers_the_same_whether_or_not_the_account_exists() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "cy@example.com", "cyd").await;
    let known = ask_reset(&s, "cy@example.com").await;
    let unknown = ask_reset(&s, "nobody@example.com").await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.json, unknown.json);
    s.smtp
        .wait_for("cy@example.com", "Reset your")
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        s.smtp.messages_to("nobody@example.com").is_empty(),
        "no mail to unknown addresses"
    );

    let c = s.client().unwrap();
    let known = c
        .post(
            "/api/v1/recovery/username",
            json!({"email": "cy@example.com", "altcha": c.altcha().await.unwrap()}),
        )
        .await
        .unwrap();
    let unknown = c
        .post(
            "/api/v1/recovery/username",
            json!({"email": "ghost@example.com", "altcha": c.altcha().await.unwrap()}),
        )
        .await
        .unwrap();
    assert_eq!((known.status, &known.json), (unknown.status, &unknown.json));
}

#[tokio::test]
async fn username_reminder_emails_the_username() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "di@example.com", "di-the-first").await;
    let c = s.client().unwrap();
    let r = c
        .post(
            "/api/v1/recovery/username",
            json!({"email": "di@example.com", "altcha": c.altcha().await.unwrap()}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    let mail = s
        .smtp
        .wait_for("di@example.com", "Your Steward username")
        .await
        .unwrap();
    assert!(mail.text.contains("di-the-first"));
}

#[tokio::test]
async fn recovery_requires_the_robot_check() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let r = c
        .post(
            "/api/v1/recovery/password",
            json!({"email": "x@example.com", "altcha": ""}),
        )
        .await
        .unwrap();
    assert_eq!(r.code(), "challenge_failed");
}

#[tokio::test]
async fn a_reset_with_a_weak_password_changes_nothing_and_keeps_the_link_usable() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "ed@example.com", "eddy").await;
    ask_reset(&s, "ed@example.com").await;
    let token = s
        .smtp
        .wait_for("ed@example.com", "Reset your")
        .await
        .unwrap()
        .token(&format!("{}/reset-password", s.base))
        .unwrap();
    let c = s.client().unwrap();
    let weak = c
        .post(
            "/api/v1/recovery/password/complete",
            json!({"token": token, "new_password": "password1"}),
        )
        .await
        .unwrap();
    assert_eq!(weak.status, 422);
    assert!(weak.field("new_password").is_some());
    let ok = c
        .post(
            "/api/v1/recovery/password/complete",
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn concurrent_completions_of_one_link_succeed_once() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "fy@example.com", "fyodor").await;
    ask_reset(&s, "fy@example.com").await;
    let token = s
        .smtp
        .wait_for("fy@example.com", "Reset your")
        .await
        .unwrap()
        .token(&format!("{}/reset-password", s.base))
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..4 {
        let c = s.client().unwrap();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            c.post(
                "/api/v1/recovery/password/complete",
                json!({"token": token, "new_password": format!("winner number {i} here")}),
            )
            .await
            .unwrap()
            .status
            .as_u16()
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    codes.sort_unstable();
    assert_eq!(codes, [200, 400, 400, 400]);
}

#[tokio::test]
async fn a_stranger_using_up_the_email_quota_cannot_stop_the_owners_reset() {
    let s = TestServer::builder()
        .config(|c| c.limits.credential_per_ip_per_minute = 1000)
        .start()
        .await
        .unwrap();
    let owner = confirmed_account(&s, "ada@example.com", "ada").await; // a device cookie now
    let ask = |c: ApiClient, altcha: String| async move {
        c.post(
            "/api/v1/recovery/password",
            json!({"email": "ada@example.com", "altcha": altcha}),
        )
        .await
        .unwrap()
    };
    // A stranger mail-bombs: the sign-up took one of five, four more go out.
    let stranger = s.client().unwrap();
    for _ in 0..4 {
        let r = ask(stranger.clone(), stranger.altcha().await.unwrap()).await;
        assert_eq!(r.status, 202);
    }
    s.smtp
        .wait_for_nth("ada@example.com", "Reset", 3)
        .await
        .unwrap();
    let r = ask(stranger.clone(), stranger.altcha().await.unwrap()).await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.code(), "email_quota_exceeded");
    assert!(r.headers.get("retry-after").is_some());
    assert!(r.field("altcha").unwrap().contains("strength=strong"));

    // The owner's browser signed in before: its request still gets the mail.
    let r = ask(owner.clone(), owner.altcha().await.unwrap()).await;
    assert_eq!(r.status, 202, "{}", r.text);
    s.smtp
        .wait_for_nth("ada@example.com", "Reset", 4)
        .await
        .unwrap();
    // So does anyone who does the longer check (the owner on a new phone, say).
    let phone = s.client().unwrap();
    let r = ask(phone.clone(), phone.strong_altcha().await.unwrap()).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let mail = s
        .smtp
        .wait_for_nth("ada@example.com", "Reset", 5)
        .await
        .unwrap();
    let token = mail.token(&format!("{}/reset-password", s.base)).unwrap();
    let r = phone
        .post(
            "/api/v1/recovery/password/complete",
            json!({"token": token, "new_password": "ada's recovered passphrase"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);

    // An unknown address over its quota is answered the same way.
    for _ in 0..5 {
        stranger
            .post(
                "/api/v1/recovery/password",
                json!({"email": "ghost@example.com", "altcha": stranger.altcha().await.unwrap()}),
            )
            .await
            .unwrap();
    }
    let ghost = stranger
        .post(
            "/api/v1/recovery/password",
            json!({"email": "ghost@example.com", "altcha": stranger.altcha().await.unwrap()}),
        )
        .await
        .unwrap();
    let ada = ask(stranger.clone(), stranger.altcha().await.unwrap()).await;
    assert_eq!((ghost.status, &ghost.json), (ada.status, &ada.json));
}

#[tokio::test]
async fn past_the_quota_the_page_offers_the_longer_robot_check() {
    let s = TestServer::builder()
        .config(|c| c.limits.emails_per_address_per_hour = 1)
        .start()
        .await
        .unwrap();
    let c = s.client().unwrap();
    for expected in [200, 429] {
        let altcha = c.altcha().await.unwrap();
        let r = c
            .post_form(
                "/trouble-signing-in",
                &[
                    ("email", "ada@example.com"),
                    ("need", "password"),
                    ("altcha", &altcha),
                ],
            )
            .await
            .unwrap();
        assert_eq!(r.status, expected, "{}", r.text);
        if expected == 429 {
            assert!(
                r.text.contains("/api/v1/challenge?strength=strong"),
                "{}",
                r.text
            );
            assert!(r.text.contains("longer puzzle"));
        } else {
            assert!(!r.text.contains("strength=strong"));
        }
    }
    let strong = c.strong_altcha().await.unwrap();
    let r = c
        .post_form(
            "/trouble-signing-in",
            &[
                ("email", "ada@example.com"),
                ("need", "password"),
                ("altcha", &strong),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Check your email"));
}
