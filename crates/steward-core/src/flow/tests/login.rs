//! Sign-in, sessions, sign-out and the failure throttle.

use super::*;

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_fail_alike() {
    let h = Harness::with_ada().await;
    let ada = h.account("ada").await;

    for (identifier, password) in [
        ("ada", "not the password"),
        ("ada@example.com", ""),
        ("nobody", PASSWORD),
        ("nobody@example.com", PASSWORD),
        ("", PASSWORD),
        (&"a".repeat(300), PASSWORD),
    ] {
        let err = h.sign_in(identifier, password, false).await.unwrap_err();
        assert!(
            matches!(err, CoreError::InvalidCredentials),
            "{identifier:?}: {err:?}"
        );
    }
    assert_eq!(h.store.session_count(ada.id), 0);
}

#[tokio::test]
async fn signs_in_by_email_or_username_in_any_case() {
    let h = Harness::with_ada().await;
    let ada = h.account("ada").await;

    for identifier in [
        "ada",
        "ADA",
        " Ada ",
        "ada@example.com",
        "ADA@EXAMPLE.COM",
        " Ada@example.com ",
    ] {
        let s = h.sign_in(identifier, PASSWORD, false).await.unwrap();
        assert_eq!(s.account.id, ada.id, "{identifier:?}");
        assert_eq!(s.session.account_id, ada.id);
        let who = h.steward.authenticate(&s.token.plain).await.unwrap();
        assert_eq!(who.session().id, s.session.id);
        assert_eq!(who.account().id, ada.id);
    }
    assert_eq!(h.store.session_count(ada.id), 6);
}

#[tokio::test]
async fn a_short_session_in_use_is_extended_until_the_absolute_limit() {
    let h = Harness::with_ada().await;
    let short = h.sign_in("ada", PASSWORD, false).await.unwrap();
    // Used every 20 minutes: alive well past 30 minutes...
    for _ in 0..(12 * 3 - 1) {
        h.advance(minutes(20));
        assert!(h.live(&short).await);
    }
    // ...but never past 12 hours after sign-in.
    h.advance(minutes(20));
    assert!(!h.live(&short).await, "absolute limit reached");
    // Use is written at most once a minute.
    let s = h.sign_in("ada", PASSWORD, false).await.unwrap();
    h.advance(time::Duration::seconds(30));
    assert!(h.live(&s).await);
    let now = h.steward.now();
    let stored = |at| {
        let st = h.store.clone();
        let (account, id) = (s.session.account_id, s.session.id);
        async move {
            st.sessions_of(account, at)
                .await
                .unwrap()
                .into_iter()
                .find(|x| x.id == id)
                .unwrap()
        }
    };
    assert_eq!(
        stored(now).await.last_seen_at,
        s.session.created_at,
        "not written within the minute"
    );
    h.advance(time::Duration::seconds(30));
    assert!(h.live(&s).await);
    let seen = stored(h.steward.now()).await;
    assert_eq!(seen.last_seen_at, h.steward.now());
    assert_eq!(seen.expires_at, h.steward.now() + minutes(30));
}

#[tokio::test]
async fn sessions_last_30_minutes_or_30_days_when_remembered() {
    let h = Harness::with_ada().await;
    let short = h.sign_in("ada", PASSWORD, false).await.unwrap();
    let long = h.sign_in("ada", PASSWORD, true).await.unwrap();
    assert_eq!(
        short.session.expires_at - short.session.created_at,
        minutes(30)
    );
    assert_eq!(
        long.session.expires_at - long.session.created_at,
        time::Duration::days(30)
    );
    assert!(long.session.remember && !short.session.remember);

    // Unused for 30 minutes: the short one is over, the remembered one is not.
    h.advance(minutes(30));
    assert!(
        !h.live(&short).await,
        "short session over after 30 idle minutes"
    );
    assert!(h.live(&long).await);

    // Used or not, a remembered session ends 30 days after sign-in.
    for _ in 0..29 {
        h.advance(time::Duration::days(1));
        assert!(h.live(&long).await);
    }
    h.advance(time::Duration::days(1) - minutes(30));
    assert!(!h.live(&long).await, "remembered session over at 30 days");

    let ada = h.account("ada").await;
    assert_eq!(h.store.session_count(ada.id), 2);
    assert_eq!(
        h.store
            .purge_expired_sessions(h.steward.now())
            .await
            .unwrap(),
        2
    );
    assert_eq!(h.store.session_count(ada.id), 0);
}

#[tokio::test]
async fn signing_out_ends_only_that_session() {
    let h = Harness::with_ada().await;
    let (one, who) = h.signed_in("ada").await;
    let two = h.sign_in("ada", PASSWORD, true).await.unwrap();
    let three = h.sign_in("ada", PASSWORD, false).await.unwrap();

    h.steward
        .sign_out(&who, &ClientInfo::default())
        .await
        .unwrap();
    assert!(!h.live(&one).await);
    assert!(h.live(&two).await && h.live(&three).await);

    let ended = h
        .store
        .end_sessions_except(who.account().id, Some(two.session.id), None)
        .await
        .unwrap();
    assert_eq!(ended, 1);
    // Ended behind Steward's back (not through any node, so no change notice): the
    // session cache may vouch for it until its lifetime is over, not longer.
    h.clock.advance(time::Duration::seconds(60));
    assert!(h.live(&two).await && !h.live(&three).await);
}

#[tokio::test]
async fn garbage_and_unknown_session_tokens_are_refused() {
    let h = Harness::with_ada().await;
    for token in ["", "nonsense", &"a".repeat(43), &"a".repeat(44)] {
        let err = h.steward.authenticate(token).await.unwrap_err();
        assert!(matches!(err, CoreError::Unauthenticated), "{token:?}");
    }
}

#[tokio::test]
async fn an_old_hash_is_upgraded_at_sign_in() {
    let h = Harness::with_ada().await;
    let stronger = CoreConfig {
        argon2_memory_kib: 128,
        ..cheap_config()
    };
    let upgraded = Harness::steward_on(stronger, &h.store, &h.clock).await;

    upgraded
        .sign_in("ada", PASSWORD, false, &ClientInfo::default(), &[], None)
        .await
        .unwrap();

    let hash = h.account("ada").await.password_hash;
    assert!(hash.starts_with("$argon2id$v=19$m=128,t=1,p=1$"), "{hash}");
    upgraded
        .sign_in("ADA", PASSWORD, false, &ClientInfo::default(), &[], None)
        .await
        .unwrap();
}

/// A harness whose accounts slow down after three failures.
async fn throttled() -> Harness {
    let h = Harness::with(CoreConfig {
        signin_failures_per_account: 3,
        ..cheap_config()
    })
    .await;
    h.register("ada@example.com", "ada").await.unwrap();
    h.register("bob@example.com", "bob").await.unwrap();
    h
}

async fn fail_three_times(h: &Harness, identifier: &str) {
    for _ in 0..3 {
        let err = h
            .sign_in(identifier, "not the password", false)
            .await
            .unwrap_err();
        assert!(matches!(err, CoreError::InvalidCredentials), "{err:?}");
    }
}

/// A solved proof of work, as a browser would send it.
fn solved(h: &Harness) -> String {
    crate::challenge::solve(&h.steward.challenge(crate::challenge::Strength::Normal)).unwrap()
}

#[tokio::test]
async fn repeated_failures_ask_that_identifier_for_proof_of_work_until_the_window_ends() {
    let h = throttled().await;
    h.advance(minutes(1));
    fail_three_times(&h, "ada").await;

    // Not refused, not even with the right password: asked for a robot check.
    let err = h.sign_in("ada", PASSWORD, false).await.unwrap_err();
    assert!(matches!(err, CoreError::ChallengeRequired), "{err:?}");
    let sign_in_with = |identifier: &'static str, password: &'static str, altcha: String| {
        let h = &h;
        async move {
            h.steward
                .sign_in(
                    identifier,
                    password,
                    false,
                    &ClientInfo::default(),
                    &[],
                    Some(&altcha),
                )
                .await
        }
    };
    // A wrong answer, a wrong password with a right answer, and a reused answer fail.
    let err = sign_in_with("ada", PASSWORD, "garbage".into())
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::ChallengeFailed(_)), "{err:?}");
    let answer = solved(&h);
    let err = sign_in_with("ada", "not the password", answer.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidCredentials), "{err:?}");
    let err = sign_in_with("ada", PASSWORD, answer).await.unwrap_err();
    assert!(matches!(err, CoreError::ChallengeFailed(_)), "{err:?}");
    // The email names the same account but is another identifier: its answer must not
    // tell that, so it is not challenged.
    h.sign_in("ADA@example.com", PASSWORD, false).await.unwrap();
    h.sign_in("bob", PASSWORD, false).await.unwrap();
    // A solved challenge and the right password sign in, and the count starts over.
    sign_in_with("ada", PASSWORD, solved(&h)).await.unwrap();

    // The window ends: no check needed any more.
    fail_three_times(&h, "ada").await;
    h.advance(minutes(15) - time::Duration::SECOND);
    let err = h.sign_in("ada", PASSWORD, false).await.unwrap_err();
    assert!(matches!(err, CoreError::ChallengeRequired), "{err:?}");
    h.advance(time::Duration::SECOND);
    h.sign_in("ada", PASSWORD, false).await.unwrap();
}

#[tokio::test]
async fn a_browser_trusted_for_the_account_is_not_asked_for_proof_of_work() {
    let h = throttled().await;
    let ada = h.account("ada").await;
    let bob = h.account("bob").await;
    fail_three_times(&h, "ada").await;
    let client = ClientInfo::default();
    let before = h.steward.now() - minutes(5);

    // Trusted for another account only: asked.
    let err = h
        .steward
        .sign_in(
            "ada",
            PASSWORD,
            false,
            &client,
            &[(bob.id, before), (Uuid::now_v7(), before)],
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::ChallengeRequired), "{err:?}");

    // Trusted for this account: the password is still checked, but nothing else asked.
    let err = h
        .steward
        .sign_in(
            "ada",
            "not the password",
            false,
            &client,
            &[(ada.id, before)],
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidCredentials), "{err:?}");
    let s = h
        .steward
        .sign_in(
            "ada",
            PASSWORD,
            true,
            &client,
            &[(bob.id, before), (ada.id, before)],
            None,
        )
        .await
        .unwrap();
    assert_eq!(s.account.id, ada.id);
    // The trusted browser's success does not excuse the guesses made elsewhere.
    let err = h.sign_in("ada", PASSWORD, false).await.unwrap_err();
    assert!(matches!(err, CoreError::ChallengeRequired), "{err:?}");
}

#[tokio::test]
async fn a_trusted_browser_guessing_is_asked_for_proof_of_work_past_its_own_higher_limit() {
    let h = Harness::with(CoreConfig {
        signin_failures_per_account: 3,
        signin_failures_vouched: 5,
        ..cheap_config()
    })
    .await;
    h.register("ada@example.com", "ada").await.unwrap();
    let ada = h.account("ada").await;
    let trusted = [(ada.id, h.steward.now())];
    h.advance(minutes(1));
    let attempt = |password: &'static str, altcha: Option<String>| {
        let h = &h;
        async move {
            h.steward
                .sign_in(
                    "ada",
                    password,
                    false,
                    &ClientInfo::default(),
                    &trusted,
                    altcha.as_deref(),
                )
                .await
        }
    };
    for _ in 0..5 {
        let err = attempt("not the password", None).await.unwrap_err();
        assert!(matches!(err, CoreError::InvalidCredentials), "{err:?}");
    }
    let err = attempt(PASSWORD, None).await.unwrap_err();
    assert!(matches!(err, CoreError::ChallengeRequired), "{err:?}");
    // A new browser, typing the same identifier, was never counted against.
    h.sign_in("ada", PASSWORD, false).await.unwrap();
    attempt(PASSWORD, Some(solved(&h))).await.unwrap();
    attempt(PASSWORD, None).await.unwrap();
}

#[tokio::test]
async fn a_browser_trusted_before_a_password_reset_is_trusted_no_more() {
    let h = throttled().await;
    let ada = h.account("ada").await;
    let trusted_at = h.steward.now();
    h.advance(minutes(1));
    let token = h.reset_token("ada@example.com").await;
    h.steward
        .complete_password_reset(&token, NEW_PASSWORD, &ClientInfo::default())
        .await
        .unwrap();
    h.advance(minutes(1));
    fail_three_times(&h, "ada").await;
    // The old entry no longer exempts the browser from the check...
    let err = h
        .steward
        .sign_in(
            "ada",
            NEW_PASSWORD,
            false,
            &ClientInfo::default(),
            &[(ada.id, trusted_at)],
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::ChallengeRequired), "{err:?}");
    // ...while a sign-in after the reset does.
    let s = h
        .steward
        .sign_in(
            "ada",
            NEW_PASSWORD,
            false,
            &ClientInfo::default(),
            &[(ada.id, h.steward.now())],
            None,
        )
        .await
        .unwrap();
    assert_eq!(s.account.id, ada.id);
}

#[tokio::test]
async fn unknown_identifiers_are_answered_exactly_like_known_ones() {
    let h = throttled().await;
    fail_three_times(&h, "ada").await;
    fail_three_times(&h, "ghost").await;
    fail_three_times(&h, "ghost@example.com").await;

    for identifier in ["ada", "ghost", " GHOST ", "Ghost@Example.com"] {
        let err = h.sign_in(identifier, PASSWORD, false).await.unwrap_err();
        assert!(
            matches!(err, CoreError::ChallengeRequired),
            "{identifier:?}: {err:?}"
        );
    }
    let err = h
        .steward
        .sign_in(
            "ghost",
            PASSWORD,
            false,
            &ClientInfo::default(),
            &[],
            Some(&solved(&h)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidCredentials), "{err:?}");

    h.advance(minutes(15));
    let err = h.sign_in("ghost", PASSWORD, false).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidCredentials), "{err:?}");
}

#[tokio::test]
async fn a_successful_sign_in_resets_the_failure_count() {
    let h = throttled().await;
    for _ in 0..2 {
        h.sign_in("ada", "not the password", false)
            .await
            .unwrap_err();
    }
    h.sign_in("ada", PASSWORD, false).await.unwrap();
    for _ in 0..2 {
        h.sign_in("ada", "not the password", false)
            .await
            .unwrap_err();
    }
    h.sign_in("ada", PASSWORD, false).await.unwrap();
}

#[tokio::test]
async fn a_stolen_device_cookie_guessing_elsewhere_does_not_challenge_the_owners_network() {
    let h = Harness::with(CoreConfig {
        signin_failures_vouched: 3,
        ..cheap_config()
    })
    .await;
    h.register("ada@example.com", "ada").await.unwrap();
    let ada = h.account("ada").await;
    let trusted = [(ada.id, h.steward.now())];
    h.advance(minutes(1));
    let from = |ip: &str| ClientInfo {
        ip: Some(ip.parse().unwrap()),
        ..ClientInfo::default()
    };
    let thief = from("198.51.100.20");
    for _ in 0..3 {
        let err = h
            .steward
            .sign_in("ada", "guess", false, &thief, &trusted, None)
            .await
            .unwrap_err();
        assert!(matches!(err, CoreError::InvalidCredentials), "{err:?}");
    }
    let err = h
        .steward
        .sign_in("ada", PASSWORD, false, &thief, &trusted, None)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::ChallengeRequired), "{err:?}");
    // The owner's browser, at home, is not asked.
    h.steward
        .sign_in("ada", PASSWORD, false, &from("203.0.113.5"), &trusted, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_account_gets_only_so_much_of_the_priority_lane_per_window() {
    use crate::account::hash_queue::Lane;
    let h = Harness::with(CoreConfig {
        priority_hashes_per_account: 2,
        ..cheap_config()
    })
    .await;
    let (ada, bob) = (Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(h.steward.priority_lane(ada), Lane::Priority);
    assert_eq!(h.steward.priority_lane(ada), Lane::Priority);
    assert_eq!(
        h.steward.priority_lane(ada),
        Lane::Open,
        "ada used her share"
    );
    assert_eq!(h.steward.priority_lane(bob), Lane::Priority, "bob has his");
    h.advance(minutes(15));
    assert_eq!(h.steward.priority_lane(ada), Lane::Priority, "a new window");
}
