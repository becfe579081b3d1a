//! Profiles: editing through the API and the page, and the public page at `/@username`.

use serde_json::json;
use steward_testkit::TestServer;

use crate::common::confirmed_account;

#[tokio::test]
async fn a_profile_is_saved_whole_or_not_at_all_and_public_only_when_asked() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let empty = ada.get("/api/v1/me/profile").await.unwrap();
    assert_eq!(empty.status, 200);
    assert_eq!(empty.json["username"], "ada");
    assert_eq!(empty.json["public"], false);

    let good = json!({"name": "Ada Lovelace", "about": "Writes <b>programs</b> & poems",
        "role": "Analyst", "company": "Engines Ltd",
        "links": {"website": "https://ada.example", "github": "https://github.com/ada"}});
    let r = ada.put("/api/v1/me/profile", good.clone()).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["links"]["website"], "https://ada.example/");

    // Private: nobody sees it, and it looks like no account at all.
    let stranger = s.client().unwrap();
    let private = stranger.get("/@ada").await.unwrap();
    assert_eq!(private.status, 404);
    assert_eq!(stranger.get("/@nobody").await.unwrap().text, private.text);

    let mut public = good.clone();
    public["public"] = json!(true);
    assert_eq!(
        ada.put("/api/v1/me/profile", public).await.unwrap().status,
        200
    );
    let page = stranger.get("/@Ada").await.unwrap();
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Ada Lovelace") && page.text.contains("Engines Ltd"));
    assert!(
        page.text.contains("programs") && !page.text.contains("<b>programs"),
        "rendered escaped, never as HTML"
    );
    assert!(page.text.contains("href=\"https://github.com/ada\""));
    assert!(!page.text.contains("ada@example.com"), "no private field");

    // A bad field saves nothing: the public profile is unchanged.
    let r = ada
        .put(
            "/api/v1/me/profile",
            json!({"name": "x".repeat(101), "links": {"github": "https://evil.example/ada",
                   "website": "javascript:alert(1)"}, "public": false}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 422, "{}", r.text);
    for field in ["name", "github", "website"] {
        assert!(
            r.json["error"]["fields"][field].is_string(),
            "{field}: {}",
            r.text
        );
    }
    assert_eq!(stranger.get("/@ada").await.unwrap().status, 200);
    assert_eq!(
        stranger.get("/api/v1/me/profile").await.unwrap().status,
        401
    );
    s.stop().await;
}

#[tokio::test]
async fn the_profile_page_saves_and_shows_errors_with_what_was_typed() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let me = crate::common::me(&ada).await.1;
    let id = me["id"].as_str().unwrap();
    let page = ada.get("/settings/profile").await.unwrap();
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Update Profile") && page.text.contains("Make profile public"));
    let r = ada
        .post_form(
            "/settings/profile",
            &[
                ("as_account", id),
                ("name", "Ada"),
                ("x", "https://x.com/ada"),
                ("public", "true"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 303);
    let saved = ada.get("/settings/profile?saved=1").await.unwrap();
    assert!(saved.text.contains("Your profile was updated") && saved.text.contains("/@ada"));
    let r = ada
        .post_form(
            "/settings/profile",
            &[
                ("as_account", id),
                ("name", "Ada L."),
                ("linkedin", "ftp://linkedin.com/in/ada"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 422);
    assert!(
        r.text.contains("value=\"Ada L.\""),
        "what was typed is kept"
    );
    assert!(
        r.text.contains("Enter an https://linkedin.com/… address"),
        "{}",
        r.text
    );
    let shown = s.client().unwrap().get("/@ada").await.unwrap();
    assert!(
        shown.text.contains(">Ada <") || shown.text.contains("Ada <span"),
        "unchanged: {}",
        shown.text
    );
    s.stop().await;
}
