//! The outbox: a failing SMTP server delays mail but never loses it or fails the
//! request; every message is identified (`Message-ID`) and marked automated.

use std::collections::BTreeSet;

use serde_json::json;
use steward_testkit::Received;
use steward_testkit::TestServer;

use crate::common::{PASSWORD, confirmed_account, sign_in, sign_up};

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

const CHROME: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

fn is_dot_atom_text(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// `no-fold-literal = "[" *dtext "]"`, dtext being printable ASCII but `[`, `\` and `]`.
fn is_no_fold_literal(s: &str) -> bool {
    s.strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .is_some_and(|inner| inner.chars().all(|c| matches!(c, '!'..='Z' | '^'..='~')))
}

/// The right-hand side of a `Message-ID` if it is a valid RFC 5322 §3.6.4 msg-id:
/// `"<" dot-atom-text "@" (dot-atom-text / no-fold-literal) ">"`.
fn msg_id_right(value: &str) -> Option<&str> {
    let inner = value.strip_prefix('<')?.strip_suffix('>')?;
    let (left, right) = inner.split_once('@')?;
    (is_dot_atom_text(left) && (is_dot_atom_text(right) || is_no_fold_literal(right)))
        .then_some(right)
}

/// Checks the headers every message carries and returns its `Message-ID`.
fn assert_identified(m: &Received, host: &str) -> String {
    let ids = m.header_values("Message-ID");
    assert_eq!(ids.len(), 1, "{:?}: one Message-ID, got {ids:?}", m.subject);
    assert_eq!(
        msg_id_right(ids[0]),
        Some(host),
        "{:?}: Message-ID {:?} is not a msg-id under {host}",
        m.subject,
        ids[0]
    );
    assert_eq!(
        m.header_values("Auto-Submitted"),
        ["auto-generated"],
        "{:?}: automated mail says so (RFC 3834)",
        m.subject
    );
    ids[0].to_owned()
}

#[test]
fn the_msg_id_check_knows_the_grammar() {
    assert_eq!(msg_id_right("<a.b@example.com>"), Some("example.com"));
    assert_eq!(msg_id_right("<a@[127.0.0.1]>"), Some("[127.0.0.1]"));
    assert_eq!(msg_id_right("<a@[IPv6:::1]>"), Some("[IPv6:::1]"));
    for bad in [
        "a@example.com",
        "<a@>",
        "<@example.com>",
        "<a b@example.com>",
        "<a@example..com>",
        "<a@example.com.>",
        "<a@[1\\2]>",
    ] {
        assert_eq!(msg_id_right(bad), None, "{bad}");
    }
}

#[tokio::test]
async fn every_kind_of_mail_has_its_own_message_id_under_the_public_host_and_is_auto_generated() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    confirmed_account(&s, "bea@example.com", "bea").await;
    let c = s.client().unwrap();
    assert_eq!(
        sign_up(&c, "ada@example.com", "ada2", PASSWORD)
            .await
            .status,
        201
    );
    for path in ["/api/v1/recovery/password", "/api/v1/recovery/username"] {
        let body = json!({"email": "ada@example.com", "altcha": c.altcha().await.unwrap()});
        assert_eq!(c.post(path, body).await.unwrap().status, 202);
    }
    let phone = s.client_as(CHROME).unwrap();
    assert_eq!(sign_in(&phone, "ada", PASSWORD, false).await.status, 200);
    for new_email in ["ada.new@example.com", "bea@example.com"] {
        let body = json!({"current_password": PASSWORD, "new_email": new_email});
        let r = ada.post("/api/v1/me/email", body).await.unwrap();
        assert_eq!(r.status, 202, "{}", r.text);
    }
    let body = json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"});
    let r = ada.put("/api/v1/me/password", body).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);

    // One of each kind the server sends (every variant of steward_core::mail::Mail).
    for (to, subject) in [
        ("ada@example.com", "Confirm your Steward email address"),
        ("ada@example.com", "You already have a Steward account"),
        ("ada@example.com", "Reset your Steward password"),
        ("ada@example.com", "Your Steward username"),
        ("ada@example.com", "New sign-in to your Steward account"),
        (
            "ada.new@example.com",
            "Confirm your new Steward email address",
        ),
        (
            "ada@example.com",
            "Your Steward email address is being changed",
        ),
        (
            "bea@example.com",
            "This address already has a Steward account",
        ),
        ("ada@example.com", "Your Steward password was changed"),
    ] {
        s.smtp.wait_for(to, subject).await.unwrap();
    }
    let all = s.smtp.all_messages();
    let ids: BTreeSet<String> = all
        .iter()
        .map(|m| assert_identified(m, "[127.0.0.1]"))
        .collect();
    assert_eq!(ids.len(), all.len(), "every message has its own Message-ID");
}

#[tokio::test]
async fn a_retried_delivery_is_the_same_message() {
    let s = TestServer::start().await.unwrap();
    s.smtp.fail_next_after_data(1);
    let c = s.client().unwrap();
    assert_eq!(
        sign_up(&c, "cyd@example.com", "cyd", PASSWORD).await.status,
        201
    );
    let mut delivered = None;
    for _ in 0..300 {
        if let Some(m) = s.smtp.messages_to("cyd@example.com").into_iter().next() {
            delivered = Some(m);
            break;
        }
        s.advance(time::Duration::seconds(1));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let delivered = delivered.unwrap_or_else(|| {
        panic!(
            "not delivered after the refusal; attempts {}, refused {}",
            s.smtp.attempts(),
            s.smtp.rejected_to("cyd@example.com").len()
        )
    });
    let refused = s.smtp.rejected_to("cyd@example.com");
    assert_eq!(
        refused.len(),
        1,
        "the first attempt arrived whole and was refused"
    );
    assert_eq!(
        assert_identified(&refused[0], "[127.0.0.1]"),
        assert_identified(&delivered, "[127.0.0.1]"),
        "the retry carries the first attempt's Message-ID"
    );
}

#[tokio::test]
async fn the_local_mailbox_writes_the_same_headers_under_the_public_domain() {
    let s = TestServer::builder()
        .config(|c| {
            c.mail.smtp_url = None;
            c.public_url = Some("https://accounts.example.com".into());
        })
        .start()
        .await
        .unwrap();
    let c = s.client().unwrap();
    for (email, username) in [("dee@example.com", "dee"), ("eve@example.com", "eve")] {
        assert_eq!(sign_up(&c, email, username, PASSWORD).await.status, 201);
    }
    let dir = s.config.data_dir.join("mailbox");
    let mut messages = Vec::new();
    for _ in 0..200 {
        messages = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|f| f.path().extension().is_some_and(|e| e == "eml"))
            .map(|f| Received::parse(Vec::new(), String::new(), &std::fs::read(f.path()).unwrap()))
            .collect();
        if messages.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(messages.len(), 2, "two .eml files in {}", dir.display());
    let ids: BTreeSet<String> = messages
        .iter()
        .map(|m| assert_identified(m, "accounts.example.com"))
        .collect();
    assert_eq!(ids.len(), 2);
}
