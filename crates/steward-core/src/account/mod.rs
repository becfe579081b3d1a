//! Accounts: the model and the rules for emails, usernames and passwords.

pub mod email;
pub mod hash_queue;
pub mod hash_threads;
pub mod password;
pub mod passwords;
pub mod username;

use time::OffsetDateTime;
use uuid::Uuid;

pub use email::Email;
pub use username::Username;

/// An account as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// UUIDv7.
    pub id: Uuid,
    /// Email as entered (trimmed, domain lower-cased).
    pub email: String,
    /// When the email was confirmed, if it was.
    pub email_verified_at: Option<OffsetDateTime>,
    /// Username as chosen (already lower-case by the rules).
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// When the password was last changed or reset (`None`: never since sign-up).
    /// Browsers that signed in before then are no longer trusted.
    pub password_changed_at: Option<OffsetDateTime>,
}

impl Account {
    /// The wire form shown to the account's owner.
    pub fn to_me(&self) -> steward_proto::Me {
        steward_proto::Me {
            id: self.id,
            email: self.email.clone(),
            email_verified: self.email_verified_at.is_some(),
            username: self.username.clone(),
            created_at: self.created_at,
        }
    }
}
