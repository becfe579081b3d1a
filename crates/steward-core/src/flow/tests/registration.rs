//! Sign-up and the robot check.

use super::*;

#[tokio::test]
async fn sign_up_creates_the_account_its_consents_and_a_confirmation_mail() {
    let h = Harness::new().await;
    let client = ClientInfo {
        ip: Some("203.0.113.77".parse().unwrap()),
        ..ClientInfo::default()
    };
    h.steward
        .register(
            h.registration(" Ada.Lovelace@Example.COM ", "Ada_L"),
            &client,
        )
        .await
        .unwrap();

    let a = h
        .store
        .account_by_email("ada.lovelace@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.email, "Ada.Lovelace@example.com");
    assert_eq!(a.username, "ada_l");
    assert_eq!(a.email_verified_at, None);
    assert_eq!(a.created_at, h.steward.now());
    assert!(a.password_hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));

    let consents = h.store.consents(a.id).await.unwrap();
    let purposes: Vec<_> = consents.iter().map(|c| c.purpose.as_str()).collect();
    assert_eq!(
        purposes,
        ["terms_of_use", "privacy_policy", "age_confirmation"]
    );
    assert!(consents.iter().all(|c| c.granted
        && c.method == "web_form"
        && c.ip_truncated.as_deref() == Some("203.0.113.0")
        && c.at == a.created_at));

    let mails = h.mails("verify_email");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "Ada.Lovelace@example.com");
    assert!(mails[0].text.starts_with(VERIFY_LINK), "{}", mails[0].text);
}

#[tokio::test]
async fn a_taken_email_in_another_case_answers_ok_and_tells_the_owner() {
    let h = Harness::with_ada().await;

    h.register("  ADA@example.COM", "someone_else")
        .await
        .unwrap();

    assert_eq!(h.store.account_count(), 1);
    assert!(
        h.store
            .account_by_username("someone_else")
            .await
            .unwrap()
            .is_none()
    );
    let exists = h.mails("account_exists");
    assert_eq!(exists.len(), 1);
    assert_eq!(
        exists[0].to, "Ada@example.com",
        "sent to the existing owner"
    );
    assert_eq!(exists[0].text, "ada");
    assert_eq!(h.mails("verify_email").len(), 1, "no second confirmation");
}

#[tokio::test]
async fn a_taken_username_is_reported_whatever_its_case() {
    let h = Harness::with_ada().await;

    let err = h.register("other@example.com", "ADA").await.unwrap_err();

    assert!(matches!(err, CoreError::UsernameTaken), "{err:?}");
    assert_eq!(h.store.account_count(), 1);
    assert!(
        h.store
            .account_by_email("other@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(h.store.mails().len(), 1, "only ada's confirmation");
}

#[tokio::test]
async fn validation_reports_every_bad_field_at_once_before_the_robot_check() {
    let h = Harness::new().await;
    let form = Registration {
        email: "not-an-email".into(),
        username: "a".into(),
        password: "short".into(),
        accept_terms: false,
        confirm_age: false,
        altcha: String::new(),
    };

    let fields = invalid_fields(h.steward.register(form, &ClientInfo::default()).await);

    assert_eq!(
        fields,
        [
            "accept_terms",
            "confirm_age",
            "email",
            "password",
            "username"
        ]
    );
    assert_eq!(h.store.account_count(), 0);
    assert!(h.store.mails().is_empty());
}

#[tokio::test]
async fn passwords_that_are_common_or_personal_are_refused() {
    let h = Harness::new().await;
    for password in [
        "password",
        "Ada_Lovelace",
        "ada.lovelace@example.com",
        "zzzzzzzzzz",
    ] {
        let form = Registration {
            password: password.into(),
            ..h.registration("ada.lovelace@example.com", "ada_lovelace")
        };
        let fields = invalid_fields(h.steward.register(form, &ClientInfo::default()).await);
        assert_eq!(fields, ["password"], "{password:?}");
    }
    assert_eq!(h.store.account_count(), 0);
}

#[tokio::test]
async fn a_robot_check_solution_works_only_once() {
    let h = Harness::new().await;
    let altcha = h.altcha();
    let first = Registration {
        altcha: altcha.clone(),
        ..h.registration("ada@example.com", "ada")
    };
    h.steward
        .register(first, &ClientInfo::default())
        .await
        .unwrap();

    let replay = Registration {
        altcha: altcha.clone(),
        ..h.registration("bob@example.com", "bob")
    };
    let err = h
        .steward
        .register(replay, &ClientInfo::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::ChallengeFailed("already used")),
        "{err:?}"
    );

    // Nor may it be spent on another flow.
    let err = h
        .steward
        .request_password_reset("ada@example.com", &altcha, &ClientInfo::default(), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::ChallengeFailed("already used")),
        "{err:?}"
    );
    assert_eq!(h.store.account_count(), 1);
}

#[tokio::test]
async fn a_robot_check_expires_after_ten_minutes() {
    let h = Harness::new().await;
    let fresh_enough = h.registration("ada@example.com", "ada");
    let too_old = h.registration("bob@example.com", "bob");

    h.advance(minutes(9));
    h.steward
        .register(fresh_enough, &ClientInfo::default())
        .await
        .unwrap();

    h.advance(minutes(2));
    let err = h
        .steward
        .register(too_old, &ClientInfo::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::ChallengeFailed("expired")),
        "{err:?}"
    );
    assert_eq!(h.store.account_count(), 1);
}

#[tokio::test]
async fn a_missing_or_malformed_robot_check_fails() {
    let h = Harness::new().await;
    for (altcha, why) in [("", "missing"), ("%%%", "malformed")] {
        let form = Registration {
            altcha: altcha.into(),
            ..h.registration("ada@example.com", "ada")
        };
        let err = h
            .steward
            .register(form, &ClientInfo::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CoreError::ChallengeFailed(w) if w == why),
            "{err:?}"
        );
    }
    assert_eq!(h.store.account_count(), 0);
}

#[tokio::test]
async fn look_alike_addresses_are_one_address() {
    let h = Harness::with_ada().await;
    for twin in [
        "\u{0430}da@example.com",
        "ＡＤＡ@ＥＸＡＭＰＬＥ.ＣＯＭ",
        "ada@ex\u{0430}mple.com",
    ] {
        h.register(twin, "ada2").await.unwrap();
        assert_eq!(
            h.store.account_count(),
            1,
            "{twin:?} made no second account"
        );
    }
    // Sign-in finds the account by any of them too.
    for twin in [
        "\u{0430}da@example.com",
        "ＡＤＡ@ＥＸＡＭＰＬＥ.ＣＯＭ",
        "ａｄａ",
    ] {
        h.sign_in(twin, PASSWORD, false).await.unwrap();
    }
}

#[tokio::test]
async fn keys_stored_by_an_older_version_are_recomputed_once_at_start() {
    use crate::ports::{AccountStore, SecurityStore};
    let h = Harness::with_ada().await;
    h.register("zed@example.com", "zed").await.unwrap();
    h.register("kim@example.com", "kim").await.unwrap();
    let zed = h.account("zed").await;
    let kim = h.account("kim").await;
    // Before look-alikes were folded: a Cyrillic address kept its own key, and so did
    // one that now looks like ada's.
    h.store
        .force_email(zed.id, "z\u{0435}d@example.org", "z\u{0435}d@example.org");
    h.store
        .force_email(kim.id, "\u{0430}da@example.com", "\u{0430}da@example.com");
    h.store
        .set_data_version("email_keys", 1, h.steward.now())
        .await
        .unwrap();

    assert_eq!(h.steward.upgrade_data().await.unwrap(), 1);
    assert_eq!(
        h.store
            .account_by_email("zed@example.org")
            .await
            .unwrap()
            .map(|a| a.id),
        Some(zed.id)
    );
    // Kim's address looks like ada's: ada keeps hers, kim keeps the old key.
    assert_eq!(
        h.store
            .account_by_email("ada@example.com")
            .await
            .unwrap()
            .map(|a| a.username),
        Some("ada".into())
    );
    assert!(
        h.store
            .account_by_email("\u{0430}da@example.com")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(h.store.data_version("email_keys").await.unwrap(), 2);
    assert_eq!(h.steward.upgrade_data().await.unwrap(), 0, "done once");
}
