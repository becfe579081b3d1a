//! Profiles: saved whole, replaced whole, public only when marked so.

use steward_core::ports::ProfileStore;
use steward_core::profile::Profile;

use super::*;

pub(super) async fn profiles_are_replaced_whole_and_public_only_when_marked(s: &SqlStore) {
    let (new, _) = new_account("pia@example.com", "pia");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    assert_eq!(s.profile(id).await.unwrap(), None);
    let mut p = Profile {
        account_id: id,
        name: Some("Pia".into()),
        about: Some("line one\nline two".into()),
        github: Some("https://github.com/pia".into()),
        public: false,
        updated_at: Some(t0()),
        ..Profile::default()
    };
    s.save_profile(&p).await.unwrap();
    assert_eq!(s.profile(id).await.unwrap(), Some(p.clone()));
    assert_eq!(s.public_profile("pia").await.unwrap(), None, "private");
    p.public = true;
    p.github = None;
    p.updated_at = Some(t0() + Duration::minutes(1));
    s.save_profile(&p).await.unwrap();
    assert_eq!(s.profile(id).await.unwrap(), Some(p.clone()));
    assert_eq!(
        s.public_profile("pia").await.unwrap(),
        Some(("pia".to_owned(), p))
    );
    assert_eq!(s.public_profile("nobody").await.unwrap(), None);
}

pub(super) async fn a_photo_replaces_the_last_and_survives_profile_saves(s: &SqlStore) {
    let (new, _) = new_account("phil@example.com", "phil");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    // A photo before any profile was saved makes the profile.
    let first = Uuid::now_v7();
    s.save_photo(id, first, b"large-1", b"small-1", t0())
        .await
        .unwrap();
    assert_eq!(s.profile(id).await.unwrap().unwrap().photo_id, Some(first));
    let got = s.photo(first).await.unwrap().unwrap();
    assert_eq!(
        (
            got.account_id,
            got.public,
            got.large.as_slice(),
            got.small.as_slice()
        ),
        (id, false, &b"large-1"[..], &b"small-1"[..])
    );
    let second = Uuid::now_v7();
    s.save_photo(id, second, b"large-2", b"small-2", t0())
        .await
        .unwrap();
    assert!(
        s.photo(first).await.unwrap().is_none(),
        "the old photo is gone"
    );
    let mut p = s.profile(id).await.unwrap().unwrap();
    p.public = true;
    p.photo_id = None;
    s.save_profile(&p).await.unwrap();
    assert_eq!(
        s.profile(id).await.unwrap().unwrap().photo_id,
        Some(second),
        "kept by a profile save"
    );
    assert!(s.photo(second).await.unwrap().unwrap().public);
    assert!(s.delete_photo(id).await.unwrap());
    assert!(!s.delete_photo(id).await.unwrap());
    assert_eq!(s.profile(id).await.unwrap().unwrap().photo_id, None);
    assert!(s.photo(second).await.unwrap().is_none());
}

pub(super) async fn a_renamed_account_holds_its_old_username(s: &SqlStore) {
    let (a, _) = new_account("hal@example.com", "hal");
    let (b, _) = new_account("ivy@example.com", "ivy");
    s.create_account(&a).await.unwrap();
    s.create_account(&b).await.unwrap();
    let (ida, idb) = (a.account.id, b.account.id);
    let until = t0() + Duration::days(30);
    let ev = || event(ida, EventKind::UsernameChanged, t0());
    assert!(matches!(
        s.change_username(ida, "ivy", until, &ev(), t0()).await,
        Err(StoreError::UsernameTaken)
    ));
    s.change_username(ida, "hal9000", until, &ev(), t0())
        .await
        .unwrap();
    assert_eq!(
        s.account_by_id(ida).await.unwrap().unwrap().username,
        "hal9000"
    );
    assert_eq!(
        s.username_hold("hal", t0()).await.unwrap(),
        Some((ida, "hal9000".to_owned()))
    );
    let ev_b = || event(idb, EventKind::UsernameChanged, t0());
    assert!(matches!(
        s.change_username(idb, "hal", until, &ev_b(), t0()).await,
        Err(StoreError::UsernameTaken)
    ));
    assert!(
        s.username_hold("hal", until).await.unwrap().is_none(),
        "released"
    );
    s.change_username(idb, "hal", until + Duration::days(30), &ev_b(), until)
        .await
        .unwrap();
    assert_eq!(s.account_by_id(idb).await.unwrap().unwrap().username, "hal");
    // The former owner takes its held name back.
    s.change_username(ida, "hal9000-2", until, &ev(), t0())
        .await
        .unwrap();
    s.change_username(ida, "hal9000", until, &ev(), t0())
        .await
        .unwrap();
    assert!(s.username_hold("hal9000", t0()).await.unwrap().is_none());
    // Renaming in a loop holds only the 3 latest names.
    for (i, name) in ["hal-a", "hal-b", "hal-c", "hal-d"].iter().enumerate() {
        let until = t0() + Duration::days(30) + Duration::seconds(i as i64 + 1);
        s.change_username(ida, name, until, &ev(), t0())
            .await
            .unwrap();
    }
    for (name, held) in [
        ("hal9000", false),
        ("hal-a", true),
        ("hal-b", true),
        ("hal-c", true),
    ] {
        assert_eq!(
            s.username_hold(name, t0()).await.unwrap().is_some(),
            held,
            "{name}"
        );
    }
    assert_eq!(
        s.events(ida, None, 10)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.kind == EventKind::UsernameChanged)
            .count(),
        7
    );
}

pub(super) async fn an_email_change_applies_once_and_never_onto_a_taken_address(s: &SqlStore) {
    let (a, _) = new_account("kai@example.com", "kai");
    let (b, _) = new_account("lea@example.com", "lea");
    s.create_account(&a).await.unwrap();
    s.create_account(&b).await.unwrap();
    let change = |account_id: Uuid, to: &str| {
        let secret = NewSecret::generate();
        (
            EmailToken {
                id: Uuid::now_v7(),
                account_id,
                kind: TokenKind::ChangeEmail,
                hash: secret.hash.clone(),
                email_key: to.to_lowercase(),
                new_email: Some(to.to_owned()),
                created_at: t0(),
                expires_at: t0() + Duration::hours(24),
            },
            secret,
        )
    };
    let ev = |id: Uuid| event(id, EventKind::EmailChanged, t0());
    let (tok, secret) = change(a.account.id, "Kai@New.example");
    s.issue_token(
        &tok,
        &[
            mail("Kai@New.example", "confirm_email_change"),
            mail("kai@example.com", "email_change_requested"),
        ],
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(
        s.pending_mail().await.unwrap(),
        4,
        "two sign-up mails and both of these"
    );
    assert_eq!(
        s.confirm_email_change(&secret.hash, &ev(b.account.id), t0())
            .await
            .unwrap(),
        None,
        "another account's token"
    );
    assert_eq!(
        s.confirm_email_change(&secret.hash, &ev(a.account.id), t0())
            .await
            .unwrap()
            .as_deref(),
        Some("Kai@New.example")
    );
    let kai = s
        .account_by_email("kai@new.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((kai.id, kai.email_verified_at), (a.account.id, Some(t0())));
    assert!(
        s.account_by_email("kai@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.confirm_email_change(&secret.hash, &ev(a.account.id), t0())
            .await
            .unwrap(),
        None,
        "once"
    );

    // Lea asks for an address Kai takes first: her link then fails and changes nothing.
    let (tok, secret) = change(b.account.id, "kai@new.example");
    s.issue_token(&tok, &[], t0()).await.unwrap();
    assert!(matches!(
        s.confirm_email_change(&secret.hash, &ev(b.account.id), t0())
            .await,
        Err(StoreError::EmailTaken)
    ));
    assert_eq!(
        s.account_by_id(b.account.id).await.unwrap().unwrap().email,
        "lea@example.com"
    );
}

pub(super) async fn notification_preferences_and_the_bell_round_trip(s: &SqlStore) {
    use steward_core::notify::{Category, Notification};
    use steward_core::ports::NotificationStore;
    let (new, _) = new_account("nia@example.com", "nia");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    assert!(s.notification_prefs(id).await.unwrap().is_empty());
    let consent = ConsentRecord {
        id: Uuid::now_v7(),
        account_id: id,
        purpose: "marketing_email".into(),
        legal_basis: "consent".into(),
        notice_version: "2026-11-01".into(),
        granted: true,
        method: "web_form".into(),
        ip_truncated: None,
        at: t0(),
    };
    s.save_notification_prefs(
        id,
        &[
            (Category::Usage, "email", false),
            (Category::Usage, "in_app", true),
        ],
        Some(&consent),
        t0(),
    )
    .await
    .unwrap();
    s.save_notification_prefs(id, &[(Category::Usage, "email", true)], None, t0())
        .await
        .unwrap();
    let mut prefs = s.notification_prefs(id).await.unwrap();
    prefs.sort_by_key(|p| p.1);
    assert_eq!(
        prefs,
        vec![
            (Category::Usage, "email", true),
            (Category::Usage, "in_app", true)
        ]
    );
    assert!(s.consents(id).await.unwrap().contains(&consent));

    let note = |title: &str| Notification {
        id: Uuid::now_v7(),
        account_id: id,
        category: Category::Security,
        title: title.into(),
        body: "b".into(),
        link: Some("/account/sessions".into()),
        created_at: t0(),
        read_at: None,
    };
    let (a, b) = (note("first"), note("second"));
    s.add_notification(&a).await.unwrap();
    s.add_notification(&b).await.unwrap();
    let list = s.notifications(id, 10).await.unwrap();
    assert_eq!(
        list.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(),
        vec!["second", "first"]
    );
    assert_eq!(s.unread_notifications(id).await.unwrap(), 2);
    assert_eq!(
        s.mark_notifications_read(id, Some(a.id), t0())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.mark_notifications_read(Uuid::now_v7(), Some(b.id), t0())
            .await
            .unwrap(),
        0,
        "not theirs"
    );
    assert_eq!(s.mark_notifications_read(id, None, t0()).await.unwrap(), 1);
    assert_eq!(s.unread_notifications(id).await.unwrap(), 0);
}
