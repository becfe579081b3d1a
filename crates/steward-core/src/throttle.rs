//! Slowing down password guessing on one account without letting a stranger lock
//! its owner out.
//!
//! Failures are counted per key in fixed windows. For sign-in the keys are the
//! identifier as typed (normalised), so the answer cannot tell which identifiers
//! belong to one account; past the limit a further attempt is not refused but
//! must carry a solved proof of work. Browsers that signed in to the account
//! before (a device cookie) count apart, with a higher limit, so a stranger's
//! guesses do not reach them. A signed-in person re-entering their password
//! counts per session: a stolen session guessing slows only itself.

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

    /// Whether the key is at its limit at `now` (nothing counted).
    pub fn is_over(&self, key: &str, now: OffsetDateTime) -> bool {
        self.check(key, now).is_err()
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

    /// Counts an attempt (as a failure until [`FailureThrottle::clear`]) and says whether
    /// the key was already at its limit: the caller then asks for more proof rather than
    /// refusing. Counted under one lock, so parallel attempts cannot all pass as first.
    pub fn note(&self, key: &str, now: OffsetDateTime) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let over = self.wait(state.entries.get(key), now).is_err();
        self.count(&mut state, key, now);
        over
    }

    /// Takes back one counted attempt that never reached a verdict (turned away busy).
    pub fn forgive(&self, key: &str) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = state.entries.get_mut(key) {
            e.0 = e.0.saturating_sub(1);
        }
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

/// The counters behind sign-in and password re-entry.
#[derive(Debug)]
pub struct SignInThrottles {
    /// Per normalised identifier: attempts nothing vouches for.
    pub open: FailureThrottle,
    /// Per account: attempts from browsers that signed in to it before.
    pub vouched: FailureThrottle,
    /// Per session: current-password checks of a signed-in person, successful or not.
    pub reauth: FailureThrottle,
    /// Per account: hashes taken through the priority lane, so no account (an
    /// attacker can hold their own) gets more of it than an owner ever needs.
    pub priority: FailureThrottle,
}

impl SignInThrottles {
    /// The counters with their limits over one `window`.
    pub fn new(open: u32, vouched: u32, reauth: u32, priority: u32, window: Duration) -> Self {
        Self {
            open: FailureThrottle::new(open, window),
            vouched: FailureThrottle::new(vouched, window),
            reauth: FailureThrottle::new(reauth, window),
            priority: FailureThrottle::new(priority, window),
        }
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
    fn noting_counts_first_and_says_when_the_limit_was_reached() {
        let t = FailureThrottle::new(2, Duration::from_secs(60));
        let t0 = OffsetDateTime::UNIX_EPOCH;
        assert!(!t.note("ada", t0));
        assert!(!t.note("ada", t0));
        assert!(t.note("ada", t0), "the third attempt needs more proof");
        t.forgive("ada");
        t.forgive("ada");
        assert!(!t.note("ada", t0), "forgiven attempts do not count");
        assert!(!t.note("bob", t0));
        assert!(
            !t.note("ada", t0 + time::Duration::seconds(60)),
            "new window"
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
