//! Account settings. For now: changing the password while signed in.

use crate::account::password::check_new_password;
use crate::account::passwords::Verified;
use crate::activity::{EventKind, SecurityEvent};
use crate::error::{CoreError, CoreResult};
use crate::mail::Mail;
use crate::session::{ClientInfo, SignedIn};
use crate::steward::Steward;

impl Steward {
    /// Changes the password: the current one is required, other sessions end, the owner is told.
    pub async fn change_password(
        &self,
        who: &SignedIn,
        current: &str,
        new: &str,
        client: &ClientInfo,
    ) -> CoreResult<()> {
        let account = who.account();
        // Guessing the current password with a stolen session slows down like sign-in.
        let key = account.id.to_string();
        self.signin_failures
            .attempt(&key, self.now())
            .map_err(CoreError::RateLimited)?;
        let verdict = self
            .passwords
            .verify(current, Some(&account.password_hash))
            .await?;
        if verdict == Verified::No {
            return Err(CoreError::WrongPassword);
        }
        self.signin_failures.clear(&key);
        check_new_password("new_password", new, &account.username, &account.email)?;
        if new == current {
            return Err(CoreError::field(
                "new_password",
                "Choose a password different from the current one.",
            ));
        }
        let phc = self.passwords.hash(new).await?;
        let now = self.now();
        let mail = self.render(&Mail::PasswordChanged {
            to: account.email.clone(),
            username: account.username.clone(),
            at: now,
            recovery_link: self.link("/trouble-signing-in"),
        });
        let event = SecurityEvent::new(account.id, EventKind::PasswordChanged, client, now)
            .about(who.session());
        self.store
            .change_password(account.id, &phc, Some(who.session().id), &mail, &event, now)
            .await?;
        self.account_changed(account.id);
        tracing::info!(account = %account.id, "password changed; other sessions ended");
        Ok(())
    }
}
