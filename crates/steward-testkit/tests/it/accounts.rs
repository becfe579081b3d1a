//! Several accounts in one browser: add, list, switch, sign out one or all,
//! independent lifetimes, and forged switcher cookies.

use serde_json::{Value, json};
use steward_testkit::{ApiClient, TestServer};

use crate::common::{PASSWORD, confirmed_account, me, sign_in};

async fn accounts(c: &ApiClient) -> Vec<Value> {
    let r = c.get("/api/v1/session/accounts").await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["accounts"].as_array().unwrap().clone()
}

fn names(list: &[Value]) -> Vec<(String, bool)> {
    list.iter()
        .map(|a| {
            (
                a["username"].as_str().unwrap().to_owned(),
                a["active"].as_bool().unwrap(),
            )
        })
        .collect()
}

async fn whoami(c: &ApiClient) -> String {
    let (status, body) = me(c).await;
    assert_eq!(status, 200, "{body}");
    body["username"].as_str().unwrap().to_owned()
}

async fn switch(c: &ApiClient, account_id: &Value) -> u16 {
    c.post(
        "/api/v1/session/switch",
        json!({ "account_id": account_id }),
    )
    .await
    .unwrap()
    .status
    .as_u16()
}

#[tokio::test]
async fn add_switch_and_sign_out_one_or_all() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "amy@example.com", "amy").await;
    confirmed_account(&s, "ben@example.com", "ben").await;
    let browser = s.client().unwrap();
    assert_eq!(sign_in(&browser, "amy", PASSWORD, true).await.status, 200);
    // Add ben without signing amy out.
    assert_eq!(sign_in(&browser, "ben", PASSWORD, false).await.status, 200);
    let list = accounts(&browser).await;
    assert_eq!(names(&list), [("ben".into(), true), ("amy".into(), false)]);
    assert_eq!(whoami(&browser).await, "ben");

    // Switch without a password, and back.
    let amy_id = list[1]["account_id"].clone();
    let ben_id = list[0]["account_id"].clone();
    assert_eq!(switch(&browser, &amy_id).await, 200);
    assert_eq!(whoami(&browser).await, "amy");
    assert_eq!(switch(&browser, &ben_id).await, 200);
    assert_eq!(whoami(&browser).await, "ben");

    // Signing in again to a held account replaces its session, not duplicates it.
    assert_eq!(sign_in(&browser, "amy", PASSWORD, true).await.status, 200);
    assert_eq!(
        names(&accounts(&browser).await),
        [("amy".into(), true), ("ben".into(), false)]
    );
    let r = browser.get("/api/v1/sessions").await.unwrap();
    assert_eq!(
        r.json["sessions"].as_array().unwrap().len(),
        2,
        "amy: the confirmed_account session and this one"
    );

    // Sign out the active account: ben stays signed in but is not acted as by itself.
    assert_eq!(browser.delete("/api/v1/session").await.unwrap().status, 204);
    assert_eq!(me(&browser).await.0, 401);
    assert_eq!(names(&accounts(&browser).await), [("ben".into(), false)]);
    assert_eq!(switch(&browser, &ben_id).await, 200);
    assert_eq!(whoami(&browser).await, "ben");
    // Switching to an account this browser has no session of is 404.
    assert_eq!(switch(&browser, &amy_id).await, 404);
    assert_eq!(
        whoami(&browser).await,
        "ben",
        "a refused switch changes nothing"
    );

    // Sign out of all.
    assert_eq!(sign_in(&browser, "amy", PASSWORD, false).await.status, 200);
    assert_eq!(accounts(&browser).await.len(), 2);
    let r = browser.delete("/api/v1/session?all=true").await.unwrap();
    assert_eq!(r.status, 204);
    assert!(accounts(&browser).await.is_empty());
    assert_eq!(me(&browser).await.0, 401);
}

#[tokio::test]
async fn accounts_in_one_browser_expire_independently() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "cam@example.com", "cam").await;
    confirmed_account(&s, "dot@example.com", "dot").await;
    let browser = s.client().unwrap();
    assert_eq!(sign_in(&browser, "cam", PASSWORD, false).await.status, 200);
    assert_eq!(sign_in(&browser, "dot", PASSWORD, true).await.status, 200);
    // The short session waits in the browser-session cookie, the long one would persist.
    assert!(browser.cookie("steward_accounts_tmp").is_some());
    // Using dot does not keep cam's 30-minute session alive.
    for _ in 0..4 {
        s.advance(time::Duration::minutes(10));
        assert_eq!(whoami(&browser).await, "dot");
    }
    assert_eq!(
        names(&accounts(&browser).await),
        [("dot".into(), true)],
        "cam's session ended after 30 idle minutes"
    );
    let r = browser
        .post(
            "/api/v1/session/switch",
            json!({"account_id": uuid::Uuid::now_v7()}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_forged_or_foreign_switcher_cookie_is_ignored() {
    let s = TestServer::start().await.unwrap();
    let eli = confirmed_account(&s, "eli@example.com", "eli").await;
    let browser = s.client().unwrap();
    assert_eq!(sign_in(&browser, "eli", PASSWORD, true).await.status, 200);
    // Garbage, a well-formed token nobody issued, and oversized values: all ignored.
    let made_up = "A".repeat(43);
    browser
        .set_cookie(&format!(
            "steward_accounts=not-a-token.{made_up}.{}; Path=/",
            "x".repeat(3000)
        ))
        .unwrap();
    browser
        .set_cookie("steward_accounts_tmp=..%00..; Path=/")
        .unwrap();
    assert_eq!(names(&accounts(&browser).await), [("eli".into(), true)]);
    assert_eq!(whoami(&browser).await, "eli");
    // Signing in to an unknown-token-laden browser works and drops the junk.
    let r = sign_in(&browser, "eli", PASSWORD, true).await;
    assert_eq!(r.status, 200);
    let cleared = r.set_cookies();
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("steward_accounts=;") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    // At most seven waiting tokens are looked at, valid or not: a cookie stuffed with
    // made-up tokens costs a bounded number of look-ups, and what lies past them is ignored.
    let gus = s.client().unwrap();
    confirmed_account(&s, "gus@example.com", "gus").await;
    assert_eq!(sign_in(&gus, "gus", PASSWORD, true).await.status, 200);
    assert_eq!(sign_in(&gus, "eli", PASSWORD, true).await.status, 200);
    let real = gus.cookie("steward_accounts").unwrap();
    assert_eq!(
        names(&accounts(&gus).await),
        [("eli".into(), true), ("gus".into(), false)]
    );
    let junk: Vec<String> = (0..7).map(|i| format!("{i}").repeat(43)).collect();
    gus.set_cookie(&format!(
        "steward_accounts={}.{real}; Path=/",
        junk.join(".")
    ))
    .unwrap();
    assert_eq!(
        names(&accounts(&gus).await),
        [("eli".into(), true)],
        "gus lies past the budget"
    );
    // Sending someone else's account id to switch to is refused.
    let stranger = eli.get("/api/v1/me").await.unwrap().json["id"].clone();
    let other = s.client().unwrap();
    confirmed_account(&s, "fox@example.com", "fox").await;
    assert_eq!(sign_in(&other, "fox", PASSWORD, true).await.status, 200);
    assert_eq!(switch(&other, &stranger).await, 404);
    assert_eq!(whoami(&other).await, "fox");
}

#[tokio::test]
async fn a_browser_holds_at_most_eight_accounts() {
    let s = TestServer::builder()
        .config(|c| c.limits.credential_per_ip_per_minute = 1000)
        .start()
        .await
        .unwrap();
    let browser = s.client().unwrap();
    for i in 0..8 {
        let name = format!("user{i}");
        confirmed_account(&s, &format!("{name}@example.com"), &name).await;
        assert_eq!(sign_in(&browser, &name, PASSWORD, true).await.status, 200);
    }
    confirmed_account(&s, "user8@example.com", "user8").await;
    let r = sign_in(&browser, "user8", PASSWORD, true).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "too_many_accounts"));
    assert_eq!(accounts(&browser).await.len(), 8);
    assert_eq!(whoami(&browser).await, "user7");
    // Signing in again to a held account is still allowed (it replaces that session).
    assert_eq!(sign_in(&browser, "USER3", PASSWORD, true).await.status, 200);
    assert_eq!(accounts(&browser).await.len(), 8);
    assert_eq!(whoami(&browser).await, "user3");
}
