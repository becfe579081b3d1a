//! Sign-up, confirmation email, consent records, enumeration safety, concurrency.

use serde_json::json;
use steward_testkit::TestServer;

use crate::common::{PASSWORD, me, sign_in, sign_up};

#[tokio::test]
async fn sign_up_sends_a_confirmation_link_that_confirms_once() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let r = sign_up(&c, "Ada@Example.com", "ada", PASSWORD).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .contains("Check your email")
    );

    let mail = s
        .smtp
        .wait_for("Ada@example.com", "Confirm your Steward email address")
        .await
        .unwrap();
    assert!(mail.from.contains("no-reply@"));
    assert!(mail.html.contains("Confirm email address"));
    let token = mail
        .token(&format!("{}/verify-email?token=", s.base))
        .expect("link in the email");

    // Signed in but unconfirmed: /me says so.
    assert_eq!(sign_in(&c, "ada", PASSWORD, false).await.status, 200);
    assert_eq!(me(&c).await.1["email_verified"], false);

    let ok = c
        .post("/api/v1/accounts/verify-email", json!({"token": token}))
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(me(&c).await.1["email_verified"], true);

    let again = c
        .post("/api/v1/accounts/verify-email", json!({"token": token}))
        .await
        .unwrap();
    assert_eq!(again.status, 400);
    assert_eq!(again.code(), "invalid_token");
}

#[tokio::test]
async fn terms_privacy_and_age_acceptance_are_recorded_with_version_time_and_method() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    assert_eq!(
        sign_up(&c, "bea@example.com", "bea", PASSWORD).await.status,
        201
    );
    let store = s.running.steward.store();
    let account = store
        .account_by_email("bea@example.com")
        .await
        .unwrap()
        .unwrap();
    let consents = store.consents(account.id).await.unwrap();
    let purposes: Vec<_> = consents.iter().map(|c| c.purpose.as_str()).collect();
    assert_eq!(
        purposes,
        ["terms_of_use", "privacy_policy", "age_confirmation"]
    );
    for record in &consents {
        assert!(record.granted);
        assert_eq!(record.method, "api");
        assert_eq!(record.at, account.created_at);
        assert_eq!(record.ip_truncated.as_deref(), Some("127.0.0.0"));
    }
    assert_eq!(consents[0].notice_version, s.config.legal.terms_version);
    assert_eq!(consents[1].notice_version, s.config.legal.privacy_version);
}

#[tokio::test]
async fn a_taken_email_answers_like_success_and_emails_the_owner() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let first = sign_up(&c, "cy@example.com", "cyd", PASSWORD).await;
    let second = sign_up(
        &c,
        "CY@example.com",
        "someone-else",
        "another fine password",
    )
    .await;
    assert_eq!(first.status, second.status);
    assert_eq!(first.json, second.json);
    let notice = s
        .smtp
        .wait_for("cy@example.com", "You already have a Steward account")
        .await
        .unwrap();
    assert!(notice.text.contains("\"cyd\""));
    // No second account was created under the other username.
    assert_eq!(
        sign_in(&c, "someone-else", "another fine password", false)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn a_taken_username_is_a_specific_conflict() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    assert_eq!(
        sign_up(&c, "di@example.com", "dina", PASSWORD).await.status,
        201
    );
    let r = sign_up(&c, "other@example.com", "DINA", PASSWORD).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "username_taken");
    assert!(r.field("username").is_some());
}

#[tokio::test]
async fn every_rule_violation_is_reported_per_field() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let body = json!({
        "email": "not-an-email", "username": "a!", "password": "password",
        "accept_terms": false, "confirm_age": false, "altcha": c.altcha().await.unwrap(),
    });
    let r = c.post("/api/v1/accounts", body).await.unwrap();
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "validation_failed");
    for f in [
        "email",
        "username",
        "password",
        "accept_terms",
        "confirm_age",
    ] {
        assert!(r.field(f).is_some(), "no error for {f}: {}", r.text);
    }
    assert!(r.field("password").unwrap().contains("common"));
}

#[tokio::test]
async fn the_robot_check_is_required_and_single_use() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let base = json!({"email": "ed@example.com", "username": "eddy", "password": PASSWORD, "accept_terms": true, "confirm_age": true});

    let mut missing = base.clone();
    missing["altcha"] = json!("");
    let r = c.post("/api/v1/accounts", missing).await.unwrap();
    assert_eq!((r.status.as_u16(), r.code()), (400, "challenge_failed"));

    let mut forged = base.clone();
    forged["altcha"] = json!("eyJhbGdvcml0aG0iOiJTSEEtMjU2In0=");
    assert_eq!(
        c.post("/api/v1/accounts", forged).await.unwrap().code(),
        "challenge_failed"
    );

    let solution = c.altcha().await.unwrap();
    let mut ok = base.clone();
    ok["altcha"] = json!(solution);
    assert_eq!(
        c.post("/api/v1/accounts", ok.clone()).await.unwrap().status,
        201
    );
    let mut replay = ok;
    replay["email"] = json!("ed2@example.com");
    replay["username"] = json!("eddy2");
    let r = c.post("/api/v1/accounts", replay).await.unwrap();
    assert_eq!(r.code(), "challenge_failed");
    assert!(r.field("altcha").unwrap().contains("already used"));
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let solution = c.altcha().await.unwrap();
    s.advance(time::Duration::minutes(11));
    let body = json!({"email": "fy@example.com", "username": "fyodor", "password": PASSWORD,
        "accept_terms": true, "confirm_age": true, "altcha": solution});
    let r = c.post("/api/v1/accounts", body).await.unwrap();
    assert_eq!(r.code(), "challenge_failed");
    assert!(r.field("altcha").unwrap().contains("expired"));
}

#[tokio::test]
async fn concurrent_sign_ups_of_one_email_make_one_account_and_all_answer_alike() {
    let s = TestServer::builder()
        .config(|c| c.limits.emails_per_address_per_hour = 100)
        .start()
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let c = s.client().unwrap();
        tasks.push(tokio::spawn(async move {
            sign_up(&c, "race@example.com", &format!("racer{i}"), PASSWORD).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().status, 201);
    }
    let confirmations = s
        .smtp
        .wait_for("race@example.com", "Confirm your")
        .await
        .unwrap();
    assert!(confirmations.text.contains("racer"));
    // Exactly one account exists: the other five attempts told the owner instead.
    let owner_notices = s
        .smtp
        .wait_for_nth("race@example.com", "You already have", 4)
        .await
        .unwrap();
    assert!(owner_notices.text.contains("racer"));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(s.smtp.messages_to("race@example.com").len(), 6);
}

#[tokio::test]
async fn a_newer_confirmation_link_voids_the_older_one() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    assert_eq!(
        sign_up(&c, "gil@example.com", "gil", PASSWORD).await.status,
        201
    );
    let first = s
        .smtp
        .wait_for("gil@example.com", "Confirm your")
        .await
        .unwrap();
    assert_eq!(
        sign_in(&c, "gil@example.com", PASSWORD, false).await.status,
        200
    );
    assert_eq!(
        c.post("/api/v1/accounts/verify-email/resend", json!({}))
            .await
            .unwrap()
            .status,
        202
    );
    let second = s
        .smtp
        .wait_for_nth("gil@example.com", "Confirm your", 1)
        .await
        .unwrap();
    let prefix = format!("{}/verify-email", s.base);
    let old = c
        .post(
            "/api/v1/accounts/verify-email",
            json!({"token": first.token(&prefix).unwrap()}),
        )
        .await
        .unwrap();
    assert_eq!(old.code(), "invalid_token");
    let new = c
        .post(
            "/api/v1/accounts/verify-email",
            json!({"token": second.token(&prefix).unwrap()}),
        )
        .await
        .unwrap();
    assert_eq!(new.status, 200);
}

#[tokio::test]
async fn confirmation_links_expire_after_24_hours() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    assert_eq!(
        sign_up(&c, "hal@example.com", "hal", PASSWORD).await.status,
        201
    );
    let mail = s
        .smtp
        .wait_for("hal@example.com", "Confirm your")
        .await
        .unwrap();
    s.advance(time::Duration::hours(24));
    let r = c
        .post(
            "/api/v1/accounts/verify-email",
            json!({"token": mail.token(&format!("{}/verify-email", s.base)).unwrap()}),
        )
        .await
        .unwrap();
    assert_eq!(r.code(), "invalid_token");
}

#[tokio::test]
async fn a_taken_username_answers_the_same_whether_or_not_the_email_has_an_account() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    assert_eq!(
        sign_up(&c, "owner@example.com", "owner", PASSWORD)
            .await
            .status,
        201
    );
    assert_eq!(
        sign_up(&c, "taken@example.com", "taken", PASSWORD)
            .await
            .status,
        201
    );
    // Same taken username; one email is registered, the other is not.
    let registered = sign_up(&c, "owner@example.com", "taken", PASSWORD).await;
    let unknown = sign_up(&c, "stranger@example.com", "taken", PASSWORD).await;
    assert_eq!(
        (registered.status, &registered.json),
        (unknown.status, &unknown.json)
    );
    assert_eq!(registered.code(), "username_taken");
}
