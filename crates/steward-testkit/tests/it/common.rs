//! Helpers shared by the integration tests.

use serde_json::{Value, json};
use steward_testkit::client::Answer;
use steward_testkit::{ApiClient, TestServer};

pub const PASSWORD: &str = "correct horse battery staple";

/// Signs up through the API with a solved challenge.
pub async fn sign_up(c: &ApiClient, email: &str, username: &str, password: &str) -> Answer {
    let body = json!({
        "email": email, "username": username, "password": password,
        "accept_terms": true, "confirm_age": true, "altcha": c.altcha().await.unwrap(),
    });
    c.post("/api/v1/accounts", body).await.unwrap()
}

/// Signs in through the API.
pub async fn sign_in(c: &ApiClient, identifier: &str, password: &str, remember: bool) -> Answer {
    c.post(
        "/api/v1/session",
        json!({"identifier": identifier, "password": password, "remember": remember}),
    )
    .await
    .unwrap()
}

/// Signs up, confirms the email from the delivered message, and returns a signed-in client.
pub async fn confirmed_account(s: &TestServer, email: &str, username: &str) -> ApiClient {
    let c = s.client().unwrap();
    assert_eq!(sign_up(&c, email, username, PASSWORD).await.status, 201);
    let mail = s.smtp.wait_for(email, "Confirm your").await.unwrap();
    let token = mail.token(&format!("{}/verify-email", s.base)).unwrap();
    let r = c
        .post("/api/v1/accounts/verify-email", json!({"token": token}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(sign_in(&c, username, PASSWORD, true).await.status, 200);
    c
}

/// `GET /api/v1/me` status and body.
pub async fn me(c: &ApiClient) -> (u16, Value) {
    let r = c.get("/api/v1/me").await.unwrap();
    (r.status.as_u16(), r.json)
}

/// `PUT /api/v1/me/profile/photo` with `bytes` as the body.
pub async fn put_photo(c: &ApiClient, bytes: Vec<u8>) -> Answer {
    c.send_raw(
        reqwest::Method::PUT,
        "/api/v1/me/profile/photo",
        "image/png",
        bytes,
    )
    .await
    .unwrap()
}

/// The Python interpreter with Authlib and openapi-spec-validator (`scripts/test`
/// makes the venv from `tests/oauth/requirements.txt`).
pub fn python() -> String {
    std::env::var("STEWARD_TEST_PYTHON").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/oauth-venv/bin/python"
        )
        .to_owned()
    })
}

/// A new client signed in to `username` (with the common password).
pub async fn signed_in(s: &TestServer, username: &str) -> ApiClient {
    let c = s.client().unwrap();
    assert_eq!(sign_in(&c, username, PASSWORD, false).await.status, 200);
    c
}
