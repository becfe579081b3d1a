//! Notification preferences, in-app notifications, and one-click unsubscribe.

use serde_json::json;
use steward_core::notify::Unsubscribe;
use steward_testkit::TestServer;

use crate::common::{PASSWORD, confirmed_account, me, sign_in};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

#[tokio::test]
async fn preferences_default_on_are_saved_and_marketing_is_a_recorded_consent() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let p = ada
        .get("/api/v1/me/notification-preferences")
        .await
        .unwrap();
    assert_eq!(p.status, 200);
    let cats = p.json["categories"].as_array().unwrap();
    assert_eq!(cats.len(), 4);
    assert!(
        cats.iter()
            .all(|c| c["email"] == true && c["in_app"] == true)
    );
    assert_eq!(p.json["marketing_email"], false, "marketing is opt-in");
    assert!(p.json["always_sent"].as_array().unwrap().len() >= 3);

    let r = ada
        .put(
            "/api/v1/me/notification-preferences",
            json!({"categories": [{"category": "usage", "email": false, "in_app": true}],
                   "marketing_email": true}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["categories"][1]["email"], false);
    assert_eq!(r.json["categories"][0]["email"], true, "others unchanged");
    assert_eq!(r.json["marketing_email"], true);
    let r = ada
        .put(
            "/api/v1/me/notification-preferences",
            json!({"categories": [{"category": "gossip", "email": false, "in_app": false}]}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 422);

    // The opt-in and a later withdrawal are in the consent ledger, with proof.
    ada.put(
        "/api/v1/me/notification-preferences",
        json!({"marketing_email": false}),
    )
    .await
    .unwrap();
    let id = uuid::Uuid::parse_str(me(&ada).await.1["id"].as_str().unwrap()).unwrap();
    let ledger = s.running.steward.store().consents(id).await.unwrap();
    let marketing: Vec<_> = ledger
        .iter()
        .filter(|c| c.purpose == "marketing_email")
        .collect();
    assert_eq!(marketing.len(), 2);
    assert!(marketing[0].granted && !marketing[1].granted);
    assert_eq!(marketing[0].method, "api");
    assert_eq!(marketing[0].legal_basis, "consent");
    assert!(marketing[0].ip_truncated.is_some() && !marketing[0].notice_version.is_empty());
    s.stop().await;
}

#[tokio::test]
async fn a_new_device_alert_carries_one_click_unsubscribe_and_the_bell_shows_it() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let stranger = s.client_as(FIREFOX).unwrap();
    assert_eq!(sign_in(&stranger, "ada", PASSWORD, false).await.status, 200);
    let mail = s
        .smtp
        .wait_for("ada@example.com", "New sign-in")
        .await
        .unwrap();
    // RFC 8058: an HTTPS-able URL in List-Unsubscribe and the one-click marker.
    let raw = mail.raw.replace("\r\n ", " ");
    let header = raw
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("list-unsubscribe:"))
        .expect("List-Unsubscribe header");
    assert!(
        raw.lines()
            .any(|l| l.trim() == "List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    );
    let url = header
        .split_once('<')
        .unwrap()
        .1
        .trim_end_matches('>')
        .trim()
        .to_owned();
    assert!(
        url.starts_with(&format!("{}/unsubscribe/", s.base)),
        "{url}"
    );
    assert!(mail.text.contains(&url), "the link is in the message too");

    // The bell: one unread notification, listed, then read.
    let list = ada.get("/api/v1/me/notifications").await.unwrap();
    assert_eq!(list.json["unread"], 1, "{}", list.text);
    assert_eq!(list.json["notifications"][0]["category"], "security");
    let page = ada.get("/").await.unwrap();
    assert!(
        page.text.contains("id=\"unread-count\">1<"),
        "the bell shows 1"
    );
    let nid = list.json["notifications"][0]["id"].as_str().unwrap();
    assert_eq!(
        ada.post(&format!("/api/v1/me/notifications/{nid}/read"), json!({}))
            .await
            .unwrap()
            .status,
        204
    );
    assert_eq!(
        ada.get("/api/v1/me/notifications").await.unwrap().json["unread"],
        0
    );
    let other = confirmed_account(&s, "bob@example.com", "bob").await;
    assert_eq!(
        other
            .post(&format!("/api/v1/me/notifications/{nid}/read"), json!({}))
            .await
            .unwrap()
            .status,
        404
    );

    // A mail client's one-click POST: no cookie, no Origin; the alerts stop.
    let path = url.trim_start_matches(&s.base).to_owned();
    let confirm = s.client().unwrap().get(&path).await.unwrap();
    assert!(confirm.text.contains("Stop these emails?"));
    let r = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let prefs = ada
        .get("/api/v1/me/notification-preferences")
        .await
        .unwrap();
    assert_eq!(prefs.json["categories"][0]["email"], false);
    assert_eq!(
        prefs.json["categories"][0]["in_app"], true,
        "only the email stops"
    );

    // Another new device: no email now, but the bell still hears of it.
    let chrome = s.client_as("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36").unwrap();
    assert_eq!(sign_in(&chrome, "ada", PASSWORD, false).await.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let alerts = s
        .smtp
        .messages_to("ada@example.com")
        .into_iter()
        .filter(|m| m.subject.starts_with("New sign-in"))
        .count();
    assert_eq!(alerts, 1);
    assert_eq!(
        ada.get("/api/v1/me/notifications").await.unwrap().json["unread"],
        1
    );

    // Transactional mail keeps coming.
    let c = s.client().unwrap();
    c.post(
        "/api/v1/recovery/password",
        json!({"email": "ada@example.com", "altcha": c.altcha().await.unwrap()}),
    )
    .await
    .unwrap();
    s.smtp.wait_for("ada@example.com", "Reset").await.unwrap();
    let reset_raw = s
        .smtp
        .messages_to("ada@example.com")
        .into_iter()
        .find(|m| m.subject.contains("Reset"))
        .unwrap()
        .raw;
    assert!(
        !reset_raw.to_ascii_lowercase().contains("list-unsubscribe"),
        "transactional"
    );

    // Forged or damaged tokens do nothing.
    let bad = reqwest::Client::new()
        .post(format!("{url}x"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 404);
    s.stop().await;
}

#[tokio::test]
async fn unsubscribing_from_marketing_withdraws_the_consent() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    ada.put(
        "/api/v1/me/notification-preferences",
        json!({"marketing_email": true}),
    )
    .await
    .unwrap();
    let id = uuid::Uuid::parse_str(me(&ada).await.1["id"].as_str().unwrap()).unwrap();
    let url = s
        .running
        .steward
        .unsubscribe_url(id, Unsubscribe::Marketing)
        .await
        .unwrap();
    let r = reqwest::Client::new()
        .post(&url)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let prefs = ada
        .get("/api/v1/me/notification-preferences")
        .await
        .unwrap();
    assert_eq!(prefs.json["marketing_email"], false);
    let last = s
        .running
        .steward
        .store()
        .consents(id)
        .await
        .unwrap()
        .into_iter()
        .last()
        .unwrap();
    assert_eq!(
        (last.purpose.as_str(), last.granted, last.method.as_str()),
        ("marketing_email", false, "unsubscribe_link")
    );
    s.stop().await;
}

#[tokio::test]
async fn the_preferences_page_saves_the_matrix() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let id = me(&ada).await.1["id"].as_str().unwrap().to_owned();
    let page = ada.get("/settings/notifications").await.unwrap();
    assert!(page.text.contains("Update Preferences") && page.text.contains("Always sent"));
    // Only the ticked boxes are sent, as a browser does.
    let r = ada
        .post_form(
            "/settings/notifications",
            &[
                ("as_account", &id),
                ("security_email", "true"),
                ("comments_in_app", "true"),
                ("marketing_email", "true"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 303);
    let p = ada
        .get("/api/v1/me/notification-preferences")
        .await
        .unwrap()
        .json;
    let row = |i: usize| {
        (
            p["categories"][i]["email"].as_bool().unwrap(),
            p["categories"][i]["in_app"].as_bool().unwrap(),
        )
    };
    assert_eq!(row(0), (true, false));
    assert_eq!(row(1), (false, false));
    assert_eq!(row(3), (false, true));
    assert_eq!(p["marketing_email"], true);
    let saved = ada.get("/settings/notifications?saved=1").await.unwrap();
    assert!(saved.text.contains("Your preferences were updated"));
    s.stop().await;
}
