//! The traits the use cases need from the outside world. `steward-store`
//! implements the storage ones on SQLite and PostgreSQL; each method that
//! changes several things does so in one transaction.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::account::Account;
use crate::activity::SecurityEvent;
use crate::error::StoreError;
use crate::mail::OutgoingMail;
use crate::secret::SecretHash;
use crate::session::Session;

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// A new account with everything created alongside it.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The account row.
    pub account: Account,
    /// Case-insensitive email key.
    pub email_key: String,
    /// Records of what was accepted at sign-up.
    pub consents: Vec<ConsentRecord>,
    /// The email confirmation token.
    pub verification: EmailToken,
    /// The confirmation email.
    pub mail: OutgoingMail,
    /// The "account created" entry of the security activity.
    pub event: SecurityEvent,
}

/// One entry of the append-only consent ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    /// UUIDv7.
    pub id: Uuid,
    /// Whose consent or acceptance.
    pub account_id: Uuid,
    /// What for: `terms_of_use`, `privacy_policy`, `age_confirmation`, …
    pub purpose: String,
    /// Legal basis: `contract`, `consent`, …
    pub legal_basis: String,
    /// Version of the notice shown.
    pub notice_version: String,
    /// `true` when granted, `false` when withdrawn.
    pub granted: bool,
    /// How: `web_form`, `api`.
    pub method: String,
    /// Client IP with the host part cut off (/24 or /48).
    pub ip_truncated: Option<String>,
    /// When.
    pub at: OffsetDateTime,
}

/// What an emailed token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Confirms an email address.
    VerifyEmail,
    /// Resets a password.
    ResetPassword,
}

impl TokenKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::VerifyEmail => "verify_email",
            TokenKind::ResetPassword => "reset_password",
        }
    }
}

/// A single-use token sent by email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailToken {
    /// UUIDv7.
    pub id: Uuid,
    /// Whose.
    pub account_id: Uuid,
    /// What for.
    pub kind: TokenKind,
    /// SHA-256 of the token in the link.
    pub hash: SecretHash,
    /// Email key the token was sent to (a verification only confirms that address).
    pub email_key: String,
    /// Issued at.
    pub created_at: OffsetDateTime,
    /// Expires at.
    pub expires_at: OffsetDateTime,
}

/// A message waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    /// Outbox row id.
    pub id: Uuid,
    /// The message.
    pub mail: OutgoingMail,
    /// Delivery attempts so far, including the one just claimed.
    pub attempts: i32,
}

/// Accounts and the changes that must happen with them atomically.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates the account, its consent records and confirmation token, and queues the
    /// email, all or nothing. Fails with `EmailTaken`/`UsernameTaken` on a duplicate.
    async fn create_account(&self, new: &NewAccount) -> StoreResult<()>;
    /// Looks up an account by id.
    async fn account_by_id(&self, id: Uuid) -> StoreResult<Option<Account>>;
    /// Looks up an account by case-insensitive email key.
    async fn account_by_email(&self, email_key: &str) -> StoreResult<Option<Account>>;
    /// Looks up an account by username (already lower-case).
    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>>;
    /// Replaces the password hash `old` by `new` (rehash on sign-in); does nothing if the
    /// password changed meanwhile, so a stale sign-in never restores an old password.
    async fn update_password_hash(&self, account_id: Uuid, old: &str, new: &str)
    -> StoreResult<()>;
    /// Sets a new password, ends every session but `keep`, queues `mail` and records
    /// `event`, atomically.
    async fn change_password(
        &self,
        account_id: Uuid,
        phc: &str,
        keep: Option<Uuid>,
        mail: &OutgoingMail,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<()>;
    /// The consent ledger of an account, oldest first.
    async fn consents(&self, account_id: Uuid) -> StoreResult<Vec<ConsentRecord>>;
}

/// Emailed single-use tokens.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a token, voids older unused ones of the same kind for the account, and
    /// queues `mail`, atomically.
    async fn issue_token(
        &self,
        token: &EmailToken,
        mail: &OutgoingMail,
        now: OffsetDateTime,
    ) -> StoreResult<()>;
    /// The account a live token belongs to, without using it up.
    async fn peek_token(
        &self,
        kind: TokenKind,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Uuid>>;
    /// Uses up a live verification token of `event`'s account, marks its address
    /// confirmed if the account still has that address, and records `event`, atomically.
    /// `false` (and nothing changed) if the token was not live or is another account's.
    async fn confirm_email(
        &self,
        hash: &SecretHash,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Uses up a live reset token, sets the password, ends every session, queues `mail`
    /// and records `event`, atomically. Returns `false` (and changes nothing) if the token
    /// was not live.
    async fn complete_reset(
        &self,
        hash: &SecretHash,
        phc: &str,
        mail: &OutgoingMail,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
}

/// Sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session, its `events` and an optional `mail`, if the account's
    /// password hash is still `verified_hash`; `false` (and nothing stored) if a password
    /// change or reset got in between.
    async fn create_session(
        &self,
        session: &Session,
        verified_hash: &str,
        events: &[SecurityEvent],
        mail: Option<&OutgoingMail>,
    ) -> StoreResult<bool>;
    /// The live session with this token hash and its account, in one round trip.
    async fn session_by_token(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Option<(Session, Account)>>;
    /// The live sessions of an account, most recently used first.
    async fn sessions_of(&self, account_id: Uuid, now: OffsetDateTime)
    -> StoreResult<Vec<Session>>;
    /// Records use of a session at `now` and moves its expiry to `expires_at`, unless it
    /// was recorded after `unless_after` (by another request or node); `true` if written.
    async fn touch_session(
        &self,
        id: Uuid,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
        unless_after: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Ends session `id` if it belongs to `account_id`, recording `event` with it;
    /// `false` if there was no such session.
    async fn end_session(
        &self,
        account_id: Uuid,
        id: Uuid,
        event: Option<&SecurityEvent>,
    ) -> StoreResult<bool>;
    /// Ends every session of an account except `keep`, recording `event` (its detail
    /// set to how many ended) if any ended; returns how many ended.
    async fn end_sessions_except(
        &self,
        account_id: Uuid,
        keep: Option<Uuid>,
        event: Option<&SecurityEvent>,
    ) -> StoreResult<u64>;
    /// Deletes expired sessions; returns how many.
    async fn purge_expired_sessions(&self, now: OffsetDateTime) -> StoreResult<u64>;
}

/// The security activity log.
#[async_trait]
pub trait ActivityStore: Send + Sync {
    /// Appends one event.
    async fn record_event(&self, event: &SecurityEvent) -> StoreResult<()>;
    /// Up to `limit` events of an account older than event `before` (all when `None`),
    /// newest first.
    async fn events(
        &self,
        account_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<SecurityEvent>>;
    /// Whether the account was created or signed in to from this User-Agent on this
    /// network since `since`.
    async fn seen_device(
        &self,
        account_id: Uuid,
        user_agent: &str,
        ip_network: &str,
        since: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Deletes events older than `before`; returns how many.
    async fn delete_events_before(&self, before: OffsetDateTime) -> StoreResult<u64>;
    /// Drops the IP address and User-Agent of events older than `before`; returns how many.
    async fn drop_event_addresses_before(&self, before: OffsetDateTime) -> StoreResult<u64>;
}

/// Changes made by any node that other nodes must act on at once (their session caches).
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// Starts listening. `None` when this backend serves a single node (SQLite), so there
    /// is nothing to hear from others.
    async fn listen(&self) -> StoreResult<Option<Box<dyn ChangeListener>>>;
}

/// A live subscription to the change feed.
#[async_trait]
pub trait ChangeListener: Send {
    /// The next account whose sessions or details changed. An error means the
    /// subscription broke and changes may have been missed.
    async fn next(&mut self) -> StoreResult<Uuid>;
}

/// The mail outbox, drained by the sender task.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Queues a message for delivery now.
    async fn enqueue_mail(&self, mail: &OutgoingMail, now: OffsetDateTime) -> StoreResult<()>;
    /// Claims up to `limit` due messages for `lease`, so no other node sends them meanwhile.
    async fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: i64,
    ) -> StoreResult<Vec<QueuedMail>>;
    /// Removes a delivered message (its body may hold a link token).
    async fn mail_sent(&self, id: Uuid) -> StoreResult<()>;
    /// Schedules another attempt.
    async fn mail_failed(&self, id: Uuid, retry_at: OffsetDateTime, error: &str)
    -> StoreResult<()>;
    /// Messages not yet delivered.
    async fn pending_mail(&self) -> StoreResult<i64>;
}

/// Replay protection and server-wide secrets.
#[async_trait]
pub trait SecurityStore: Send + Sync {
    /// Records a used proof-of-work solution; `false` if it was used before.
    async fn use_challenge(
        &self,
        id: &[u8; 32],
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// The named secret shared by all nodes, created from `fresh` on first use.
    async fn server_secret(&self, name: &str, fresh: Vec<u8>) -> StoreResult<Vec<u8>>;
    /// Answers when the database is reachable.
    async fn ping(&self) -> StoreResult<()>;
}

/// Everything the use cases need from storage.
pub trait Store:
    AccountStore
    + TokenStore
    + SessionStore
    + ActivityStore
    + ChangeFeed
    + OutboxStore
    + SecurityStore
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: AccountStore
        + TokenStore
        + SessionStore
        + ActivityStore
        + ChangeFeed
        + OutboxStore
        + SecurityStore
        + std::fmt::Debug
{
}

/// Approximate location of an address, from a GeoIP database the operator configured.
pub trait Locator: Send + Sync + std::fmt::Debug {
    /// "City, Country", "Country", or `None` when unknown.
    fn locate(&self, ip: std::net::IpAddr) -> Option<String>;
}

/// The locator used when no GeoIP database is configured: never knows.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLocator;

impl Locator for NoLocator {
    fn locate(&self, _ip: std::net::IpAddr) -> Option<String> {
        None
    }
}
