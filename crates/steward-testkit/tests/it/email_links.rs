//! Emailed links tied to the account's current state: a link works only for the
//! address it was sent to, and a pending email change dies with the credentials
//! or sessions that could have asked for it.

use serde_json::{Value, json};
use steward_testkit::{ApiClient, TestServer};

use crate::common::{PASSWORD, confirmed_account, sign_in};

async fn activity(c: &ApiClient) -> Vec<Value> {
    let r = c.get("/api/v1/me/security-activity").await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["events"].as_array().unwrap().clone()
}

/// Asks to move `c`'s account to `to` and returns the token of the link sent there.
async fn ask_email_change(s: &TestServer, c: &ApiClient, password: &str, to: &str) -> String {
    let before = s
        .smtp
        .messages_to(to)
        .iter()
        .filter(|m| m.subject.contains("Confirm your new"))
        .count();
    let r = c
        .post(
            "/api/v1/me/email",
            json!({"current_password": password, "new_email": to}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text);
    s.smtp
        .wait_for_nth(to, "Confirm your new", before)
        .await
        .unwrap()
        .token(&format!("{}/confirm-email-change", s.base))
        .unwrap()
}

async fn reset_link(s: &TestServer, email: &str) -> String {
    let c = s.client().unwrap();
    let r = c
        .post(
            "/api/v1/recovery/password",
            json!({"email": email, "altcha": c.altcha().await.unwrap()}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text);
    s.smtp
        .wait_for(email, "Reset")
        .await
        .unwrap()
        .token(&format!("{}/reset-password", s.base))
        .unwrap()
}

#[tokio::test]
async fn a_reset_link_mailed_to_the_old_address_dies_with_the_email_change() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    // Someone reading the old mailbox (a shared or lost inbox) holds this link.
    let old_link = reset_link(&s, "ada@example.com").await;
    let token = ask_email_change(&s, &ada, PASSWORD, "ada@new.example").await;
    let r = ada
        .post("/api/v1/me/email/confirm", json!({"token": token}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);

    let page = s
        .client()
        .unwrap()
        .get(&format!("/reset-password?token={old_link}"))
        .await
        .unwrap();
    assert!(
        !page.text.contains("new_password"),
        "the reset page offers no form for the old link"
    );
    let r = s
        .client()
        .unwrap()
        .post(
            "/api/v1/recovery/password/complete",
            json!({"token": old_link, "new_password": "taken over by the old inbox"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.code(), "invalid_token");
    let c = s.client().unwrap();
    assert_eq!(sign_in(&c, "ada", PASSWORD, false).await.status, 200);

    // A link mailed to the new address works.
    let new_link = reset_link(&s, "ada@new.example").await;
    let r = c
        .post(
            "/api/v1/recovery/password/complete",
            json!({"token": new_link, "new_password": "a brand new passphrase 42"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    s.stop().await;
}

#[tokio::test]
async fn a_password_change_or_revoking_all_sessions_cancels_a_pending_email_change() {
    let s = TestServer::start().await.unwrap();
    let owner = confirmed_account(&s, "ada@example.com", "ada").await;
    let thief = s.client_as("Thief/1.0").unwrap();
    assert_eq!(sign_in(&thief, "ada", PASSWORD, true).await.status, 200);

    // With the stolen session, the thief asks to move the account to their address;
    // the owner, warned by the notice, changes the password.
    let token = ask_email_change(&s, &thief, PASSWORD, "eve@evil.example").await;
    let new_password = "the owner's new passphrase";
    let r = owner
        .put(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": new_password}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .client()
        .unwrap()
        .post("/api/v1/me/email/confirm", json!({"token": token}))
        .await
        .unwrap();
    assert_eq!(
        r.status, 400,
        "the thief's link no longer moves the account"
    );
    let events = activity(&owner).await;
    let cancelled = events
        .iter()
        .find(|e| e["kind"] == "email_change_cancelled")
        .expect("the activity says the change was cancelled");
    assert_eq!(cancelled["detail"], "password changed");

    // The same through "Revoke all sessions".
    assert_eq!(sign_in(&thief, "ada", new_password, true).await.status, 200);
    let token = ask_email_change(&s, &thief, new_password, "eve@evil.example").await;
    let r = owner.delete("/api/v1/sessions").await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .client()
        .unwrap()
        .post("/api/v1/me/email/confirm", json!({"token": token}))
        .await
        .unwrap();
    assert_eq!(r.status, 400, "revoking the sessions cancelled it too");
    let events = activity(&owner).await;
    assert!(
        events.iter().any(|e| e["kind"] == "email_change_cancelled"
            && e["detail"] == "all other sessions revoked"),
        "{events:?}"
    );
    let me = crate::common::me(&owner).await.1;
    assert_eq!(me["email"], "ada@example.com");
    s.stop().await;
}
