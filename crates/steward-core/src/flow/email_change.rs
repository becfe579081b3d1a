//! Changing the email address: the current password is required, a link goes to
//! the new address and the change takes effect only when it is used; the current
//! address is told at once, with what to do if it was not its owner. Until the
//! link is used, everything (sign-in, recovery) keeps using the current address.

use crate::account::Email;
use crate::account::email::email_key;
use crate::activity::{EventKind, SecurityEvent};
use crate::challenge::Strength;
use crate::error::{CoreError, CoreResult, StoreError};
use crate::mail::Mail;
use crate::ports::TokenKind;
use crate::secret::parse_secret;
use crate::session::{ClientInfo, SignedIn};
use crate::steward::Steward;

impl Steward {
    /// Asks to change the address to `new_email`. The answer is the same whether or
    /// not another account has that address (that account's owner is told instead),
    /// so this cannot be used to find out who has an account.
    pub async fn request_email_change(
        &self,
        who: &SignedIn,
        current_password: &str,
        new_email: &str,
    ) -> CoreResult<()> {
        let account = who.account();
        self.verify_current_password(who, current_password).await?;
        let new = Email::parse(new_email).map_err(|e| match e {
            CoreError::Validation(mut f) => {
                let why = f
                    .remove("email")
                    .unwrap_or_else(|| "Enter a valid email address.".into());
                CoreError::field("new_email", why)
            }
            other => other,
        })?;
        if new.key() == email_key(&account.email) {
            return Err(CoreError::field(
                "new_email",
                "This is already your email address.",
            ));
        }
        // No strong check is offered here: the new address is not proven to be theirs.
        self.spend_address_quota(new.key(), Strength::Normal)
            .map_err(|e| match e {
                CoreError::EmailQuota(wait) => CoreError::RateLimited(wait),
                other => other,
            })?;
        let now = self.now();
        if self.store.account_by_email(new.key()).await?.is_some() {
            let mail = self.render(&Mail::EmailInUse {
                to: new.as_str().to_owned(),
                signin_link: self.link("/signin"),
            });
            self.store.enqueue_mail(&mail, now).await?;
            tracing::info!(account = %account.id, "email change to an address in use: its owner was told");
            return Ok(());
        }
        let (token, link) =
            self.email_token_to(account, TokenKind::ChangeEmail, Some(new.as_str()), now);
        let confirm = self.render(&Mail::ConfirmEmailChange {
            to: new.as_str().to_owned(),
            username: account.username.clone(),
            link,
        });
        let notice = self.render(&Mail::EmailChangeRequested {
            to: account.email.clone(),
            username: account.username.clone(),
            new_email: new.as_str().to_owned(),
            recovery_link: self.link("/trouble-signing-in"),
        });
        // Only while this session lives and the password just checked is still the one:
        // a password change, reset or revocation meanwhile leaves no link behind.
        if !self
            .store
            .issue_email_change(
                &token,
                &[confirm, notice],
                who.session().id,
                &account.password_hash,
                now,
            )
            .await?
        {
            return Err(CoreError::Unauthenticated);
        }
        tracing::info!(account = %account.id, "email change requested");
        Ok(())
    }

    /// Uses a confirmation link: the account takes the new address, confirmed.
    /// Returns the new address. `InvalidToken` for a used, expired, superseded or
    /// unknown link; a field error if another account took the address meanwhile.
    pub async fn confirm_email_change(
        &self,
        token: &str,
        client: &ClientInfo,
    ) -> CoreResult<String> {
        let hash = parse_secret(token).ok_or(CoreError::InvalidToken)?;
        let now = self.now();
        let account_id = self
            .store
            .peek_token(TokenKind::ChangeEmail, &hash, now)
            .await?
            .ok_or(CoreError::InvalidToken)?;
        let event = SecurityEvent::new(account_id, EventKind::EmailChanged, client, now);
        match self.store.confirm_email_change(&hash, &event, now).await {
            Ok(Some(email)) => {
                self.account_changed(account_id);
                tracing::info!(account = %account_id, "email changed");
                Ok(email)
            }
            Ok(None) => Err(CoreError::InvalidToken),
            Err(StoreError::EmailTaken) => Err(CoreError::field(
                "token",
                "This address now belongs to another account, so it cannot be yours. Choose another.",
            )),
            Err(e) => Err(e.into()),
        }
    }
}
