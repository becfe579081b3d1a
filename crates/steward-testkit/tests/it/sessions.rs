//! Active sessions, revoking, lifetimes, security activity and new-device mail.

use serde_json::{Value, json};
use steward_testkit::TestServer;

use crate::common::{PASSWORD, confirmed_account, me, sign_in};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

async fn sessions(c: &steward_testkit::ApiClient) -> Vec<Value> {
    let r = c.get("/api/v1/sessions").await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["sessions"].as_array().unwrap().clone()
}

/// The id of the session a client is using.
async fn current_session_id(c: &steward_testkit::ApiClient) -> String {
    sessions(c)
        .await
        .into_iter()
        .find(|x| x["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_list_shows_each_device_and_which_one_is_this() {
    let s = TestServer::start().await.unwrap();
    let laptop = confirmed_account(&s, "ann@example.com", "ann").await;
    let phone = s.client_as(CHROME).unwrap();
    assert_eq!(sign_in(&phone, "ann", PASSWORD, false).await.status, 200);
    let bob = confirmed_account(&s, "bob@example.com", "bob").await;

    let list = sessions(&phone).await;
    assert_eq!(list.len(), 2, "bob's session is not listed: {list:?}");
    let this = list.iter().find(|x| x["current"] == true).unwrap();
    assert_eq!(this["device"], "Chrome 131 on macOS");
    assert_eq!(this["ip"], "127.0.0.1");
    assert_eq!(this["remember"], false);
    for key in ["id", "created_at", "last_seen_at", "expires_at"] {
        assert!(this[key].is_string(), "{key} in {this}");
    }
    let other = list.iter().find(|x| x["current"] == false).unwrap();
    assert_eq!(other["remember"], true);
    assert!(other["location"].is_null(), "no GeoIP database configured");
    assert_eq!(sessions(&laptop).await.len(), 2);
    assert_eq!(sessions(&bob).await.len(), 1);
    // Not signed in: 401.
    let anon = s.client().unwrap();
    assert_eq!(anon.get("/api/v1/sessions").await.unwrap().status, 401);
}

#[tokio::test]
async fn revoking_one_session_signs_that_device_out_at_once() {
    let s = TestServer::start().await.unwrap();
    let a = confirmed_account(&s, "cat@example.com", "cat").await;
    let b = s.client_as(FIREFOX).unwrap();
    assert_eq!(sign_in(&b, "cat", PASSWORD, true).await.status, 200);
    assert_eq!(me(&b).await.0, 200, "b is in use (and cached)");
    let b_id = current_session_id(&b).await;

    let r = a.delete(&format!("/api/v1/sessions/{b_id}")).await.unwrap();
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(me(&b).await.0, 401, "refused on its very next request");
    assert_eq!(me(&a).await.0, 200);
    // Gone: a second revoke is 404 like an unknown id; a malformed id is 400.
    let again = a.delete(&format!("/api/v1/sessions/{b_id}")).await.unwrap();
    assert_eq!((again.status.as_u16(), again.code()), (404, "not_found"));
    let bad = a.delete("/api/v1/sessions/not-a-uuid").await.unwrap();
    assert_eq!(
        (bad.status.as_u16(), bad.code()),
        (400, "malformed_request")
    );
    let act = a.get("/api/v1/me/security-activity").await.unwrap();
    assert_eq!(act.json["events"][0]["kind"], "session_revoked");
    assert_eq!(act.json["events"][0]["detail"], "Firefox 133 on Linux");
}

#[tokio::test]
async fn no_account_can_see_or_revoke_another_accounts_sessions() {
    let s = TestServer::start().await.unwrap();
    let dee = confirmed_account(&s, "dee@example.com", "dee").await;
    let eve = confirmed_account(&s, "eve@example.com", "eve").await;
    let dee_id = sessions(&dee).await[0]["id"].as_str().unwrap().to_owned();
    let eve_id = sessions(&eve).await[0]["id"].as_str().unwrap().to_owned();
    assert!(
        !sessions(&eve)
            .await
            .iter()
            .any(|x| x["id"] == dee_id.as_str())
    );

    let r = eve
        .delete(&format!("/api/v1/sessions/{dee_id}"))
        .await
        .unwrap();
    let unknown = eve
        .delete(&format!("/api/v1/sessions/{}", uuid::Uuid::now_v7()))
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.json, unknown.json, "same answer as for no such session");
    assert_eq!(me(&dee).await.0, 200, "dee is still signed in");

    // Even from one browser holding both accounts, each acts only as itself.
    let both = s.client().unwrap();
    assert_eq!(sign_in(&both, "dee", PASSWORD, true).await.status, 200);
    assert_eq!(sign_in(&both, "eve", PASSWORD, true).await.status, 200);
    let listed = sessions(&both).await;
    assert!(
        listed.iter().all(|x| x["id"] != dee_id.as_str()),
        "only eve's sessions"
    );
    assert_eq!(listed.len(), 2);
    let r = both
        .delete(&format!("/api/v1/sessions/{dee_id}"))
        .await
        .unwrap();
    assert_eq!(r.status, 404, "acting as eve, dee's session is not found");
    assert_eq!(me(&dee).await.0, 200);
    assert_eq!(eve.get("/api/v1/me").await.unwrap().status, 200);
    assert_eq!(eve_id.len(), 36);
}

#[tokio::test]
async fn revoke_all_keeps_only_the_current_session() {
    let s = TestServer::start().await.unwrap();
    let a = confirmed_account(&s, "fay@example.com", "fay").await;
    let others: Vec<_> = (0..3).map(|_| s.client().unwrap()).collect();
    for c in &others {
        assert_eq!(sign_in(c, "fay", PASSWORD, false).await.status, 200);
    }
    let r = a.delete("/api/v1/sessions").await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["revoked"], 3);
    for c in &others {
        assert_eq!(me(c).await.0, 401);
    }
    assert_eq!(me(&a).await.0, 200);
    assert_eq!(sessions(&a).await.len(), 1);
    let r = a.delete("/api/v1/sessions").await.unwrap();
    assert_eq!(r.json["revoked"], 0);
}

#[tokio::test]
async fn a_short_session_in_use_ends_at_the_absolute_limit_a_long_one_at_30_days() {
    let s = TestServer::builder()
        .config(|c| c.sessions.absolute_hours = 2)
        .start()
        .await
        .unwrap();
    let long = confirmed_account(&s, "gus@example.com", "gus").await;
    let short = s.client().unwrap();
    assert_eq!(sign_in(&short, "gus", PASSWORD, false).await.status, 200);
    for _ in 0..5 {
        s.advance(time::Duration::minutes(20));
        assert_eq!(me(&short).await.0, 200, "in use: extended");
    }
    let listed = sessions(&short).await;
    let this = listed.iter().find(|x| x["current"] == true).unwrap();
    let expires = time::OffsetDateTime::parse(
        this["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let seen = time::OffsetDateTime::parse(
        this["last_seen_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(
        expires - seen,
        time::Duration::minutes(20),
        "capped at 2 hours after sign-in"
    );
    s.advance(time::Duration::minutes(20));
    assert_eq!(
        me(&short).await.0,
        401,
        "2 hours after sign-in, in use or not"
    );
    assert_eq!(me(&long).await.0, 200);
}

#[tokio::test]
async fn security_activity_lists_events_newest_first_in_pages() {
    let s = TestServer::start().await.unwrap();
    let a = confirmed_account(&s, "hal@example.com", "hal").await;
    let other = s.client().unwrap();
    assert_eq!(
        sign_in(&other, "hal", "wrong password", false).await.status,
        401
    );
    let r = a
        .put(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);

    let mut kinds = Vec::new();
    let mut path = "/api/v1/me/security-activity?limit=2".to_owned();
    loop {
        let r = a.get(&path).await.unwrap();
        assert_eq!(r.status, 200, "{}", r.text);
        let events = r.json["events"].as_array().unwrap();
        assert!(events.len() <= 2);
        kinds.extend(
            events
                .iter()
                .map(|e| e["kind"].as_str().unwrap().to_owned()),
        );
        match r.json["next_before"].as_str() {
            Some(next) => path = format!("/api/v1/me/security-activity?limit=2&before={next}"),
            None => break,
        }
    }
    // The failed sign-in is recorded in the background: it may land either side
    // of the change, but it is there.
    for k in [
        "password_changed",
        "sign_in_failed",
        "signed_in",
        "email_verified",
        "account_created",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
    assert_eq!(kinds.last().unwrap(), "account_created", "oldest last");
    let first = a.get("/api/v1/me/security-activity").await.unwrap();
    let e = &first.json["events"][0];
    assert_eq!(e["ip"], "127.0.0.1");
    assert!(e["description"].is_string() && e["at"].is_string());

    let bad = a.get("/api/v1/me/security-activity?limit=0").await.unwrap();
    assert_eq!(
        (bad.status.as_u16(), bad.code()),
        (422, "validation_failed")
    );
    let bad = a
        .get("/api/v1/me/security-activity?before=nope")
        .await
        .unwrap();
    assert_eq!(
        (bad.status.as_u16(), bad.code()),
        (400, "malformed_request")
    );
    let bad = a.delete("/api/v1/session?all=perhaps").await.unwrap();
    assert_eq!(
        (bad.status.as_u16(), bad.code()),
        (400, "malformed_request")
    );
    assert_eq!(me(&a).await.0, 200, "nothing signed out");
    let anon = s.client().unwrap();
    assert_eq!(
        anon.get("/api/v1/me/security-activity")
            .await
            .unwrap()
            .status,
        401
    );
}

#[tokio::test]
async fn a_sign_in_from_a_new_device_emails_the_owner() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "ivy@example.com", "ivy").await;
    let stranger = s.client_as(CHROME).unwrap();
    assert_eq!(sign_in(&stranger, "ivy", PASSWORD, false).await.status, 200);
    let mail = s
        .smtp
        .wait_for("ivy@example.com", "New sign-in")
        .await
        .unwrap();
    assert!(mail.text.contains("Chrome 131 on macOS"), "{}", mail.text);
    assert!(mail.text.contains("127.0.0.1"));
    assert_eq!(
        mail.link(&format!("{}/account/sessions", s.base))
            .as_deref(),
        Some(format!("{}/account/sessions", s.base).as_str())
    );
    // The same device again, or the device the account was created on: no more mail.
    let again = s.client_as(CHROME).unwrap();
    assert_eq!(sign_in(&again, "ivy", PASSWORD, false).await.status, 200);
    let home = s.client().unwrap();
    assert_eq!(sign_in(&home, "ivy", PASSWORD, false).await.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let notices: Vec<_> = s
        .smtp
        .messages_to("ivy@example.com")
        .into_iter()
        .filter(|m| m.subject.starts_with("New sign-in"))
        .collect();
    assert_eq!(notices.len(), 1, "one notice, for the one new device");
    let act = home.get("/api/v1/me/security-activity").await.unwrap();
    assert!(
        act.json["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "new_device")
    );
}

#[tokio::test]
async fn with_a_geoip_database_sessions_activity_and_mail_show_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.mmdb");
    let record = steward_testkit::mmdb::city("Lisbon", "Portugal", "PT");
    std::fs::write(
        &db,
        steward_testkit::mmdb::single_network("127.0.0.0".parse().unwrap(), 8, &record),
    )
    .unwrap();
    let s = TestServer::builder()
        .config(move |c| c.geoip.database = Some(db))
        .start()
        .await
        .unwrap();
    let a = confirmed_account(&s, "jon@example.com", "jon").await;
    assert_eq!(sessions(&a).await[0]["location"], "Lisbon, Portugal");
    let act = a.get("/api/v1/me/security-activity").await.unwrap();
    assert_eq!(act.json["events"][0]["location"], "Lisbon, Portugal");
    assert!(
        a.get("/account/sessions")
            .await
            .unwrap()
            .text
            .contains("Lisbon, Portugal")
    );
    let phone = s.client_as(CHROME).unwrap();
    assert_eq!(sign_in(&phone, "jon", PASSWORD, false).await.status, 200);
    let mail = s
        .smtp
        .wait_for("jon@example.com", "New sign-in")
        .await
        .unwrap();
    assert!(mail.text.contains("Lisbon, Portugal"), "{}", mail.text);
}

#[tokio::test]
async fn an_unreadable_geoip_database_stops_the_server_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("broken.mmdb");
    std::fs::write(&db, b"not a database").unwrap();
    let err = TestServer::builder()
        .config(move |c| c.geoip.database = Some(db))
        .start()
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("GeoIP database"), "{err:#}");
}

/// Opens `/api/v1/live` with a client's session cookie.
async fn open_live(
    s: &TestServer,
    c: &steward_testkit::ApiClient,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("{}/api/v1/live", s.base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    let cookie = c.cookie("steward_session").unwrap();
    req.headers_mut().insert(
        "cookie",
        format!("steward_session={cookie}").parse().unwrap(),
    );
    req.headers_mut().insert("origin", s.base.parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws
}

/// The close code the server ends the connection with, waiting up to `within`.
async fn close_code(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    within: std::time::Duration,
) -> Option<u16> {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return None,
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => continue,
            Ok(_) => return None,
        }
    }
}

#[tokio::test]
async fn an_open_live_connection_is_closed_when_its_session_is_revoked() {
    use futures::StreamExt;
    let s = TestServer::start().await.unwrap();
    let a = confirmed_account(&s, "kim@example.com", "kim").await;
    let b = s.client().unwrap();
    assert_eq!(sign_in(&b, "kim", PASSWORD, true).await.status, 200);
    let mut ws = open_live(&s, &b).await;
    let hello = ws.next().await.unwrap().unwrap();
    assert!(hello.to_text().unwrap().contains("\"hello\""));
    let mut unrelated = open_live(&s, &a).await;

    let b_id = current_session_id(&b).await;
    assert_eq!(
        a.delete(&format!("/api/v1/sessions/{b_id}"))
            .await
            .unwrap()
            .status,
        204
    );
    assert_eq!(
        close_code(&mut ws, std::time::Duration::from_secs(5)).await,
        Some(4001),
        "closed with 'session ended'"
    );
    // The revoking device's own connection stays open.
    assert_eq!(
        close_code(&mut unrelated, std::time::Duration::from_millis(300)).await,
        None
    );
    // A plain GET (no Upgrade) gets the usual JSON error.
    let plain = a.get("/api/v1/live").await.unwrap();
    assert_eq!(
        (plain.status.as_u16(), plain.code()),
        (400, "malformed_request")
    );
    // Signed out: the handshake is refused.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let req = format!("{}/api/v1/live", s.base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
    // Another site's page cannot open one with the person's cookie.
    let mut req = format!("{}/api/v1/live", s.base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "cookie",
        format!("steward_session={}", a.cookie("steward_session").unwrap())
            .parse()
            .unwrap(),
    );
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
}
