//! Slowing down password guessing on one account without locking its owner out.
//!
//! Failures are counted per key (an account identifier) in a fixed window. Past
//! the limit, further attempts wait until the window ends—unless the browser
//! proves it signed in to that account before (a device cookie), which the
//! caller checks: an attacker guessing from elsewhere then slows only themselves.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

/// Per-key failure counting in fixed windows.
#[derive(Debug)]
pub struct FailureThrottle {
    max_failures: u32,
    window: time::Duration,
    entries: Mutex<HashMap<String, (u32, OffsetDateTime)>>,
}

/// Keys tracked before old windows are swept, bounding memory under attack.
const SWEEP_AT: usize = 100_000;

impl FailureThrottle {
    /// At most `max_failures` per `window` before attempts must wait.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        let window = time::Duration::try_from(window).unwrap_or(time::Duration::minutes(15));
        Self {
            max_failures: max_failures.max(1),
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when the key is over its limit at `now`.
    pub fn check(&self, key: &str, now: OffsetDateTime) -> Result<(), Duration> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key) {
            Some((n, start)) if *n >= self.max_failures && now < *start + self.window => {
                let wait = (*start + self.window - now).whole_seconds().max(1);
                Err(Duration::from_secs(u64::try_from(wait).unwrap_or(1)))
            }
            _ => Ok(()),
        }
    }

    /// Counts one failure.
    pub fn record_failure(&self, key: &str, now: OffsetDateTime) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= SWEEP_AT {
            let window = self.window;
            entries.retain(|_, (_, start)| now < *start + window);
        }
        let e = entries.entry(key.to_owned()).or_insert((0, now));
        if now >= e.1 + self.window {
            *e = (0, now);
        }
        e.0 = e.0.saturating_add(1);
    }

    /// Forgets the key's failures (after a successful sign-in).
    pub fn clear(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_window_ends() {
        let t = FailureThrottle::new(3, Duration::from_secs(900));
        let t0 = OffsetDateTime::UNIX_EPOCH;
        for i in 0..3 {
            assert!(t.check("ada", t0 + time::Duration::seconds(i)).is_ok());
            t.record_failure("ada", t0 + time::Duration::seconds(i));
        }
        assert_eq!(
            t.check("ada", t0 + time::Duration::seconds(100)),
            Err(Duration::from_secs(800))
        );
        assert!(t.check("bob", t0).is_ok(), "other keys unaffected");
        assert!(
            t.check("ada", t0 + time::Duration::seconds(900)).is_ok(),
            "window over"
        );
    }

    #[test]
    fn success_clears_failures() {
        let t = FailureThrottle::new(1, Duration::from_secs(60));
        let t0 = OffsetDateTime::UNIX_EPOCH;
        t.record_failure("ada", t0);
        assert!(t.check("ada", t0).is_err());
        t.clear("ada");
        assert!(t.check("ada", t0).is_ok());
    }
}
