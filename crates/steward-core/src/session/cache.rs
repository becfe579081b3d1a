//! The in-memory cache of validated sessions, so the hot path
//! (`authenticate`) usually skips the database.
//!
//! An entry is dropped as soon as its account's sessions change: at once for
//! changes made through this node, and on notice from the change feed for
//! changes made through others (PostgreSQL `LISTEN`/`NOTIFY`). The cache is
//! used only while that feed is live; when it breaks, every entry is dropped
//! and each request asks the database until the feed is back. `ttl` bounds how
//! long an entry lives even so (changes made behind Steward's back).
//!
//! A look-up that raced an invalidation must not put a stale session back:
//! every invalidation bumps an epoch, and a `put` carries the epoch read before
//! its database query and is dropped if any invalidation happened since.

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
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<SecretHash, (SignedIn, OffsetDateTime)>,
    epoch: u64,
    live: bool,
}

/// The cache's state before a database look-up; see [`SessionCache::put`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch(u64);

impl SessionCache {
    /// A cache whose entries live at most `ttl`; zero turns it off. It starts
    /// unused until [`SessionCache::set_live`] says invalidations are being heard.
    pub fn new(ttl: std::time::Duration) -> Self {
        let ttl = time::Duration::try_from(ttl).unwrap_or(time::Duration::ZERO);
        Self {
            ttl,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached session for `hash`, if it was validated less than `ttl` ago and has not expired.
    pub fn get(&self, hash: &SecretHash, now: OffsetDateTime) -> Option<SignedIn> {
        if self.ttl.is_zero() {
            return None;
        }
        let inner = self.lock();
        if !inner.live {
            return None;
        }
        let (who, at) = inner.entries.get(hash)?;
        (now < *at + self.ttl && now < who.session().expires_at && now >= *at).then(|| who.clone())
    }

    /// The epoch to pass to [`SessionCache::put`]; read it before querying the database.
    pub fn epoch(&self) -> Epoch {
        Epoch(self.lock().epoch)
    }

    /// Remembers a session validated at `now`, unless an invalidation happened since `epoch`.
    pub fn put(&self, hash: SecretHash, who: SignedIn, now: OffsetDateTime, epoch: Epoch) {
        if self.ttl.is_zero() {
            return;
        }
        let mut inner = self.lock();
        if !inner.live || inner.epoch != epoch.0 {
            return;
        }
        if inner.entries.len() >= SWEEP_AT {
            let ttl = self.ttl;
            inner.entries.retain(|_, (_, at)| now < *at + ttl);
        }
        inner.entries.insert(hash, (who, now));
    }

    /// Replaces the cached copy of a session (after its last-seen time was written),
    /// keeping when it was validated.
    pub fn refresh(&self, hash: &SecretHash, who: SignedIn) {
        let mut inner = self.lock();
        if let Some(entry) = inner.entries.get_mut(hash) {
            entry.0 = who;
        }
    }

    /// Forgets every cached session of an account.
    pub fn forget_account(&self, account_id: Uuid) {
        let mut inner = self.lock();
        inner.epoch = inner.epoch.wrapping_add(1);
        inner
            .entries
            .retain(|_, (who, _)| who.account().id != account_id);
    }

    /// Forgets everything.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.epoch = inner.epoch.wrapping_add(1);
        inner.entries.clear();
    }

    /// Whether invalidations from every node are being heard. Turning it off empties the cache.
    pub fn set_live(&self, live: bool) {
        let mut inner = self.lock();
        if !live {
            inner.epoch = inner.epoch.wrapping_add(1);
            inner.entries.clear();
        }
        inner.live = live;
    }

    /// Whether the cache is in use.
    pub fn is_live(&self) -> bool {
        self.lock().live
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
            app: None,
        };
        let account = Account {
            id: account_id,
            email: "a@example.com".into(),
            email_verified_at: None,
            username: "ada".into(),
            password_hash: String::new(),
            created_at: now,
            password_changed_at: None,
        };
        (t.hash, SignedIn::new(session, account))
    }

    #[test]
    fn entries_live_for_the_ttl_and_never_past_the_session_expiry() {
        let cache = SessionCache::new(std::time::Duration::from_secs(1));
        cache.set_live(true);
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let (hash, who) = signed_in(Uuid::now_v7(), t0 + time::Duration::milliseconds(500));
        cache.put(hash.clone(), who, t0, cache.epoch());
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
        cache.put(hash.clone(), who, t0, cache.epoch());
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
        cache.set_live(true);
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let (ha, wa) = signed_in(a, t0 + time::Duration::days(1));
        let (hb, wb) = signed_in(b, t0 + time::Duration::days(1));
        cache.put(ha.clone(), wa, t0, cache.epoch());
        cache.put(hb.clone(), wb, t0, cache.epoch());
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
        cache.put(hash.clone(), who, OffsetDateTime::UNIX_EPOCH, cache.epoch());
        assert!(cache.get(&hash, OffsetDateTime::UNIX_EPOCH).is_none());
    }

    #[test]
    fn a_lookup_that_raced_an_invalidation_is_not_cached() {
        let cache = SessionCache::new(std::time::Duration::from_secs(60));
        cache.set_live(true);
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let (hash, who) = signed_in(Uuid::now_v7(), t0 + time::Duration::days(1));
        let before_query = cache.epoch();
        // Another node revokes while this one is reading the database.
        cache.forget_account(who.account().id);
        cache.put(hash.clone(), who.clone(), t0, before_query);
        assert!(cache.get(&hash, t0).is_none(), "stale read not cached");
        cache.put(hash.clone(), who, t0, cache.epoch());
        assert!(cache.get(&hash, t0).is_some());
    }

    #[test]
    fn without_a_live_feed_nothing_is_served_from_memory() {
        let cache = SessionCache::new(std::time::Duration::from_secs(60));
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let (hash, who) = signed_in(Uuid::now_v7(), t0 + time::Duration::days(1));
        cache.put(hash.clone(), who.clone(), t0, cache.epoch());
        assert!(cache.get(&hash, t0).is_none(), "not live yet");
        cache.set_live(true);
        cache.put(hash.clone(), who, t0, cache.epoch());
        assert!(cache.get(&hash, t0).is_some());
        cache.set_live(false);
        cache.set_live(true);
        assert!(
            cache.get(&hash, t0).is_none(),
            "a broken feed empties the cache"
        );
    }
}
