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
    /// Confirms a new email address (the change takes effect then).
    ChangeEmail,
}

impl TokenKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::VerifyEmail => "verify_email",
            TokenKind::ResetPassword => "reset_password",
            TokenKind::ChangeEmail => "change_email",
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
    /// For an email change: the new address as typed.
    pub new_email: Option<String>,
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
    /// Sets a new password, ends every session but `keep`, voids unused reset links and
    /// pending email changes, queues `mail` and records `event`, atomically. `true` if a
    /// pending email change was cancelled.
    async fn change_password(
        &self,
        account_id: Uuid,
        phc: &str,
        keep: Option<Uuid>,
        mail: &OutgoingMail,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// The consent ledger of an account, oldest first.
    async fn consents(&self, account_id: Uuid) -> StoreResult<Vec<ConsentRecord>>;
    /// Renames an account to `new` (lower-case), keeping its former name reserved for
    /// it until `hold_until`, and records `event`, atomically. `UsernameTaken` if
    /// another account has `new` or holds it after `now`.
    async fn change_username(
        &self,
        account_id: Uuid,
        new: &str,
        hold_until: OffsetDateTime,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Up to `limit` accounts after account `after` (all from the first when `None`), in
    /// id order: id, email and email key (for re-keying under new normalisation rules).
    async fn email_keys_after(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<(Uuid, String, String)>>;
    /// Sets an account's email key; `EmailTaken` if another account has that key.
    async fn set_email_key(&self, account_id: Uuid, key: &str) -> StoreResult<()>;
    /// The account holding a given-up username after `now`, with its current username.
    async fn username_hold(
        &self,
        username: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<(Uuid, String)>>;
}

/// Emailed single-use tokens.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a token, voids older unused ones of the same kind for the account, and
    /// queues `mails`, atomically.
    async fn issue_token(
        &self,
        token: &EmailToken,
        mails: &[OutgoingMail],
        now: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Stores an email-change token (voiding an older one) and queues `mails`, only if
    /// session `session_id` is still live and the account's password hash is still
    /// `verified_hash`, atomically; `false` (nothing stored) otherwise. So a request
    /// that raced a password change, a reset or "Revoke all sessions" leaves no link.
    async fn issue_email_change(
        &self,
        token: &EmailToken,
        mails: &[OutgoingMail],
        session_id: Uuid,
        verified_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Uses up a live email-change token: the account takes the new address (confirmed),
    /// every other unused token of the account (all sent to the old address) is voided,
    /// and `event` (made for `event.account_id`, which must be the token's) is recorded,
    /// atomically. `None` if the token was not live or is another account's;
    /// `EmailTaken` if another account has the address meanwhile.
    async fn confirm_email_change(
        &self,
        hash: &SecretHash,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<Option<String>>;
    /// The account a live token belongs to, without using it up. A token is live only
    /// while unused, unexpired and, except for an email change (sent to the new
    /// address), sent to the account's current address.
    async fn peek_token(
        &self,
        kind: TokenKind,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Uuid>>;
    /// Uses up a live verification token of `event`'s account, marks its address
    /// confirmed, and records `event`, atomically. `false` (and nothing changed) if the
    /// token was not live (see [`TokenStore::peek_token`]) or is another account's.
    async fn confirm_email(
        &self,
        hash: &SecretHash,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Uses up a live reset token (see [`TokenStore::peek_token`]), sets the password,
    /// ends every session, cancels a pending email change, queues `mail` and records
    /// `event`, atomically. `None` (and nothing changed) if the token was not live;
    /// otherwise whether a pending email change was cancelled.
    async fn complete_reset(
        &self,
        hash: &SecretHash,
        phc: &str,
        mail: &OutgoingMail,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<Option<bool>>;
    /// Voids every unused token of `kind` of an account; returns how many.
    async fn void_tokens(
        &self,
        account_id: Uuid,
        kind: TokenKind,
        now: OffsetDateTime,
    ) -> StoreResult<u64>;
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
    /// How far the one-off data upgrade `name` has been run (0: never).
    async fn data_version(&self, name: &str) -> StoreResult<i64>;
    /// Records that data upgrade `name` reached `version`.
    async fn set_data_version(
        &self,
        name: &str,
        version: i64,
        now: OffsetDateTime,
    ) -> StoreResult<()>;
}

/// Where a single-use OAuth secret (an authorization code) stands when presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed<T> {
    /// Live and not redeemed yet: here it is (still usable until a redemption commits).
    Fresh(T),
    /// Used before: a replay. The session it led to, to end (theft detection).
    Replayed {
        /// Whose.
        account_id: Uuid,
        /// The session the first use made, if any is known.
        session_id: Option<Uuid>,
    },
    /// Unknown or expired.
    Unknown,
}

/// OAuth provider state: apps, pending requests, codes, refresh tokens, device
/// grants, remembered consent, the disclosure log and the signing keys.
#[async_trait]
pub trait OAuthStore: Send + Sync {
    /// Stores a registered app.
    async fn create_client(&self, client: &RegisteredClient) -> StoreResult<()>;
    /// A registered app by `client_id`.
    async fn client(&self, id: &str) -> StoreResult<Option<RegisteredClient>>;
    /// The apps an account registered, newest first.
    async fn clients_of(&self, owner_id: Uuid) -> StoreResult<Vec<RegisteredClient>>;
    /// Deletes an app of `owner_id` with everything it was granted (sessions end);
    /// `false` if there was no such app of theirs.
    async fn delete_client(&self, owner_id: Uuid, id: &str) -> StoreResult<bool>;

    /// Stores an authorization request under the hash of its handle.
    async fn save_request(&self, handle: &SecretHash, request: &StoredRequest) -> StoreResult<()>;
    /// A stored request (used or not, expired or not: the caller tells them apart).
    async fn request(&self, handle: &SecretHash) -> StoreResult<Option<StoredRequest>>;
    /// Uses up a live request and stores the code it gave, remembering `consent` and
    /// writing `disclosure` and `event`, atomically; `false` if the request was used,
    /// expired or unknown.
    async fn issue_code(
        &self,
        handle: &SecretHash,
        code: &AuthCode,
        consent: Option<&OAuthConsent>,
        disclosure: Option<&Disclosure>,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Where an authorization code stands, without using it up (the checks of a
    /// token request come first; only a successful one redeems it).
    async fn peek_code(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Redeemed<AuthCode>>;
    /// Stores an app's sign-in: the session (its token hash is the access token's) and
    /// its first refresh token, atomically. With `code`, the code is redeemed in the
    /// same transaction (remembering the session, so a replay finds it), and only if it
    /// is live and unredeemed at `now`: otherwise nothing is stored and the answer is
    /// `false` (a concurrent redemption won).
    async fn create_app_session(
        &self,
        session: &Session,
        refresh: Option<&SecretHash>,
        code: Option<&SecretHash>,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// The live session a refresh token belongs to and whether the token was used.
    async fn refresh_token_session(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Option<(Session, Account, bool)>>;
    /// Rotates: uses up refresh token `old` of session `session_id`, stores `new`,
    /// and gives the session the new access token hash and expiries; `false` if `old`
    /// was used meanwhile (a concurrent replay).
    async fn rotate_refresh_token(
        &self,
        old: &SecretHash,
        session_id: Uuid,
        rotation: &Rotation,
    ) -> StoreResult<bool>;
    /// Ends the access token of an app session now (its refresh token stays);
    /// `false` if there is no such live token.
    async fn expire_access_token(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;

    /// Stores a new device authorization.
    async fn create_device_grant(&self, grant: &DeviceGrant) -> StoreResult<()>;
    /// A live device authorization by its user code.
    async fn device_grant_by_user_code(
        &self,
        user_code: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<DeviceGrant>>;
    /// A device authorization by its device code hash (expired ones too).
    async fn device_grant(&self, device_hash: &SecretHash) -> StoreResult<Option<DeviceGrant>>;
    /// Records the person's answer to a live, undecided device authorization, with the
    /// consent, disclosure and event, atomically; `false` if it was decided or expired.
    async fn decide_device_grant(
        &self,
        user_code: &str,
        decision: &DeviceDecision,
        consent: Option<&OAuthConsent>,
        disclosure: Option<&Disclosure>,
        event: Option<&SecurityEvent>,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Records a poll and the interval now in force.
    async fn record_device_poll(
        &self,
        device_hash: &SecretHash,
        at: OffsetDateTime,
        interval_secs: i64,
    ) -> StoreResult<()>;
    /// Deletes an approved device authorization as its tokens are issued; `false` if
    /// another poll took it first.
    async fn take_device_grant(&self, device_hash: &SecretHash) -> StoreResult<bool>;

    /// The scopes an account allowed a third-party app, if it did.
    async fn consent(&self, account_id: Uuid, client_id: &str)
    -> StoreResult<Option<OAuthConsent>>;
    /// The third-party apps an account allowed, with the apps, most recent first.
    async fn consents_of(
        &self,
        account_id: Uuid,
    ) -> StoreResult<Vec<(OAuthConsent, RegisteredClient)>>;
    /// Forgets an account's consent to an app and ends the app's sessions for it,
    /// recording `event`; `false` if there was no consent and no session.
    async fn revoke_consent(
        &self,
        account_id: Uuid,
        client_id: &str,
        event: &SecurityEvent,
    ) -> StoreResult<bool>;
    /// The disclosure log of an account, newest first.
    async fn disclosures(&self, account_id: Uuid) -> StoreResult<Vec<Disclosure>>;

    /// The stored signing keys, oldest first.
    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>>;
    /// Adds a signing key.
    async fn add_signing_key(&self, key: &StoredKey) -> StoreResult<()>;
    /// Deletes the signing keys of algorithm `alg` created before `before`; returns how many.
    async fn delete_signing_keys_before(
        &self,
        alg: &str,
        before: OffsetDateTime,
    ) -> StoreResult<u64>;

    /// Deletes expired requests, codes and device grants; returns how many.
    async fn purge_oauth(&self, now: OffsetDateTime) -> StoreResult<u64>;
}

/// A third-party app registered by a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredClient {
    /// `client_id`.
    pub id: String,
    /// Who registered it.
    pub owner_id: Uuid,
    /// Name.
    pub name: String,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// Scopes it may ask for, space-separated.
    pub scopes: String,
    /// SHA-256 of the client secret; `None` for a public client.
    pub secret_hash: Option<SecretHash>,
    /// `id_token_signed_response_alg`: `ES256` or `RS256`.
    pub id_token_alg: String,
    /// Registered at.
    pub created_at: OffsetDateTime,
}

/// An authorization request as stored while the person signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRequest {
    /// The client.
    pub client_id: String,
    /// The checked request, serialised.
    pub request: String,
    /// When the app opened the browser.
    pub created_at: OffsetDateTime,
    /// After this it cannot be finished.
    pub expires_at: OffsetDateTime,
    /// When it was finished, if it was.
    pub used_at: Option<OffsetDateTime>,
}

/// An authorization code, as stored (by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    /// SHA-256 of the code.
    pub hash: SecretHash,
    /// The client it was issued to.
    pub client_id: String,
    /// Whose.
    pub account_id: Uuid,
    /// The redirect URI it was sent to (the token request must repeat it).
    pub redirect_uri: String,
    /// The PKCE challenge.
    pub challenge: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// For the ID token.
    pub nonce: Option<String>,
    /// When the person authenticated.
    pub auth_time: OffsetDateTime,
    /// Issued at.
    pub created_at: OffsetDateTime,
    /// Expires at (one minute).
    pub expires_at: OffsetDateTime,
}

/// What a refresh writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The next refresh token's hash.
    pub refresh: SecretHash,
    /// The new access token's hash.
    pub access: SecretHash,
    /// When the new access token ends.
    pub access_expires_at: OffsetDateTime,
    /// When the sign-in now ends.
    pub expires_at: OffsetDateTime,
    /// Now.
    pub at: OffsetDateTime,
}

/// A device authorization (RFC 8628).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceGrant {
    /// SHA-256 of the device code.
    pub device_hash: SecretHash,
    /// The user code, canonical `XXXX-XXXX`.
    pub user_code: String,
    /// The client.
    pub client_id: String,
    /// Requested scopes, space-separated.
    pub scope: String,
    /// Issued at.
    pub created_at: OffsetDateTime,
    /// Expires at.
    pub expires_at: OffsetDateTime,
    /// Polling interval in force.
    pub interval_secs: i64,
    /// Last poll.
    pub last_poll_at: Option<OffsetDateTime>,
    /// The person's answer, once given.
    pub decision: Option<DeviceDecision>,
}

/// A person's answer to a device authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceDecision {
    /// Who answered.
    pub account_id: Uuid,
    /// Yes or no.
    pub approved: bool,
    /// When they authenticated.
    pub auth_time: OffsetDateTime,
}

/// Remembered consent of an account to a third-party app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthConsent {
    /// Whose.
    pub account_id: Uuid,
    /// Which app.
    pub client_id: String,
    /// Scopes allowed, space-separated.
    pub scope: String,
    /// When.
    pub granted_at: OffsetDateTime,
}

/// One entry of the disclosure log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    /// UUIDv7.
    pub id: Uuid,
    /// Whose data.
    pub account_id: Uuid,
    /// Recipient's name.
    pub recipient: String,
    /// Recipient's id (`client_id`).
    pub recipient_id: String,
    /// Data categories, comma-separated.
    pub categories: String,
    /// Why.
    pub purpose: String,
    /// When.
    pub at: OffsetDateTime,
}

/// A token signing key as stored: the private key sealed by the server's master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// Key id.
    pub kid: String,
    /// `ES256` or `RS256`.
    pub alg: String,
    /// Sealed PKCS#8 private key.
    pub sealed: Vec<u8>,
    /// Created at.
    pub created_at: OffsetDateTime,
}

/// Notification preferences and in-app notifications.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// The preferences an account set (anything absent is on).
    async fn notification_prefs(
        &self,
        account_id: Uuid,
    ) -> StoreResult<Vec<crate::notify::Preference>>;
    /// Sets preferences and appends `consent` to the ledger, atomically.
    async fn save_notification_prefs(
        &self,
        account_id: Uuid,
        prefs: &[crate::notify::Preference],
        consent: Option<&ConsentRecord>,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Adds an in-app notification.
    async fn add_notification(&self, n: &crate::notify::Notification) -> StoreResult<()>;
    /// The latest `limit` notifications of an account, newest first.
    async fn notifications(
        &self,
        account_id: Uuid,
        limit: u32,
    ) -> StoreResult<Vec<crate::notify::Notification>>;
    /// How many are unread.
    async fn unread_notifications(&self, account_id: Uuid) -> StoreResult<u64>;
    /// Marks one (or, with `None`, every) unread notification of an account read;
    /// returns how many changed.
    async fn mark_notifications_read(
        &self,
        account_id: Uuid,
        id: Option<Uuid>,
        at: OffsetDateTime,
    ) -> StoreResult<u64>;
}

/// Profiles.
#[async_trait]
pub trait ProfileStore: Send + Sync {
    /// An account's profile, if it was ever saved.
    async fn profile(&self, account_id: Uuid) -> StoreResult<Option<crate::profile::Profile>>;
    /// Creates or replaces an account's profile.
    async fn save_profile(&self, profile: &crate::profile::Profile) -> StoreResult<()>;
    /// The username and profile of the account with this (lower-case) username, if
    /// its profile is public.
    async fn public_profile(
        &self,
        username: &str,
    ) -> StoreResult<Option<(String, crate::profile::Profile)>>;
    /// Replaces an account's photo by `id` (its avatars), making the profile if needed.
    async fn save_photo(
        &self,
        account_id: Uuid,
        id: Uuid,
        large: &[u8],
        small: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Removes an account's photo; `false` if it had none.
    async fn delete_photo(&self, account_id: Uuid) -> StoreResult<bool>;
    /// Records that the first-sign-in step was finished or skipped, making the profile
    /// if needed.
    async fn mark_onboarded(&self, account_id: Uuid, at: OffsetDateTime) -> StoreResult<()>;
    /// A photo by id, with whose it is and whether the profile is public.
    async fn photo(&self, id: Uuid) -> StoreResult<Option<crate::profile::StoredPhoto>>;
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
    + OAuthStore
    + ProfileStore
    + NotificationStore
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
        + OAuthStore
        + ProfileStore
        + NotificationStore
        + std::fmt::Debug
{
}

/// Signs ID tokens with the current signing keys (the server's key ring).
pub trait TokenSigner: Send + Sync + std::fmt::Debug {
    /// A compact JWS of `claims` by the current key of `alg`; `Ok(None)` while no key
    /// of that algorithm is loaded yet (an RSA key is still being made).
    fn sign(
        &self,
        alg: crate::oauth::client::IdTokenAlg,
        claims: &serde_json::Value,
    ) -> Result<Option<String>, String>;
    /// The claims of a JWS signed by one of the published keys (signature checked,
    /// expiry not: an `id_token_hint` may have expired); `None` for anything else.
    fn verify(&self, token: &str) -> Option<serde_json::Value>;
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
