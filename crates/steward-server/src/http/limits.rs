//! Per-IP rate limits on credential endpoints (429 + Retry-After). The per-account
//! sign-in slow-down and the per-address email quota live in the domain.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::LimitsConfig;
use crate::error::ApiError;

/// The server's rate limiters. Per node; a shared store is not needed for limits
/// whose purpose is to make guessing slow.
#[derive(Debug)]
pub struct Limits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    token_per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

fn quota(n: u32, per: Duration) -> Quota {
    let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(per / n.get()).map_or_else(|| Quota::per_minute(n), |q| q.allow_burst(n))
}

impl Limits {
    /// Limiters from configuration.
    pub fn new(cfg: &LimitsConfig) -> Self {
        Self {
            per_ip: RateLimiter::keyed(quota(
                cfg.credential_per_ip_per_minute,
                Duration::from_secs(60),
            )),
            token_per_ip: RateLimiter::keyed(quota(
                cfg.token_per_ip_per_minute,
                Duration::from_secs(60),
            )),
        }
    }

    /// One credential request from `ip`. IPv6 clients are counted per /64, the
    /// block one subscriber usually holds, so rotating addresses buys nothing.
    pub fn credential_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        check(&self.per_ip, &network_of(ip))
    }

    /// One request from `ip` to the OAuth token, introspection or revocation endpoint.
    pub fn token_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        check(&self.token_per_ip, &network_of(ip))
    }

    /// Drops state for keys that are back to full capacity (called periodically).
    pub fn sweep(&self) {
        self.per_ip.retain_recent();
        self.token_per_ip.retain_recent();
    }
}

fn network_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

fn check<K: Clone + Hash + Eq>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), ApiError> {
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        metrics::counter!("steward_rate_limited_total").increment(1);
        ApiError::RateLimited(wait.max(Duration::from_secs(1)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_refuses_with_a_wait() {
        let l = Limits::new(&LimitsConfig {
            credential_per_ip_per_minute: 2,
            ..LimitsConfig::default()
        });
        let ip: IpAddr = "203.0.113.1".parse().unwrap();
        assert!(l.credential_ip(ip).is_ok());
        assert!(l.credential_ip(ip).is_ok());
        let err = l.credential_ip(ip).unwrap_err();
        assert!(err.retry_after().unwrap() >= Duration::from_secs(1));
        assert!(l.credential_ip("203.0.113.2".parse().unwrap()).is_ok());
    }

    #[test]
    fn the_token_endpoints_have_a_bucket_of_their_own() {
        let l = Limits::new(&LimitsConfig {
            credential_per_ip_per_minute: 1,
            token_per_ip_per_minute: 3,
            ..LimitsConfig::default()
        });
        let ip: IpAddr = "203.0.113.1".parse().unwrap();
        assert!(l.credential_ip(ip).is_ok());
        assert!(l.credential_ip(ip).is_err());
        for _ in 0..3 {
            assert!(l.token_ip(ip).is_ok(), "sign-in's bucket is not this one");
        }
        let err = l.token_ip(ip).unwrap_err();
        assert!(err.retry_after().unwrap() >= Duration::from_secs(1));
    }

    #[test]
    fn ipv6_addresses_of_one_slash_64_share_a_limit() {
        let l = Limits::new(&LimitsConfig {
            credential_per_ip_per_minute: 1,
            ..LimitsConfig::default()
        });
        assert!(l.credential_ip("2001:db8:1:2::1".parse().unwrap()).is_ok());
        assert!(
            l.credential_ip("2001:db8:1:2:ffff::9".parse().unwrap())
                .is_err()
        );
        assert!(l.credential_ip("2001:db8:1:3::1".parse().unwrap()).is_ok());
    }
}
