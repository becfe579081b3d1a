//! Active sessions, revoking, security activity and new-device mail.

use std::net::IpAddr;

use super::*;
use crate::activity::EventKind;

fn from(ip: &str, ua: &str) -> ClientInfo {
    ClientInfo {
        ip: Some(ip.parse::<IpAddr>().unwrap()),
        user_agent: Some(ua.into()),
        ..ClientInfo::default()
    }
}

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

impl Harness {
    async fn sign_in_from(&self, username: &str, client: &ClientInfo) -> (NewSession, SignedIn) {
        let s = self
            .steward
            .sign_in(username, PASSWORD, false, client, &[], None)
            .await
            .unwrap();
        let who = self.steward.authenticate(&s.token.plain).await.unwrap();
        (s, who)
    }

    fn kinds(&self, account: Uuid) -> Vec<EventKind> {
        self.store
            .events_of(account)
            .iter()
            .map(|e| e.kind)
            .collect()
    }
}

#[tokio::test]
async fn the_list_shows_every_live_session_of_the_account_and_marks_this_one() {
    let h = Harness::with_ada().await;
    h.register("bob@example.com", "bob").await.unwrap();
    let (_, laptop) = h.sign_in_from("ada", &from("203.0.113.7", FIREFOX)).await;
    h.advance(minutes(1));
    let (phone, _) = h.sign_in_from("ada", &from("198.51.100.2", CHROME)).await;
    h.sign_in_from("bob", &from("192.0.2.1", CHROME)).await;

    let list = h.steward.list_sessions(&laptop).await.unwrap();
    assert_eq!(list.len(), 2, "bob's session is not listed");
    assert_eq!(list[0].id, phone.session.id, "most recently used first");
    assert_eq!(list[0].device, "Chrome 131 on macOS");
    assert_eq!(list[0].ip.as_deref(), Some("198.51.100.2"));
    assert!(!list[0].current && list[1].current);
    assert_eq!(list[1].device, "Firefox 133 on Linux");
}

#[tokio::test]
async fn revoking_ends_the_session_at_once_and_only_the_owner_can() {
    let h = Harness::with_ada().await;
    h.register("bob@example.com", "bob").await.unwrap();
    let (_, ada) = h.signed_in("ada").await;
    let other = h.sign_in("ada", PASSWORD, true).await.unwrap();
    let (bobs, bob) = h.signed_in("bob").await;
    assert!(h.live(&other).await, "cached before the revocation");

    // Bob cannot revoke (or learn of) Ada's session: the same answer as for no session.
    let err = h
        .steward
        .revoke_session(&bob, other.session.id, &ClientInfo::default())
        .await;
    assert!(matches!(err, Err(CoreError::NotFound(_))), "{err:?}");
    let err = h
        .steward
        .revoke_session(&bob, Uuid::now_v7(), &ClientInfo::default())
        .await;
    assert!(matches!(err, Err(CoreError::NotFound(_))), "{err:?}");
    assert!(h.live(&other).await);

    h.steward
        .revoke_session(&ada, other.session.id, &ClientInfo::default())
        .await
        .unwrap();
    assert!(!h.live(&other).await, "dead on its next request");
    assert!(h.live(&bobs).await);
    assert!(
        h.kinds(ada.account().id)
            .contains(&EventKind::SessionRevoked)
    );
}

#[tokio::test]
async fn revoke_all_keeps_only_this_session() {
    let h = Harness::with_ada().await;
    let (mine, ada) = h.signed_in("ada").await;
    let a = h.sign_in("ada", PASSWORD, true).await.unwrap();
    let b = h.sign_in("ada", PASSWORD, false).await.unwrap();
    assert_eq!(
        h.steward
            .revoke_other_sessions(&ada, &ClientInfo::default())
            .await
            .unwrap(),
        2
    );
    assert!(h.live(&mine).await && !h.live(&a).await && !h.live(&b).await);
    let activity = h.steward.security_activity(&ada, None, None).await.unwrap();
    assert_eq!(activity.events[0].kind, "sessions_revoked");
    assert_eq!(activity.events[0].detail.as_deref(), Some("2 sessions"));
}

#[tokio::test]
async fn a_new_device_is_reported_by_email_and_a_known_one_is_not() {
    let h = Harness::new().await;
    let home = from("203.0.113.7", FIREFOX);
    h.steward
        .register(h.registration("ada@example.com", "ada"), &home)
        .await
        .unwrap();
    // Same browser and network as at sign-up: nothing to report.
    let (first, _) = h.sign_in_from("ada", &home).await;
    assert!(!first.new_device);
    let (again, _) = h.sign_in_from("ada", &from("203.0.113.99", FIREFOX)).await;
    assert!(!again.new_device, "same browser, same /24");
    assert!(h.mails("new_device").is_empty());

    let (stranger, _) = h.sign_in_from("ada", &from("198.51.100.2", CHROME)).await;
    assert!(stranger.new_device);
    let mails = h.mails("new_device");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "ada@example.com");
    assert_eq!(mails[0].text, "Chrome 131 on macOS");
    // Now known.
    let (back, _) = h.sign_in_from("ada", &from("198.51.100.2", CHROME)).await;
    assert!(!back.new_device);
    // After a password reset, a device used before it is new again (it may have been
    // the intruder's).
    let token = h.reset_token("ada@example.com").await;
    h.advance(minutes(1));
    h.steward
        .complete_password_reset(&token, NEW_PASSWORD, &home)
        .await
        .unwrap();
    h.advance(minutes(1));
    let stranger = from("198.51.100.2", CHROME);
    let after = h
        .steward
        .sign_in("ada", NEW_PASSWORD, false, &stranger, &[], None)
        .await
        .unwrap();
    assert!(after.new_device, "seen only before the reset");
    assert_eq!(h.mails("new_device").len(), 2);
    let again = h
        .steward
        .sign_in("ada", NEW_PASSWORD, false, &stranger, &[], None)
        .await
        .unwrap();
    assert!(!again.new_device);
    // A browser that carries the signed device cookie is known wherever it is.
    let ada = h.account("ada").await;
    let trusted = h
        .steward
        .sign_in(
            "ada",
            NEW_PASSWORD,
            false,
            &from("192.0.2.1", CHROME),
            &[(ada.id, h.steward.now())],
            None,
        )
        .await
        .unwrap();
    assert!(!trusted.new_device);
}

#[tokio::test]
async fn activity_lists_what_happened_newest_first_in_pages() {
    let h = Harness::with_ada().await;
    let (_, ada) = h.signed_in("ada").await;
    let id = ada.account().id;
    assert!(matches!(
        h.sign_in("ada", "wrong password", false).await,
        Err(CoreError::InvalidCredentials)
    ));
    h.settle().await; // the failure is recorded in the background
    h.steward
        .change_password(&ada, PASSWORD, NEW_PASSWORD, &ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(
        h.kinds(id),
        [
            EventKind::AccountCreated,
            EventKind::SignedIn,
            EventKind::SignInFailed,
            EventKind::PasswordChanged
        ]
    );
    let page = h
        .steward
        .security_activity(&ada, None, Some(3))
        .await
        .unwrap();
    let kinds: Vec<_> = page.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["password_changed", "sign_in_failed", "signed_in"]);
    let rest = h
        .steward
        .security_activity(&ada, page.next_before, Some(3))
        .await
        .unwrap();
    assert_eq!(rest.events.len(), 1);
    assert_eq!(rest.events[0].kind, "account_created");
    assert!(rest.next_before.is_none(), "last page");
    assert!(matches!(
        h.steward.security_activity(&ada, None, Some(0)).await,
        Err(CoreError::Validation(_))
    ));
    assert!(matches!(
        h.steward.security_activity(&ada, None, Some(101)).await,
        Err(CoreError::Validation(_))
    ));
}

#[tokio::test]
async fn retention_drops_addresses_then_deletes_old_events() {
    let cfg = CoreConfig {
        activity_ip_retention: time::Duration::days(30),
        activity_retention: time::Duration::days(90),
        ..cheap_config()
    };
    let h = Harness::with(cfg).await;
    h.steward
        .register(
            h.registration("ada@example.com", "ada"),
            &from("203.0.113.7", FIREFOX),
        )
        .await
        .unwrap();
    let id = h.account("ada").await.id;
    h.advance(time::Duration::days(31));
    h.sign_in_from("ada", &from("203.0.113.7", FIREFOX)).await;
    let report = h.steward.expire_activity().await.unwrap();
    assert_eq!((report.deleted, report.anonymised), (0, 1));
    let events = h.store.events_of(id);
    assert!(events[0].ip.is_none() && events[0].user_agent.is_none());
    assert!(events[1].ip.is_some(), "recent events keep their address");
    h.advance(time::Duration::days(60));
    let report = h.steward.expire_activity().await.unwrap();
    assert_eq!(report.deleted, 1, "the 91-day-old event is gone");
    assert_eq!(
        h.store.events_of(id).len(),
        2,
        "sign-in and new device remain"
    );
}

#[tokio::test]
async fn live_connections_hear_when_an_accounts_sessions_change() {
    use crate::session::changes::Change;
    let h = Harness::with_ada().await;
    let (_, ada) = h.signed_in("ada").await;
    let other = h.sign_in("ada", PASSWORD, true).await.unwrap();
    let mut changes = h.steward.subscribe_changes();
    h.steward
        .revoke_session(&ada, other.session.id, &ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(
        changes.try_recv().unwrap(),
        Change::Account(ada.account().id)
    );
    assert!(changes.try_recv().is_err(), "one notice per change");
}
