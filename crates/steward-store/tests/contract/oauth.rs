//! The OAuth tables: app sessions, codes, refresh-token rotation and replay,
//! device grants, consent, disclosures, signing keys.

use steward_core::ports::{
    AuthCode, DeviceDecision, DeviceGrant, Disclosure, OAuthConsent, OAuthStore, Redeemed,
    RegisteredClient, Rotation, StoredKey, StoredRequest,
};
use steward_core::secret::SecretHash;
use steward_core::session::AppSession;

use super::*;

fn app_session(account_id: Uuid, client_id: &str) -> (Session, NewSecret) {
    let (mut s, token) = session(account_id, Duration::days(30));
    s.app = Some(AppSession {
        client_id: client_id.into(),
        client_name: "Steward CLI".into(),
        scope: "openid offline_access".into(),
        access_expires_at: t0() + Duration::minutes(15),
        auth_time: t0() - Duration::minutes(1),
    });
    (s, token)
}

fn code(account_id: Uuid, hash: &SecretHash) -> AuthCode {
    AuthCode {
        hash: hash.clone(),
        client_id: "steward-cli".into(),
        account_id,
        redirect_uri: "http://127.0.0.1:5000/callback".into(),
        challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        scope: "openid".into(),
        nonce: Some("n".into()),
        auth_time: t0(),
        created_at: t0(),
        expires_at: t0() + Duration::minutes(1),
    }
}

fn app(owner_id: Uuid, id: &str) -> RegisteredClient {
    RegisteredClient {
        id: id.into(),
        owner_id,
        name: "Example Notes".into(),
        redirect_uris: vec!["https://notes.example/cb".into()],
        logo_url: None,
        scopes: "openid email".into(),
        secret_hash: Some(NewSecret::generate().hash),
        id_token_alg: "RS256".into(),
        created_at: t0(),
    }
}

pub(super) async fn refresh_tokens_rotate_once_and_a_replay_is_recognised(s: &SqlStore) {
    let (new, _) = new_account("ora@example.com", "ora");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let (sess, access) = app_session(id, "steward-cli");
    let r1 = NewSecret::generate();
    s.create_app_session(&sess, Some(&r1.hash), None, t0())
        .await
        .unwrap();
    // The access token finds the app session with its app.
    let (got, _) = s
        .session_by_token(&access.hash, t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, sess);

    let (found, acct, used) = s
        .refresh_token_session(&r1.hash, t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, acct.id, used), (sess.id, id, false));
    let (r2, a2) = (NewSecret::generate(), NewSecret::generate());
    let at = t0() + Duration::minutes(20);
    let rotation = Rotation {
        refresh: r2.hash.clone(),
        access: a2.hash.clone(),
        access_expires_at: at + Duration::minutes(15),
        expires_at: at + Duration::days(30),
        at,
    };
    assert!(
        s.rotate_refresh_token(&r1.hash, sess.id, &rotation)
            .await
            .unwrap()
    );
    assert!(
        !s.rotate_refresh_token(&r1.hash, sess.id, &rotation)
            .await
            .unwrap(),
        "a used refresh token rotates once"
    );
    assert!(
        s.session_by_token(&access.hash, at)
            .await
            .unwrap()
            .is_none(),
        "old access token gone"
    );
    let (now_sess, _) = s.session_by_token(&a2.hash, at).await.unwrap().unwrap();
    assert_eq!(
        now_sess.app.unwrap().access_expires_at,
        at + Duration::minutes(15)
    );
    let (_, _, used) = s
        .refresh_token_session(&r1.hash, at)
        .await
        .unwrap()
        .unwrap();
    assert!(used, "the old token is known as used: a replay");
    // Expiring the access token leaves the refresh token working.
    assert!(s.expire_access_token(&a2.hash, at).await.unwrap());
    assert!(!s.expire_access_token(&a2.hash, at).await.unwrap());
    assert!(
        s.refresh_token_session(&r2.hash, at)
            .await
            .unwrap()
            .is_some()
    );
    // Ending the session ends its refresh tokens.
    assert!(s.end_session(id, sess.id, None).await.unwrap());
    assert!(
        s.refresh_token_session(&r2.hash, at)
            .await
            .unwrap()
            .is_none()
    );
}

/// A live authorization request of the CLI, stored.
async fn saved_request(s: &SqlStore) -> (NewSecret, StoredRequest) {
    let handle = NewSecret::generate();
    let req = StoredRequest {
        client_id: "steward-cli".into(),
        request: "{}".into(),
        created_at: t0(),
        expires_at: t0() + Duration::minutes(5),
        used_at: None,
    };
    s.save_request(&handle.hash, &req).await.unwrap();
    (handle, req)
}

pub(super) async fn codes_are_issued_from_live_requests_and_redeemed_once(s: &SqlStore) {
    let (new, _) = new_account("cody@example.com", "cody");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let (handle, req) = saved_request(s).await;
    assert_eq!(s.request(&handle.hash).await.unwrap(), Some(req));
    let c = NewSecret::generate();
    let ev = event(id, EventKind::AppAuthorized, t0());
    let late = t0() + Duration::minutes(5);
    assert!(
        !s.issue_code(&handle.hash, &code(id, &c.hash), None, None, &ev, late)
            .await
            .unwrap(),
        "an expired request gives no code"
    );
    assert!(
        s.issue_code(&handle.hash, &code(id, &c.hash), None, None, &ev, t0())
            .await
            .unwrap()
    );
    assert!(
        !s.issue_code(
            &handle.hash,
            &code(id, &NewSecret::generate().hash),
            None,
            None,
            &ev,
            t0()
        )
        .await
        .unwrap(),
        "a request gives one code"
    );
    assert!(
        s.request(&handle.hash)
            .await
            .unwrap()
            .unwrap()
            .used_at
            .is_some()
    );

    let at = t0() + Duration::seconds(10);
    let Redeemed::Fresh(got) = s.peek_code(&c.hash, at).await.unwrap() else {
        panic!("a live code")
    };
    assert_eq!(got, code(id, &c.hash));
    // Looking does not use it up: a failed token request leaves it to its app.
    assert_eq!(
        s.peek_code(&c.hash, at).await.unwrap(),
        Redeemed::Fresh(got)
    );
    let (late_sess, _) = app_session(id, "steward-cli");
    assert!(
        !s.create_app_session(&late_sess, None, Some(&c.hash), t0() + Duration::minutes(1))
            .await
            .unwrap(),
        "an expired code is not redeemed"
    );
    assert!(
        s.session_by_token(&late_sess.token_hash, at)
            .await
            .unwrap()
            .is_none()
    );
    let (sess, _) = app_session(id, "steward-cli");
    assert!(
        s.create_app_session(&sess, None, Some(&c.hash), at)
            .await
            .unwrap()
    );
    assert_eq!(
        s.peek_code(&c.hash, at).await.unwrap(),
        Redeemed::Replayed {
            account_id: id,
            session_id: Some(sess.id)
        }
    );
    let (second, _) = app_session(id, "steward-cli");
    let r2 = NewSecret::generate();
    assert!(
        !s.create_app_session(&second, Some(&r2.hash), Some(&c.hash), at)
            .await
            .unwrap(),
        "a code is redeemed once"
    );
    assert!(
        s.session_by_token(&second.token_hash, at)
            .await
            .unwrap()
            .is_none()
            && s.refresh_token_session(&r2.hash, at)
                .await
                .unwrap()
                .is_none(),
        "and the refused redemption stored nothing"
    );
    assert_eq!(
        s.peek_code(&NewSecret::generate().hash, at).await.unwrap(),
        Redeemed::Unknown
    );
    let kinds: Vec<_> = s
        .events(id, None, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds[0], EventKind::AppAuthorized, "recorded with the code");
    assert_eq!(s.purge_oauth(t0() + Duration::hours(1)).await.unwrap(), 2);
}

pub(super) async fn concurrent_redemptions_of_one_code_store_one_sign_in(s: &SqlStore) {
    let (new, _) = new_account("race@example.com", "race");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let (handle, _) = saved_request(s).await;
    let c = NewSecret::generate();
    let ev = event(id, EventKind::AppAuthorized, t0());
    assert!(
        s.issue_code(&handle.hash, &code(id, &c.hash), None, None, &ev, t0())
            .await
            .unwrap()
    );
    let at = t0() + Duration::seconds(5);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            let hash = c.hash.clone();
            tokio::spawn(async move {
                let (sess, _) = app_session(id, "steward-cli");
                let stored = s
                    .create_app_session(&sess, Some(&NewSecret::generate().hash), Some(&hash), at)
                    .await
                    .unwrap();
                (stored, sess)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        let (stored, sess) = t.await.unwrap();
        let found = s.session_by_token(&sess.token_hash, at).await.unwrap();
        assert_eq!(stored, found.is_some(), "stored exactly when it said so");
        if stored {
            winners.push(sess.id);
        }
    }
    assert_eq!(winners.len(), 1, "one redemption wins");
    assert_eq!(
        s.peek_code(&c.hash, at).await.unwrap(),
        Redeemed::Replayed {
            account_id: id,
            session_id: Some(winners[0])
        }
    );
}

pub(super) async fn device_grants_are_decided_once_and_taken_once(s: &SqlStore) {
    let (new, _) = new_account("dev@example.com", "dev");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    let device = NewSecret::generate();
    let g = DeviceGrant {
        device_hash: device.hash.clone(),
        user_code: "BCDF-GHJK".into(),
        client_id: "steward-cli".into(),
        scope: "openid".into(),
        created_at: t0(),
        expires_at: t0() + Duration::minutes(10),
        interval_secs: 5,
        last_poll_at: None,
        decision: None,
    };
    s.create_device_grant(&g).await.unwrap();
    assert_eq!(
        s.device_grant_by_user_code("BCDF-GHJK", t0())
            .await
            .unwrap(),
        Some(g.clone())
    );
    assert!(
        !s.take_device_grant(&device.hash).await.unwrap(),
        "undecided: nothing to take"
    );
    s.record_device_poll(&device.hash, t0() + Duration::seconds(5), 10)
        .await
        .unwrap();
    let d = DeviceDecision {
        account_id: id,
        approved: true,
        auth_time: t0(),
    };
    let now = t0() + Duration::seconds(30);
    assert!(
        s.decide_device_grant("BCDF-GHJK", &d, None, None, None, now)
            .await
            .unwrap()
    );
    assert!(
        !s.decide_device_grant("BCDF-GHJK", &d, None, None, None, now)
            .await
            .unwrap()
    );
    let got = s.device_grant(&device.hash).await.unwrap().unwrap();
    assert_eq!((got.interval_secs, got.decision), (10, Some(d)));
    assert!(s.take_device_grant(&device.hash).await.unwrap());
    assert!(!s.take_device_grant(&device.hash).await.unwrap());
    assert!(
        s.device_grant_by_user_code("BCDF-GHJK", t0() + Duration::minutes(11))
            .await
            .unwrap()
            .is_none()
    );
}

pub(super) async fn consent_is_remembered_listed_and_revoking_it_ends_the_apps_sessions(
    s: &SqlStore,
) {
    let (owner, _) = new_account("own@example.com", "own");
    let (user, _) = new_account("usa@example.com", "usa");
    s.create_account(&owner).await.unwrap();
    s.create_account(&user).await.unwrap();
    let c = app(owner.account.id, "app_contract");
    s.create_client(&c).await.unwrap();
    assert_eq!(s.client("app_contract").await.unwrap(), Some(c.clone()));
    assert_eq!(
        s.clients_of(owner.account.id).await.unwrap(),
        vec![c.clone()]
    );

    let uid = user.account.id;
    let consent = OAuthConsent {
        account_id: uid,
        client_id: c.id.clone(),
        scope: "openid email".into(),
        granted_at: t0(),
    };
    let disclosure = Disclosure {
        id: Uuid::now_v7(),
        account_id: uid,
        recipient: c.name.clone(),
        recipient_id: c.id.clone(),
        categories: "account_id,email_address".into(),
        purpose: "sign-in".into(),
        at: t0(),
    };
    let handle = NewSecret::generate();
    let req = StoredRequest {
        client_id: c.id.clone(),
        request: "{}".into(),
        created_at: t0(),
        expires_at: t0() + Duration::minutes(5),
        used_at: None,
    };
    s.save_request(&handle.hash, &req).await.unwrap();
    let mut auth = code(uid, &NewSecret::generate().hash);
    auth.client_id = c.id.clone();
    let ev = event(uid, EventKind::AppAuthorized, t0());
    assert!(
        s.issue_code(
            &handle.hash,
            &auth,
            Some(&consent),
            Some(&disclosure),
            &ev,
            t0()
        )
        .await
        .unwrap()
    );
    assert_eq!(s.consent(uid, &c.id).await.unwrap(), Some(consent.clone()));
    assert_eq!(
        s.consents_of(uid).await.unwrap(),
        vec![(consent, c.clone())]
    );
    assert_eq!(s.disclosures(uid).await.unwrap(), vec![disclosure]);

    let (sess, access) = app_session(uid, &c.id);
    s.create_app_session(&sess, None, None, t0()).await.unwrap();
    let ev = event(uid, EventKind::AppRevoked, t0());
    assert!(s.revoke_consent(uid, &c.id, &ev).await.unwrap());
    assert!(s.consent(uid, &c.id).await.unwrap().is_none());
    assert!(
        s.session_by_token(&access.hash, t0())
            .await
            .unwrap()
            .is_none()
    );
    assert!(!s.revoke_consent(uid, &c.id, &ev).await.unwrap());
    // Deleting the app (only its owner can) ends everyone's sessions with it.
    let (sess, access) = app_session(uid, &c.id);
    s.create_app_session(&sess, None, None, t0()).await.unwrap();
    assert!(!s.delete_client(uid, &c.id).await.unwrap());
    assert!(s.delete_client(owner.account.id, &c.id).await.unwrap());
    assert!(
        s.session_by_token(&access.hash, t0())
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.client(&c.id).await.unwrap().is_none());
}

pub(super) async fn signing_keys_are_kept_in_order_and_retired(s: &SqlStore) {
    let key = |kid: &str, at: OffsetDateTime| StoredKey {
        kid: kid.into(),
        alg: "ES256".into(),
        sealed: vec![1, 2, 3],
        created_at: at,
    };
    let rsa = StoredKey {
        kid: "r".into(),
        alg: "RS256".into(),
        sealed: vec![4, 5, 6],
        created_at: t0() - Duration::days(1),
    };
    s.add_signing_key(&key("a", t0())).await.unwrap();
    s.add_signing_key(&rsa).await.unwrap();
    s.add_signing_key(&key("b", t0() + Duration::days(30)))
        .await
        .unwrap();
    let kids: Vec<_> = s
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(
        kids,
        vec!["r", "a", "b"],
        "oldest first, whatever the algorithm"
    );
    assert_eq!(
        s.delete_signing_keys_before("ES256", t0() + Duration::days(30))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.signing_keys().await.unwrap(),
        vec![rsa.clone(), key("b", t0() + Duration::days(30))],
        "retiring one algorithm's keys leaves the other's"
    );
    assert_eq!(
        s.delete_signing_keys_before("RS256", t0()).await.unwrap(),
        1
    );
    assert_eq!(
        s.signing_keys().await.unwrap(),
        vec![key("b", t0() + Duration::days(30))]
    );
}
