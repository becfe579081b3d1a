//! Security activity and the change feed between nodes.

use super::*;

pub(super) async fn activity_pages_recognises_devices_and_expires(s: &SqlStore) {
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

pub(super) async fn ending_sessions_is_heard_by_every_listener(s: &SqlStore) {
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
pub(super) async fn the_change_feed_stays_up_when_quiet_and_reports_a_dropped_connection() {
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
