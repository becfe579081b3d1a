//! Accounts, email confirmation and reset links.

use super::*;

pub(super) async fn account_round_trips_and_uniqueness_ignores_case(s: &SqlStore) {
    let (new, _) = new_account("Ada@example.com", "ada");
    s.create_account(&new).await.unwrap();
    assert_eq!(
        s.account_by_email("ada@example.com")
            .await
            .unwrap()
            .as_ref(),
        Some(&new.account)
    );
    assert_eq!(
        s.account_by_username("ada").await.unwrap().as_ref(),
        Some(&new.account)
    );
    assert_eq!(
        s.account_by_id(new.account.id).await.unwrap().as_ref(),
        Some(&new.account)
    );
    assert_eq!(
        s.account_by_email("nobody@example.com").await.unwrap(),
        None
    );
    assert_eq!(s.consents(new.account.id).await.unwrap(), new.consents);
    assert_eq!(s.pending_mail().await.unwrap(), 1);

    let (same_email, _) = new_account("ADA@example.com", "other");
    assert!(matches!(
        s.create_account(&same_email).await,
        Err(StoreError::EmailTaken)
    ));
    let (same_name, _) = new_account("other@example.com", "ada");
    assert!(matches!(
        s.create_account(&same_name).await,
        Err(StoreError::UsernameTaken)
    ));
    // Nothing of the failed sign-ups remains: no account, no queued mail.
    assert_eq!(s.account_by_email("other@example.com").await.unwrap(), None);
    assert_eq!(s.pending_mail().await.unwrap(), 1);
}

pub(super) async fn concurrent_sign_ups_of_one_email_create_one_account(s: &SqlStore) {
    let s = Arc::new(s.clone());
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let (new, _) = new_account("race@example.com", &format!("racer{i}"));
            s.create_account(&new).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::EmailTaken) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, 1);
}

pub(super) async fn email_confirmation_is_single_use_and_expires(s: &SqlStore) {
    let (new, secret) = new_account("bea@example.com", "bea");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let late = t0() + Duration::hours(24);
    let verified = |at| event(id, EventKind::EmailVerified, at);
    assert!(
        !s.confirm_email(&secret.hash, &verified(late), late)
            .await
            .unwrap(),
        "expired at 24 h"
    );
    let now = t0() + Duration::hours(1);
    // Another account's event cannot use this account's token.
    let stranger = event(Uuid::now_v7(), EventKind::EmailVerified, now);
    assert!(!s.confirm_email(&secret.hash, &stranger, now).await.unwrap());
    assert!(
        s.confirm_email(&secret.hash, &verified(now), now)
            .await
            .unwrap()
    );
    assert_eq!(
        s.account_by_id(id)
            .await
            .unwrap()
            .unwrap()
            .email_verified_at,
        Some(now)
    );
    assert_eq!(
        s.events(id, None, 1).await.unwrap()[0].kind,
        EventKind::EmailVerified,
        "recorded with the confirmation"
    );
    assert!(
        !s.confirm_email(&secret.hash, &verified(now), now)
            .await
            .unwrap(),
        "single use"
    );
}

pub(super) async fn a_newer_reset_link_voids_older_ones(s: &SqlStore) {
    let (new, _) = new_account("cy@example.com", "cy");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let (old, old_secret) = reset_token(id, "cy@example.com", t0());
    s.issue_token(&old, &[mail("cy@example.com", "reset_password")], t0())
        .await
        .unwrap();
    let later = t0() + Duration::minutes(5);
    let (newer, new_secret) = reset_token(id, "cy@example.com", later);
    s.issue_token(&newer, &[mail("cy@example.com", "reset_password")], later)
        .await
        .unwrap();

    assert_eq!(
        s.peek_token(TokenKind::ResetPassword, &old_secret.hash, later)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.peek_token(TokenKind::ResetPassword, &new_secret.hash, later)
            .await
            .unwrap(),
        Some(id)
    );
    assert_eq!(
        s.peek_token(TokenKind::VerifyEmail, &new_secret.hash, later)
            .await
            .unwrap(),
        None,
        "kinds do not mix"
    );
    assert_eq!(
        s.peek_token(
            TokenKind::ResetPassword,
            &new_secret.hash,
            later + Duration::hours(1)
        )
        .await
        .unwrap(),
        None,
        "expired after an hour"
    );
}

pub(super) async fn email_keys_are_paged_in_id_order_and_can_be_recomputed(s: &SqlStore) {
    let mut ids = Vec::new();
    for n in 0..5 {
        let (new, _) = new_account(&format!("p{n}@example.com"), &format!("p{n}"));
        s.create_account(&new).await.unwrap();
        ids.push(new.account.id);
    }
    ids.sort();
    let first = s.email_keys_after(None, 3).await.unwrap();
    let rest = s.email_keys_after(Some(first[2].0), 3).await.unwrap();
    let seen: Vec<Uuid> = first.iter().chain(&rest).map(|r| r.0).collect();
    assert_eq!(seen, ids);
    assert!(
        s.email_keys_after(Some(ids[4]), 3)
            .await
            .unwrap()
            .is_empty()
    );
    let (_, email, key) = &first[0];
    assert_eq!(email, key, "test addresses are their own keys");

    s.set_email_key(ids[0], "folded@example.com").await.unwrap();
    assert_eq!(
        s.account_by_email("folded@example.com")
            .await
            .unwrap()
            .map(|a| a.id),
        Some(ids[0])
    );
    let taken = s.set_email_key(ids[1], "folded@example.com").await;
    assert!(matches!(taken, Err(StoreError::EmailTaken)), "{taken:?}");

    assert_eq!(s.data_version("email_keys").await.unwrap(), 0);
    s.set_data_version("email_keys", 2, t0()).await.unwrap();
    s.set_data_version("email_keys", 3, t0()).await.unwrap();
    assert_eq!(s.data_version("email_keys").await.unwrap(), 3);
    assert_eq!(s.data_version("other").await.unwrap(), 0);
}
