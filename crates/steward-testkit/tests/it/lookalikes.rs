//! Text that could pass for something else: app names posing as the built-in apps,
//! and email addresses that look like another account's.

use serde_json::json;
use steward_testkit::TestServer;

use crate::common::confirmed_account;

const LOOPBACK: &str = "http://127.0.0.1/callback";

#[tokio::test]
async fn app_names_that_pose_as_steward_or_hide_characters_are_refused() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let register = |name: &'static str| {
        let ada = ada.clone();
        async move {
            ada.post(
                "/api/v1/apps",
                json!({"name": name, "redirect_uris": [LOOPBACK], "scopes": ["openid"]}),
            )
            .await
            .unwrap()
        }
    };
    for (name, why) in [
        ("Steward CLI", "plainly"),
        ("Ste\u{200B}ward CLI", "a zero-width space inside"),
        ("St\u{0435}ward CLI", "a Cyrillic е"),
        ("ＳＴＥＷＡＲＤ", "fullwidth"),
        ("S t e w a r d", "spaced out"),
        ("\u{0405}\u{0422}\u{0415}WARD", "Cyrillic capitals"),
    ] {
        let r = register(name).await;
        assert_eq!(r.status, 422, "{why}: {}", r.text);
        assert!(r.field("name").is_some(), "{why}: {}", r.text);
    }
    for name in ["Pocket\u{200D}", "Pocket\u{202E}tekcop", "Pocket\u{FEFF}"] {
        let r = register(name).await;
        assert_eq!(r.status, 422, "{name:?}");
        assert!(r.field("name").unwrap().contains("invisible"), "{}", r.text);
    }
    // Honest names, in any script, are fine and kept in NFKC.
    for (name, kept) in [
        ("Stewart's Notes", "Stewart's Notes"),
        ("Записки", "Записки"),
        ("Ｐｏｃｋｅｔ", "Pocket"),
    ] {
        let r = register(name).await;
        assert_eq!(r.status, 201, "{name}: {}", r.text);
        assert_eq!(r.json["app"]["name"], kept);
    }
}
