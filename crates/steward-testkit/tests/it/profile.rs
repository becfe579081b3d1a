//! Profiles: editing through the API and the page, and the public page at `/@username`.

use serde_json::json;
use steward_testkit::TestServer;

use crate::common::{confirmed_account, put_photo};

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

fn picture(w: u32, h: u32, format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 200]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn photos_are_checked_re_encoded_and_shown_only_as_the_profile_allows() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;

    // Hostile or wrong uploads: each a specific error, nothing saved.
    let r = put_photo(&ada, b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec()).await;
    assert_eq!(r.status, 422);
    assert!(
        r.json["error"]["fields"]["photo"]
            .as_str()
            .unwrap()
            .contains("PNG, JPEG or WebP")
    );
    let r = put_photo(&ada, b"%PDF-1.7 definitely not a picture".to_vec()).await;
    assert!(
        r.json["error"]["fields"]["photo"]
            .as_str()
            .unwrap()
            .contains("not an image")
    );
    let r = put_photo(&ada, picture(4100, 10, image::ImageFormat::Png)).await;
    assert!(
        r.json["error"]["fields"]["photo"]
            .as_str()
            .unwrap()
            .contains("4100×10"),
        "{}",
        r.text
    );
    let r = put_photo(&ada, vec![0x89; 5 * 1024 * 1024 + 10]).await;
    assert_eq!(r.status, 413, "over 5 MB");
    let png = picture(400, 300, image::ImageFormat::Png);
    let r = put_photo(&ada, png[..png.len() / 2].to_vec()).await;
    assert!(
        r.json["error"]["fields"]["photo"]
            .as_str()
            .unwrap()
            .contains("could not be read")
    );
    assert!(ada.get("/api/v1/me/profile").await.unwrap().json["photo_url"].is_null());

    // A good one becomes square JPEGs.
    let r = put_photo(&ada, picture(400, 300, image::ImageFormat::WebP)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let url = r.json["photo_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/photos/") && url.ends_with("/256.jpg"));
    let got = ada.get(&url).await.unwrap();
    assert_eq!(got.headers["content-type"], "image/jpeg");
    let small = url.replace("256.jpg", "64.jpg");

    // Private profile: the owner sees the photo, nobody else does.
    let stranger = s.client().unwrap();
    assert_eq!(stranger.get(&url).await.unwrap().status, 404);
    let profile = serde_json::json!({"name": "Ada", "public": true});
    assert_eq!(
        ada.put("/api/v1/me/profile", profile).await.unwrap().status,
        200
    );
    assert_eq!(stranger.get(&url).await.unwrap().status, 200, "public now");
    assert_eq!(stranger.get(&small).await.unwrap().status, 200);
    assert!(stranger.get("/@ada").await.unwrap().text.contains(&url));
    assert_eq!(
        stranger
            .get(&url.replace("256.jpg", "999.jpg"))
            .await
            .unwrap()
            .status,
        404
    );

    // Saving the profile keeps the photo; removing it takes it down.
    let r = ada
        .put("/api/v1/me/profile", serde_json::json!({"public": true}))
        .await
        .unwrap();
    assert_eq!(r.json["photo_url"], url.as_str());
    let r = ada.delete("/api/v1/me/profile/photo").await.unwrap();
    assert_eq!(r.status, 200);
    assert!(r.json["photo_url"].is_null());
    assert_eq!(stranger.get(&url).await.unwrap().status, 404);
    s.stop().await;
}

/// In Chromium: upload a photo, make the profile public, see `/@ada` signed out,
/// make it private again, and get "Profile not found".
#[tokio::test]
async fn in_chromium_a_photo_and_a_public_profile_are_seen_signed_out_until_made_private() {
    use crate::cli::{click, sign_in_and_skip_welcome, wait_for};
    use steward_testkit::browser::Browser;
    use thirtyfour::prelude::*;

    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "ada@example.com", "ada").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("me.jpg");
    std::fs::write(&file, picture(640, 480, image::ImageFormat::Jpeg)).unwrap();

    let browser = Browser::start().await.unwrap();
    let d = &browser.driver;
    d.goto(&format!("{}/settings/profile", s.base))
        .await
        .unwrap();
    sign_in_and_skip_welcome(d, "ada").await;
    wait_for(d, &["Upload a photo"]).await;
    d.find(By::Id("photo"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    click(d, By::Id("upload-photo")).await;
    wait_for(d, &["Your profile was updated"]).await;
    let photo = d
        .find(By::Id("current-photo"))
        .await
        .unwrap()
        .attr("src")
        .await
        .unwrap()
        .unwrap();
    d.find(By::Id("name"))
        .await
        .unwrap()
        .send_keys("Ada Lovelace")
        .await
        .unwrap();
    click(d, By::Id("public")).await;
    click(d, By::Id("update-profile")).await;
    wait_for(d, &["Your profile is public"]).await;

    // Signed out (a fresh browser profile): the public page with its photo.
    let visitor = Browser::start().await.unwrap();
    let v = &visitor.driver;
    v.goto(&format!("{}/@ada", s.base)).await.unwrap();
    wait_for(v, &["Ada Lovelace"]).await;
    let img = v.find(By::Css("#public-profile img")).await.unwrap();
    assert_eq!(
        img.attr("src").await.unwrap().as_deref(),
        Some(photo.as_str())
    );
    let loaded: bool = v
        .execute(
            "return document.querySelector('#public-profile img').naturalWidth === 256;",
            vec![],
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    assert!(loaded, "the photo loads for a signed-out visitor");

    // Private again: the visitor gets 404.
    click(d, By::Id("public")).await;
    click(d, By::Id("update-profile")).await;
    wait_for(d, &["Your profile is private"]).await;
    v.refresh().await.unwrap();
    wait_for(v, &["Profile not found"]).await;
    let status: i64 = v
        .execute(
            "const r = await fetch(location.href); return r.status;",
            vec![],
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    assert_eq!(status, 404);
    visitor.quit().await.unwrap();
    browser.quit().await.unwrap();
    s.stop().await;
}

#[tokio::test]
async fn a_username_change_keeps_the_old_name_reserved_and_redirecting_for_30_days() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let bob = confirmed_account(&s, "bob@example.com", "bob").await;
    let r = ada
        .put("/api/v1/me/profile", json!({"name": "Ada", "public": true}))
        .await
        .unwrap();
    assert_eq!(r.status, 200);

    let r = ada
        .put("/api/v1/me/username", json!({"username": "BOB"}))
        .await
        .unwrap();
    assert_eq!(r.status, 409, "taken, whatever the case");
    let r = ada
        .put("/api/v1/me/username", json!({"username": "x"}))
        .await
        .unwrap();
    assert_eq!(r.status, 422);
    let r = ada
        .put("/api/v1/me/username", json!({"username": "Lovelace"}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["username"], "lovelace");
    assert_eq!(
        crate::common::me(&ada).await.1["username"],
        "lovelace",
        "the session goes on"
    );

    let visitor = s.client().unwrap();
    let old = visitor.get("/@ada").await.unwrap();
    assert_eq!(old.status, 307);
    assert_eq!(old.headers["location"], "/@lovelace");
    assert_eq!(visitor.get("/@lovelace").await.unwrap().status, 200);
    let r = bob
        .put("/api/v1/me/username", json!({"username": "ada"}))
        .await
        .unwrap();
    assert_eq!(r.status, 409, "held for its former owner");
    let activity = ada.get("/api/v1/me/security-activity").await.unwrap();
    assert_eq!(activity.json["events"][0]["kind"], "username_changed");
    assert_eq!(activity.json["events"][0]["detail"], "ada → lovelace");

    // Private profile: the old address is a plain 404 (no hint of the rename).
    ada.put("/api/v1/me/profile", json!({"public": false}))
        .await
        .unwrap();
    assert_eq!(visitor.get("/@ada").await.unwrap().status, 404);

    // 30 days on, the name is free.
    s.advance(time::Duration::days(30));
    let bob = s.client().unwrap();
    crate::common::sign_in(&bob, "bob", crate::common::PASSWORD, false).await;
    let r = bob
        .put("/api/v1/me/username", json!({"username": "ada"}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    s.stop().await;
}

#[tokio::test]
async fn the_settings_page_changes_the_username_or_says_why_not() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    confirmed_account(&s, "bob@example.com", "bob").await;
    let id = crate::common::me(&ada).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = ada.get("/settings").await.unwrap();
    assert!(page.text.contains("Change Username") && page.text.contains("30 days"));
    let r = ada
        .post_form(
            "/settings/username",
            &[("as_account", &id), ("username", "bob")],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 422, "forms answer 422 with the reason");
    assert!(r.text.contains("This username is taken") && r.text.contains("value=\"bob\""));
    let r = ada
        .post_form(
            "/settings/username",
            &[("as_account", &id), ("username", "ada_l")],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.text.contains("Your username is now ada_l"), "{}", r.text);
    s.stop().await;
}

async fn sign_in_status(s: &TestServer, identifier: &str) -> u16 {
    let c = s.client().unwrap();
    crate::common::sign_in(&c, identifier, crate::common::PASSWORD, false)
        .await
        .status
        .as_u16()
}

#[tokio::test]
async fn an_email_change_takes_effect_only_through_the_link_sent_to_the_new_address() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let pw = crate::common::PASSWORD;
    let ask = |new: &str, password: &str| json!({"current_password": password, "new_email": new});

    let r = ada
        .post("/api/v1/me/email", ask("ada@new.example", "wrong"))
        .await
        .unwrap();
    assert_eq!(r.code(), "wrong_password");
    let r = ada
        .post("/api/v1/me/email", ask("not an address", pw))
        .await
        .unwrap();
    assert!(
        r.json["error"]["fields"]["new_email"].is_string(),
        "{}",
        r.text
    );
    let r = ada
        .post("/api/v1/me/email", ask("ADA@example.com", pw))
        .await
        .unwrap();
    assert_eq!(r.status, 422, "the same address");

    let r = ada
        .post("/api/v1/me/email", ask("Ada@New.example", pw))
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text);
    let notice = s
        .smtp
        .wait_for("ada@example.com", "is being changed")
        .await
        .unwrap();
    assert!(notice.text.contains("Ada@new.example") && notice.text.contains("/trouble-signing-in"));
    let confirm = s
        .smtp
        .wait_for("Ada@new.example", "Confirm your new")
        .await
        .unwrap();
    let token = confirm
        .token(&format!("{}/confirm-email-change", s.base))
        .unwrap();

    // Nothing changed yet.
    assert_eq!(sign_in_status(&s, "ada@example.com").await, 200);
    assert_eq!(sign_in_status(&s, "ada@new.example").await, 401);

    let anon = s.client().unwrap();
    let r = anon
        .post("/api/v1/me/email/confirm", json!({"token": token}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    let me = crate::common::me(&ada).await.1;
    assert_eq!(
        (me["email"].as_str(), me["email_verified"].as_bool()),
        (Some("Ada@new.example"), Some(true))
    );
    assert_eq!(sign_in_status(&s, "ada@new.example").await, 200);
    assert_eq!(sign_in_status(&s, "ada@example.com").await, 401);
    let r = anon
        .post("/api/v1/me/email/confirm", json!({"token": token}))
        .await
        .unwrap();
    assert_eq!(r.status, 400, "the link works once");
    let activity = ada.get("/api/v1/me/security-activity").await.unwrap();
    let kinds: Vec<&str> = activity.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"email_changed"), "{kinds:?}");

    // Asking for an address another account has: the same answer, and that
    // address's owner is told; no link exists.
    let bob = confirmed_account(&s, "bob@example.com", "bob").await;
    let r = bob
        .post("/api/v1/me/email", ask("ada@new.example", pw))
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    let told = s
        .smtp
        .wait_for("Ada@new.example", "already has")
        .await
        .unwrap();
    assert!(
        told.token(&format!("{}/confirm-email-change", s.base))
            .is_none()
    );
    s.stop().await;
}

#[tokio::test]
async fn a_password_reset_cancels_a_pending_email_change() {
    let s = TestServer::start().await.unwrap();
    let intruder = confirmed_account(&s, "ada@example.com", "ada").await;
    let r = intruder
        .post(
            "/api/v1/me/email",
            json!({"current_password": crate::common::PASSWORD, "new_email": "eve@evil.example"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    let link = s
        .smtp
        .wait_for("eve@evil.example", "Confirm your new")
        .await
        .unwrap();
    let token = link
        .token(&format!("{}/confirm-email-change", s.base))
        .unwrap();

    // The owner follows the notice: a reset through the current address.
    let owner = s.client().unwrap();
    let r = owner
        .post(
            "/api/v1/recovery/password",
            json!({"email": "ada@example.com", "altcha": owner.altcha().await.unwrap()}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    let reset = s.smtp.wait_for("ada@example.com", "Reset").await.unwrap();
    let reset_token = reset.token(&format!("{}/reset-password", s.base)).unwrap();
    let r = owner
        .post(
            "/api/v1/recovery/password/complete",
            json!({"token": reset_token, "new_password": "a brand new passphrase 42"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    let r = owner
        .post("/api/v1/me/email/confirm", json!({"token": token}))
        .await
        .unwrap();
    assert_eq!(r.status, 400, "the intruder's link no longer works");
    s.stop().await;
}

#[tokio::test]
async fn the_settings_page_asks_for_an_email_change_and_the_link_page_confirms_it() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let id = crate::common::me(&ada).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = ada
        .post_form(
            "/settings/email",
            &[
                ("as_account", &id),
                ("new_email", "ada@new.example"),
                ("password", "nope"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 422);
    assert!(
        r.text.contains("Your current password is not correct")
            && r.text.contains("value=\"ada@new.example\"")
    );
    let r = ada
        .post_form(
            "/settings/email",
            &[
                ("as_account", &id),
                ("new_email", "ada@new.example"),
                ("password", crate::common::PASSWORD),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(
        r.text.contains("We sent a link to ada@new.example"),
        "{}",
        r.text
    );
    let mail = s
        .smtp
        .wait_for("ada@new.example", "Confirm your new")
        .await
        .unwrap();
    let link = mail
        .link(&format!("{}/confirm-email-change", s.base))
        .unwrap();
    let token = mail
        .token(&format!("{}/confirm-email-change", s.base))
        .unwrap();
    let path = link.trim_start_matches(&s.base).to_owned();
    let page = ada.get(&path).await.unwrap();
    assert!(page.text.contains("Confirm new email address"));
    let done = ada
        .post_form("/confirm-email-change", &[("token", &token)])
        .await
        .unwrap();
    assert_eq!(done.status, 200);
    assert!(done.text.contains("email address is now ada@new.example"));
    s.stop().await;
}

#[tokio::test]
async fn the_first_sign_in_offers_to_fill_in_name_role_and_company_once() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "ada@example.com", "ada").await;
    let c = s.client().unwrap();
    let signin = |c: steward_testkit::ApiClient| async move {
        c.post_form(
            "/signin",
            &[
                ("identifier", "ada"),
                ("password", crate::common::PASSWORD),
                ("next", "/account/sessions"),
            ],
        )
        .await
        .unwrap()
    };
    let r = signin(c.clone()).await;
    assert_eq!(r.headers["location"], "/welcome?next=%2Faccount%2Fsessions");
    let id = crate::common::me(&c).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bad = "x".repeat(101);
    let r = c
        .post_form(
            "/welcome",
            &[
                ("as_account", &id),
                ("next", "/account/sessions"),
                ("action", "continue"),
                ("name", &bad),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Use at most 100 characters"));
    let r = c
        .post_form(
            "/welcome",
            &[
                ("as_account", &id),
                ("next", "/account/sessions"),
                ("action", "continue"),
                ("name", "Ada Lovelace"),
                ("role", "Analyst"),
                ("company", "Engines Ltd"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.headers["location"], "/account/sessions");
    let p = c.get("/api/v1/me/profile").await.unwrap().json;
    assert_eq!(
        (
            p["name"].as_str(),
            p["role"].as_str(),
            p["company"].as_str()
        ),
        (Some("Ada Lovelace"), Some("Analyst"), Some("Engines Ltd"))
    );
    // Offered once: later sign-ins go straight on, and /welcome steps aside.
    let again = s.client().unwrap();
    assert_eq!(
        signin(again.clone()).await.headers["location"],
        "/account/sessions"
    );
    assert_eq!(
        again.get("/welcome?next=%2F").await.unwrap().headers["location"],
        "/"
    );
    s.stop().await;
}
