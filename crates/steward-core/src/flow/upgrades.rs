//! One-off upgrades of stored data, run at start-up before the server answers.
//!
//! Each has a name and a version in the store; it runs only while the stored
//! version is older, and records the new one when done, so an interrupted run is
//! simply run again (every step is idempotent).

use crate::account::email::email_key;
use crate::error::{CoreResult, StoreError};
use crate::steward::Steward;

/// Email keys under the rules of [`crate::account::email`]: NFKC, IDNA domains and
/// look-alikes folded (version 2; version 1 was the lower-cased address).
const EMAIL_KEYS: (&str, i64) = ("email_keys", 2);

/// Accounts re-keyed per store round trip.
const BATCH: u32 = 500;

impl Steward {
    /// Runs the data upgrades this version needs; returns how many records changed.
    pub async fn upgrade_data(&self) -> CoreResult<u64> {
        let (name, version) = EMAIL_KEYS;
        if self.store.data_version(name).await? >= version {
            return Ok(0);
        }
        let changed = self.rekey_emails().await?;
        self.store
            .set_data_version(name, version, self.now())
            .await?;
        if changed > 0 {
            tracing::info!(
                accounts = changed,
                "email keys recomputed (look-alikes folded)"
            );
        }
        Ok(changed)
    }

    /// Recomputes every account's email key. Addresses in plain ASCII keep theirs; two
    /// existing accounts whose addresses turn out to look alike cannot share a key,
    /// so the later one keeps its old key and the operator is told.
    async fn rekey_emails(&self) -> CoreResult<u64> {
        let mut after = None;
        let mut changed = 0;
        loop {
            let page = self.store.email_keys_after(after, BATCH).await?;
            let Some(last) = page.last() else {
                return Ok(changed);
            };
            after = Some(last.0);
            for (id, email, key) in &page {
                let new = email_key(email);
                if &new == key {
                    continue;
                }
                match self.store.set_email_key(*id, &new).await {
                    Ok(()) => changed += 1,
                    Err(StoreError::EmailTaken) => tracing::warn!(
                        account = %id,
                        "this account's email address looks like another account's; it keeps its old key, so it signs in by username until one of them changes address"
                    ),
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
}
