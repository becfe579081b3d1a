//! The outbox, proof-of-work replay protection and server secrets.

use super::*;

pub(super) async fn outbox_leases_retries_and_deletes_sent_mail(s: &SqlStore) {
    s.enqueue_mail(&mail("a@example.com", "k"), t0())
        .await
        .unwrap();
    s.enqueue_mail(&mail("b@example.com", "k"), t0())
        .await
        .unwrap();
    let claimed = s.claim_mail(t0(), Duration::minutes(1), 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert!(claimed.iter().all(|m| m.attempts == 1));
    assert!(
        s.claim_mail(t0(), Duration::minutes(1), 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );

    s.mail_sent(claimed[0].id).await.unwrap();
    s.mail_failed(claimed[1].id, t0() + Duration::seconds(30), "smtp down")
        .await
        .unwrap();
    assert!(
        s.claim_mail(t0() + Duration::seconds(29), Duration::minutes(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retry = s
        .claim_mail(t0() + Duration::seconds(30), Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].attempts, 2);
    assert_eq!(retry[0].mail, claimed[1].mail);
    // An expired lease (a node died mid-send) makes the mail claimable again.
    let again = s
        .claim_mail(t0() + Duration::seconds(91), Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(s.pending_mail().await.unwrap(), 1);
}

pub(super) async fn challenges_are_used_once_and_secrets_are_stable(s: &SqlStore) {
    let id = [7u8; 32];
    assert!(
        s.use_challenge(&id, t0() + Duration::minutes(10), t0())
            .await
            .unwrap()
    );
    assert!(
        !s.use_challenge(&id, t0() + Duration::minutes(10), t0())
            .await
            .unwrap()
    );
    let first = s.server_secret("k", vec![1, 2, 3]).await.unwrap();
    let second = s.server_secret("k", vec![9, 9, 9]).await.unwrap();
    assert_eq!(first, vec![1, 2, 3]);
    assert_eq!(second, first);
    s.ping().await.unwrap();
}
