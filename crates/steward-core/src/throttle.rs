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
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<String, (u32, OffsetDateTime)>,
    last_sweep: Option<OffsetDateTime>,
}

/// Keys tracked before old windows are swept, bounding memory under attack.
const SWEEP_AT: usize = 100_000;

impl State {
    /// Drops finished windows, at most once a minute so a flood of live keys
    /// does not turn every insert into a full scan.
    fn sweep(&mut self, now: OffsetDateTime, window: time::Duration) {
        let due = self
            .last_sweep
            .is_none_or(|t| now - t >= time::Duration::minutes(1));
        if self.entries.len() >= SWEEP_AT && due {
            self.entries.retain(|_, (_, start)| now < *start + window);
            self.last_sweep = Some(now);
        }
    }
}

impl FailureThrottle {
    /// At most `max_failures` per `window` before attempts must wait.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        let window = time::Duration::try_from(window).unwrap_or(time::Duration::minutes(15));
        Self {
            max_failures: max_failures.max(1),
            window,
            state: Mutex::new(State::default()),
        }
    }

    fn wait(
        &self,
        entry: Option<&(u32, OffsetDateTime)>,
        now: OffsetDateTime,
    ) -> Result<(), Duration> {
        match entry {
            Some((n, start)) if *n >= self.max_failures && now < *start + self.window => {
                let wait = (*start + self.window - now).whole_seconds().max(1);
                Err(Duration::from_secs(u64::try_from(wait).unwrap_or(1)))
            }
            _ => Ok(()),
        }
    }

    /// `Err(wait)` when the key is over its limit at `now`.
    pub fn check(&self, key: &str, now: OffsetDateTime) -> Result<(), Duration> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.wait(state.entries.get(key), now)
    }

    /// Checks and counts in one step: `Err(wait)` when over the limit, else the attempt
    /// is counted as a failure until [`FailureThrottle::clear`] says it succeeded. Done
    /// under one lock, so concurrent guesses cannot all slip past the check.
    pub fn attempt(&self, key: &str, now: OffsetDateTime) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.wait(state.entries.get(key), now)?;
        self.count(&mut state, key, now);
        Ok(())
    }

    /// Counts one failure.
    pub fn record_failure(&self, key: &str, now: OffsetDateTime) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.count(&mut state, key, now);
    }

    fn count(&self, state: &mut State, key: &str, now: OffsetDateTime) {
        state.sweep(now, self.window);
        let e = state.entries.entry(key.to_owned()).or_insert((0, now));
        if now >= e.1 + self.window {
            *e = (0, now);
        }
        e.0 = e.0.saturating_add(1);
    }

    /// Forgets the key's failures (after a successful sign-in).
    pub fn clear(&self, key: &str) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
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
    fn attempts_are_counted_before_they_are_judged() {
        let t = FailureThrottle::new(2, Duration::from_secs(60));
        let t0 = OffsetDateTime::UNIX_EPOCH;
        assert!(t.attempt("ada", t0).is_ok());
        assert!(t.attempt("ada", t0).is_ok());
        // Two guesses still in flight already use the allowance.
        assert!(t.attempt("ada", t0).is_err());
        t.clear("ada");
        assert!(t.attempt("ada", t0).is_ok());
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
