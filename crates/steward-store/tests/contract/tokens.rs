//! Emailed links: valid only for the address they were sent to, and voided by the
//! changes that make them dangerous.

use super::*;

pub(super) async fn emailed_links_work_only_for_the_address_they_were_sent_to(s: &SqlStore) {
    let (new, verify) = new_account("max@example.com", "max");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let (reset, reset_secret) = reset_token(id, "max@example.com", t0());
    s.issue_token(&reset, &[], t0()).await.unwrap();
    assert_eq!(
        s.peek_token(TokenKind::ResetPassword, &reset_secret.hash, t0())
            .await
            .unwrap(),
        Some(id)
    );

    // The address changes: every link mailed to the old one stops working.
    let (change, change_secret) = email_change_token(id, "max@new.example", t0());
    s.issue_token(&change, &[], t0()).await.unwrap();
    s.confirm_email_change(
        &change_secret.hash,
        &event(id, EventKind::EmailChanged, t0()),
        t0(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        s.peek_token(TokenKind::ResetPassword, &reset_secret.hash, t0())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.complete_reset(
            &reset_secret.hash,
            "stolen",
            &mail("max@example.com", "password_changed"),
            &event(id, EventKind::PasswordReset, t0()),
            t0(),
        )
        .await
        .unwrap(),
        None,
        "a reset link sent to the old address"
    );
    assert_eq!(
        s.account_by_id(id).await.unwrap().unwrap().password_hash,
        HASH
    );
    assert!(
        !s.confirm_email(
            &verify.hash,
            &event(id, EventKind::EmailVerified, t0()),
            t0()
        )
        .await
        .unwrap(),
        "the sign-up confirmation sent to the old address"
    );

    // Even a token the change did not void (made before it, stored after) is refused
    // when its address is not the account's.
    let (stale, stale_secret) = reset_token(id, "max@example.com", t0());
    s.issue_token(&stale, &[], t0()).await.unwrap();
    assert_eq!(
        s.peek_token(TokenKind::ResetPassword, &stale_secret.hash, t0())
            .await
            .unwrap(),
        None
    );
    let (fresh, fresh_secret) = reset_token(id, "max@new.example", t0());
    s.issue_token(&fresh, &[], t0()).await.unwrap();
    assert_eq!(
        s.complete_reset(
            &fresh_secret.hash,
            "renewed",
            &mail("max@new.example", "password_changed"),
            &event(id, EventKind::PasswordReset, t0()),
            t0(),
        )
        .await
        .unwrap(),
        Some(false),
        "a link sent to the current address"
    );
}

pub(super) async fn credential_changes_cancel_a_pending_email_change(s: &SqlStore) {
    let (new, _) = new_account("nia@example.com", "nia");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let ev = |kind| event(id, kind, t0());

    // A password change.
    let (change, secret) = email_change_token(id, "thief@example.net", t0());
    s.issue_token(&change, &[], t0()).await.unwrap();
    let notice = mail("nia@example.com", "password_changed");
    let (e1, e2) = (
        ev(EventKind::PasswordChanged),
        ev(EventKind::PasswordChanged),
    );
    assert!(
        s.change_password(id, "p1", None, &notice, &e1, t0())
            .await
            .unwrap(),
        "a pending change was cancelled"
    );
    assert_eq!(
        s.confirm_email_change(&secret.hash, &ev(EventKind::EmailChanged), t0())
            .await
            .unwrap(),
        None
    );
    assert!(
        !s.change_password(id, "p2", None, &notice, &e2, t0())
            .await
            .unwrap(),
        "nothing left to cancel"
    );

    // A reset.
    let (change, secret) = email_change_token(id, "thief@example.net", t0());
    s.issue_token(&change, &[], t0()).await.unwrap();
    let (reset, reset_secret) = reset_token(id, "nia@example.com", t0());
    s.issue_token(&reset, &[], t0()).await.unwrap();
    assert_eq!(
        s.complete_reset(
            &reset_secret.hash,
            "p3",
            &mail("nia@example.com", "password_changed"),
            &ev(EventKind::PasswordReset),
            t0(),
        )
        .await
        .unwrap(),
        Some(true)
    );
    assert_eq!(
        s.confirm_email_change(&secret.hash, &ev(EventKind::EmailChanged), t0())
            .await
            .unwrap(),
        None
    );

    // Voiding one kind directly ("Revoke all sessions").
    let (change, secret) = email_change_token(id, "thief@example.net", t0());
    s.issue_token(&change, &[], t0()).await.unwrap();
    let (reset, reset_secret) = reset_token(id, "nia@example.com", t0());
    s.issue_token(&reset, &[], t0()).await.unwrap();
    assert_eq!(
        s.void_tokens(id, TokenKind::ChangeEmail, t0())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.void_tokens(id, TokenKind::ChangeEmail, t0())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.confirm_email_change(&secret.hash, &ev(EventKind::EmailChanged), t0())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.peek_token(TokenKind::ResetPassword, &reset_secret.hash, t0())
            .await
            .unwrap(),
        Some(id),
        "other kinds untouched"
    );
    assert_eq!(
        s.account_by_id(id).await.unwrap().unwrap().email,
        "nia@example.com"
    );
}

pub(super) async fn an_email_change_is_issued_only_for_a_live_session_and_the_checked_password(
    s: &SqlStore,
) {
    let (new, _) = new_account("oda@example.com", "oda");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let (live, _) = session(id, Duration::days(1));
    assert!(s.create_session(&live, HASH, &[], None).await.unwrap());
    let ask = |to: &str| email_change_token(id, to, t0());

    let (ok, ok_secret) = ask("oda@new.example");
    assert!(
        s.issue_email_change(&ok, &[], live.id, HASH, t0())
            .await
            .unwrap()
    );
    assert_eq!(
        s.peek_token(TokenKind::ChangeEmail, &ok_secret.hash, t0())
            .await
            .unwrap(),
        Some(id)
    );
    // The password changed since it was checked: nothing stored.
    let (stale, stale_secret) = ask("thief@example.net");
    assert!(
        !s.issue_email_change(&stale, &[], live.id, "an old hash", t0())
            .await
            .unwrap()
    );
    assert_eq!(
        s.peek_token(TokenKind::ChangeEmail, &stale_secret.hash, t0())
            .await
            .unwrap(),
        None
    );
    // The session ended: nothing stored.
    let (gone, gone_secret) = ask("thief@example.net");
    assert!(
        !s.issue_email_change(&gone, &[], Uuid::now_v7(), HASH, t0())
            .await
            .unwrap()
    );
    assert_eq!(
        s.peek_token(TokenKind::ChangeEmail, &gone_secret.hash, t0())
            .await
            .unwrap(),
        None
    );
    // The first link is still the live one.
    assert_eq!(
        s.peek_token(TokenKind::ChangeEmail, &ok_secret.hash, t0())
            .await
            .unwrap(),
        Some(id)
    );
}

pub(super) async fn revoking_races_no_email_change_link_into_life(s: &SqlStore) {
    // Many requests for a change and a "Revoke all" at once: whatever order they
    // commit in, no link issued for a session that was ended survives.
    let (new, _) = new_account("pia@example.com", "pia");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let (keep, _) = session(id, Duration::days(1));
    let (thief, _) = session(id, Duration::days(1));
    assert!(s.create_session(&keep, HASH, &[], None).await.unwrap());
    assert!(s.create_session(&thief, HASH, &[], None).await.unwrap());
    let mut asks = Vec::new();
    let mut secrets = Vec::new();
    for n in 0..8 {
        let (t, secret) = email_change_token(id, &format!("thief{n}@example.net"), t0());
        secrets.push(secret);
        let s = s.clone();
        let thief = thief.id;
        asks.push(tokio::spawn(async move {
            s.issue_email_change(&t, &[], thief, HASH, t0())
                .await
                .unwrap()
        }));
    }
    let ended = s
        .end_sessions_except(id, Some(keep.id), None)
        .await
        .unwrap();
    s.void_tokens(id, TokenKind::ChangeEmail, t0())
        .await
        .unwrap();
    for a in asks {
        a.await.unwrap();
    }
    assert_eq!(ended, 1);
    for secret in &secrets {
        assert_eq!(
            s.peek_token(TokenKind::ChangeEmail, &secret.hash, t0())
                .await
                .unwrap(),
            None
        );
    }
}
