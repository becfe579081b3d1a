//! Email confirmation: the link from the sign-up email, and sending a new one.

use uuid::Uuid;

use crate::account::email::email_key;
use crate::error::{CoreError, CoreResult};
use crate::mail::Mail;
use crate::ports::{EmailToken, TokenKind};
use crate::secret::{NewSecret, parse_secret};
use crate::session::SignedIn;
use crate::steward::Steward;

impl Steward {
    /// Confirms the address a verification token was sent to. Single use.
    pub async fn verify_email(&self, token: &str) -> CoreResult<Uuid> {
        let hash = parse_secret(token).ok_or(CoreError::InvalidToken)?;
        let account = self
            .store
            .confirm_email(&hash, self.now())
            .await?
            .ok_or(CoreError::InvalidToken)?;
        // Cached sessions still say "unconfirmed".
        self.sessions.forget_account(account);
        Ok(account)
    }

    /// Sends a new confirmation link (voiding older ones). Does nothing if already confirmed.
    pub async fn resend_verification(&self, who: &SignedIn) -> CoreResult<()> {
        let account = who.account();
        if account.email_verified_at.is_some() {
            return Ok(());
        }
        self.spend_address_quota(&email_key(&account.email))?;
        let now = self.now();
        let secret = NewSecret::generate();
        let token = EmailToken {
            id: Uuid::now_v7(),
            account_id: account.id,
            kind: TokenKind::VerifyEmail,
            hash: secret.hash.clone(),
            email_key: email_key(&account.email),
            created_at: now,
            expires_at: now + self.cfg.verify_email_ttl,
        };
        let mail = self.render(&Mail::VerifyEmail {
            to: account.email.clone(),
            username: account.username.clone(),
            link: self.link(&format!("/verify-email?token={}", secret.plain)),
        });
        self.store.issue_token(&token, &mail, now).await?;
        Ok(())
    }
}
