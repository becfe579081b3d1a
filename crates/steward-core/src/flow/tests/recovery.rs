//! "Trouble signing in?": reset links and username reminders.

use super::*;
use crate::challenge::{Strength, solve};
use crate::session::ClientInfo;

#[tokio::test]
async fn a_reset_link_is_mailed_to_the_owner_of_the_address() {
    let h = Harness::with_ada().await;

    h.steward
        .request_password_reset(
            " ADA@example.com ",
            &h.altcha(),
            &ClientInfo::default(),
            &[],
        )
        .await
        .unwrap();

    let mails = h.wait_for_mail("reset_password", 1).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "Ada@example.com");
    assert!(mails[0].text.starts_with(RESET_LINK), "{}", mails[0].text);
    h.steward
        .check_reset_token(&h.token("reset_password"))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unknown_address_answers_the_same_and_queues_nothing() {
    let h = Harness::with_ada().await;

    h.steward
        .request_password_reset(
            "nobody@example.com",
            &h.altcha(),
            &ClientInfo::default(),
            &[],
        )
        .await
        .unwrap();
    h.steward
        .request_password_reset(
            &format!("{}@example.com", "a".repeat(300)),
            &h.altcha(),
            &ClientInfo::default(),
            &[],
        )
        .await
        .unwrap();
    h.steward
        .request_username_reminder(
            "nobody@example.com",
            &h.altcha(),
            &ClientInfo::default(),
            &[],
        )
        .await
        .unwrap();
    h.settle().await;

    assert_eq!(h.store.mails().len(), 1, "only ada's confirmation");
}

#[tokio::test]
async fn a_reset_link_expires_after_an_hour() {
    let h = Harness::with_ada().await;
    let token = h.reset_token("ada@example.com").await;

    h.advance(minutes(60) - time::Duration::SECOND);
    h.steward.check_reset_token(&token).await.unwrap();

    h.advance(time::Duration::SECOND);
    let err = h.steward.check_reset_token(&token).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidToken), "{err:?}");
    let err = h
        .steward
        .complete_password_reset(&token, NEW_PASSWORD, &ClientInfo::default())
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidToken), "{err:?}");
    h.sign_in("ada", PASSWORD, false).await.unwrap();
    assert!(h.mails("password_changed").is_empty());
}

#[tokio::test]
async fn completing_a_reset_ends_every_session_and_uses_the_link_up() {
    let h = Harness::with_ada().await;
    let ada = h.account("ada").await;
    let one = h.sign_in("ada", PASSWORD, false).await.unwrap();
    let two = h.sign_in("ada@example.com", PASSWORD, true).await.unwrap();
    let token = h.reset_token("ada@example.com").await;

    h.steward
        .complete_password_reset(&token, NEW_PASSWORD, &ClientInfo::default())
        .await
        .unwrap();

    assert!(!h.live(&one).await && !h.live(&two).await);
    assert_eq!(h.store.session_count(ada.id), 0);
    let err = h.sign_in("ada", PASSWORD, false).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidCredentials), "{err:?}");
    h.sign_in("ada", NEW_PASSWORD, false).await.unwrap();

    let changed = h.mails("password_changed");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].to, "Ada@example.com");
    assert_eq!(changed[0].text, "http://127.0.0.1:8080/trouble-signing-in");

    let err = h
        .steward
        .complete_password_reset(&token, "yet another passphrase", &ClientInfo::default())
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidToken), "{err:?}");
    let err = h.steward.check_reset_token(&token).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidToken), "{err:?}");
    h.sign_in("ada", NEW_PASSWORD, false).await.unwrap();
}

#[tokio::test]
async fn a_weak_new_password_is_refused_and_the_link_stays_usable() {
    let h = Harness::with_ada().await;
    let session = h.sign_in("ada", PASSWORD, false).await.unwrap();
    let token = h.reset_token("ada@example.com").await;

    for weak in ["password", "short", "ADA", "ada@example.com", "qwertyuiop"] {
        let fields = invalid_fields(
            h.steward
                .complete_password_reset(&token, weak, &ClientInfo::default())
                .await,
        );
        assert_eq!(fields, ["new_password"], "{weak:?}");
    }

    h.steward.check_reset_token(&token).await.unwrap();
    assert!(h.live(&session).await, "nothing changed");
    assert!(h.mails("password_changed").is_empty());
    h.steward
        .complete_password_reset(&token, NEW_PASSWORD, &ClientInfo::default())
        .await
        .unwrap();
    assert!(!h.live(&session).await);
}

#[tokio::test]
async fn a_newer_reset_link_voids_the_older_one() {
    let h = Harness::with_ada().await;
    let first = h.reset_token("ada@example.com").await;
    h.advance(minutes(5));
    let second = h.reset_token("Ada@Example.com").await;
    assert_ne!(first, second);

    let err = h
        .steward
        .complete_password_reset(&first, NEW_PASSWORD, &ClientInfo::default())
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidToken), "{err:?}");
    h.steward
        .complete_password_reset(&second, NEW_PASSWORD, &ClientInfo::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_reset_link_does_not_void_the_confirmation_link() {
    let h = Harness::with_ada().await;
    let verify = h.token("verify_email");
    let reset = h.reset_token("ada@example.com").await;
    h.steward
        .verify_email(&verify, &ClientInfo::default())
        .await
        .unwrap();
    h.steward.check_reset_token(&reset).await.unwrap();
}

#[tokio::test]
async fn a_username_reminder_mails_the_username() {
    let h = Harness::with_ada().await;

    h.steward
        .request_username_reminder("ADA@EXAMPLE.COM", &h.altcha(), &ClientInfo::default(), &[])
        .await
        .unwrap();

    let mails = h.wait_for_mail("username_reminder", 1).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "Ada@example.com");
    assert_eq!(mails[0].text, "ada");
}

#[tokio::test]
async fn recovery_requests_need_a_fresh_robot_check() {
    let h = Harness::with_ada().await;
    let altcha = h.altcha();
    h.steward
        .request_password_reset("ada@example.com", &altcha, &ClientInfo::default(), &[])
        .await
        .unwrap();

    let err = h
        .steward
        .request_password_reset("ada@example.com", &altcha, &ClientInfo::default(), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::ChallengeFailed("already used")),
        "{err:?}"
    );
    let err = h
        .steward
        .request_username_reminder("ada@example.com", &altcha, &ClientInfo::default(), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::ChallengeFailed("already used")),
        "{err:?}"
    );
    let err = h
        .steward
        .request_username_reminder("ada@example.com", "", &ClientInfo::default(), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::ChallengeFailed("missing")),
        "{err:?}"
    );

    h.wait_for_mail("reset_password", 1).await;
    h.settle().await;
    assert_eq!(h.mails("reset_password").len(), 1);
    assert!(h.mails("username_reminder").is_empty());
}

#[tokio::test]
async fn one_address_gets_a_limited_number_of_emails_an_hour_counted_after_the_robot_check() {
    let h = Harness::with_ada().await;
    // Requests that fail the robot check cost the address nothing.
    for _ in 0..10 {
        let e = h
            .steward
            .request_password_reset("ada@example.com", "", &ClientInfo::default(), &[])
            .await;
        assert!(matches!(e, Err(CoreError::ChallengeFailed(_))));
    }
    // Ada's sign-up already used one of the five.
    for _ in 0..4 {
        h.steward
            .request_password_reset("ada@example.com", &h.altcha(), &ClientInfo::default(), &[])
            .await
            .unwrap();
    }
    let over = h
        .steward
        .request_username_reminder("ADA@example.com", &h.altcha(), &ClientInfo::default(), &[])
        .await;
    assert!(matches!(over, Err(CoreError::EmailQuota(_))), "{over:?}");
    // Unknown addresses count alike, so the limit reveals nothing.
    for _ in 0..5 {
        h.steward
            .request_password_reset(
                "ghost@example.com",
                &h.altcha(),
                &ClientInfo::default(),
                &[],
            )
            .await
            .unwrap();
    }
    assert!(matches!(
        h.steward
            .request_password_reset(
                "ghost@example.com",
                &h.altcha(),
                &ClientInfo::default(),
                &[]
            )
            .await,
        Err(CoreError::EmailQuota(_))
    ));
    h.clock.advance(time::Duration::hours(1));
    h.steward
        .request_password_reset("ada@example.com", &h.altcha(), &ClientInfo::default(), &[])
        .await
        .unwrap();
}

#[tokio::test]
async fn past_the_quota_a_strong_check_or_the_owners_own_browser_still_gets_the_mail() {
    let h = Harness::with_ada().await;
    h.register("bob@example.com", "bob").await.unwrap();
    let ada = h.account("ada").await;
    let bob = h.account("bob").await;
    let reset = |altcha: String, vouched: Vec<uuid::Uuid>| {
        let h = &h;
        async move {
            h.steward
                .request_password_reset(
                    "ada@example.com",
                    &altcha,
                    &ClientInfo::default(),
                    &vouched,
                )
                .await
        }
    };
    // A stranger uses up ada's quota (her sign-up took one of the five).
    for _ in 0..4 {
        reset(h.altcha(), vec![]).await.unwrap();
    }
    h.wait_for_mail("reset_password", 4).await;
    let e = reset(h.altcha(), vec![]).await;
    assert!(matches!(e, Err(CoreError::EmailQuota(_))), "{e:?}");

    // A strong proof of work still gets its mail.
    let strong = solve(&h.steward.challenge(Strength::Strong)).unwrap();
    reset(strong, vec![]).await.unwrap();
    h.wait_for_mail("reset_password", 5).await;

    // So does a browser that signed in to ada before, up to ada's own hourly quota;
    // one that signed in to bob only is answered alike, and nothing is sent.
    reset(h.altcha(), vec![bob.id]).await.unwrap();
    h.settle().await;
    assert_eq!(h.mails("reset_password").len(), 5);
    for n in 0..5 {
        reset(h.altcha(), vec![bob.id, ada.id]).await.unwrap();
        h.wait_for_mail("reset_password", 6 + n).await;
    }
    reset(h.altcha(), vec![ada.id]).await.unwrap();
    h.settle().await;
    assert_eq!(
        h.mails("reset_password").len(),
        10,
        "ada's own quota is spent too"
    );
}

#[tokio::test]
async fn strong_checks_past_the_quota_have_a_quota_of_their_own() {
    let h = Harness::with(CoreConfig {
        emails_per_address_per_hour: 1,
        emails_per_address_strong_per_hour: 2,
        ..cheap_config()
    })
    .await;
    let ask = |altcha: String| {
        let h = &h;
        async move {
            h.steward
                .request_password_reset("ghost@example.com", &altcha, &ClientInfo::default(), &[])
                .await
        }
    };
    ask(h.altcha()).await.unwrap();
    let strong = || solve(&h.steward.challenge(Strength::Strong)).unwrap();
    ask(strong()).await.unwrap();
    ask(strong()).await.unwrap();
    // However much work is done, an inbox is not flooded.
    let e = ask(strong()).await;
    assert!(matches!(e, Err(CoreError::RateLimited(_))), "{e:?}");
    h.advance(time::Duration::hours(1));
    ask(h.altcha()).await.unwrap();
}
