//! "Trouble signing in?": password reset and username reminder by email.
//!
//! Both answer at once and identically whether or not the address has an
//! account: the look-up and any email happen after the answer, in the background.

use uuid::Uuid;

use crate::account::Account;
use crate::account::email::email_key;
use crate::account::hash_queue::Lane;
use crate::account::password::check_new_password;
use crate::activity::{EventKind, SecurityEvent};
use crate::error::{CoreError, CoreResult};
use crate::mail::Mail;
use crate::ports::TokenKind;
use crate::secret::parse_secret;
use crate::session::ClientInfo;
use crate::steward::Steward;

/// Longest address looked up.
const MAX_EMAIL: usize = 254;

/// Who may still be sent a recovery email once the address's quota is used up.
#[derive(Debug, Clone)]
enum Recipient {
    /// Whichever account has the address (the quota allowed it).
    Anyone,
    /// Only one of these accounts, the ones the asking browser signed in to before.
    OneOf(Vec<Uuid>),
}

impl Steward {
    /// Sends a reset link if the address has an account. Always `Ok` after the robot check
    /// and the address's hourly quota.
    ///
    /// A stranger can use up the quota, but not the owner's way back: past it, a strong
    /// proof of work still gets the mail, and so does a browser that signed in to the
    /// account before (`vouched`, from its device cookie) — up to the account's own
    /// quota, decided after the answer like everything that depends on the account.
    pub async fn request_password_reset(
        &self,
        email: &str,
        altcha: &str,
        client: &ClientInfo,
        vouched: &[Uuid],
    ) -> CoreResult<()> {
        let key = email_key(email);
        let to = self.recovery_recipient(&key, altcha, vouched).await?;
        let this = self.clone();
        let client = client.clone();
        tokio::spawn(async move {
            if let Err(e) = this.send_reset_link(&key, &client, to).await {
                tracing::error!(error = %e, "could not issue a password reset");
            }
        });
        Ok(())
    }

    /// Emails the username if the address has an account. Always `Ok` after the robot
    /// check and the quota, which work as for [`Steward::request_password_reset`].
    pub async fn request_username_reminder(
        &self,
        email: &str,
        altcha: &str,
        client: &ClientInfo,
        vouched: &[Uuid],
    ) -> CoreResult<()> {
        let key = email_key(email);
        let to = self.recovery_recipient(&key, altcha, vouched).await?;
        let this = self.clone();
        let client = client.clone();
        tokio::spawn(async move {
            if let Err(e) = this.send_username(&key, &client, to).await {
                tracing::error!(error = %e, "could not send a username reminder");
            }
        });
        Ok(())
    }

    /// The robot check, then the address's quota; past it, who may still be sent mail.
    async fn recovery_recipient(
        &self,
        key: &str,
        altcha: &str,
        vouched: &[Uuid],
    ) -> CoreResult<Recipient> {
        let strength = self.pass_challenge(altcha).await?;
        match self.spend_address_quota(key, strength) {
            Ok(()) => Ok(Recipient::Anyone),
            // The answer does not depend on whether the address is one of these
            // accounts': that is looked up after it, like the account itself.
            Err(CoreError::EmailQuota(_)) if !vouched.is_empty() => {
                Ok(Recipient::OneOf(vouched.to_vec()))
            }
            Err(e) => Err(e),
        }
    }

    /// Whether `account` may be sent a recovery email asked for as `to`.
    fn may_send(&self, account: &Account, to: &Recipient) -> bool {
        match to {
            Recipient::Anyone => true,
            Recipient::OneOf(ids) => {
                let ok = ids.contains(&account.id) && self.spend_account_quota(account.id);
                if !ok {
                    tracing::info!(account = %account.id, "recovery email past the address's quota not sent");
                }
                ok
            }
        }
    }

    /// Whether a reset token is live (the reset page shows the form only then).
    pub async fn check_reset_token(&self, token: &str) -> CoreResult<()> {
        let hash = parse_secret(token).ok_or(CoreError::InvalidToken)?;
        self.store
            .peek_token(TokenKind::ResetPassword, &hash, self.now())
            .await?
            .map(|_| ())
            .ok_or(CoreError::InvalidToken)
    }

    /// Sets a new password from a reset link. Signs out every session and tells the owner.
    pub async fn complete_password_reset(
        &self,
        token: &str,
        new_password: &str,
        client: &ClientInfo,
    ) -> CoreResult<()> {
        let hash = parse_secret(token).ok_or(CoreError::InvalidToken)?;
        let now = self.now();
        let account_id = self
            .store
            .peek_token(TokenKind::ResetPassword, &hash, now)
            .await?
            .ok_or(CoreError::InvalidToken)?;
        let account = self
            .store
            .account_by_id(account_id)
            .await?
            .ok_or(CoreError::InvalidToken)?;
        check_new_password(
            "new_password",
            new_password,
            &account.username,
            &account.email,
        )?;
        // A live reset link vouches for the attempt; each takes a turn of its own, so
        // concurrent uses of one link all reach the store, where one wins.
        let phc = self
            .passwords
            .hash(
                new_password,
                Lane::Priority,
                &uuid::Uuid::now_v7().to_string(),
            )
            .await?;
        let mail = self.render(&Mail::PasswordChanged {
            to: account.email.clone(),
            username: account.username.clone(),
            at: now,
            recovery_link: self.link("/trouble-signing-in"),
        });
        // The token is used up inside the same transaction, so two concurrent
        // completions cannot both succeed.
        let event = SecurityEvent::new(account.id, EventKind::PasswordReset, client, now);
        let cancelled = self
            .store
            .complete_reset(&hash, &phc, &mail, &event, self.now())
            .await?
            .ok_or(CoreError::InvalidToken)?;
        if cancelled {
            self.record_email_change_cancelled(account.id, client, "password reset")
                .await;
        }
        self.account_changed(account.id);
        tracing::info!(account = %account.id, "password reset; all sessions ended");
        Ok(())
    }

    async fn send_reset_link(
        &self,
        key: &str,
        client: &ClientInfo,
        to: Recipient,
    ) -> CoreResult<()> {
        if key.len() > MAX_EMAIL {
            return Ok(());
        }
        let Some(account) = self.store.account_by_email(key).await? else {
            return Ok(());
        };
        if !self.may_send(&account, &to) {
            return Ok(());
        }
        let now = self.now();
        let (token, link) = self.email_token(&account, TokenKind::ResetPassword, now);
        let mail = self.render(&Mail::ResetPassword {
            to: account.email.clone(),
            username: account.username.clone(),
            link,
        });
        self.store
            .issue_token(&token, std::slice::from_ref(&mail), now)
            .await?;
        let event = SecurityEvent::new(account.id, EventKind::PasswordResetRequested, client, now);
        self.store.record_event(&event).await?;
        tracing::info!(account = %account.id, "password reset requested");
        Ok(())
    }

    async fn send_username(&self, key: &str, client: &ClientInfo, to: Recipient) -> CoreResult<()> {
        if key.len() > MAX_EMAIL {
            return Ok(());
        }
        let Some(account) = self.store.account_by_email(key).await? else {
            return Ok(());
        };
        if !self.may_send(&account, &to) {
            return Ok(());
        }
        let mail = self.render(&Mail::UsernameReminder {
            to: account.email.clone(),
            username: account.username.clone(),
            signin_link: self.link("/signin"),
        });
        let now = self.now();
        self.store.enqueue_mail(&mail, now).await?;
        let event = SecurityEvent::new(
            account.id,
            EventKind::UsernameReminderRequested,
            client,
            now,
        );
        self.store.record_event(&event).await?;
        tracing::info!(account = %account.id, "username reminder requested");
        Ok(())
    }
}
