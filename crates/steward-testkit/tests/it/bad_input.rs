//! Malformed, mistyped, oversized, hostile and forged input: specific errors, nothing half-written.

use reqwest::Method;
use serde_json::json;
use steward_testkit::TestServer;

use crate::common::{PASSWORD, confirmed_account, me, sign_up};

#[tokio::test]
async fn malformed_json_is_a_specific_400() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    for body in [
        &b"{not json"[..],
        b"",
        b"[]",
        b"{\"identifier\": 5, \"password\": \"x\"}",
    ] {
        let r = c
            .send_raw(
                Method::POST,
                "/api/v1/session",
                "application/json",
                body.to_vec(),
            )
            .await
            .unwrap();
        assert_eq!(
            r.status,
            400,
            "{:?}: {}",
            String::from_utf8_lossy(body),
            r.text
        );
        assert_eq!(r.code(), "malformed_request");
    }
}

#[tokio::test]
async fn missing_and_unknown_fields_are_named() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let r = c
        .post("/api/v1/session", json!({"password": "x"}))
        .await
        .unwrap();
    assert_eq!(r.code(), "malformed_request");
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("identifier"),
        "{}",
        r.text
    );
    let r = c
        .post(
            "/api/v1/session",
            json!({"identifier": "a", "password": "b", "admin": true}),
        )
        .await
        .unwrap();
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("admin"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn invalid_utf8_is_refused() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let r = c
        .send_raw(
            Method::POST,
            "/api/v1/session",
            "application/json",
            b"{\"identifier\":\"\xff\xfe\",\"password\":\"x\"}".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "malformed_request");
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let r = c
        .send_raw(
            Method::POST,
            "/api/v1/session",
            "text/plain",
            b"{}".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 415);
    assert_eq!(r.code(), "unsupported_media_type");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let huge = format!(
        "{{\"identifier\":\"{}\",\"password\":\"x\"}}",
        "a".repeat(100 * 1024)
    );
    let r = c
        .send_raw(
            Method::POST,
            "/api/v1/session",
            "application/json",
            huge.into_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 413);
    assert_eq!(r.code(), "payload_too_large");
}

#[tokio::test]
async fn overlong_fields_get_field_errors_and_create_nothing() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let long_email = format!("{}@example.com", "a".repeat(300));
    let r = sign_up(&c, &long_email, &"u".repeat(60), &"p".repeat(300)).await;
    assert_eq!(r.status, 422);
    for f in ["email", "username", "password"] {
        assert!(r.field(f).is_some(), "{f}: {}", r.text);
    }
    assert_eq!(s.running.steward.store().pending_mail().await.unwrap(), 0);
    // A long identifier or password at sign-in is just wrong credentials.
    let r = crate::common::sign_in(&c, &"x".repeat(5000), &"y".repeat(5000), false).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn forged_and_malformed_tokens_are_invalid_not_errors() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    for token in [
        "",
        "short",
        &"A".repeat(43),
        &"x".repeat(10_000),
        "../../etc/passwd",
        "' OR 1=1 --",
    ] {
        let r = c
            .post("/api/v1/accounts/verify-email", json!({"token": token}))
            .await
            .unwrap();
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "invalid_token"),
            "{token:?}"
        );
        let r = c
            .post(
                "/api/v1/recovery/password/complete",
                json!({"token": token, "new_password": PASSWORD}),
            )
            .await
            .unwrap();
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "invalid_token"),
            "{token:?}"
        );
    }
}

#[tokio::test]
async fn forged_session_cookies_are_unauthenticated() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    for cookie in [
        "steward_session=",
        "steward_session=forged",
        &format!("steward_session={}", "B".repeat(43)),
    ] {
        let r = c
            .http
            .get(format!("{}/api/v1/me", s.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{cookie}");
    }
}

#[tokio::test]
async fn html_in_fields_is_refused_or_escaped_never_rendered() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    let r = sign_up(&c, "<script>@example.com", "<b>x</b>", PASSWORD).await;
    assert_eq!(r.status, 422);
    // On the page, the submitted value comes back escaped.
    let page = c
        .post_form(
            "/signup",
            &[
                ("email", "\"><script>alert(1)</script>"),
                ("username", "x"),
                ("password", "p"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(page.status, 422);
    assert!(!page.text.contains("<script>alert(1)</script>"));
    assert!(
        page.text.contains("&#34;&#62;&#60;script&#62;")
            || page.text.contains("&quot;&gt;&lt;script&gt;"),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn cross_site_state_changes_are_refused() {
    let s = TestServer::start().await.unwrap();
    let c = confirmed_account(&s, "ada@example.com", "ada").await;
    let evil = c
        .http
        .delete(format!("{}/api/v1/session", s.base))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    let evil = c
        .http
        .post(format!("{}/signout", s.base))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    assert_eq!(me(&c).await.0, 200, "still signed in");
    let same = c
        .http
        .delete(format!("{}/api/v1/session", s.base))
        .header("origin", &s.base)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 204);
}

#[tokio::test]
async fn a_failed_sign_up_leaves_nothing_behind() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    assert_eq!(
        sign_up(&c, "one@example.com", "taken", PASSWORD)
            .await
            .status,
        201
    );
    let r = sign_up(&c, "two@example.com", "taken", PASSWORD).await;
    assert_eq!(r.status, 409);
    assert!(
        s.running
            .steward
            .store()
            .account_by_email("two@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn unknown_api_paths_are_json_404s() {
    let s = TestServer::start().await.unwrap();
    let r = s.client().unwrap().get("/api/v1/nope").await.unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_found");
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405() {
    let s = TestServer::start().await.unwrap();
    let r = s
        .client()
        .unwrap()
        .send(Method::PATCH, "/api/v1/session", None)
        .await
        .unwrap();
    assert_eq!(r.status, 405);
    assert_eq!(r.code(), "method_not_allowed");
}
