//! Changing the password while signed in.

use serde_json::json;
use steward_testkit::TestServer;

use crate::common::{PASSWORD, confirmed_account, me, sign_in};

#[tokio::test]
async fn change_needs_the_current_password_ends_other_sessions_and_emails_the_owner() {
    let s = TestServer::start().await.unwrap();
    let here = confirmed_account(&s, "ada@example.com", "ada").await;
    let elsewhere = s.client().unwrap();
    assert_eq!(sign_in(&elsewhere, "ada", PASSWORD, true).await.status, 200);

    let wrong = here
        .put(
            "/api/v1/me/password",
            json!({"current_password": "nope nope nope", "new_password": "a brand new passphrase"}),
        )
        .await
        .unwrap();
    assert_eq!(wrong.status, 422);
    assert_eq!(wrong.code(), "wrong_password");
    assert!(wrong.field("current_password").is_some());
    assert_eq!(me(&elsewhere).await.0, 200, "a failed change ends nothing");

    let weak = here
        .put(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "ada"}),
        )
        .await
        .unwrap();
    assert_eq!(weak.status, 422);
    assert!(weak.field("new_password").is_some());

    let ok = here
        .put(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await
        .unwrap();
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(me(&here).await.0, 200, "this session stays");
    assert_eq!(me(&elsewhere).await.0, 401, "other sessions end");
    let mail = s
        .smtp
        .wait_for("ada@example.com", "password was changed")
        .await
        .unwrap();
    assert!(mail.text.contains("/trouble-signing-in"));
    let c = s.client().unwrap();
    assert_eq!(
        sign_in(&c, "ada", "a brand new passphrase", false)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn change_requires_sign_in() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let r = c
        .put(
            "/api/v1/me/password",
            json!({"current_password": "x", "new_password": "y"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "unauthenticated");
}
