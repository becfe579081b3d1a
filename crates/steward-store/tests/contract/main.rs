//! The storage contract: one suite, run on SQLite always and on PostgreSQL when
//! `STEWARD_TEST_PG` is set (CI sets it; there a missing server fails the run).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod activity;
mod infra;
mod oauth;
mod profiles;
mod sessions;
mod tokens;

use accounts::*;
use activity::*;
use infra::*;
use oauth::*;
use profiles::*;
use sessions::*;
use tokens::*;

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
        unsubscribe: None,
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
            new_email: None,
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
        app: None,
    };
    (s, token)
}

fn email_change_token(account_id: Uuid, to: &str, at: OffsetDateTime) -> (EmailToken, NewSecret) {
    let secret = NewSecret::generate();
    let t = EmailToken {
        id: Uuid::now_v7(),
        account_id,
        kind: TokenKind::ChangeEmail,
        hash: secret.hash.clone(),
        email_key: to.to_lowercase(),
        new_email: Some(to.to_owned()),
        created_at: at,
        expires_at: at + Duration::hours(24),
    };
    (t, secret)
}

fn reset_token(account_id: Uuid, email_key: &str, at: OffsetDateTime) -> (EmailToken, NewSecret) {
    let secret = NewSecret::generate();
    let t = EmailToken {
        id: Uuid::now_v7(),
        account_id,
        kind: TokenKind::ResetPassword,
        hash: secret.hash.clone(),
        email_key: email_key.into(),
        new_email: None,
        created_at: at,
        expires_at: at + Duration::hours(1),
    };
    (t, secret)
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
    refresh_tokens_rotate_once_and_a_replay_is_recognised,
    codes_are_issued_from_live_requests_and_redeemed_once,
    device_grants_are_decided_once_and_taken_once,
    consent_is_remembered_listed_and_revoking_it_ends_the_apps_sessions,
    signing_keys_are_kept_in_order_and_retired,
    concurrent_redemptions_of_one_code_store_one_sign_in,
    profiles_are_replaced_whole_and_public_only_when_marked,
    a_photo_replaces_the_last_and_survives_profile_saves,
    a_renamed_account_holds_its_old_username,
    an_email_change_applies_once_and_never_onto_a_taken_address,
    notification_preferences_and_the_bell_round_trip,
    emailed_links_work_only_for_the_address_they_were_sent_to,
    credential_changes_cancel_a_pending_email_change,
    email_keys_are_paged_in_id_order_and_can_be_recomputed,
    an_email_change_is_issued_only_for_a_live_session_and_the_checked_password,
    revoking_races_no_email_change_link_into_life,
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
