//! The device authorization grant (RFC 8628) for machines without a browser:
//! the user code a person types on another device, and how fast the device may
//! poll for its tokens.

use rand::Rng;
use time::OffsetDateTime;

/// Letters a user code is made of: consonants only (no words, RFC 8628 §6.1),
/// without look-alikes such as O/0 and I/1.
const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Characters in a user code (20^8 ≈ 2^34.6 codes; brute force is rate limited).
const LENGTH: usize = 8;
/// How long a device code stays valid.
pub const DEVICE_CODE_LIFETIME: time::Duration = time::Duration::minutes(10);
/// The polling interval told to the device, in seconds.
pub const INTERVAL_SECS: i64 = 5;

/// A new user code, shown as `BCDF-GHJK`.
pub fn new_user_code() -> String {
    let mut rng = rand::rng();
    let chars: String = (0..LENGTH)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("{}-{}", &chars[..LENGTH / 2], &chars[LENGTH / 2..])
}

/// A typed user code in its canonical form (`BCDF-GHJK`): case, spaces and dashes
/// do not matter. `None` if it cannot be a code.
pub fn normalise_user_code(typed: &str) -> Option<String> {
    let chars: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid = chars.len() == LENGTH && chars.bytes().all(|b| ALPHABET.contains(&b));
    valid.then(|| format!("{}-{}", &chars[..LENGTH / 2], &chars[LENGTH / 2..]))
}

/// What a token request for a device code gets (RFC 8628 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollAnswer {
    /// The person has not finished yet: `authorization_pending`.
    Pending,
    /// Polled sooner than the interval: `slow_down`, and the interval grows by 5 s.
    SlowDown,
    /// The code is over: `expired_token`.
    Expired,
    /// The person refused: `access_denied`.
    Denied,
    /// The person approved: issue tokens (once).
    Approved,
}

/// The state of one device authorization as the polling rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePolling {
    /// When the code was issued.
    pub created_at: OffsetDateTime,
    /// The interval the device must keep, in seconds.
    pub interval_secs: i64,
    /// The last poll.
    pub last_poll: Option<OffsetDateTime>,
    /// `Some(true)` approved, `Some(false)` denied, `None` undecided.
    pub decision: Option<bool>,
}

impl DevicePolling {
    /// A new authorization issued at `now`.
    pub fn new(now: OffsetDateTime) -> Self {
        Self {
            created_at: now,
            interval_secs: INTERVAL_SECS,
            last_poll: None,
            decision: None,
        }
    }

    /// Answers a poll at `now` and records it.
    pub fn poll(&mut self, now: OffsetDateTime) -> PollAnswer {
        if now >= self.created_at + DEVICE_CODE_LIFETIME {
            return PollAnswer::Expired;
        }
        let too_soon = self
            .last_poll
            .is_some_and(|last| now - last < time::Duration::seconds(self.interval_secs));
        self.last_poll = Some(now);
        match self.decision {
            Some(true) => PollAnswer::Approved,
            Some(false) => PollAnswer::Denied,
            None if too_soon => {
                self.interval_secs += 5;
                PollAnswer::SlowDown
            }
            None => PollAnswer::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_consonants_and_typing_is_forgiving() {
        for _ in 0..100 {
            let code = new_user_code();
            assert_eq!(code.len(), 9);
            assert_eq!(&code[4..5], "-");
            assert_eq!(normalise_user_code(&code).as_deref(), Some(code.as_str()));
            assert_eq!(
                normalise_user_code(&format!(" {} ", code.to_lowercase().replace('-', " ")))
                    .as_deref(),
                Some(code.as_str())
            );
        }
        assert_ne!(new_user_code(), new_user_code());
        for bad in [
            "",
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "BCDF-GHJA",
            "BCDF-GHJ0",
            "BCDFGHJ\u{212A}",
        ] {
            assert_eq!(normalise_user_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn polling_too_fast_slows_down_and_codes_expire() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut d = DevicePolling::new(t0);
        assert_eq!(d.poll(t0 + time::Duration::seconds(5)), PollAnswer::Pending);
        assert_eq!(
            d.poll(t0 + time::Duration::seconds(7)),
            PollAnswer::SlowDown
        );
        assert_eq!(d.interval_secs, 10);
        assert_eq!(
            d.poll(t0 + time::Duration::seconds(17)),
            PollAnswer::Pending
        );
        d.decision = Some(true);
        assert_eq!(
            d.poll(t0 + time::Duration::seconds(18)),
            PollAnswer::Approved,
            "a decision is answered at once"
        );
        let mut denied = DevicePolling::new(t0);
        denied.decision = Some(false);
        assert_eq!(
            denied.poll(t0 + time::Duration::seconds(5)),
            PollAnswer::Denied
        );
        assert_eq!(d.poll(t0 + DEVICE_CODE_LIFETIME), PollAnswer::Expired);
    }
}
