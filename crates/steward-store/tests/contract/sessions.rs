//! Sessions: creation, expiry, listing, touching, ending.

use super::*;

pub(super) async fn completing_a_reset_ends_every_session_once(s: &SqlStore) {
    let (new, _) = new_account("di@example.com", "di");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let (s1, t1) = session(id, Duration::days(30));
    let (s2, _) = session(id, Duration::minutes(30));
    assert!(s.create_session(&s1, HASH, &[], None).await.unwrap());
    assert!(s.create_session(&s2, HASH, &[], None).await.unwrap());
    let (tok, secret) = reset_token(id, "di@example.com", t0());
    s.issue_token(&tok, &[mail("di@example.com", "reset_password")], t0())
        .await
        .unwrap();

    let now = t0() + Duration::minutes(1);
    assert_eq!(
        s.complete_reset(
            &secret.hash,
            "new-phc",
            &mail("di@example.com", "password_changed"),
            &event(id, EventKind::PasswordReset, now),
            now
        )
        .await
        .unwrap(),
        Some(false),
        "done; no email change was pending"
    );
    assert_eq!(
        s.account_by_id(id).await.unwrap().unwrap().password_hash,
        "new-phc"
    );
    assert!(s.session_by_token(&t1.hash, now).await.unwrap().is_none());
    assert_eq!(
        s.complete_reset(
            &secret.hash,
            "again",
            &mail("di@example.com", "password_changed"),
            &event(id, EventKind::PasswordReset, now),
            now
        )
        .await
        .unwrap(),
        None
    );
    assert_eq!(
        s.account_by_id(id).await.unwrap().unwrap().password_hash,
        "new-phc"
    );
}

pub(super) async fn sessions_expire_and_can_be_ended(s: &SqlStore) {
    let (new, _) = new_account("ed@example.com", "ed");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let (short, short_tok) = session(id, Duration::minutes(30));
    let (long, long_tok) = session(id, Duration::days(30));
    assert!(s.create_session(&short, HASH, &[], None).await.unwrap());
    assert!(s.create_session(&long, HASH, &[], None).await.unwrap());

    let (got, acct) = s
        .session_by_token(&short_tok.hash, t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, short);
    assert_eq!(acct, new.account);
    let after = t0() + Duration::minutes(30);
    assert!(
        s.session_by_token(&short_tok.hash, after)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.session_by_token(&long_tok.hash, after)
            .await
            .unwrap()
            .is_some()
    );

    assert_eq!(
        s.end_sessions_except(id, Some(long.id), None)
            .await
            .unwrap(),
        1
    );
    assert!(
        s.session_by_token(&long_tok.hash, t0())
            .await
            .unwrap()
            .is_some()
    );
    assert!(s.end_session(id, long.id, None).await.unwrap());
    assert!(
        s.session_by_token(&long_tok.hash, t0())
            .await
            .unwrap()
            .is_none()
    );

    let (old, _) = session(id, Duration::minutes(1));
    assert!(s.create_session(&old, HASH, &[], None).await.unwrap());
    assert_eq!(
        s.purge_expired_sessions(t0() + Duration::minutes(2))
            .await
            .unwrap(),
        1
    );
}

pub(super) async fn sessions_are_only_created_for_the_password_just_verified(s: &SqlStore) {
    let (new, _) = new_account("hub@example.com", "hub");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let (late, late_tok) = session(id, Duration::days(1));
    // A reset committed while this sign-in was hashing the old password.
    s.change_password(
        id,
        "reset-phc",
        None,
        &mail("hub@example.com", "password_changed"),
        &event(id, EventKind::PasswordReset, t0()),
        t0(),
    )
    .await
    .unwrap();
    assert!(!s.create_session(&late, HASH, &[], None).await.unwrap());
    assert!(
        s.session_by_token(&late_tok.hash, t0())
            .await
            .unwrap()
            .is_none()
    );
    // A rehash from that stale sign-in does not bring the old password back.
    s.update_password_hash(id, HASH, "rehashed-old")
        .await
        .unwrap();
    assert_eq!(
        s.account_by_id(id).await.unwrap().unwrap().password_hash,
        "reset-phc"
    );
    s.update_password_hash(id, "reset-phc", "rehashed-new")
        .await
        .unwrap();
    assert_eq!(
        s.account_by_id(id).await.unwrap().unwrap().password_hash,
        "rehashed-new"
    );
}

pub(super) async fn password_change_keeps_only_the_current_session(s: &SqlStore) {
    let (new, _) = new_account("fay@example.com", "fay");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let (keep, keep_tok) = session(id, Duration::days(1));
    let (other, other_tok) = session(id, Duration::days(1));
    assert!(s.create_session(&keep, HASH, &[], None).await.unwrap());
    assert!(s.create_session(&other, HASH, &[], None).await.unwrap());
    s.change_password(
        id,
        "changed",
        Some(keep.id),
        &mail("fay@example.com", "password_changed"),
        &event(id, EventKind::PasswordChanged, t0()),
        t0(),
    )
    .await
    .unwrap();
    assert!(
        s.session_by_token(&keep_tok.hash, t0())
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.session_by_token(&other_tok.hash, t0())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.account_by_id(id).await.unwrap().unwrap().password_hash,
        "changed"
    );
}

pub(super) async fn sessions_are_listed_touched_and_ended_only_by_their_owner(s: &SqlStore) {
    let (a, _) = new_account("ida@example.com", "ida");
    let (b, _) = new_account("jo@example.com", "jo");
    s.create_account(&a).await.unwrap();
    s.create_account(&b).await.unwrap();
    let (ida, jo) = (a.account.id, b.account.id);
    let (first, first_tok) = session(ida, Duration::minutes(30));
    let (second, _) = session(ida, Duration::days(30));
    let (bobs, _) = session(jo, Duration::days(30));
    for x in [&first, &second, &bobs] {
        assert!(s.create_session(x, HASH, &[], None).await.unwrap());
    }
    // Most recently used first: touching `first` puts it on top.
    let later = t0() + Duration::minutes(5);
    let extended = later + Duration::minutes(30);
    assert!(
        s.touch_session(first.id, later, extended, later - Duration::minutes(1))
            .await
            .unwrap()
    );
    let listed: Vec<Uuid> = s
        .sessions_of(ida, later)
        .await
        .unwrap()
        .iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(listed, [first.id, second.id]);
    let (got, _) = s
        .session_by_token(&first_tok.hash, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.last_seen_at, got.expires_at), (later, extended));
    // Within the minute another write is skipped (another node got there first).
    let sooner = later + Duration::seconds(20);
    assert!(
        !s.touch_session(
            first.id,
            sooner,
            sooner + Duration::minutes(30),
            sooner - Duration::minutes(1)
        )
        .await
        .unwrap()
    );
    // An expired session is never brought back by a touch.
    let dead = t0() + Duration::hours(2);
    assert!(
        !s.touch_session(first.id, dead, dead + Duration::minutes(30), dead)
            .await
            .unwrap()
    );
    // Jo cannot end Ida's session; the owner can, and the event is kept with it.
    assert!(!s.end_session(jo, second.id, None).await.unwrap());
    let revoked = event(ida, EventKind::SessionRevoked, later);
    assert!(s.end_session(ida, second.id, Some(&revoked)).await.unwrap());
    assert!(
        !s.end_session(ida, second.id, Some(&revoked)).await.unwrap(),
        "already gone"
    );
    assert_eq!(s.events(ida, None, 10).await.unwrap()[0], revoked);
    // Ending "all but none" ends Ida's last one and leaves Jo's alone.
    let all = event(ida, EventKind::SessionsRevoked, later);
    assert_eq!(
        s.end_sessions_except(ida, None, Some(&all)).await.unwrap(),
        1
    );
    assert_eq!(
        s.end_sessions_except(ida, None, Some(&all)).await.unwrap(),
        0
    );
    let kinds: Vec<EventKind> = s
        .events(ida, None, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            EventKind::SessionsRevoked,
            EventKind::SessionRevoked,
            EventKind::AccountCreated
        ],
        "an event is recorded only when something ended"
    );
    assert_eq!(s.sessions_of(jo, later).await.unwrap().len(), 1);
}

pub(super) async fn a_sign_in_stores_its_events_and_mail_with_the_session(s: &SqlStore) {
    let (a, _) = new_account("kit@example.com", "kit");
    s.create_account(&a).await.unwrap();
    let id = a.account.id;
    let pending = s.pending_mail().await.unwrap();
    let (ok, _) = session(id, Duration::days(1));
    let events = [
        event(id, EventKind::SignedIn, t0()),
        event(id, EventKind::NewDevice, t0()),
    ];
    let notice = mail("kit@example.com", "new_device");
    assert!(
        s.create_session(&ok, HASH, &events, Some(&notice))
            .await
            .unwrap()
    );
    assert_eq!(s.pending_mail().await.unwrap(), pending + 1);
    assert_eq!(s.events(id, None, 10).await.unwrap().len(), 3);
    // Refused (stale password): nothing of it is stored.
    let (late, _) = session(id, Duration::days(1));
    let more = [event(id, EventKind::SignedIn, t0())];
    assert!(
        !s.create_session(&late, "other-hash", &more, Some(&notice))
            .await
            .unwrap()
    );
    assert_eq!(s.pending_mail().await.unwrap(), pending + 1);
    assert_eq!(s.events(id, None, 10).await.unwrap().len(), 3);
}
