//! Email confirmation links.

use super::*;
use crate::session::ClientInfo;

#[tokio::test]
async fn a_confirmation_link_works_once() {
    let h = Harness::with_ada().await;
    let ada = h.account("ada").await;
    let token = h.token("verify_email");
    h.advance(minutes(5));
    let confirmed_at = h.steward.now();

    assert_eq!(
        h.steward
            .verify_email(&token, &ClientInfo::default())
            .await
            .unwrap(),
        ada.id
    );
    assert_eq!(h.account("ada").await.email_verified_at, Some(confirmed_at));

    h.advance(minutes(1));
    let err = h
        .steward
        .verify_email(&token, &ClientInfo::default())
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidToken), "{err:?}");
    assert_eq!(
        h.account("ada").await.email_verified_at,
        Some(confirmed_at),
        "the first confirmation time is kept"
    );
}

#[tokio::test]
async fn a_confirmation_link_expires_after_24_hours() {
    let h = Harness::with_ada().await;
    let ada_token = h.token("verify_email");
    h.register("bob@example.com", "bob").await.unwrap();
    let bob_token = h.token("verify_email");

    h.advance(time::Duration::hours(24) - time::Duration::SECOND);
    h.steward
        .verify_email(&bob_token, &ClientInfo::default())
        .await
        .unwrap();

    h.advance(time::Duration::SECOND);
    let err = h
        .steward
        .verify_email(&ada_token, &ClientInfo::default())
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidToken), "{err:?}");
    assert_eq!(h.account("ada").await.email_verified_at, None);
    assert!(h.account("bob").await.email_verified_at.is_some());
}

#[tokio::test]
async fn resending_voids_the_older_link() {
    let h = Harness::with_ada().await;
    let old = h.token("verify_email");
    let (_, who) = h.signed_in("ada").await;

    h.advance(time::Duration::hours(23));
    h.steward.resend_verification(&who).await.unwrap();

    let mails = h.mails("verify_email");
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1].to, "Ada@example.com");
    let new = h.token("verify_email");
    assert_ne!(new, old);
    let err = h
        .steward
        .verify_email(&old, &ClientInfo::default())
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidToken), "{err:?}");

    // The new link has its own 24 hours.
    h.advance(time::Duration::hours(23));
    h.steward
        .verify_email(&new, &ClientInfo::default())
        .await
        .unwrap();
    assert!(h.account("ada").await.email_verified_at.is_some());
}

#[tokio::test]
async fn resending_after_confirmation_sends_nothing() {
    let h = Harness::with_ada().await;
    h.steward
        .verify_email(&h.token("verify_email"), &ClientInfo::default())
        .await
        .unwrap();
    let (_, who) = h.signed_in("ada").await;
    assert!(who.account().email_verified_at.is_some());

    h.steward.resend_verification(&who).await.unwrap();

    assert_eq!(h.mails("verify_email").len(), 1);
}

#[tokio::test]
async fn tokens_of_another_kind_or_shape_are_invalid() {
    let h = Harness::with_ada().await;
    let reset = h.reset_token("ada@example.com").await;
    let verify = h.token("verify_email");

    for token in ["", "short", &"a".repeat(43), &reset] {
        let err = h
            .steward
            .verify_email(token, &ClientInfo::default())
            .await
            .unwrap_err();
        assert!(matches!(err, CoreError::InvalidToken), "{token:?}: {err:?}");
    }
    let err = h
        .steward
        .complete_password_reset(&verify, NEW_PASSWORD, &ClientInfo::default())
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidToken), "{err:?}");

    // Neither was used up by the wrong door.
    h.steward
        .verify_email(&verify, &ClientInfo::default())
        .await
        .unwrap();
    h.steward.check_reset_token(&reset).await.unwrap();
}

#[tokio::test]
async fn a_link_works_only_for_the_address_it_was_sent_to() {
    use crate::ports::{EmailToken, TokenKind};
    use crate::secret::NewSecret;

    let h = Harness::with_ada().await;
    let ada = h.account("ada").await;
    // A link issued for an address the account no longer has (e.g. before an email change).
    let secret = NewSecret::generate();
    let now = h.steward.now();
    let token = EmailToken {
        id: Uuid::now_v7(),
        account_id: ada.id,
        kind: TokenKind::VerifyEmail,
        hash: secret.hash.clone(),
        email_key: "old@example.com".into(),
        new_email: None,
        created_at: now,
        expires_at: now + time::Duration::hours(24),
    };
    let mail = h.mails("verify_email").pop().unwrap();
    h.store
        .issue_token(&token, std::slice::from_ref(&mail), now)
        .await
        .unwrap();

    let err = h
        .steward
        .verify_email(&secret.plain, &ClientInfo::default())
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidToken), "{err:?}");
    assert_eq!(h.account("ada").await.email_verified_at, None);
}
