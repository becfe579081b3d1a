//! A short-lived in-memory cache of validated sessions, so the hot path
//! (`authenticate`) usually skips the database.
//!
//! Entries live at most `ttl` (one second by default: the longest a session
//! ended on another node may keep working, as DESIGN.md allows). Changes made
//! through this node (sign-out, password change or reset, email confirmation)
//! drop the account's entries at once.

use std::collections::HashMap;
use std::sync::Mutex;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::secret::SecretHash;
use crate::session::SignedIn;

/// Entries kept before expired ones are swept (bounds memory under a flood of tokens).
const SWEEP_AT: usize = 50_000;

/// Validated sessions by token hash.
#[derive(Debug)]
pub struct SessionCache {
    ttl: time::Duration,
    entries: Mutex<HashMap<SecretHash, (SignedIn, OffsetDateTime)>>,
}

impl SessionCache {
    /// A cache whose entries live `ttl`; zero turns it off.
    pub fn new(ttl: std::time::Duration) -> Self {
        let ttl = time::Duration::try_from(ttl).unwrap_or(time::Duration::ZERO);
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached session for `hash`, if it was validated less than `ttl` ago and has not expired.
    pub fn get(&self, hash: &SecretHash, now: OffsetDateTime) -> Option<SignedIn> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (who, at) = entries.get(hash)?;
        (now < *at + self.ttl && now < who.session().expires_at && now >= *at).then(|| who.clone())
    }

    /// Remembers a session validated at `now`.
    pub fn put(&self, hash: SecretHash, who: SignedIn, now: OffsetDateTime) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= SWEEP_AT {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| now < *at + ttl);
        }
        entries.insert(hash, (who, now));
    }

    /// Forgets every cached session of an account.
    pub fn forget_account(&self, account_id: Uuid) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, (who, _)| who.account().id != account_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Account;
    use crate::secret::NewSecret;
    use crate::session::Session;

    fn signed_in(account_id: Uuid, expires_at: OffsetDateTime) -> (SecretHash, SignedIn) {
        let t = NewSecret::generate();
        let now = OffsetDateTime::UNIX_EPOCH;
        let session = Session {
            id: Uuid::now_v7(),
            account_id,
            token_hash: t.hash.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at,
            remember: false,
            ip: None,
            user_agent: None,
        };
        let account = Account {
            id: account_id,
            email: "a@example.com".into(),
            email_verified_at: None,
            username: "ada".into(),
            password_hash: String::new(),
            created_at: now,
        };
        (t.hash, SignedIn::new(session, account))
    }

    #[test]
    fn entries_live_for_the_ttl_and_never_past_the_session_expiry() {
        let cache = SessionCache::new(std::time::Duration::from_secs(1));
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let (hash, who) = signed_in(Uuid::now_v7(), t0 + time::Duration::milliseconds(500));
        cache.put(hash.clone(), who, t0);
        assert!(
            cache
                .get(&hash, t0 + time::Duration::milliseconds(400))
                .is_some()
        );
        assert!(
            cache
                .get(&hash, t0 + time::Duration::milliseconds(500))
                .is_none(),
            "session expired"
        );
        let (hash, who) = signed_in(Uuid::now_v7(), t0 + time::Duration::days(1));
        cache.put(hash.clone(), who, t0);
        assert!(
            cache
                .get(&hash, t0 + time::Duration::milliseconds(999))
                .is_some()
        );
        assert!(
            cache.get(&hash, t0 + time::Duration::seconds(1)).is_none(),
            "ttl over"
        );
    }

    #[test]
    fn forgetting_an_account_drops_only_its_sessions() {
        let cache = SessionCache::new(std::time::Duration::from_secs(1));
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let (ha, wa) = signed_in(a, t0 + time::Duration::days(1));
        let (hb, wb) = signed_in(b, t0 + time::Duration::days(1));
        cache.put(ha.clone(), wa, t0);
        cache.put(hb.clone(), wb, t0);
        cache.forget_account(a);
        assert!(cache.get(&ha, t0).is_none());
        assert!(cache.get(&hb, t0).is_some());
    }

    #[test]
    fn a_zero_ttl_turns_the_cache_off() {
        let cache = SessionCache::new(std::time::Duration::ZERO);
        let (hash, who) = signed_in(
            Uuid::now_v7(),
            OffsetDateTime::UNIX_EPOCH + time::Duration::days(1),
        );
        cache.put(hash.clone(), who, OffsetDateTime::UNIX_EPOCH);
        assert!(cache.get(&hash, OffsetDateTime::UNIX_EPOCH).is_none());
    }
}
