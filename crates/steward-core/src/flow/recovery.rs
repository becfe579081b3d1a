//! "Trouble signing in?": password reset and username reminder by email.
//!
//! Both answer at once and identically whether or not the address has an
//! account: the look-up and any email happen after the answer, in the background.

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

impl Steward {
    /// Sends a reset link if the address has an account. Always `Ok` after the robot check.
    pub async fn request_password_reset(
        &self,
        email: &str,
        altcha: &str,
        client: &ClientInfo,
    ) -> CoreResult<()> {
        self.pass_challenge(altcha).await?;
        let key = email_key(email);
        self.spend_address_quota(&key)?;
        let this = self.clone();
        let client = client.clone();
        tokio::spawn(async move {
            if let Err(e) = this.send_reset_link(&key, &client).await {
                tracing::error!(error = %e, "could not issue a password reset");
            }
        });
        Ok(())
    }

    /// Emails the username if the address has an account. Always `Ok` after the robot check.
    pub async fn request_username_reminder(
        &self,
        email: &str,
        altcha: &str,
        client: &ClientInfo,
    ) -> CoreResult<()> {
        self.pass_challenge(altcha).await?;
        let key = email_key(email);
        self.spend_address_quota(&key)?;
        let this = self.clone();
        let client = client.clone();
        tokio::spawn(async move {
            if let Err(e) = this.send_username(&key, &client).await {
                tracing::error!(error = %e, "could not send a username reminder");
            }
        });
        Ok(())
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
        let phc = self.passwords.hash(new_password, Lane::Priority).await?;
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

    async fn send_reset_link(&self, key: &str, client: &ClientInfo) -> CoreResult<()> {
        if key.len() > MAX_EMAIL {
            return Ok(());
        }
        let Some(account) = self.store.account_by_email(key).await? else {
            return Ok(());
        };
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

    async fn send_username(&self, key: &str, client: &ClientInfo) -> CoreResult<()> {
        if key.len() > MAX_EMAIL {
            return Ok(());
        }
        let Some(account) = self.store.account_by_email(key).await? else {
            return Ok(());
        };
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
