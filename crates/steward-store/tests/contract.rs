//! The storage contract: one suite, run on SQLite always and on PostgreSQL when
//! `STEWARD_TEST_PG` is set (CI sets it; there a missing server fails the run).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use steward_core::account::Account;
use steward_core::activity::{EventKind, SecurityEvent};
use steward_core::error::StoreError;
use steward_core::mail::OutgoingMail;
use steward_core::ports::{
    AccountStore, ActivityStore, ChangeFeed, ConsentRecord, EmailToken, NewAccount, OutboxStore,
    SecurityStore, SessionStore, Store, TokenKind, TokenStore,
};
use steward_core::secret::NewSecret;
use steward_core::session::{ClientInfo, Session};
use steward_store::{PoolConfig, SqlStore, testing};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

struct Db {
    store: SqlStore,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::connect(&testing::sqlite_url(dir.path()), &PoolConfig::default())
        .await
        .unwrap();
    Db {
        store,
        _dir: Some(dir),
    }
}

async fn postgres() -> Option<Db> {
    let server = testing::test_pg_url()?;
    let url = testing::fresh_pg_database(&server).await.unwrap();
    let store = SqlStore::connect(&url, &PoolConfig::default())
        .await
        .unwrap();
    Some(Db { store, _dir: None })
}

/// The password hash every test account has.
const HASH: &str = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA";

fn t0() -> OffsetDateTime {
    // Microsecond precision: what both backends keep.
    OffsetDateTime::from_unix_timestamp_nanos(1_800_000_000_123_456_000).unwrap()
}

fn mail(to: &str, kind: &str) -> OutgoingMail {
    OutgoingMail {
        to: to.into(),
        subject: "s".into(),
        text: "t".into(),
        html: "<p>h</p>".into(),
        kind: kind.into(),
    }
}

fn new_account(email: &str, username: &str) -> (NewAccount, NewSecret) {
    let id = Uuid::now_v7();
    let secret = NewSecret::generate();
    let account = Account {
        id,
        email: email.into(),
        email_verified_at: None,
        username: username.into(),
        password_hash: HASH.into(),
        created_at: t0(),
        password_changed_at: None,
    };
    let new = NewAccount {
        email_key: email.to_lowercase(),
        consents: vec![ConsentRecord {
            id: Uuid::now_v7(),
            account_id: id,
            purpose: "terms_of_use".into(),
            legal_basis: "contract".into(),
            notice_version: "2026-11-01".into(),
            granted: true,
            method: "web_form".into(),
            ip_truncated: Some("203.0.113.0".into()),
            at: t0(),
        }],
        verification: EmailToken {
            id: Uuid::now_v7(),
            account_id: id,
            kind: TokenKind::VerifyEmail,
            hash: secret.hash.clone(),
            email_key: email.to_lowercase(),
            created_at: t0(),
            expires_at: t0() + Duration::hours(24),
        },
        mail: mail(email, "verify_email"),
        event: event(id, EventKind::AccountCreated, t0()),
        account,
    };
    (new, secret)
}

fn event(account_id: Uuid, kind: EventKind, at: OffsetDateTime) -> SecurityEvent {
    let client = ClientInfo {
        ip: Some("203.0.113.7".parse().unwrap()),
        user_agent: Some("Mozilla/5.0".into()),
        ..ClientInfo::default()
    };
    SecurityEvent::new(account_id, kind, &client, at)
}

fn session(account_id: Uuid, expires_in: Duration) -> (Session, NewSecret) {
    let token = NewSecret::generate();
    let s = Session {
        id: Uuid::now_v7(),
        account_id,
        token_hash: token.hash.clone(),
        created_at: t0(),
        last_seen_at: t0(),
        expires_at: t0() + expires_in,
        remember: true,
        ip: Some("203.0.113.7".into()),
        user_agent: Some("Mozilla/5.0".into()),
    };
    (s, token)
}

fn reset_token(account_id: Uuid, email_key: &str, at: OffsetDateTime) -> (EmailToken, NewSecret) {
    let secret = NewSecret::generate();
    let t = EmailToken {
        id: Uuid::now_v7(),
        account_id,
        kind: TokenKind::ResetPassword,
        hash: secret.hash.clone(),
        email_key: email_key.into(),
        created_at: at,
        expires_at: at + Duration::hours(1),
    };
    (t, secret)
}

async fn account_round_trips_and_uniqueness_ignores_case(s: &SqlStore) {
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

async fn concurrent_sign_ups_of_one_email_create_one_account(s: &SqlStore) {
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

async fn email_confirmation_is_single_use_and_expires(s: &SqlStore) {
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

async fn a_newer_reset_link_voids_older_ones(s: &SqlStore) {
    let (new, _) = new_account("cy@example.com", "cy");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let (old, old_secret) = reset_token(id, "cy@example.com", t0());
    s.issue_token(&old, &mail("cy@example.com", "reset_password"), t0())
        .await
        .unwrap();
    let later = t0() + Duration::minutes(5);
    let (newer, new_secret) = reset_token(id, "cy@example.com", later);
    s.issue_token(&newer, &mail("cy@example.com", "reset_password"), later)
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

async fn completing_a_reset_ends_every_session_once(s: &SqlStore) {
    let (new, _) = new_account("di@example.com", "di");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let (s1, t1) = session(id, Duration::days(30));
    let (s2, _) = session(id, Duration::minutes(30));
    assert!(s.create_session(&s1, HASH, &[], None).await.unwrap());
    assert!(s.create_session(&s2, HASH, &[], None).await.unwrap());
    let (tok, secret) = reset_token(id, "di@example.com", t0());
    s.issue_token(&tok, &mail("di@example.com", "reset_password"), t0())
        .await
        .unwrap();

    let now = t0() + Duration::minutes(1);
    assert!(
        s.complete_reset(
            &secret.hash,
            "new-phc",
            &mail("di@example.com", "password_changed"),
            &event(id, EventKind::PasswordReset, now),
            now
        )
        .await
        .unwrap()
    );
    assert_eq!(
        s.account_by_id(id).await.unwrap().unwrap().password_hash,
        "new-phc"
    );
    assert!(s.session_by_token(&t1.hash, now).await.unwrap().is_none());
    assert!(
        !s.complete_reset(
            &secret.hash,
            "again",
            &mail("di@example.com", "password_changed"),
            &event(id, EventKind::PasswordReset, now),
            now
        )
        .await
        .unwrap()
    );
    assert_eq!(
        s.account_by_id(id).await.unwrap().unwrap().password_hash,
        "new-phc"
    );
}

async fn sessions_expire_and_can_be_ended(s: &SqlStore) {
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

async fn sessions_are_only_created_for_the_password_just_verified(s: &SqlStore) {
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

async fn password_change_keeps_only_the_current_session(s: &SqlStore) {
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

async fn outbox_leases_retries_and_deletes_sent_mail(s: &SqlStore) {
    s.enqueue_mail(&mail("a@example.com", "k"), t0())
        .await
        .unwrap();
    s.enqueue_mail(&mail("b@example.com", "k"), t0())
        .await
        .unwrap();
    let claimed = s.claim_mail(t0(), Duration::minutes(1), 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert!(claimed.iter().all(|m| m.attempts == 1));
    assert!(
        s.claim_mail(t0(), Duration::minutes(1), 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );

    s.mail_sent(claimed[0].id).await.unwrap();
    s.mail_failed(claimed[1].id, t0() + Duration::seconds(30), "smtp down")
        .await
        .unwrap();
    assert!(
        s.claim_mail(t0() + Duration::seconds(29), Duration::minutes(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retry = s
        .claim_mail(t0() + Duration::seconds(30), Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].attempts, 2);
    assert_eq!(retry[0].mail, claimed[1].mail);
    // An expired lease (a node died mid-send) makes the mail claimable again.
    let again = s
        .claim_mail(t0() + Duration::seconds(91), Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(s.pending_mail().await.unwrap(), 1);
}

async fn challenges_are_used_once_and_secrets_are_stable(s: &SqlStore) {
    let id = [7u8; 32];
    assert!(
        s.use_challenge(&id, t0() + Duration::minutes(10), t0())
            .await
            .unwrap()
    );
    assert!(
        !s.use_challenge(&id, t0() + Duration::minutes(10), t0())
            .await
            .unwrap()
    );
    let first = s.server_secret("k", vec![1, 2, 3]).await.unwrap();
    let second = s.server_secret("k", vec![9, 9, 9]).await.unwrap();
    assert_eq!(first, vec![1, 2, 3]);
    assert_eq!(second, first);
    s.ping().await.unwrap();
}

async fn sessions_are_listed_touched_and_ended_only_by_their_owner(s: &SqlStore) {
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

async fn a_sign_in_stores_its_events_and_mail_with_the_session(s: &SqlStore) {
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

async fn activity_pages_recognises_devices_and_expires(s: &SqlStore) {
    let (a, _) = new_account("lu@example.com", "lu");
    s.create_account(&a).await.unwrap();
    let id = a.account.id;
    let mut recorded = vec![];
    for day in 1..=4 {
        let e = event(id, EventKind::SignedIn, t0() + Duration::days(day));
        s.record_event(&e).await.unwrap();
        recorded.push(e);
    }
    let page = s.events(id, None, 2).await.unwrap();
    assert_eq!(
        page,
        [recorded[3].clone(), recorded[2].clone()],
        "newest first"
    );
    let next = s.events(id, Some(page[1].id), 10).await.unwrap();
    assert_eq!(next.len(), 3, "two sign-ins and the account creation");
    assert_eq!(next[0], recorded[1]);

    let since = t0();
    assert!(
        s.seen_device(id, "Mozilla/5.0", "203.0.113.0", since)
            .await
            .unwrap()
    );
    assert!(
        !s.seen_device(id, "curl/8", "203.0.113.0", since)
            .await
            .unwrap()
    );
    assert!(
        !s.seen_device(id, "Mozilla/5.0", "198.51.100.0", since)
            .await
            .unwrap()
    );
    assert!(
        !s.seen_device(id, "Mozilla/5.0", "203.0.113.0", t0() + Duration::days(5))
            .await
            .unwrap()
    );

    // Addresses go first, then whole events.
    assert_eq!(
        s.drop_event_addresses_before(t0() + Duration::days(2) + Duration::hours(1))
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        s.drop_event_addresses_before(t0() + Duration::days(2) + Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    let kept = s.events(id, None, 10).await.unwrap();
    assert!(kept[0].ip.is_some() && kept[2].ip.is_none() && kept[2].user_agent.is_none());
    assert_eq!(
        s.delete_events_before(t0() + Duration::days(3))
            .await
            .unwrap(),
        3
    );
    assert_eq!(s.events(id, None, 10).await.unwrap().len(), 2);
}

async fn ending_sessions_is_heard_by_every_listener(s: &SqlStore) {
    let Some(mut listener) = s.listen().await.unwrap() else {
        // Single-node backend: nothing to hear, and nothing to test.
        assert_eq!(s.backend(), steward_store::Backend::Sqlite);
        return;
    };
    let (a, _) = new_account("mo@example.com", "mo");
    s.create_account(&a).await.unwrap();
    let id = a.account.id;
    let (x, _) = session(id, Duration::days(1));
    assert!(s.create_session(&x, HASH, &[], None).await.unwrap());
    assert!(s.end_session(id, x.id, None).await.unwrap());
    let heard = tokio::time::timeout(std::time::Duration::from_secs(10), listener.next())
        .await
        .expect("a notice within 10 s")
        .unwrap();
    assert_eq!(heard, id);
}

/// PostgreSQL only: a quiet feed stays up (its heartbeats are answered), and a feed
/// whose connection is killed reports it instead of waiting forever.
#[tokio::test]
async fn the_change_feed_stays_up_when_quiet_and_reports_a_dropped_connection() {
    let Some(server) = testing::test_pg_url() else {
        return;
    };
    let url = testing::fresh_pg_database(&server).await.unwrap();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let store = SqlStore::connect(&url, &PoolConfig::default())
        .await
        .unwrap();
    let mut listener = store.listen().await.unwrap().unwrap();
    // Twelve quiet seconds: two heartbeat rounds, no error, no notice.
    let quiet = tokio::time::timeout(std::time::Duration::from_secs(12), listener.next()).await;
    assert!(
        quiet.is_err(),
        "nothing heard and no error: {:?}",
        quiet.map(|r| r.map_err(|e| e.to_string()))
    );
    // Kill the listening connection from the server side.
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&server)
        .await
        .unwrap();
    let killed: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND query LIKE 'LISTEN%'",
    )
    .bind(&name)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(killed.len(), 1, "one listening connection");
    let broken = tokio::time::timeout(std::time::Duration::from_secs(10), listener.next())
        .await
        .expect("reported within 10 s");
    assert!(
        broken.is_err(),
        "a lost connection is an error, not silence"
    );
    // The listener holds a pool connection; closing the pool would wait for it.
    drop(listener);
    store.close().await;
}

async fn dyn_store_is_usable(s: &SqlStore) {
    let d: Arc<dyn Store> = Arc::new(s.clone());
    d.ping().await.unwrap();
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = super::sqlite().await;
                    super::$name(&db.store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(db) = super::postgres().await {
                        super::$name(&db.store).await;
                        db.store.close().await;
                    }
                }
            )*
        }
    };
}

contract!(
    account_round_trips_and_uniqueness_ignores_case,
    concurrent_sign_ups_of_one_email_create_one_account,
    email_confirmation_is_single_use_and_expires,
    a_newer_reset_link_voids_older_ones,
    completing_a_reset_ends_every_session_once,
    sessions_expire_and_can_be_ended,
    password_change_keeps_only_the_current_session,
    sessions_are_only_created_for_the_password_just_verified,
    outbox_leases_retries_and_deletes_sent_mail,
    challenges_are_used_once_and_secrets_are_stable,
    dyn_store_is_usable,
    sessions_are_listed_touched_and_ended_only_by_their_owner,
    a_sign_in_stores_its_events_and_mail_with_the_session,
    activity_pages_recognises_devices_and_expires,
    ending_sessions_is_heard_by_every_listener,
);

#[tokio::test]
async fn reopening_a_database_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = testing::sqlite_url(dir.path());
    let (new, _) = new_account("gil@example.com", "gil");
    {
        let s = SqlStore::connect(&url, &PoolConfig::default())
            .await
            .unwrap();
        s.create_account(&new).await.unwrap();
        s.close().await;
    }
    let s = SqlStore::connect(&url, &PoolConfig::default())
        .await
        .unwrap();
    assert_eq!(
        s.account_by_id(new.account.id).await.unwrap(),
        Some(new.account)
    );
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = testing::sqlite_url(dir.path());
    SqlStore::connect(&url, &PoolConfig::default())
        .await
        .unwrap()
        .close()
        .await;
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
             VALUES (9999, 'from the future', CURRENT_TIMESTAMP, 1, x'00', 0)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let err = SqlStore::connect(&url, &PoolConfig::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("9999"),
        "refused because of the unknown migration: {err}"
    );
}
