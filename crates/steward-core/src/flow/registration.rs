//! Sign-up: validate, pass the robot check, hash, create the account with its
//! consent records and confirmation email in one transaction.
//!
//! A taken email answers exactly like success and emails the owner instead, so
//! sign-up cannot be used to learn who has an account.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::account::hash_queue::Lane;
use crate::account::password::check_new_password;
use crate::account::{Account, Email, Username};
use crate::activity::{EventKind, SecurityEvent};
use crate::error::{CoreError, CoreResult, FieldErrors, StoreError};
use crate::mail::Mail;
use crate::ports::{ConsentRecord, NewAccount, TokenKind};
use crate::session::ClientInfo;
use crate::steward::{Steward, truncate_ip};

/// What a person submits to sign up.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Email address.
    pub email: String,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// Ticked "I agree to the Terms of Use".
    pub accept_terms: bool,
    /// Ticked "I am 16 or older".
    pub confirm_age: bool,
    /// Proof-of-work answer.
    pub altcha: String,
}

impl Steward {
    /// Signs a person up. `Ok` does not mean an account was created (see module doc).
    pub async fn register(&self, input: Registration, client: &ClientInfo) -> CoreResult<()> {
        let (email, username) = self.validate_registration(&input)?;
        let strength = self.pass_challenge(&input.altcha).await?;
        self.spend_address_quota(email.key(), strength)?;
        // Hash before looking anything up, so both outcomes cost the same.
        let phc = self.passwords.hash(&input.password, Lane::Open, "").await?;

        // Usernames are public, so a taken one may be reported; it is checked before the
        // email so that the answer never depends on whether the email has an account.
        if self
            .store
            .account_by_username(username.as_str())
            .await?
            .is_some()
            || self
                .store
                .username_hold(username.as_str(), self.now())
                .await?
                .is_some()
        {
            return Err(CoreError::UsernameTaken);
        }
        if let Some(existing) = self.store.account_by_email(email.key()).await? {
            return self.tell_owner_of_signup_attempt(&existing).await;
        }

        let now = self.now();
        let account = Account {
            id: Uuid::now_v7(),
            email: email.as_str().to_owned(),
            email_verified_at: None,
            username: username.as_str().to_owned(),
            password_hash: phc,
            created_at: now,
            password_changed_at: None,
        };
        let (verification, link) = self.email_token(&account, TokenKind::VerifyEmail, now);
        let mail = self.render(&Mail::VerifyEmail {
            to: account.email.clone(),
            username: account.username.clone(),
            link,
        });
        let consents = self.signup_consents(account.id, client, now);
        let new = NewAccount {
            account: account.clone(),
            email_key: email.key().to_owned(),
            consents,
            verification,
            mail,
            event: SecurityEvent::new(account.id, EventKind::AccountCreated, client, now),
        };
        match self.store.create_account(&new).await {
            Ok(()) => {
                tracing::info!(account = %account.id, "account created");
                Ok(())
            }
            // Lost a race with a concurrent sign-up of the same address: same answer as above.
            Err(StoreError::EmailTaken) => match self.store.account_by_email(email.key()).await? {
                Some(existing) => self.tell_owner_of_signup_attempt(&existing).await,
                None => Ok(()),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Checks every field and reports all problems at once.
    fn validate_registration(&self, input: &Registration) -> CoreResult<(Email, Username)> {
        let mut fields = FieldErrors::new();
        let email = Email::parse(&input.email)
            .map_err(|e| merge(&mut fields, e))
            .ok();
        let username = Username::parse(&input.username)
            .map_err(|e| merge(&mut fields, e))
            .ok();
        if let Err(e) = check_new_password(
            "password",
            &input.password,
            username.as_ref().map_or(&input.username, |u| u.as_str()),
            email.as_ref().map_or(&input.email, |e| e.as_str()),
        ) {
            merge(&mut fields, e);
        }
        if !input.accept_terms {
            fields.insert(
                "accept_terms",
                "You must agree to the Terms of Use to create an account.".into(),
            );
        }
        if !input.confirm_age {
            fields.insert(
                "confirm_age",
                format!(
                    "You must be {} or older to create an account.",
                    self.cfg.minimum_age
                ),
            );
        }
        match (email, username) {
            (Some(e), Some(u)) if fields.is_empty() => Ok((e, u)),
            _ => Err(CoreError::Validation(fields)),
        }
    }

    fn signup_consents(
        &self,
        account_id: Uuid,
        client: &ClientInfo,
        at: OffsetDateTime,
    ) -> Vec<ConsentRecord> {
        let record = |purpose: &str, basis: &str, version: &str| ConsentRecord {
            id: Uuid::now_v7(),
            account_id,
            purpose: purpose.into(),
            legal_basis: basis.into(),
            notice_version: version.into(),
            granted: true,
            method: client.channel.as_str().into(),
            ip_truncated: client.ip.map(truncate_ip),
            at,
        };
        vec![
            record("terms_of_use", "contract", &self.cfg.terms_version),
            record("privacy_policy", "contract", &self.cfg.privacy_version),
            record(
                "age_confirmation",
                "legal_obligation",
                &self.cfg.minimum_age.to_string(),
            ),
        ]
    }

    async fn tell_owner_of_signup_attempt(&self, existing: &Account) -> CoreResult<()> {
        let mail = self.render(&Mail::AccountExists {
            to: existing.email.clone(),
            username: existing.username.clone(),
            signin_link: self.link("/signin"),
            recovery_link: self.link("/trouble-signing-in"),
        });
        self.store.enqueue_mail(&mail, self.now()).await?;
        tracing::info!(account = %existing.id, "sign-up attempted with a registered email; owner notified");
        Ok(())
    }
}

/// Folds a single-field validation error into `fields`.
pub(crate) fn merge(fields: &mut FieldErrors, e: CoreError) {
    if let CoreError::Validation(f) = e {
        fields.extend(f);
    }
}
