//! The entry point of the domain: one value holding the ports, whose methods are the use cases.
//!
//! Each flow lives in its own module under [`crate::flow`] as an `impl Steward` block.

use std::net::IpAddr;
use std::sync::Arc;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::account::Account;
use crate::account::email::email_key;
use crate::account::hash_queue::Lane;
use crate::account::passwords::Passwords;
use crate::challenge::{Altcha, Strength};
use crate::clock::Clock;
use crate::config::CoreConfig;
use crate::error::{CoreError, CoreResult};
use crate::mail::{Mail, MailRenderer, OutgoingMail};
use crate::ports::{EmailToken, Locator, NoLocator, Store, TokenKind, TokenSigner};
use crate::secret::NewSecret;
use crate::session::cache::SessionCache;
use crate::throttle::{FailureThrottle, SignInThrottles};

/// Name of the server secret that keys proof-of-work challenges.
pub const CHALLENGE_KEY: &str = "altcha_hmac_key";

/// The domain with its ports wired in. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Steward {
    pub(crate) cfg: Arc<CoreConfig>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) mailer: Arc<dyn MailRenderer>,
    pub(crate) passwords: Passwords,
    pub(crate) altcha: Altcha,
    pub(crate) signin: Arc<SignInThrottles>,
    pub(crate) sessions: Arc<SessionCache>,
    pub(crate) address_quota: Arc<FailureThrottle>,
    /// Emails past an address's quota that strong proofs of work may still ask for.
    pub(crate) strong_quota: Arc<FailureThrottle>,
    /// Emails an account's own devices may still ask for once its address's quota is spent.
    pub(crate) account_quota: Arc<FailureThrottle>,
    pub(crate) locator: Arc<dyn Locator>,
    pub(crate) changes: tokio::sync::broadcast::Sender<crate::session::changes::Change>,
    pub(crate) signer: Arc<dyn TokenSigner>,
    /// Bounds photo decoding (CPU and up to ~130 MB each) to one job per core.
    pub(crate) photo_jobs: Arc<tokio::sync::Semaphore>,
    /// Photo uploads per account per hour.
    pub(crate) photo_quota: Arc<FailureThrottle>,
}

/// The signer in place until the server installs its key ring: refuses to sign.
#[derive(Debug)]
struct NoSigner;

impl TokenSigner for NoSigner {
    fn sign(
        &self,
        _alg: crate::oauth::client::IdTokenAlg,
        _claims: &serde_json::Value,
    ) -> Result<Option<String>, String> {
        Err("no signing key is configured".into())
    }

    fn verify(&self, _token: &str) -> Option<serde_json::Value> {
        None
    }
}

impl Steward {
    /// Wires the domain. Loads (or creates) the shared challenge key from the store.
    pub async fn new(
        cfg: CoreConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        mailer: Arc<dyn MailRenderer>,
    ) -> CoreResult<Self> {
        let cfg_hash_concurrency = cfg.hash_concurrency.max(1);
        let passwords = Passwords::new(&cfg)?;
        let mut fresh = vec![0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut fresh);
        let key = store.server_secret(CHALLENGE_KEY, fresh).await?;
        let altcha = Altcha::new(
            key,
            cfg.challenge_max_number,
            cfg.challenge_strong_max_number,
            cfg.challenge_ttl,
        );
        let signin = Arc::new(SignInThrottles::new(
            cfg.signin_failures_per_account,
            cfg.signin_failures_vouched,
            cfg.reauth_failures_per_session,
            cfg.priority_hashes_per_account,
            cfg.signin_failure_window,
        ));
        let sessions = Arc::new(SessionCache::new(cfg.session_cache_ttl));
        let address_quota = Arc::new(FailureThrottle::new(
            cfg.emails_per_address_per_hour,
            std::time::Duration::from_secs(3600),
        ));
        let strong_quota = Arc::new(FailureThrottle::new(
            cfg.emails_per_address_strong_per_hour,
            std::time::Duration::from_secs(3600),
        ));
        let account_quota = Arc::new(FailureThrottle::new(
            cfg.emails_per_account_per_hour,
            std::time::Duration::from_secs(3600),
        ));
        let photo_quota = Arc::new(FailureThrottle::new(
            cfg.photo_uploads_per_account_per_hour,
            std::time::Duration::from_secs(3600),
        ));
        Ok(Self {
            cfg: Arc::new(cfg),
            store,
            clock,
            mailer,
            passwords,
            altcha,
            signin,
            sessions,
            address_quota,
            strong_quota,
            account_quota,
            locator: Arc::new(NoLocator),
            changes: tokio::sync::broadcast::channel(1024).0,
            signer: Arc::new(NoSigner),
            photo_jobs: Arc::new(tokio::sync::Semaphore::new(cfg_hash_concurrency)),
            photo_quota,
        })
    }

    /// The same domain, placing addresses with `locator` (a GeoIP database).
    pub fn with_locator(mut self, locator: Arc<dyn Locator>) -> Self {
        self.locator = locator;
        self
    }

    /// The same domain, signing ID tokens with `signer`.
    pub fn with_signer(mut self, signer: Arc<dyn TokenSigner>) -> Self {
        self.signer = signer;
        self
    }

    /// Approximate location of a stored address, when a GeoIP database is configured.
    pub fn locate(&self, ip: Option<&str>) -> Option<String> {
        ip.and_then(|s| s.parse().ok())
            .and_then(|ip| self.locator.locate(ip))
    }

    /// The configuration in force.
    pub fn config(&self) -> &CoreConfig {
        &self.cfg
    }

    /// The current time by the injected clock.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The store, for the server's background jobs.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The password hasher (benchmarks compare against it).
    pub fn passwords(&self) -> &Passwords {
        &self.passwords
    }

    /// Answers when storage is reachable (readiness).
    pub async fn ready(&self) -> CoreResult<()> {
        Ok(self.store.ping().await?)
    }

    pub(crate) fn render(&self, mail: &Mail) -> OutgoingMail {
        self.mailer.render(mail)
    }

    pub(crate) fn link(&self, path_and_query: &str) -> String {
        format!(
            "{}{}",
            self.cfg.public_url.trim_end_matches('/'),
            path_and_query
        )
    }

    /// A fresh "I'm not a robot" challenge of `strength`.
    pub fn challenge(&self, strength: Strength) -> steward_proto::Challenge {
        self.altcha.issue(self.now(), strength)
    }

    /// Counts one email requested for `address_key`, refusing past the hourly quota
    /// (`EmailQuota`) unless the request did a strong proof of work. Called after the
    /// robot check, so requests that did no work cannot use up someone else's quota;
    /// and a stranger who used it up cannot stop the owner, who may do the strong
    /// check or ask from a device of theirs (see [`Steward::spend_account_quota`]).
    pub(crate) fn spend_address_quota(&self, address_key: &str, proof: Strength) -> CoreResult<()> {
        let key: String = address_key.chars().take(254).collect();
        let now = self.now();
        match self.address_quota.check(&key, now) {
            Ok(()) => self.address_quota.record_failure(&key, now),
            // Each of these costs its sender about ten times the usual work, and they
            // have a quota of their own, so an inbox still cannot be flooded.
            Err(_) if proof == Strength::Strong => self
                .strong_quota
                .attempt(&key, now)
                .map_err(CoreError::RateLimited)?,
            Err(wait) => return Err(CoreError::EmailQuota(wait)),
        }
        Ok(())
    }

    /// Counts one email asked for by the account's own device (a session, or a browser
    /// that signed in to it before) past its address's quota; `false` past the hourly
    /// quota of the account itself.
    pub(crate) fn spend_account_quota(&self, account_id: Uuid) -> bool {
        let key = account_id.to_string();
        let now = self.now();
        if self.account_quota.check(&key, now).is_err() {
            return false;
        }
        self.account_quota.record_failure(&key, now);
        true
    }

    /// A new single-use emailed token of `kind` for `account`, and the link that carries it.
    pub(crate) fn email_token(
        &self,
        account: &Account,
        kind: TokenKind,
        now: OffsetDateTime,
    ) -> (EmailToken, String) {
        self.email_token_to(account, kind, None, now)
    }

    /// Like [`Steward::email_token`], sent to `new_address` (an email change) when given.
    pub(crate) fn email_token_to(
        &self,
        account: &Account,
        kind: TokenKind,
        new_address: Option<&str>,
        now: OffsetDateTime,
    ) -> (EmailToken, String) {
        let secret = NewSecret::generate();
        let (ttl, path) = match kind {
            TokenKind::VerifyEmail => (self.cfg.verify_email_ttl, "/verify-email"),
            TokenKind::ResetPassword => (self.cfg.reset_password_ttl, "/reset-password"),
            TokenKind::ChangeEmail => (self.cfg.verify_email_ttl, "/confirm-email-change"),
        };
        let token = EmailToken {
            id: Uuid::now_v7(),
            account_id: account.id,
            kind,
            hash: secret.hash,
            email_key: email_key(new_address.unwrap_or(&account.email)),
            new_email: new_address.map(str::to_owned),
            created_at: now,
            expires_at: now + ttl,
        };
        (token, self.link(&format!("{path}?token={}", secret.plain)))
    }

    /// The lane a vouched hash for `account` waits in: priority while the account has
    /// priority hashes left in this window, the open lane after.
    pub(crate) fn priority_lane(&self, account: Uuid) -> Lane {
        if self.signin.priority.note(&account.to_string(), self.now()) {
            Lane::Open
        } else {
            Lane::Priority
        }
    }

    /// Checks a proof-of-work answer and uses it up; how strong it was.
    pub(crate) async fn pass_challenge(&self, payload: &str) -> CoreResult<Strength> {
        let now = self.now();
        let solved = self.altcha.verify(payload, now)?;
        if !self
            .store
            .use_challenge(&solved.id, solved.expires_at, now)
            .await?
        {
            return Err(CoreError::ChallengeFailed("already used"));
        }
        Ok(solved.strength)
    }
}

/// Cuts the host part off an address for records that must not identify a device:
/// IPv4 to /24, IPv6 to /48.
pub fn truncate_ip(ip: IpAddr) -> String {
    // An IPv4 address seen through a dual-stack socket is still an IPv4 address.
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::", s[0], s[1], s[2])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_drops_the_host_part() {
        assert_eq!(truncate_ip("203.0.113.77".parse().unwrap()), "203.0.113.0");
        assert_eq!(
            truncate_ip("2001:db8:abcd:12::1".parse().unwrap()),
            "2001:db8:abcd::"
        );
        assert_eq!(
            truncate_ip("::ffff:203.0.113.77".parse().unwrap()),
            "203.0.113.0"
        );
    }
}
