//! Sign-in by email or username, session look-up, sign-out.

use uuid::Uuid;

use crate::account::Account;
use crate::account::email::email_key;
use crate::account::hash_queue::Lane;
use crate::account::passwords::Verified;
use crate::activity::{EventKind, SecurityEvent};
use crate::error::{CoreError, CoreResult};
use crate::mail::Mail;
use crate::notify::{Category, Unsubscribe, wants};
use crate::secret::{NewSecret, parse_secret};
use crate::session::device::describe;
use crate::session::{
    ClientInfo, LAST_SEEN_EVERY, MAX_USER_AGENT, Session, SignedIn, extended_expiry, session_expiry,
};
use crate::steward::{Steward, truncate_ip};
use sha2::{Digest, Sha256};

/// Longest identifier looked up; longer ones cannot be an email or username.
const MAX_IDENTIFIER: usize = 254;
/// Longest password verified; longer ones cannot match (sign-up caps at 256 characters).
const MAX_PASSWORD_BYTES: usize = 1024;

/// A new session: the cookie value to hand out, and what was stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Cookie value (256-bit secret). Shown once, never stored.
    pub token: NewSecret,
    /// The stored session.
    pub session: Session,
    /// The account signed in.
    pub account: Account,
    /// Whether the device was new to the account (its owner was emailed).
    pub new_device: bool,
}

impl NewSession {
    /// The signed-in capability for the session just created.
    pub fn signed_in(&self) -> SignedIn {
        SignedIn::new(self.session.clone(), self.account.clone())
    }
}

impl Steward {
    /// Signs in with email or username. Unknown accounts cost one hash too and give the same error.
    ///
    /// Failures are counted per identifier (as typed, normalised), so which answer comes
    /// back never depends on whether two identifiers name one account. Past the limit an
    /// attempt must carry a solved proof of work (`altcha`), or it is answered
    /// `ChallengeRequired` — the same for existing and unknown accounts; nothing a
    /// stranger does can refuse the owner outright. Browsers listed in `trusted_for`
    /// (those that signed in to the account before, as (account, when)) count apart, per
    /// account and network, with a higher limit, and wait in the hasher's priority lane, so a flood
    /// of guesses elsewhere neither challenges nor delays them. A browser that signed in
    /// before the password was last changed or reset is trusted no more (neither here
    /// nor as a known device).
    pub async fn sign_in(
        &self,
        identifier: &str,
        password: &str,
        remember: bool,
        client: &ClientInfo,
        trusted_for: &[(Uuid, time::OffsetDateTime)],
        altcha: Option<&str>,
    ) -> CoreResult<NewSession> {
        // An attempt no device cookie speaks for waits in the open lane whatever the
        // account: admitted before anything else, so shedding a flood of them costs no
        // database work and leaves nothing behind.
        let early = match trusted_for.is_empty() {
            true => Some(self.passwords.admit(Lane::Open, "").await?),
            false => None,
        };
        let account = self.find_by_identifier(identifier).await?;
        let trusted = account.as_ref().is_some_and(|a| {
            trusted_for.iter().any(|(id, at)| {
                // Compared in whole seconds: that is what the device cookie keeps.
                *id == a.id
                    && a.password_changed_at
                        .is_none_or(|c| at.unix_timestamp() >= c.unix_timestamp())
            })
        });
        let (counter, key) = match &account {
            // Per account and network: someone guessing with a stolen device cookie
            // elsewhere brings the check onto themselves, not onto the owner's browsers.
            Some(a) if trusted => {
                let network = client.ip.map(truncate_ip).unwrap_or_default();
                (&self.signin.vouched, format!("{}/{network}", a.id))
            }
            // Digested: however long the identifiers of a flood, each entry is small.
            _ => (
                &self.signin.open,
                hex::encode(&Sha256::digest(normalise_identifier(identifier))[..16]),
            ),
        };
        let proof = altcha.map(str::trim).filter(|p| !p.is_empty());
        // Over the limit without an answer: said at once, before waiting or counting.
        if proof.is_none() && counter.is_over(&key, self.now()) {
            return Err(CoreError::ChallengeRequired);
        }
        let slot = match early {
            Some(slot) => slot,
            None => {
                // The priority lane is for accounts whose address is confirmed, and only
                // as much as an owner needs: anyone can hold an account to flood it with.
                let lane = match &account {
                    Some(a) if trusted && a.email_verified_at.is_some() => self.priority_lane(a.id),
                    _ => Lane::Open,
                };
                let turn = account
                    .as_ref()
                    .map(|a| a.id.to_string())
                    .unwrap_or_default();
                self.passwords.admit(lane, &turn).await?
            }
        };
        // Counted before the hash, so parallel guesses cannot all pass as the first.
        if counter.note(&key, self.now()) {
            let passed = match proof {
                None => Err(CoreError::ChallengeRequired),
                Some(p) => self.pass_challenge(p).await,
            };
            if let Err(e) = passed {
                counter.forgive(&key);
                return Err(e);
            }
        }
        // Oversized passwords are refused after the same work as a wrong one.
        let password = if password.len() > MAX_PASSWORD_BYTES {
            ""
        } else {
            password
        };
        let stored = account.as_ref().map(|a| a.password_hash.as_str());
        let verdict = self.passwords.verify_in(slot, password, stored).await?;
        let account = match (verdict, account) {
            (Verified::Yes | Verified::YesRehash, Some(a)) => a,
            (_, known) => {
                if let Some(a) = known {
                    self.record_in_background(SecurityEvent::new(
                        a.id,
                        EventKind::SignInFailed,
                        client,
                        self.now(),
                    ));
                }
                return Err(CoreError::InvalidCredentials);
            }
        };
        // A trusted browser signing in says nothing about guesses made elsewhere, and
        // the owner signing in from a new browser does not vouch for the trusted ones.
        counter.clear(&key);
        let mut verified_hash = account.password_hash.clone();
        if verdict == Verified::YesRehash {
            let phc = self
                .passwords
                .hash(password, Lane::Priority, &account.id.to_string())
                .await?;
            self.store
                .update_password_hash(account.id, &account.password_hash, &phc)
                .await?;
            verified_hash = phc;
        }
        let now = self.now();
        let token = NewSecret::generate();
        let session = Session {
            id: Uuid::now_v7(),
            account_id: account.id,
            token_hash: token.hash.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: session_expiry(&self.cfg, now, remember),
            remember,
            ip: client.ip.map(|ip| ip.to_string()),
            user_agent: client
                .user_agent
                .as_deref()
                .map(|ua| truncate(ua, MAX_USER_AGENT)),
            app: None,
        };
        let new_device = !trusted && !self.seen_device(&account, client, now).await?;
        let mut events =
            vec![SecurityEvent::new(account.id, EventKind::SignedIn, client, now).about(&session)];
        let mut mail = None;
        if new_device {
            events.push(
                SecurityEvent::new(account.id, EventKind::NewDevice, client, now).about(&session),
            );
            let prefs = self.store.notification_prefs(account.id).await?;
            if wants(&prefs, Category::Security, "email") {
                mail = Some(
                    self.render(&Mail::NewDevice {
                        to: account.email.clone(),
                        username: account.username.clone(),
                        device: describe(client.user_agent.as_deref()),
                        ip: session.ip.clone(),
                        location: self.locate(session.ip.as_deref()),
                        at: now,
                        sessions_link: self.link("/account/sessions"),
                        recovery_link: self.link("/trouble-signing-in"),
                        unsubscribe_link: self
                            .unsubscribe_url(account.id, Unsubscribe::Category(Category::Security))
                            .await?,
                    }),
                );
            }
        }
        // Conditional on the hash just verified: a reset or change that committed while
        // this sign-in was hashing (and ended every session) must not be outlived by it.
        if !self
            .store
            .create_session(&session, &verified_hash, &events, mail.as_ref())
            .await?
        {
            return Err(CoreError::InvalidCredentials);
        }
        if new_device {
            let body = format!(
                "{} signed in from {}.",
                describe(client.user_agent.as_deref()),
                session.ip.as_deref().unwrap_or("an unknown address")
            );
            // The sign-in stands even if the bell's copy cannot be written.
            if let Err(e) = self
                .notify_in_app(
                    account.id,
                    Category::Security,
                    "New sign-in to your account",
                    &body,
                    Some("/account/sessions"),
                )
                .await
            {
                tracing::warn!(error = %e, "in-app new-device notice failed");
            }
        }
        tracing::info!(account = %account.id, session = %session.id, remember, new_device, "signed in");
        Ok(NewSession {
            token,
            session,
            account,
            new_device,
        })
    }

    /// `Busy` when a sign-in that no device cookie speaks for would be turned away by
    /// the hasher anyway: checked before anything else (even the per-IP limit) so a
    /// flood is shed at the lowest cost. [`Steward::sign_in`] decides regardless.
    pub fn shed_unvouched_sign_in(&self) -> CoreResult<()> {
        if self.passwords.queue().open_full() {
            return Err(CoreError::Busy(std::time::Duration::from_secs(1)));
        }
        Ok(())
    }

    /// Whether this browser or program, on this network, created or signed in to the
    /// account before: within the IP retention period, and since the password last
    /// changed (a device an intruder used before a reset is not "known" after it).
    async fn seen_device(
        &self,
        account: &Account,
        client: &ClientInfo,
        now: time::OffsetDateTime,
    ) -> CoreResult<bool> {
        let ua = client.user_agent.as_deref().unwrap_or_default();
        let network = client.ip.map(truncate_ip).unwrap_or_default();
        let mut since = now - self.cfg.activity_ip_retention;
        if let Some(changed) = account.password_changed_at {
            since = since.max(changed);
        }
        Ok(self
            .store
            .seen_device(account.id, ua, &network, since)
            .await?)
    }

    /// Appends a security event without making the caller wait (or fail) on it.
    pub(crate) fn record_in_background(&self, event: SecurityEvent) {
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.record_event(&event).await {
                tracing::error!(error = %e, kind = event.kind.as_str(), "could not record a security event");
            }
        });
    }

    /// The signed-in capability for a presented cookie value, if the session is live.
    /// Served from the session cache when possible. Use is recorded (and a session
    /// without "Keep me signed in" extended) at most once a minute.
    pub async fn authenticate(&self, token: &str) -> CoreResult<SignedIn> {
        self.authenticate_as(token, false).await
    }

    /// Looks up a browser session (`app` false) or an app's access token (`app` true)
    /// and records its use at most once a minute.
    pub(crate) async fn authenticate_as(&self, token: &str, app: bool) -> CoreResult<SignedIn> {
        let (hash, who) = self.lookup(token, app).await?;
        let now = self.now();
        if now - who.session().last_seen_at < LAST_SEEN_EVERY {
            return Ok(who);
        }
        self.touch(hash, who, now).await
    }

    /// Like [`Steward::authenticate`] but without recording use: for sessions a browser
    /// holds but is not acting as (other accounts in the switcher), so that showing them
    /// does not keep them alive.
    pub async fn check_session(&self, token: &str) -> CoreResult<SignedIn> {
        Ok(self.lookup(token, false).await?.1)
    }

    /// A live session by token: a browser's (`app` false; an app's access token is no
    /// cookie) or an app's with a live access token (`app` true).
    async fn lookup(
        &self,
        token: &str,
        app: bool,
    ) -> CoreResult<(crate::secret::SecretHash, SignedIn)> {
        let hash = parse_secret(token).ok_or(CoreError::Unauthenticated)?;
        let now = self.now();
        let usable = |who: &SignedIn| match &who.session().app {
            None => !app,
            Some(a) => app && now < a.access_expires_at,
        };
        if let Some(who) = self.sessions.get(&hash, now) {
            return usable(&who)
                .then_some((hash, who))
                .ok_or(CoreError::Unauthenticated);
        }
        let epoch = self.sessions.epoch();
        let (session, account) = self
            .store
            .session_by_token(&hash, now)
            .await?
            .ok_or(CoreError::Unauthenticated)?;
        let who = SignedIn::new(session, account);
        self.sessions.put(hash.clone(), who.clone(), now, epoch);
        if !usable(&who) {
            return Err(CoreError::Unauthenticated);
        }
        Ok((hash, who))
    }

    async fn touch(
        &self,
        hash: crate::secret::SecretHash,
        mut who: SignedIn,
        now: time::OffsetDateTime,
    ) -> CoreResult<SignedIn> {
        let expires_at = extended_expiry(&self.cfg, who.session(), now);
        self.store
            .touch_session(who.session().id, now, expires_at, now - LAST_SEEN_EVERY)
            .await?;
        // Written here or by another node within the minute: either way it is in use now.
        let s = who.session_mut();
        s.last_seen_at = now;
        s.expires_at = s.expires_at.max(expires_at);
        self.sessions.refresh(&hash, who.clone());
        Ok(who)
    }

    /// Ends the current session.
    pub async fn sign_out(&self, who: &SignedIn, client: &ClientInfo) -> CoreResult<()> {
        let event = SecurityEvent::new(who.account().id, EventKind::SignedOut, client, self.now())
            .about(who.session());
        self.store
            .end_session(who.account().id, who.session().id, Some(&event))
            .await?;
        self.account_changed(who.account().id);
        tracing::info!(account = %who.account().id, session = %who.session().id, "signed out");
        Ok(())
    }

    /// Resolves an email or username to an account, ignoring case and look-alikes.
    pub(crate) async fn find_by_identifier(&self, identifier: &str) -> CoreResult<Option<Account>> {
        let raw = identifier.trim();
        if raw.is_empty() || raw.len() > MAX_IDENTIFIER {
            return Ok(None);
        }
        let key = normalise_identifier(raw);
        Ok(if key.contains('@') {
            self.store.account_by_email(&key).await?
        } else {
            self.store.account_by_username(&key).await?
        })
    }
}

/// The identifier as looked up and as counted by the sign-in throttle: one key for
/// every way of writing it (case, fullwidth, look-alikes from other scripts), so no
/// spelling buys extra guesses.
fn normalise_identifier(identifier: &str) -> String {
    let id: String = crate::text::nfkc(identifier.trim())
        .chars()
        .take(MAX_IDENTIFIER)
        .collect();
    if id.contains('@') {
        email_key(&id)
    } else {
        crate::text::fold_lookalikes(&id)
    }
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
