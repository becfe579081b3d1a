//! What mail the use cases send. Rendering is a port: the server owns the templates.

use time::OffsetDateTime;

/// A message the domain wants sent, before rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mail {
    /// Confirm the address given at sign-up.
    VerifyEmail {
        /// Recipient.
        to: String,
        /// Their username.
        username: String,
        /// `{public_url}/verify-email?token=…`.
        link: String,
    },
    /// Someone signed up with an address that already has an account.
    AccountExists {
        /// Recipient.
        to: String,
        /// The existing account's username.
        username: String,
        /// The sign-in page.
        signin_link: String,
        /// The trouble-signing-in page.
        recovery_link: String,
    },
    /// Reset the password.
    ResetPassword {
        /// Recipient.
        to: String,
        /// Their username.
        username: String,
        /// `{public_url}/reset-password?token=…`.
        link: String,
    },
    /// The username, on request.
    UsernameReminder {
        /// Recipient.
        to: String,
        /// Their username.
        username: String,
        /// The sign-in page.
        signin_link: String,
    },
    /// The password was changed or reset.
    PasswordChanged {
        /// Recipient.
        to: String,
        /// Their username.
        username: String,
        /// When.
        at: OffsetDateTime,
        /// Where to go if it was not them.
        recovery_link: String,
    },
    /// Someone signed in from a device or browser not seen before on the account.
    NewDevice {
        /// Recipient.
        to: String,
        /// Their username.
        username: String,
        /// Browser and system, or program name.
        device: String,
        /// Address the sign-in came from.
        ip: Option<String>,
        /// Approximate location, where the operator configured a GeoIP database.
        location: Option<String>,
        /// When.
        at: OffsetDateTime,
        /// The Active sessions page, to revoke it.
        sessions_link: String,
        /// Where to go if it was not them.
        recovery_link: String,
        /// One-click unsubscribe from these alerts (RFC 8058).
        unsubscribe_link: String,
    },
    /// Confirm a new address (sent to it); the change takes effect on the link.
    ConfirmEmailChange {
        /// Recipient: the new address.
        to: String,
        /// Their username.
        username: String,
        /// `{public_url}/confirm-email-change?token=…`.
        link: String,
    },
    /// A change of address was asked for (sent to the current address).
    EmailChangeRequested {
        /// Recipient: the current address.
        to: String,
        /// Their username.
        username: String,
        /// The address asked for.
        new_email: String,
        /// Where to reset the password if it was not them (which cancels the change).
        recovery_link: String,
    },
    /// Someone asked to move an account to an address that already has one.
    EmailInUse {
        /// Recipient: the address asked for.
        to: String,
        /// The sign-in page.
        signin_link: String,
    },
}

impl Mail {
    /// The one-click unsubscribe URL of a non-transactional message.
    pub fn unsubscribe(&self) -> Option<&str> {
        match self {
            Mail::NewDevice {
                unsubscribe_link, ..
            } => Some(unsubscribe_link),
            _ => None,
        }
    }

    /// The recipient.
    pub fn to(&self) -> &str {
        match self {
            Mail::VerifyEmail { to, .. }
            | Mail::AccountExists { to, .. }
            | Mail::ResetPassword { to, .. }
            | Mail::UsernameReminder { to, .. }
            | Mail::PasswordChanged { to, .. }
            | Mail::NewDevice { to, .. }
            | Mail::ConfirmEmailChange { to, .. }
            | Mail::EmailChangeRequested { to, .. }
            | Mail::EmailInUse { to, .. } => to,
        }
    }

    /// Stable name of the kind of message, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Mail::VerifyEmail { .. } => "verify_email",
            Mail::AccountExists { .. } => "account_exists",
            Mail::ResetPassword { .. } => "reset_password",
            Mail::UsernameReminder { .. } => "username_reminder",
            Mail::PasswordChanged { .. } => "password_changed",
            Mail::NewDevice { .. } => "new_device",
            Mail::ConfirmEmailChange { .. } => "confirm_email_change",
            Mail::EmailChangeRequested { .. } => "email_change_requested",
            Mail::EmailInUse { .. } => "email_in_use",
        }
    }
}

/// A rendered message, as the outbox stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// Kind, for logs and metrics.
    pub kind: String,
    /// For non-transactional mail: the one-click unsubscribe URL, sent as
    /// `List-Unsubscribe` with `List-Unsubscribe-Post` (RFC 8058).
    pub unsubscribe: Option<String>,
}

/// Turns a [`Mail`] into subject and bodies. Implemented by the server with its templates.
pub trait MailRenderer: Send + Sync + std::fmt::Debug {
    /// Renders one message.
    fn render(&self, mail: &Mail) -> OutgoingMail;
}
