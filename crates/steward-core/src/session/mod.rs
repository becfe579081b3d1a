//! Sessions: lifetimes and the signed-in capability.

pub mod cache;
pub mod changes;
pub mod device;

use std::net::IpAddr;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::account::Account;
use crate::config::CoreConfig;
use crate::secret::SecretHash;

/// A session as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// UUIDv7, shown to the owner (never the token).
    pub id: Uuid,
    /// Whose session it is.
    pub account_id: Uuid,
    /// SHA-256 of the cookie value.
    pub token_hash: SecretHash,
    /// Signed in at.
    pub created_at: OffsetDateTime,
    /// Last request seen (written at most once a minute).
    pub last_seen_at: OffsetDateTime,
    /// When the session ends.
    pub expires_at: OffsetDateTime,
    /// Whether "Keep me signed in" was ticked.
    pub remember: bool,
    /// Client IP at sign-in.
    pub ip: Option<String>,
    /// User-Agent at sign-in, truncated.
    pub user_agent: Option<String>,
    /// Set when an app signed in over OAuth rather than a browser.
    pub app: Option<AppSession>,
}

/// What makes a session an app's (OAuth) sign-in: the app, what it was granted,
/// and its current access token's end. Its token hash is that access token's
/// (replaced on every refresh); `expires_at` ends the whole sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSession {
    /// The client.
    pub client_id: String,
    /// The client's name when it signed in (shown on Active sessions).
    pub client_name: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// When the current access token stops working.
    pub access_expires_at: OffsetDateTime,
    /// When the person authenticated in the browser (`auth_time`).
    pub auth_time: OffsetDateTime,
}

/// Where a request comes from, for sessions, consent records and throttling.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// Client address (the socket peer, or a trusted proxy's forwarded value).
    pub ip: Option<IpAddr>,
    /// User-Agent header, truncated.
    pub user_agent: Option<String>,
    /// How the request arrived: `web` (form) or `api` (JSON).
    pub channel: Channel,
}

/// The surface a request used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Channel {
    /// A browser form.
    #[default]
    Web,
    /// The JSON API.
    Api,
}

impl Channel {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web_form",
            Channel::Api => "api",
        }
    }
}

/// When a session started now ends.
pub fn session_expiry(cfg: &CoreConfig, now: OffsetDateTime, remember: bool) -> OffsetDateTime {
    now + if remember {
        cfg.session_remember
    } else {
        cfg.session_short
    }
}

/// The expiry of a session used at `now`: a remembered session keeps its fixed end;
/// another is extended to `session_short` from now, but never past
/// `session_short_absolute` after sign-in.
pub fn extended_expiry(cfg: &CoreConfig, session: &Session, now: OffsetDateTime) -> OffsetDateTime {
    if session.remember || session.app.is_some() {
        session.expires_at
    } else {
        (now + cfg.session_short)
            .min(session.created_at + cfg.session_short_absolute)
            .max(session.expires_at)
    }
}

/// `last_seen_at` is written at most this often per session.
pub const LAST_SEEN_EVERY: time::Duration = time::Duration::minutes(1);

/// Most accounts signed in at once in one browser.
pub const MAX_BROWSER_ACCOUNTS: usize = 8;

/// Longest User-Agent kept.
pub const MAX_USER_AGENT: usize = 512;

/// Proof that a request is signed in. Only [`crate::Steward::authenticate`] makes one,
/// so a use case that takes `&SignedIn` cannot be reached without a valid session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    session: Session,
    account: Account,
}

impl SignedIn {
    pub(crate) fn new(session: Session, account: Account) -> Self {
        Self { session, account }
    }

    pub(crate) fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The session in use.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The signed-in account.
    pub fn account(&self) -> &Account {
        &self.account
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_me_signed_in_lasts_30_days_otherwise_30_minutes() {
        let cfg = CoreConfig::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(
            session_expiry(&cfg, now, true) - now,
            time::Duration::days(30)
        );
        assert_eq!(
            session_expiry(&cfg, now, false) - now,
            time::Duration::minutes(30)
        );
    }

    fn short_session(created: OffsetDateTime) -> Session {
        Session {
            id: Uuid::now_v7(),
            account_id: Uuid::now_v7(),
            token_hash: crate::secret::NewSecret::generate().hash,
            created_at: created,
            last_seen_at: created,
            expires_at: created + time::Duration::minutes(30),
            remember: false,
            ip: None,
            user_agent: None,
            app: None,
        }
    }

    #[test]
    fn a_short_session_in_use_is_extended_up_to_the_absolute_limit() {
        let cfg = CoreConfig::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let s = short_session(t0);
        let later = t0 + time::Duration::minutes(20);
        assert_eq!(extended_expiry(&cfg, &s, later), later + cfg.session_short);
        let near_end = t0 + time::Duration::hours(12) - time::Duration::minutes(5);
        assert_eq!(
            extended_expiry(&cfg, &s, near_end),
            t0 + time::Duration::hours(12),
            "never past the absolute limit"
        );
        let mut remembered = short_session(t0);
        remembered.remember = true;
        remembered.expires_at = t0 + time::Duration::days(30);
        assert_eq!(
            extended_expiry(&cfg, &remembered, t0 + time::Duration::days(29)),
            t0 + time::Duration::days(30),
            "30 days is 30 days however much it is used"
        );
    }
}
