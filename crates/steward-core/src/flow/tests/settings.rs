//! Changing the password while signed in.

use super::*;
use crate::session::ClientInfo;

#[tokio::test]
async fn changing_the_password_needs_the_current_one() {
    let h = Harness::with_ada().await;
    let (this, who) = h.signed_in("ada").await;
    let other = h.sign_in("ada", PASSWORD, true).await.unwrap();

    let err = h
        .steward
        .change_password(
            &who,
            "not my password",
            NEW_PASSWORD,
            &ClientInfo::default(),
        )
        .await
        .unwrap_err();

    assert!(matches!(err, CoreError::WrongPassword), "{err:?}");
    assert!(h.live(&this).await && h.live(&other).await);
    assert!(h.mails("password_changed").is_empty());
    h.sign_in("ada", PASSWORD, false).await.unwrap();
}

#[tokio::test]
async fn changing_the_password_keeps_this_session_and_ends_the_others() {
    let h = Harness::with_ada().await;
    let ada = h.account("ada").await;
    let (this, who) = h.signed_in("ada").await;
    let other = h.sign_in("ada@example.com", PASSWORD, true).await.unwrap();
    let pending_reset = h.reset_token("ada@example.com").await;
    h.advance(minutes(3));

    h.steward
        .change_password(&who, PASSWORD, NEW_PASSWORD, &ClientInfo::default())
        .await
        .unwrap();

    assert!(h.live(&this).await, "the session that changed it stays");
    assert!(!h.live(&other).await);
    assert_eq!(h.store.session_count(ada.id), 1);

    let changed = h.mails("password_changed");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].to, "Ada@example.com");
    assert_eq!(changed[0].text, "http://127.0.0.1:8080/trouble-signing-in");

    let err = h.sign_in("ada", PASSWORD, false).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidCredentials), "{err:?}");
    h.sign_in("ada", NEW_PASSWORD, false).await.unwrap();

    let err = h
        .steward
        .check_reset_token(&pending_reset)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::InvalidToken),
        "a reset link sent before the change no longer works: {err:?}"
    );
}

#[tokio::test]
async fn the_new_password_must_follow_the_rules_and_differ() {
    let h = Harness::with_ada().await;
    let (_, who) = h.signed_in("ada").await;

    for new in ["password", "short", "ada", "Ada@example.com", PASSWORD] {
        let fields = invalid_fields(
            h.steward
                .change_password(&who, PASSWORD, new, &ClientInfo::default())
                .await,
        );
        assert_eq!(fields, ["new_password"], "{new:?}");
    }
    assert!(h.mails("password_changed").is_empty());
    h.sign_in("ada", PASSWORD, false).await.unwrap();
}

#[tokio::test]
async fn guessing_the_current_password_slows_down_that_session_only() {
    let h = Harness::with_ada().await;
    let (_, who) = h.signed_in("ada").await;
    let (_, other) = h.signed_in("ada").await;
    let limit = h.steward.config().reauth_failures_per_session;
    for _ in 0..limit {
        let e = h
            .steward
            .change_password(
                &who,
                "not my password",
                NEW_PASSWORD,
                &ClientInfo::default(),
            )
            .await;
        assert!(matches!(e, Err(CoreError::WrongPassword)), "{e:?}");
    }
    let blocked = h
        .steward
        .change_password(&who, PASSWORD, NEW_PASSWORD, &ClientInfo::default())
        .await;
    assert!(
        matches!(blocked, Err(CoreError::RateLimited(_))),
        "{blocked:?}"
    );
    // The owner's other session, and signing in, are unaffected.
    h.sign_in("ada", PASSWORD, false).await.unwrap();
    h.steward
        .change_password(&other, PASSWORD, NEW_PASSWORD, &ClientInfo::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn strangers_failing_to_sign_in_do_not_stop_the_owner_changing_the_password() {
    let h = Harness::with_ada().await;
    let (_, who) = h.signed_in("ada").await;
    for identifier in ["ada", "ada@example.com"] {
        for _ in 0..h.steward.config().signin_failures_per_account + 2 {
            let _ = h.sign_in(identifier, "guess", false).await;
        }
    }
    h.steward
        .change_password(&who, PASSWORD, NEW_PASSWORD, &ClientInfo::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_changed_username_stays_reserved_for_its_owner_for_30_days() {
    let h = Harness::with_ada().await;
    h.register("bob@example.com", "bob").await.unwrap();
    let (_, ada) = h.signed_in("ada").await;
    let (_, bob) = h.signed_in("bob").await;
    let c = ClientInfo::default();

    let err = h
        .steward
        .change_username(&ada, "Bob", &c)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::UsernameTaken), "{err:?}");
    let err = h.steward.change_username(&ada, "a", &c).await.unwrap_err();
    assert!(
        matches!(err, CoreError::Validation(_)),
        "sign-up rules apply"
    );

    h.steward.change_username(&ada, "Ada-L", &c).await.unwrap();
    assert_eq!(h.account("ada-l").await.username, "ada-l");
    // The old name is held: nobody else can take it, by change or by sign-up.
    let err = h
        .steward
        .change_username(&bob, "ada", &c)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::UsernameTaken), "{err:?}");
    assert!(matches!(
        h.register("eve@example.com", "ada").await,
        Err(CoreError::UsernameTaken)
    ));
    assert_eq!(
        h.steward.renamed_to("ADA").await.unwrap().as_deref(),
        Some("ada-l")
    );
    // Signing in works with the new name only; the session in use carries on.
    assert!(h.sign_in("ada-l", PASSWORD, false).await.is_ok());
    assert!(h.sign_in("ada", PASSWORD, false).await.is_err());

    // After 30 days it is free for anyone.
    h.advance(time::Duration::days(30));
    assert_eq!(h.steward.renamed_to("ada").await.unwrap(), None);
    h.steward.change_username(&bob, "ada", &c).await.unwrap();
    let kinds: Vec<_> = h
        .store
        .events_of(h.account("ada-l").await.id)
        .iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&crate::activity::EventKind::UsernameChanged));
}

#[tokio::test]
async fn the_owner_can_take_a_held_username_back() {
    let h = Harness::with_ada().await;
    let (_, ada) = h.signed_in("ada").await;
    let c = ClientInfo::default();
    h.steward.change_username(&ada, "ada2", &c).await.unwrap();
    let (_, ada) = h.signed_in("ada2").await;
    h.steward.change_username(&ada, "ada", &c).await.unwrap();
    assert_eq!(h.account("ada").await.username, "ada");
    assert_eq!(
        h.steward.renamed_to("ada").await.unwrap(),
        None,
        "no longer held: it is in use"
    );
    assert_eq!(
        h.steward.renamed_to("ada2").await.unwrap().as_deref(),
        Some("ada")
    );
}
