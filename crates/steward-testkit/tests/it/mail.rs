//! The outbox: a failing SMTP server delays mail but never loses it or fails the request.

use steward_testkit::TestServer;

use crate::common::{PASSWORD, sign_up};

#[tokio::test]
async fn mail_survives_smtp_failures_and_is_retried() {
    let s = TestServer::start().await.unwrap();
    s.smtp.fail_next(2);
    let c = s.client().unwrap();
    let r = sign_up(&c, "ada@example.com", "ada", PASSWORD).await;
    assert_eq!(r.status, 201, "the request succeeds while SMTP fails");
    // Retries back off 2 s, then 4 s. Move the server's clock a second at a time
    // (whenever the sender reschedules, it reads the clock as it is then) until the
    // third attempt delivers; bounded, so a lost message fails the test.
    let mut delivered = None;
    for _ in 0..300 {
        if let Some(m) = s.smtp.messages_to("ada@example.com").into_iter().next() {
            delivered = Some(m);
            break;
        }
        s.advance(time::Duration::seconds(1));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mail = delivered.unwrap_or_else(|| panic!("not delivered; attempts {}", s.smtp.attempts()));
    assert!(mail.text.contains("/verify-email?token="));
    assert_eq!(s.smtp.attempts(), 3);
    // The sender removes the message right after the SMTP server accepts it.
    let mut pending = -1;
    for _ in 0..100 {
        pending = s.running.steward.store().pending_mail().await.unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(pending, 0, "delivered mail leaves the outbox");
}

#[tokio::test]
async fn mail_queued_while_the_server_was_down_is_sent_after_restart() {
    // The outbox lives in the database: stop the server before the sender runs, start another on the same data.
    let dir = tempfile::tempdir().unwrap();
    let db = steward_store::testing::sqlite_url(dir.path());
    let smtp_down = "smtp://127.0.0.1:9".to_owned(); // discard port: nothing listens
    // The same data means the same master key too (it seals the stored signing keys).
    let key = dir.path().join("master.key");
    let first = TestServer::builder()
        .backend(steward_testkit::server::TestBackend::Sqlite)
        .config({
            let (db, key) = (db.clone(), key.clone());
            move |c| {
                c.database_url = Some(db);
                c.mail.smtp_url = Some(smtp_down);
                c.secrets.master_key_path = Some(key);
            }
        })
        .start()
        .await
        .unwrap();
    let c = first.client().unwrap();
    assert_eq!(
        sign_up(&c, "bea@example.com", "bea", PASSWORD).await.status,
        201
    );
    first.stop().await;

    let second = TestServer::builder()
        .backend(steward_testkit::server::TestBackend::Sqlite)
        .config(move |c| {
            c.database_url = Some(db);
            c.secrets.master_key_path = Some(key);
        })
        .start()
        .await
        .unwrap();
    // The failed attempt scheduled a retry a few seconds out; move the new server's clock past it.
    second.advance(time::Duration::minutes(1));
    let mail = second
        .smtp
        .wait_for("bea@example.com", "Confirm your")
        .await
        .unwrap();
    assert!(mail.text.contains("/verify-email?token="));
}
