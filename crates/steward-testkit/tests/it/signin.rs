//! Sign-in by email or username, lifetimes, sign-out, enumeration safety, throttling.

use serde_json::json;
use steward_testkit::client::Answer;
use steward_testkit::{ApiClient, TestServer};

use crate::common::{PASSWORD, confirmed_account, me, sign_in, sign_up};

#[tokio::test]
async fn sign_in_with_email_or_username_any_case() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "ada@example.com", "ada").await;
    for id in ["ada", "ADA", "ada@example.com", " Ada@Example.com "] {
        let c = s.client().unwrap();
        let r = sign_in(&c, id, PASSWORD, false).await;
        assert_eq!(r.status, 200, "{id}: {}", r.text);
        assert_eq!(r.json["account"]["username"], "ada");
        assert_eq!(me(&c).await.1["email"], "ada@example.com");
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_account_get_the_same_answer() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "bea@example.com", "bea").await;
    let c = s.client().unwrap();
    let wrong = sign_in(&c, "bea", "not the password", false).await;
    let unknown = sign_in(&c, "nobody", "not the password", false).await;
    let unknown_email = sign_in(&c, "nobody@example.com", PASSWORD, false).await;
    for r in [&wrong, &unknown, &unknown_email] {
        assert_eq!(r.status, 401);
        assert_eq!(r.json, wrong.json);
        assert!(r.set_cookies().is_empty());
    }
    assert_eq!(wrong.code(), "invalid_credentials");
}

#[tokio::test]
async fn keep_me_signed_in_lasts_30_days_otherwise_30_idle_minutes() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "cy@example.com", "cyd").await;
    let short = s.client().unwrap();
    let long = s.client().unwrap();
    let r = sign_in(&short, "cyd", PASSWORD, false).await;
    let cookie = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("steward_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && !cookie.contains("Max-Age"),
        "{cookie}"
    );
    let r = sign_in(&long, "cyd", PASSWORD, true).await;
    let cookie = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("steward_session="))
        .unwrap();
    assert!(cookie.contains("Max-Age=2592000"), "{cookie}");

    // In use, a short session is extended: 58 minutes after sign-in it still works...
    s.advance(time::Duration::minutes(29));
    assert_eq!(me(&short).await.0, 200);
    s.advance(time::Duration::minutes(29));
    assert_eq!(me(&short).await.0, 200, "extended while in use");
    // ...but 30 minutes without a request end it.
    s.advance(time::Duration::minutes(30));
    assert_eq!(me(&short).await.0, 401, "signed out after 30 idle minutes");
    assert_eq!(me(&long).await.0, 200);
    s.advance(time::Duration::days(30) - time::Duration::minutes(89));
    assert_eq!(me(&long).await.0, 200);
    s.advance(time::Duration::minutes(1));
    assert_eq!(
        me(&long).await.0,
        401,
        "signed out 30 days after sign-in, used or not"
    );
}

#[tokio::test]
async fn sign_out_ends_only_this_session() {
    let s = TestServer::start().await.unwrap();
    let a = confirmed_account(&s, "di@example.com", "dina").await;
    let b = s.client().unwrap();
    assert_eq!(sign_in(&b, "dina", PASSWORD, true).await.status, 200);
    let r = a.delete("/api/v1/session").await.unwrap();
    assert_eq!(r.status, 204);
    assert!(
        r.set_cookies()
            .iter()
            .any(|c| c.starts_with("steward_session=;") && c.contains("Max-Age=0"))
    );
    assert_eq!(me(&a).await.0, 401);
    assert_eq!(me(&b).await.0, 200);
    assert_eq!(a.delete("/api/v1/session").await.unwrap().status, 401);
}

#[tokio::test]
async fn unconfirmed_accounts_can_sign_in_and_see_that_they_are_unconfirmed() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    assert_eq!(
        sign_up(&c, "ed@example.com", "eddy", PASSWORD).await.status,
        201
    );
    assert_eq!(sign_in(&c, "eddy", PASSWORD, false).await.status, 200);
    let (status, body) = me(&c).await;
    assert_eq!(status, 200);
    assert_eq!(body["email_verified"], false);
}

/// Signs in through the API with a proof-of-work answer.
async fn sign_in_solved(c: &ApiClient, identifier: &str, password: &str) -> Answer {
    let altcha = c.altcha().await.unwrap();
    c.post(
        "/api/v1/session",
        json!({"identifier": identifier, "password": password, "altcha": altcha}),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn repeated_failures_ask_strangers_for_proof_of_work_never_a_lockout() {
    let s = TestServer::builder()
        .config(|c| {
            c.limits.signin_failures_per_account = 3;
            c.limits.credential_per_ip_per_minute = 1000;
        })
        .start()
        .await
        .unwrap();
    let owner = confirmed_account(&s, "fy@example.com", "fyodor").await; // has a device cookie now
    let attacker = s.client().unwrap();
    for _ in 0..3 {
        let r = sign_in(&attacker, "fyodor", "guess guess guess", false).await;
        assert_eq!(r.code(), "invalid_credentials");
    }
    let asked = sign_in(&attacker, "fyodor", PASSWORD, false).await;
    assert_eq!(asked.status, 401, "{}", asked.text);
    assert_eq!(asked.code(), "challenge_required");
    assert!(asked.set_cookies().is_empty());
    // The owner's browser signed in before: not asked, not slowed.
    assert_eq!(sign_in(&owner, "fyodor", PASSWORD, false).await.status, 200);
    // Anyone who does the work may try again: a new device of the owner's too.
    let r = sign_in_solved(&attacker, "fyodor", "still guessing").await;
    assert_eq!(r.code(), "invalid_credentials");
    let new_device = s.client().unwrap();
    let r = sign_in_solved(&new_device, "fyodor", PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Unknown accounts are asked identically, so the check reveals nothing.
    for _ in 0..3 {
        sign_in(&attacker, "ghost", "guess guess guess", false).await;
    }
    let ghost = sign_in(&attacker, "ghost", "guess guess guess", false).await;
    for _ in 0..3 {
        sign_in(&attacker, "fyodor", "guess guess guess", false).await;
    }
    let known = sign_in(&attacker, "fyodor", "guess guess guess", false).await;
    assert_eq!((ghost.status, &ghost.json), (known.status, &known.json));
    assert_eq!(ghost.headers.get("retry-after"), None, "no wait to sit out");

    s.advance(time::Duration::minutes(15));
    assert_eq!(
        sign_in(&attacker, "fyodor", PASSWORD, false).await.status,
        200,
        "the window passed"
    );
}

#[tokio::test]
async fn the_answer_never_tells_which_identifiers_name_one_account() {
    let s = TestServer::builder()
        .config(|c| {
            c.limits.signin_failures_per_account = 3;
            c.limits.credential_per_ip_per_minute = 1000;
        })
        .start()
        .await
        .unwrap();
    confirmed_account(&s, "bob@example.com", "bob").await;
    let attacker = s.client().unwrap();
    for _ in 0..3 {
        sign_in(&attacker, "bob", "guess guess guess", false).await;
    }
    assert_eq!(
        sign_in(&attacker, "bob", "guess", false).await.code(),
        "challenge_required"
    );
    // Is bob@example.com bob's address? The answer is the same as for an address
    // with no account at all.
    let theirs = sign_in(&attacker, "bob@example.com", "guess", false).await;
    let nobody = sign_in(&attacker, "nobody@example.com", "guess", false).await;
    assert_eq!(theirs.code(), "invalid_credentials");
    assert_eq!((theirs.status, &theirs.json), (nobody.status, &nobody.json));
}

#[tokio::test]
async fn the_signed_in_owner_changes_password_and_email_while_strangers_guess() {
    let s = TestServer::builder()
        .config(|c| {
            c.limits.signin_failures_per_account = 3;
            c.limits.credential_per_ip_per_minute = 1000;
        })
        .start()
        .await
        .unwrap();
    let owner = confirmed_account(&s, "ivy@example.com", "ivy").await;
    let attacker = s.client().unwrap();
    for identifier in ["ivy", "ivy@example.com"] {
        for _ in 0..20 {
            sign_in(&attacker, identifier, "guess guess guess", false).await;
        }
    }
    let r = owner
        .post(
            "/api/v1/me/email",
            json!({"current_password": PASSWORD, "new_email": "ivy@new.example"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text);
    let r = owner
        .put(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "ivy's fresh passphrase"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);

    // A stolen session guessing the current password is stopped — that session only.
    let thief = s.client().unwrap();
    assert_eq!(
        sign_in_solved(&thief, "ivy", "ivy's fresh passphrase")
            .await
            .status,
        200
    );
    let mut last = None;
    for _ in 0..11 {
        last = Some(
            thief
                .put(
                    "/api/v1/me/password",
                    json!({"current_password": "guess", "new_password": "thief's passphrase 1"}),
                )
                .await
                .unwrap(),
        );
    }
    let last = last.unwrap();
    assert_eq!(last.status, 429, "{}", last.text);
    let r = owner
        .put(
            "/api/v1/me/password",
            json!({"current_password": "ivy's fresh passphrase", "new_password": "ivy's third passphrase"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn a_forged_device_cookie_earns_nothing() {
    let s = TestServer::builder()
        .config(|c| {
            c.limits.signin_failures_per_account = 1;
            c.limits.credential_per_ip_per_minute = 1000;
        })
        .start()
        .await
        .unwrap();
    confirmed_account(&s, "gus@example.com", "gus").await;
    let c = s.client().unwrap();
    assert_eq!(
        sign_in(&c, "gus", "wrong wrong wrong", false).await.status,
        401
    );
    let r = c
        .http
        .post(format!("{}/api/v1/session", s.base))
        .header(
            "cookie",
            "steward_device=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )
        .json(&json!({"identifier": "gus", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "challenge_required");
}

#[tokio::test]
async fn a_device_cookie_does_not_buy_unlimited_guesses() {
    let s = TestServer::builder()
        .config(|c| {
            c.limits.signin_failures_per_account = 2;
            c.limits.signin_failures_vouched = 4;
            c.limits.credential_per_ip_per_minute = 1000;
        })
        .start()
        .await
        .unwrap();
    // A browser that signed in before (its device cookie was stolen, say).
    let browser = confirmed_account(&s, "hal@example.com", "hal").await;
    for _ in 0..4 {
        let r = sign_in(&browser, "hal", "guess guess guess", false).await;
        assert_eq!(r.code(), "invalid_credentials");
    }
    let r = sign_in(&browser, "hal", PASSWORD, false).await;
    assert_eq!(r.code(), "challenge_required");
    assert_eq!(sign_in_solved(&browser, "hal", PASSWORD).await.status, 200);
}

#[tokio::test]
async fn too_many_requests_from_one_ip_get_429_with_retry_after() {
    let s = TestServer::builder()
        .config(|c| c.limits.credential_per_ip_per_minute = 5)
        .start()
        .await
        .unwrap();
    let c = s.client().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(sign_in(&c, "nobody", "whatever whatever", false).await);
    }
    assert!(statuses[..5].iter().all(|r| r.status == 401));
    let limited = &statuses[5];
    assert_eq!(limited.status, 429);
    assert_eq!(limited.code(), "rate_limited");
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
}

#[tokio::test]
async fn signing_in_again_ends_the_session_whose_cookie_it_replaces() {
    let s = TestServer::start().await.unwrap();
    let c = confirmed_account(&s, "hub@example.com", "hubert").await;
    // Remember the current cookie value, sign in again in the same jar.
    let first = sign_in(&c, "hubert", PASSWORD, false).await;
    let first_cookie = first
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("steward_session="))
        .unwrap();
    let first_token = first_cookie.split(';').next().unwrap().to_owned();
    assert_eq!(sign_in(&c, "hubert", PASSWORD, true).await.status, 200);
    let replaced = reqwest::Client::new()
        .get(format!("{}/api/v1/me", s.base))
        .header("cookie", &first_token)
        .send()
        .await
        .unwrap();
    // The session cache may vouch for it for up to a second on other nodes; this node forgot it at once.
    assert_eq!(replaced.status(), 401);
    assert_eq!(me(&c).await.0, 200);
}

#[tokio::test]
async fn an_unreadable_forwarded_hop_ends_the_walk_so_clients_cannot_pick_their_address() {
    let s = TestServer::builder()
        .config(|c| {
            c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            c.limits.credential_per_ip_per_minute = 3;
        })
        .start()
        .await
        .unwrap();
    // The proxy appended what it saw with a port; left of it, the client wrote a new
    // address on every request hoping to get a fresh per-IP allowance each time.
    let mut statuses = Vec::new();
    for i in 0..6 {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/session", s.base))
            .header(
                "x-forwarded-for",
                format!("198.51.100.{i}, 203.0.113.8:4711"),
            )
            .json(&json!({"identifier": "nobody", "password": "whatever whatever"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(
        statuses,
        [401, 401, 401, 429, 429, 429],
        "one address: the last trusted hop"
    );

    // RFC 7239 `Forwarded`, when the operator says the proxy writes that instead.
    let s = TestServer::builder()
        .config(|c| {
            c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            c.proxy_header = steward_server::http::client::ProxyHeader::Forwarded;
        })
        .start()
        .await
        .unwrap();
    let owner = confirmed_account(&s, "ola@example.com", "ola").await;
    let from = |forwarded: &'static str| {
        let base = s.base.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{base}/api/v1/session"))
                .header("forwarded", forwarded)
                .json(&json!({"identifier": "ola", "password": PASSWORD}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        from("for=\"[2001:db8::7]:4711\";proto=https")
            .await
            .status(),
        200
    );
    assert_eq!(from("for=192.0.2.60").await.status(), 200);
    let sessions = owner.get("/api/v1/sessions").await.unwrap();
    let ips: Vec<&str> = sessions.json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["ip"].as_str())
        .collect();
    assert!(
        ips.contains(&"2001:db8::7") && ips.contains(&"192.0.2.60"),
        "{ips:?}"
    );
}

#[tokio::test]
async fn an_account_flooding_the_priority_lane_with_its_own_sign_ins_cannot_hold_up_the_owner() {
    let s = TestServer::builder()
        .config(|c| {
            c.limits.credential_per_ip_per_minute = 100_000;
            // No open backlog: whatever is not in the priority lane is turned away when busy.
            c.limits.hash_backlog = Some(0);
        })
        .start()
        .await
        .unwrap();
    let owner = confirmed_account(&s, "own@example.com", "owner").await;
    // Anyone can hold an account of their own, and a device cookie for it.
    let mallory = confirmed_account(&s, "mal@example.com", "mallory").await;
    let flood: Vec<_> = (0..40)
        .map(|_| {
            let m = mallory.clone();
            tokio::spawn(async move { sign_in(&m, "mallory", PASSWORD, false).await.status })
        })
        .collect();
    let mine = sign_in(&owner, "owner", PASSWORD, false).await;
    let mut statuses = Vec::new();
    for f in flood {
        statuses.push(f.await.unwrap().as_u16());
    }
    assert_eq!(mine.status, 200, "{}", mine.text);
    // One of mallory's attempts may wait at a time: the rest were turned away at once.
    assert!(statuses.contains(&503), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn on_a_dual_stack_listener_ipv4_clients_and_proxies_are_still_ipv4() {
    let s = TestServer::builder()
        .config(|c| {
            c.listen = "[::]:0".parse().unwrap();
            c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        })
        .start()
        .await
        .unwrap();
    // Through 127.0.0.1 the socket peer is ::ffff:127.0.0.1 on this listener.
    let base = format!("http://127.0.0.1:{}", s.running.addr.port());
    let c = steward_testkit::ApiClient::new(&base).unwrap();
    assert_eq!(
        crate::common::sign_up(&c, "dua@example.com", "dual", PASSWORD)
            .await
            .status,
        201
    );
    let r = c
        .http
        .post(format!("{base}/api/v1/session"))
        .header("x-forwarded-for", "198.51.100.7")
        .json(&json!({"identifier": "dual", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let sessions = c.get("/api/v1/sessions").await.unwrap();
    let ips: Vec<&str> = sessions.json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["ip"].as_str())
        .collect();
    assert_eq!(
        ips,
        ["198.51.100.7"],
        "the proxy was recognised and the client kept"
    );
}
