//! The parts of the in-memory store the use cases do not reach.

use time::macros::datetime;

use super::*;

fn mail(n: u32) -> OutgoingMail {
    FixedMailer.render(&Mail::UsernameReminder {
        to: format!("p{n}@example.com"),
        username: format!("p{n}"),
        signin_link: String::new(),
    })
}

#[tokio::test]
async fn outbox_claims_with_a_lease_and_retries_after_failure() {
    let s = MemStore::default();
    let t0 = datetime!(2026-03-01 09:00 UTC);
    let lease = time::Duration::minutes(5);
    for n in 0..3 {
        s.enqueue_mail(&mail(n), t0).await.unwrap();
    }
    assert_eq!(s.pending_mail().await.unwrap(), 3);

    let first = s.claim_mail(t0, lease, 2).await.unwrap();
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|q| q.attempts == 1));
    let rest = s.claim_mail(t0, lease, 10).await.unwrap();
    assert_eq!(rest.len(), 1, "leased messages are not claimed twice");
    assert!(s.claim_mail(t0, lease, 10).await.unwrap().is_empty());

    s.mail_sent(first[0].id).await.unwrap();
    s.mail_failed(
        first[1].id,
        t0 + time::Duration::minutes(1),
        &"x".repeat(900),
    )
    .await
    .unwrap();
    assert_eq!(s.pending_mail().await.unwrap(), 2);
    assert_eq!(
        s.lock()
            .outbox
            .iter()
            .find(|r| r.id == first[1].id)
            .unwrap()
            .last_error
            .as_deref()
            .map(str::len),
        Some(MAX_ERROR)
    );

    let retried = s
        .claim_mail(t0 + time::Duration::minutes(1), lease, 10)
        .await
        .unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!((retried[0].id, retried[0].attempts), (first[1].id, 2));
    let expired_lease = s.claim_mail(t0 + lease, lease, 10).await.unwrap();
    assert_eq!(expired_lease.len(), 1);
    assert_eq!(
        (expired_lease[0].id, expired_lease[0].attempts),
        (rest[0].id, 2)
    );
}

#[tokio::test]
async fn challenges_are_single_use_until_they_expire() {
    let s = MemStore::default();
    let t0 = datetime!(2026-03-01 09:00 UTC);
    let exp = t0 + time::Duration::minutes(10);
    assert!(s.use_challenge(&[1; 32], exp, t0).await.unwrap());
    assert!(!s.use_challenge(&[1; 32], exp, t0).await.unwrap());
    assert!(s.use_challenge(&[2; 32], exp, t0).await.unwrap());
    assert!(
        s.use_challenge(&[1; 32], exp + time::Duration::minutes(10), exp)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn server_secrets_are_created_once() {
    let s = MemStore::default();
    assert_eq!(s.server_secret("k", vec![1]).await.unwrap(), vec![1]);
    assert_eq!(s.server_secret("k", vec![2]).await.unwrap(), vec![1]);
    assert_eq!(s.server_secret("other", vec![3]).await.unwrap(), vec![3]);
    s.ping().await.unwrap();
}
