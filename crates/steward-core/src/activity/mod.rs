//! The security activity log: what happened to a person's account, shown to
//! that person only, newest first, kept for a configurable period.

pub mod retention;

use std::net::IpAddr;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::session::{ClientInfo, Session};
use crate::steward::truncate_ip;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The account was created.
    AccountCreated,
    /// A sign-in succeeded.
    SignedIn,
    /// A sign-in to this account was refused (wrong password).
    SignInFailed,
    /// A sign-in came from a device or browser not seen before on the account.
    NewDevice,
    /// A session was signed out from its own device.
    SignedOut,
    /// One session was revoked from Active sessions.
    SessionRevoked,
    /// Every other session was revoked.
    SessionsRevoked,
    /// The password was changed while signed in.
    PasswordChanged,
    /// The password was reset through an emailed link.
    PasswordReset,
    /// A password reset link was requested.
    PasswordResetRequested,
    /// A username reminder was requested.
    UsernameReminderRequested,
    /// An email address was confirmed.
    EmailVerified,
    /// The email address was changed.
    EmailChanged,
    /// An app was allowed to sign in (detail: its name).
    AppAuthorized,
    /// An app's access was removed from Connected apps (detail: its name).
    AppRevoked,
    /// An app's sign-in was ended because one of its tokens was used twice (detail: its name).
    AppTokenReused,
    /// The username was changed (detail: `old → new`).
    UsernameChanged,
    /// A pending email address change was cancelled by a password change, a reset or
    /// "Revoke all sessions" (detail: which).
    EmailChangeCancelled,
}

impl EventKind {
    /// Every kind, for parsing.
    pub const ALL: [EventKind; 18] = [
        EventKind::AccountCreated,
        EventKind::SignedIn,
        EventKind::SignInFailed,
        EventKind::NewDevice,
        EventKind::SignedOut,
        EventKind::SessionRevoked,
        EventKind::SessionsRevoked,
        EventKind::PasswordChanged,
        EventKind::PasswordReset,
        EventKind::PasswordResetRequested,
        EventKind::UsernameReminderRequested,
        EventKind::EmailVerified,
        EventKind::EmailChanged,
        EventKind::AppAuthorized,
        EventKind::AppRevoked,
        EventKind::AppTokenReused,
        EventKind::UsernameChanged,
        EventKind::EmailChangeCancelled,
    ];

    /// Stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AccountCreated => "account_created",
            EventKind::SignedIn => "signed_in",
            EventKind::SignInFailed => "sign_in_failed",
            EventKind::NewDevice => "new_device",
            EventKind::SignedOut => "signed_out",
            EventKind::SessionRevoked => "session_revoked",
            EventKind::SessionsRevoked => "sessions_revoked",
            EventKind::PasswordChanged => "password_changed",
            EventKind::PasswordReset => "password_reset",
            EventKind::PasswordResetRequested => "password_reset_requested",
            EventKind::UsernameReminderRequested => "username_reminder_requested",
            EventKind::EmailVerified => "email_verified",
            EventKind::EmailChanged => "email_changed",
            EventKind::AppAuthorized => "app_authorized",
            EventKind::AppRevoked => "app_revoked",
            EventKind::AppTokenReused => "app_token_reused",
            EventKind::UsernameChanged => "username_changed",
            EventKind::EmailChangeCancelled => "email_change_cancelled",
        }
    }

    /// The kind with this stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What a person reads in the activity list.
    pub fn describe(self) -> &'static str {
        match self {
            EventKind::AccountCreated => "Account created",
            EventKind::SignedIn => "Signed in",
            EventKind::SignInFailed => "Sign-in failed: wrong password",
            EventKind::NewDevice => "Signed in from a new device",
            EventKind::SignedOut => "Signed out",
            EventKind::SessionRevoked => "Session revoked",
            EventKind::SessionsRevoked => "All other sessions revoked",
            EventKind::PasswordChanged => "Password changed",
            EventKind::PasswordReset => "Password reset by email link",
            EventKind::PasswordResetRequested => "Password reset requested",
            EventKind::UsernameReminderRequested => "Username reminder requested",
            EventKind::EmailVerified => "Email address confirmed",
            EventKind::EmailChanged => "Email address changed",
            EventKind::AppAuthorized => "Signed in to an app",
            EventKind::AppRevoked => "App access removed",
            EventKind::AppTokenReused => "App signed out: a token was used twice (possible theft)",
            EventKind::UsernameChanged => "Username changed",
            EventKind::EmailChangeCancelled => "Pending email address change cancelled",
        }
    }
}

/// One entry of an account's security activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEvent {
    /// UUIDv7 (sorts by time).
    pub id: Uuid,
    /// Whose account.
    pub account_id: Uuid,
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub at: OffsetDateTime,
    /// Address the request came from (dropped after the IP retention period).
    pub ip: Option<String>,
    /// The network of that address (/24 or /48), used to recognise devices.
    pub ip_network: Option<String>,
    /// User-Agent of the request (dropped with the address).
    pub user_agent: Option<String>,
    /// The session the event is about, when there is one.
    pub session_id: Option<Uuid>,
    /// For revocations: the device of the session ended, or how many ended.
    pub detail: Option<String>,
}

impl SecurityEvent {
    /// An event about `account_id` caused by a request from `client` at `at`.
    pub fn new(account_id: Uuid, kind: EventKind, client: &ClientInfo, at: OffsetDateTime) -> Self {
        Self {
            id: Uuid::now_v7(),
            account_id,
            kind,
            at,
            ip: client.ip.map(|ip| ip.to_string()),
            ip_network: client.ip.map(truncate_ip),
            user_agent: client.user_agent.clone(),
            session_id: None,
            detail: None,
        }
    }

    /// The same event, about `session`.
    pub fn about(mut self, session: &Session) -> Self {
        self.session_id = Some(session.id);
        self
    }

    /// The same event, with a detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The address as an IP, when kept and well-formed.
    pub fn ip_addr(&self) -> Option<IpAddr> {
        self.ip.as_deref().and_then(|s| s.parse().ok())
    }
}

/// Largest page of activity answered at once.
pub const MAX_PAGE: u32 = 100;
/// Page size when none is asked for.
pub const DEFAULT_PAGE: u32 = 25;

/// One page of activity, newest first.
#[derive(Debug, Clone)]
pub struct ActivityPage {
    /// The events.
    pub events: Vec<SecurityEvent>,
    /// Pass as `before` to get the next (older) page; `None` on the last page.
    pub next_before: Option<Uuid>,
}
