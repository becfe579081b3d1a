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
        ("S\u{03C4}eward", "a Greek τ"),
        ("Stevvard", "vv for w"),
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

#[tokio::test]
async fn a_look_alike_address_makes_no_second_account_and_its_owner_is_told() {
    let s = TestServer::builder()
        .config(|c| c.limits.credential_per_ip_per_minute = 1000)
        .start()
        .await
        .unwrap();
    confirmed_account(&s, "ada@example.com", "ada").await;
    let c = s.client().unwrap();
    for (n, twin) in [
        "\u{0430}da@example.com",       // Cyrillic а
        "ＡＤＡ@ＥＸＡＭＰＬＥ.ＣＯＭ", // fullwidth
        "ada@ex\u{0430}mple.com",       // Cyrillic а in the domain
    ]
    .into_iter()
    .enumerate()
    {
        let username = format!("twin{n}");
        let r = crate::common::sign_up(&c, twin, &username, crate::common::PASSWORD).await;
        assert_eq!(
            r.status, 201,
            "the same answer as for a new address: {}",
            r.text
        );
        // The real owner hears of it; nothing was created.
        s.smtp
            .wait_for_nth("ada@example.com", "already have", n)
            .await
            .unwrap();
        let r = crate::common::sign_in(&c, &username, crate::common::PASSWORD, false).await;
        assert_eq!(r.status, 401, "{twin:?} made an account");
    }
    // Capitals of other scripts that look Latin only in upper case: Cyrillic Т, М, Н.
    confirmed_account(&s, "tom.mh@example.com", "tommh").await;
    let r = crate::common::sign_up(
        &c,
        "\u{0422}om.\u{041C}\u{041D}@example.com",
        "tomtwin",
        crate::common::PASSWORD,
    )
    .await;
    assert_eq!(r.status, 201);
    s.smtp
        .wait_for("tom.mh@example.com", "already have")
        .await
        .unwrap();
    assert_eq!(
        crate::common::sign_in(&c, "tomtwin", crate::common::PASSWORD, false)
            .await
            .status,
        401
    );
    // An IDN written in Unicode or in punycode is one domain; mail goes out in
    // punycode, as SMTP carries it, and the address is shown in Unicode.
    confirmed_account(&s, "ben@xn--bcher-kva.example", "ben").await;
    let ben = crate::common::signed_in(&s, "ben").await;
    assert_eq!(
        crate::common::me(&ben).await.1["email"],
        "ben@bücher.example"
    );
    let r = crate::common::sign_up(&c, "ben@Bücher.example", "ben2", crate::common::PASSWORD).await;
    assert_eq!(r.status, 201);
    s.smtp
        .wait_for("ben@xn--bcher-kva.example", "already have")
        .await
        .unwrap();
    assert_eq!(
        crate::common::sign_in(&c, "ben2", crate::common::PASSWORD, false)
            .await
            .status,
        401
    );
    // The owner signs in with any spelling of their address.
    for spelling in ["ＡＤＡ@example.com", "\u{0430}da@example.com", "ａｄａ"] {
        let r = crate::common::sign_in(
            &s.client().unwrap(),
            spelling,
            crate::common::PASSWORD,
            false,
        )
        .await;
        assert_eq!(r.status, 200, "{spelling:?}: {}", r.text);
    }
    // Invisible characters in an address are refused outright.
    let r = crate::common::sign_up(
        &c,
        "ca\u{200B}t@example.com",
        "cat",
        crate::common::PASSWORD,
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r.field("email").is_some(), "{}", r.text);
}
