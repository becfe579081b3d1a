//! Account settings. For now: changing the password while signed in.

use crate::account::hash_queue::Lane;
use crate::account::password::check_new_password;
use crate::account::passwords::Verified;
use crate::activity::{EventKind, SecurityEvent};
use crate::error::{CoreError, CoreResult};
use crate::mail::Mail;
use crate::session::{ClientInfo, SignedIn};
use crate::steward::Steward;

impl Steward {
    /// Checks the password a signed-in person re-enters to confirm a sensitive change.
    /// Counted per session, apart from sign-in, successes too: guessing with a stolen
    /// session slows only that session, a session cannot spend hashes without end, and
    /// strangers failing to sign in never block the owner here.
    pub(crate) async fn verify_current_password(
        &self,
        who: &SignedIn,
        password: &str,
    ) -> CoreResult<()> {
        let key = who.session().id.to_string();
        self.signin
            .reauth
            .attempt(&key, self.now())
            .map_err(CoreError::RateLimited)?;
        let account = who.account();
        let lane = self.priority_lane(account.id);
        let verdict = self
            .passwords
            .verify(
                password,
                Some(&account.password_hash),
                lane,
                &account.id.to_string(),
            )
            .await?;
        if verdict == Verified::No {
            return Err(CoreError::WrongPassword);
        }
        Ok(())
    }

    /// Changes the username (rules as at sign-up). The old one stays reserved for this
    /// account for `username_hold` (nobody else can take it; `/@old` redirects), and
    /// this account can take it back meanwhile.
    pub async fn change_username(
        &self,
        who: &SignedIn,
        new: &str,
        client: &ClientInfo,
    ) -> CoreResult<crate::account::Account> {
        let account = who.account();
        let new = crate::account::Username::parse(new)?;
        if new.as_str() == account.username {
            return Err(CoreError::field(
                "username",
                "This is already your username.",
            ));
        }
        let now = self.now();
        let event = SecurityEvent::new(account.id, EventKind::UsernameChanged, client, now)
            .about(who.session())
            .detail(format!("{} → {}", account.username, new.as_str()));
        self.store
            .change_username(
                account.id,
                new.as_str(),
                now + self.cfg.username_hold,
                &event,
                now,
            )
            .await?;
        // Cached sessions carry the account: drop them everywhere.
        self.account_changed(account.id);
        tracing::info!(account = %account.id, "username changed");
        self.store
            .account_by_id(account.id)
            .await?
            .ok_or(CoreError::Unauthenticated)
    }

    /// Changes the password: the current one is required, other sessions end, the owner is told.
    pub async fn change_password(
        &self,
        who: &SignedIn,
        current: &str,
        new: &str,
        client: &ClientInfo,
    ) -> CoreResult<()> {
        let account = who.account();
        self.verify_current_password(who, current).await?;
        check_new_password("new_password", new, &account.username, &account.email)?;
        if new == current {
            return Err(CoreError::field(
                "new_password",
                "Choose a password different from the current one.",
            ));
        }
        let phc = self
            .passwords
            .hash(new, Lane::Priority, &account.id.to_string())
            .await?;
        let now = self.now();
        let mail = self.render(&Mail::PasswordChanged {
            to: account.email.clone(),
            username: account.username.clone(),
            at: now,
            recovery_link: self.link("/trouble-signing-in"),
        });
        let event = SecurityEvent::new(account.id, EventKind::PasswordChanged, client, now)
            .about(who.session());
        let cancelled = self
            .store
            .change_password(account.id, &phc, Some(who.session().id), &mail, &event, now)
            .await?;
        if cancelled {
            self.record_email_change_cancelled(account.id, client, "password changed")
                .await;
        }
        self.account_changed(account.id);
        tracing::info!(account = %account.id, "password changed; other sessions ended");
        Ok(())
    }
}
