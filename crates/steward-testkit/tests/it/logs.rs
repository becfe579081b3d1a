//! What the server writes to its log: route templates, never the secrets that
//! some paths carry.

use steward_testkit::{Logs, TestServer};

use crate::common::{PASSWORD, confirmed_account, sign_in};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

#[tokio::test]
async fn request_logs_name_the_route_not_the_secret_in_its_path() {
    let logs = Logs::capture();
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;

    // A real authorization request: its page lives at /oauth/authorize/{handle}.
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", "steward-cli"),
            ("redirect_uri", "http://127.0.0.1:53682/callback"),
            ("scope", "openid email"),
            ("state", "s-1"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let start = ada.get(&format!("/oauth/authorize?{query}")).await.unwrap();
    assert_eq!(start.status, 303, "{}", start.text);
    let page = start.headers["location"].to_str().unwrap().to_owned();
    let handle = page.strip_prefix("/oauth/authorize/").unwrap().to_owned();
    assert!(handle.len() >= 20, "{handle}");
    // Ada signed in just now, so the first-party CLI is let through at once;
    // posting the form again finds the request completed.
    let shown = ada.get(&page).await.unwrap();
    assert!(shown.text.contains("You are signed in"), "{}", shown.text);
    let account = shown
        .text
        .split("name=\"as_account\" value=\"")
        .nth(1)
        .unwrap();
    let account = &account[..account.find('"').unwrap()];
    let again = ada
        .post_form(&page, &[("decision", "allow"), ("as_account", account)])
        .await
        .unwrap();
    assert!(again.text.contains("already completed"), "{}", again.text);

    // A real unsubscribe link, from a new-device alert.
    let firefox = s.client_as(FIREFOX).unwrap();
    assert_eq!(sign_in(&firefox, "ada", PASSWORD, false).await.status, 200);
    let mail = s
        .smtp
        .wait_for("ada@example.com", "New sign-in")
        .await
        .unwrap();
    let link = mail.link(&format!("{}/unsubscribe/", s.base)).unwrap();
    let path = link.strip_prefix(&s.base).unwrap().to_owned();
    let token = path.strip_prefix("/unsubscribe/").unwrap().to_owned();
    assert!(token.len() >= 20, "{token}");
    let stranger = s.client().unwrap();
    assert_eq!(stranger.get(&path).await.unwrap().status, 200);
    let r = stranger
        .post_form(&path, &[("List-Unsubscribe", "One-Click")])
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    // A path no route matches logs nothing of itself either.
    let unmatched = stranger.get(&format!("{path}/extra")).await.unwrap();
    assert_eq!(unmatched.status, 404);
    s.stop().await;

    let text = logs.text();
    for (what, secret) in [
        ("authorization handle", &handle),
        ("unsubscribe token", &token),
    ] {
        let leaks: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(secret.as_str()))
            .collect();
        assert!(leaks.is_empty(), "the {what} is in the log: {leaks:#?}");
    }
    assert!(
        text.contains("/oauth/authorize/{handle}") && text.contains("/unsubscribe/{token}"),
        "the route templates are logged: {text}"
    );
    assert!(text.contains("unmatched"), "{text}");
}
