//! Email confirmation: the link from the sign-up email, and sending a new one.

use uuid::Uuid;

use crate::account::email::email_key;
use crate::activity::{EventKind, SecurityEvent};
use crate::challenge::Strength;
use crate::error::{CoreError, CoreResult};
use crate::mail::Mail;
use crate::ports::TokenKind;
use crate::secret::parse_secret;
use crate::session::{ClientInfo, SignedIn};
use crate::steward::Steward;

impl Steward {
    /// Confirms the address a verification token was sent to. Single use.
    pub async fn verify_email(&self, token: &str, client: &ClientInfo) -> CoreResult<Uuid> {
        let hash = parse_secret(token).ok_or(CoreError::InvalidToken)?;
        let now = self.now();
        let account = self
            .store
            .peek_token(TokenKind::VerifyEmail, &hash, now)
            .await?
            .ok_or(CoreError::InvalidToken)?;
        let event = SecurityEvent::new(account, EventKind::EmailVerified, client, now);
        if !self.store.confirm_email(&hash, &event, now).await? {
            return Err(CoreError::InvalidToken);
        }
        // Cached sessions still say "unconfirmed".
        self.account_changed(account);
        Ok(account)
    }

    /// Sends a new confirmation link (voiding older ones). Does nothing if already confirmed.
    pub async fn resend_verification(&self, who: &SignedIn) -> CoreResult<()> {
        let account = who.account();
        if account.email_verified_at.is_some() {
            return Ok(());
        }
        // Signed in, the owner is not stopped by a quota strangers used up: their own
        // allowance takes over.
        if let Err(e) = self.spend_address_quota(&email_key(&account.email), Strength::Normal)
            && !self.spend_account_quota(account.id)
        {
            return Err(match e {
                CoreError::EmailQuota(wait) => CoreError::RateLimited(wait),
                other => other,
            });
        }
        let now = self.now();
        let (token, link) = self.email_token(account, TokenKind::VerifyEmail, now);
        let mail = self.render(&Mail::VerifyEmail {
            to: account.email.clone(),
            username: account.username.clone(),
            link,
        });
        self.store
            .issue_token(&token, std::slice::from_ref(&mail), now)
            .await?;
        Ok(())
    }
}
