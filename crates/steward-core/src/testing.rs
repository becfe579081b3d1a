//! In-memory ports for unit tests of the use cases. Compiled only for tests.
//!
//! [`MemStore`] mirrors the semantics of the SQL store in `steward-store` (its
//! contract suite is what proves the real one): one mutex stands for one
//! transaction, so every port method is atomic here too. [`FixedMailer`]
//! renders mail as plain data so tests can read links and usernames back.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::account::Account;
use crate::activity::SecurityEvent;
use crate::error::StoreError;
use crate::mail::{Mail, MailRenderer, OutgoingMail};
use crate::ports::{
    AccountStore, ConsentRecord, EmailToken, NewAccount, OutboxStore, QueuedMail, SecurityStore,
    SessionStore, StoreResult, TokenKind, TokenStore,
};
use crate::secret::SecretHash;
use crate::session::Session;

/// Longest delivery error kept (as in the SQL store).
const MAX_ERROR: usize = 500;

/// All storage ports in memory.
#[derive(Debug, Default)]
pub(crate) struct MemStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    accounts: Vec<StoredAccount>,
    consents: Vec<ConsentRecord>,
    tokens: Vec<StoredToken>,
    sessions: Vec<Session>,
    events: Vec<SecurityEvent>,
    outbox: Vec<OutboxRow>,
    used_challenges: HashMap<[u8; 32], OffsetDateTime>,
    secrets: HashMap<String, Vec<u8>>,
    data_versions: HashMap<String, i64>,
    oauth: oauth::OAuthState,
    profiles: Vec<crate::profile::Profile>,
    /// Photos by id (`public` is read from the profile when asked).
    photos: Vec<(Uuid, crate::profile::StoredPhoto)>,
    /// Given-up usernames: (username, holder, until).
    username_holds: Vec<(String, Uuid, OffsetDateTime)>,
    prefs: Vec<(Uuid, crate::notify::Preference)>,
    notifications: Vec<crate::notify::Notification>,
}

#[derive(Debug)]
struct StoredAccount {
    account: Account,
    email_key: String,
}

#[derive(Debug)]
struct StoredToken {
    token: EmailToken,
    used_at: Option<OffsetDateTime>,
}

#[derive(Debug)]
struct OutboxRow {
    id: Uuid,
    mail: OutgoingMail,
    next_attempt_at: OffsetDateTime,
    locked_until: Option<OffsetDateTime>,
    attempts: i32,
    last_error: Option<String>,
}

impl State {
    fn enqueue(&mut self, mail: &OutgoingMail, now: OffsetDateTime) {
        self.outbox.push(OutboxRow {
            id: Uuid::now_v7(),
            mail: mail.clone(),
            next_attempt_at: now,
            locked_until: None,
            attempts: 0,
            last_error: None,
        });
    }

    fn account_mut(&mut self, id: Uuid) -> Option<&mut StoredAccount> {
        self.accounts.iter_mut().find(|a| a.account.id == id)
    }

    /// The unused, unexpired token of `kind` with this hash, sent to the account's
    /// current address (an email change's goes to the new one).
    fn live_token_mut(
        &mut self,
        kind: TokenKind,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> Option<&mut StoredToken> {
        let accounts = &self.accounts;
        self.tokens.iter_mut().find(|t| {
            t.token.kind == kind
                && &t.token.hash == hash
                && t.used_at.is_none()
                && t.token.expires_at > now
                && (kind == TokenKind::ChangeEmail
                    || accounts.iter().any(|a| {
                        a.account.id == t.token.account_id && a.email_key == t.token.email_key
                    }))
        })
    }

    /// Marks the unused tokens of `kind` of an account used; how many.
    fn void(&mut self, account_id: Uuid, kind: TokenKind, now: OffsetDateTime) -> u64 {
        let mut n = 0;
        for t in self.tokens.iter_mut().filter(|t| {
            t.token.account_id == account_id && t.token.kind == kind && t.used_at.is_none()
        }) {
            t.used_at = Some(now);
            n += 1;
        }
        n
    }

    fn insert_token(&mut self, token: &EmailToken) -> StoreResult<()> {
        if self
            .tokens
            .iter()
            .any(|t| t.token.id == token.id || t.token.hash == token.hash)
        {
            return Err(StoreError::Backend("duplicate email token".into()));
        }
        self.tokens.push(StoredToken {
            token: token.clone(),
            used_at: None,
        });
        Ok(())
    }
}

impl MemStore {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every message in the outbox, oldest first.
    pub(crate) fn mails(&self) -> Vec<OutgoingMail> {
        self.lock().outbox.iter().map(|r| r.mail.clone()).collect()
    }

    /// How many sessions an account has, live or expired.
    pub(crate) fn session_count(&self, account_id: Uuid) -> usize {
        self.lock()
            .sessions
            .iter()
            .filter(|s| s.account_id == account_id)
            .count()
    }

    /// Every security event of an account, oldest first.
    pub(crate) fn events_of(&self, account_id: Uuid) -> Vec<SecurityEvent> {
        self.lock()
            .events
            .iter()
            .filter(|e| e.account_id == account_id)
            .cloned()
            .collect()
    }

    /// How many accounts exist.
    /// Gives an account an address and key as an older version would have stored them.
    pub(crate) fn force_email(&self, account_id: Uuid, email: &str, key: &str) {
        if let Some(a) = self.lock().account_mut(account_id) {
            a.account.email = email.to_owned();
            a.email_key = key.to_owned();
        }
    }

    pub(crate) fn account_count(&self) -> usize {
        self.lock().accounts.len()
    }
}

#[async_trait]
impl AccountStore for MemStore {
    async fn create_account(&self, new: &NewAccount) -> StoreResult<()> {
        let mut st = self.lock();
        let a = &new.account;
        if st.accounts.iter().any(|s| s.email_key == new.email_key) {
            return Err(StoreError::EmailTaken);
        }
        if st.accounts.iter().any(|s| s.account.username == a.username) {
            return Err(StoreError::UsernameTaken);
        }
        if st.accounts.iter().any(|s| s.account.id == a.id) {
            return Err(StoreError::Backend("duplicate account id".into()));
        }
        // Check everything before changing anything: all or nothing.
        if st
            .tokens
            .iter()
            .any(|t| t.token.id == new.verification.id || t.token.hash == new.verification.hash)
        {
            return Err(StoreError::Backend("duplicate email token".into()));
        }
        st.accounts.push(StoredAccount {
            account: a.clone(),
            email_key: new.email_key.clone(),
        });
        st.consents.extend(new.consents.iter().cloned());
        st.insert_token(&new.verification)?;
        st.enqueue(&new.mail, a.created_at);
        st.events.push(new.event.clone());
        Ok(())
    }

    async fn account_by_id(&self, id: Uuid) -> StoreResult<Option<Account>> {
        Ok(self
            .lock()
            .accounts
            .iter()
            .find(|s| s.account.id == id)
            .map(|s| s.account.clone()))
    }

    async fn account_by_email(&self, email_key: &str) -> StoreResult<Option<Account>> {
        Ok(self
            .lock()
            .accounts
            .iter()
            .find(|s| s.email_key == email_key)
            .map(|s| s.account.clone()))
    }

    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        Ok(self
            .lock()
            .accounts
            .iter()
            .find(|s| s.account.username == username)
            .map(|s| s.account.clone()))
    }

    async fn update_password_hash(
        &self,
        account_id: Uuid,
        old: &str,
        new: &str,
    ) -> StoreResult<()> {
        if let Some(s) = self.lock().account_mut(account_id)
            && s.account.password_hash == old
        {
            s.account.password_hash = new.to_owned();
        }
        Ok(())
    }

    async fn change_password(
        &self,
        account_id: Uuid,
        phc: &str,
        keep: Option<Uuid>,
        mail: &OutgoingMail,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut st = self.lock();
        st.events.push(event.clone());
        if let Some(s) = st.account_mut(account_id) {
            s.account.password_hash = phc.to_owned();
            s.account.password_changed_at = Some(now);
        }
        st.sessions
            .retain(|s| s.account_id != account_id || keep == Some(s.id));
        st.tokens.retain(|t| {
            !(t.token.account_id == account_id
                && t.token.kind == TokenKind::ResetPassword
                && t.used_at.is_none())
        });
        let cancelled = st.void(account_id, TokenKind::ChangeEmail, now);
        st.enqueue(mail, now);
        Ok(cancelled > 0)
    }

    async fn consents(&self, account_id: Uuid) -> StoreResult<Vec<ConsentRecord>> {
        let mut out: Vec<ConsentRecord> = self
            .lock()
            .consents
            .iter()
            .filter(|c| c.account_id == account_id)
            .cloned()
            .collect();
        out.sort_by_key(|c| (c.at, c.id));
        Ok(out)
    }

    async fn change_username(
        &self,
        account_id: Uuid,
        new: &str,
        hold_until: OffsetDateTime,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut st = self.lock();
        let taken = st.accounts.iter().any(|a| a.account.username == new)
            || st
                .username_holds
                .iter()
                .any(|(u, a, until)| u == new && *a != account_id && *until > now);
        if taken {
            return Err(StoreError::UsernameTaken);
        }
        let Some(row) = st.accounts.iter_mut().find(|a| a.account.id == account_id) else {
            return Err(StoreError::Backend("no such account".into()));
        };
        let old = std::mem::replace(&mut row.account.username, new.to_owned());
        st.username_holds.retain(|(u, _, _)| u != new && *u != old);
        st.username_holds.push((old, account_id, hold_until));
        // As the SQL store: an account holds its 3 latest given-up names.
        let mut mine: Vec<(String, OffsetDateTime)> = st
            .username_holds
            .iter()
            .filter(|(_, a, _)| *a == account_id)
            .map(|(u, _, t)| (u.clone(), *t))
            .collect();
        mine.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let keep: Vec<String> = mine.into_iter().take(3).map(|(u, _)| u).collect();
        st.username_holds
            .retain(|(u, a, _)| *a != account_id || keep.contains(u));
        st.events.push(event.clone());
        Ok(())
    }

    async fn email_keys_after(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<(Uuid, String, String)>> {
        let st = self.lock();
        let mut rows: Vec<_> = st
            .accounts
            .iter()
            .filter(|a| after.is_none_or(|id| a.account.id > id))
            .map(|a| (a.account.id, a.account.email.clone(), a.email_key.clone()))
            .collect();
        rows.sort_by_key(|r| r.0);
        rows.truncate(limit as usize);
        Ok(rows)
    }

    async fn set_email_key(&self, account_id: Uuid, key: &str) -> StoreResult<()> {
        let mut st = self.lock();
        if st
            .accounts
            .iter()
            .any(|a| a.email_key == key && a.account.id != account_id)
        {
            return Err(StoreError::EmailTaken);
        }
        if let Some(a) = st.account_mut(account_id) {
            a.email_key = key.to_owned();
        }
        Ok(())
    }

    async fn username_hold(
        &self,
        username: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<(Uuid, String)>> {
        let st = self.lock();
        Ok(st
            .username_holds
            .iter()
            .find(|(u, _, until)| u == username && *until > now)
            .and_then(|(_, a, _)| {
                st.accounts
                    .iter()
                    .find(|x| x.account.id == *a)
                    .map(|x| (*a, x.account.username.clone()))
            }))
    }
}

#[async_trait]
impl TokenStore for MemStore {
    async fn issue_token(
        &self,
        token: &EmailToken,
        mails: &[OutgoingMail],
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut st = self.lock();
        // A newer link voids every older unused one of the same kind.
        let voided: Vec<StoredToken> = {
            let (gone, kept) = std::mem::take(&mut st.tokens).into_iter().partition(|t| {
                t.token.account_id == token.account_id
                    && t.token.kind == token.kind
                    && t.used_at.is_none()
            });
            st.tokens = kept;
            gone
        };
        if let Err(e) = st.insert_token(token) {
            st.tokens.extend(voided); // roll back
            return Err(e);
        }
        for mail in mails {
            st.enqueue(mail, now);
        }
        Ok(())
    }

    async fn issue_email_change(
        &self,
        token: &EmailToken,
        mails: &[OutgoingMail],
        session_id: Uuid,
        verified_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        {
            let st = self.lock();
            let hash_ok = st.accounts.iter().any(|a| {
                a.account.id == token.account_id && a.account.password_hash == verified_hash
            });
            let live = st.sessions.iter().any(|s| {
                s.id == session_id && s.account_id == token.account_id && s.expires_at > now
            });
            if !hash_ok || !live {
                return Ok(false);
            }
        }
        self.issue_token(token, mails, now).await?;
        Ok(true)
    }

    async fn confirm_email_change(
        &self,
        hash: &SecretHash,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<Option<String>> {
        let mut st = self.lock();
        let Some(t) = st
            .live_token_mut(TokenKind::ChangeEmail, hash, now)
            .filter(|t| t.token.account_id == event.account_id)
        else {
            return Ok(None);
        };
        let (key, Some(email)) = (t.token.email_key.clone(), t.token.new_email.clone()) else {
            return Ok(None);
        };
        let taken = st
            .accounts
            .iter()
            .any(|a| a.email_key == key && a.account.id != event.account_id);
        if taken {
            return Err(StoreError::EmailTaken);
        }
        if let Some(t) = st.live_token_mut(TokenKind::ChangeEmail, hash, now) {
            t.used_at = Some(now);
        }
        if let Some(a) = st.account_mut(event.account_id) {
            a.account.email = email.clone();
            a.email_key = key;
            a.account.email_verified_at = Some(now);
        }
        for t in st
            .tokens
            .iter_mut()
            .filter(|t| t.token.account_id == event.account_id && t.used_at.is_none())
        {
            t.used_at = Some(now);
        }
        st.events.push(event.clone());
        Ok(Some(email))
    }

    async fn peek_token(
        &self,
        kind: TokenKind,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Uuid>> {
        Ok(self
            .lock()
            .live_token_mut(kind, hash, now)
            .map(|t| t.token.account_id))
    }

    async fn confirm_email(
        &self,
        hash: &SecretHash,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut st = self.lock();
        let Some(t) = st.live_token_mut(TokenKind::VerifyEmail, hash, now) else {
            return Ok(false);
        };
        if t.token.account_id != event.account_id {
            return Ok(false);
        }
        t.used_at = Some(now);
        let (account_id, email_key) = (t.token.account_id, t.token.email_key.clone());
        // Confirms only the address the link was sent to, and keeps the first confirmation time.
        if let Some(s) = st.account_mut(account_id)
            && s.email_key == email_key
        {
            s.account.email_verified_at.get_or_insert(now);
        }
        st.events.push(event.clone());
        Ok(true)
    }

    async fn complete_reset(
        &self,
        hash: &SecretHash,
        phc: &str,
        mail: &OutgoingMail,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<Option<bool>> {
        let mut st = self.lock();
        let Some(t) = st.live_token_mut(TokenKind::ResetPassword, hash, now) else {
            return Ok(None);
        };
        t.used_at = Some(now);
        let account_id = t.token.account_id;
        if let Some(s) = st.account_mut(account_id) {
            s.account.password_hash = phc.to_owned();
            s.account.password_changed_at = Some(now);
        }
        st.sessions.retain(|s| s.account_id != account_id);
        let cancelled = st.void(account_id, TokenKind::ChangeEmail, now);
        st.enqueue(mail, now);
        st.events.push(event.clone());
        Ok(Some(cancelled > 0))
    }

    async fn void_tokens(
        &self,
        account_id: Uuid,
        kind: TokenKind,
        now: OffsetDateTime,
    ) -> StoreResult<u64> {
        Ok(self.lock().void(account_id, kind, now))
    }
}

#[async_trait]
impl SessionStore for MemStore {
    async fn create_session(
        &self,
        session: &Session,
        verified_hash: &str,
        events: &[SecurityEvent],
        mail: Option<&OutgoingMail>,
    ) -> StoreResult<bool> {
        let mut st = self.lock();
        if st
            .sessions
            .iter()
            .any(|s| s.id == session.id || s.token_hash == session.token_hash)
        {
            return Err(StoreError::Backend("duplicate session".into()));
        }
        if !st
            .accounts
            .iter()
            .any(|a| a.account.id == session.account_id && a.account.password_hash == verified_hash)
        {
            return Ok(false);
        }
        st.sessions.push(session.clone());
        st.events.extend(events.iter().cloned());
        if let Some(m) = mail {
            st.enqueue(m, session.created_at);
        }
        Ok(true)
    }

    async fn session_by_token(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Option<(Session, Account)>> {
        let st = self.lock();
        let Some(session) = st
            .sessions
            .iter()
            .find(|s| &s.token_hash == hash && s.expires_at > now)
        else {
            return Ok(None);
        };
        Ok(st
            .accounts
            .iter()
            .find(|a| a.account.id == session.account_id)
            .map(|a| (session.clone(), a.account.clone())))
    }

    async fn sessions_of(
        &self,
        account_id: Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Session>> {
        let mut out: Vec<Session> = self
            .lock()
            .sessions
            .iter()
            .filter(|s| s.account_id == account_id && s.expires_at > now)
            .cloned()
            .collect();
        out.sort_by_key(|s| std::cmp::Reverse((s.last_seen_at, s.id)));
        Ok(out)
    }

    async fn touch_session(
        &self,
        id: Uuid,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
        unless_after: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut st = self.lock();
        match st
            .sessions
            .iter_mut()
            .find(|s| s.id == id && s.last_seen_at <= unless_after)
        {
            Some(s) => {
                s.last_seen_at = now;
                s.expires_at = expires_at;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn end_session(
        &self,
        account_id: Uuid,
        id: Uuid,
        event: Option<&SecurityEvent>,
    ) -> StoreResult<bool> {
        let mut st = self.lock();
        let before = st.sessions.len();
        st.sessions
            .retain(|s| !(s.id == id && s.account_id == account_id));
        let ended = st.sessions.len() < before;
        if ended && let Some(e) = event {
            st.events.push(e.clone());
        }
        Ok(ended)
    }

    async fn end_sessions_except(
        &self,
        account_id: Uuid,
        keep: Option<Uuid>,
        event: Option<&SecurityEvent>,
    ) -> StoreResult<u64> {
        let mut st = self.lock();
        let before = st.sessions.len();
        st.sessions
            .retain(|s| s.account_id != account_id || keep == Some(s.id));
        let ended = (before - st.sessions.len()) as u64;
        if ended > 0
            && let Some(e) = event
        {
            st.events.push(e.clone().detail(ended.to_string()));
        }
        Ok(ended)
    }

    async fn purge_expired_sessions(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let mut st = self.lock();
        let before = st.sessions.len();
        st.sessions.retain(|s| s.expires_at > now);
        Ok((before - st.sessions.len()) as u64)
    }
}

#[async_trait]
impl OutboxStore for MemStore {
    async fn enqueue_mail(&self, mail: &OutgoingMail, now: OffsetDateTime) -> StoreResult<()> {
        self.lock().enqueue(mail, now);
        Ok(())
    }

    async fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: i64,
    ) -> StoreResult<Vec<QueuedMail>> {
        let mut st = self.lock();
        let mut due: Vec<&mut OutboxRow> = st
            .outbox
            .iter_mut()
            .filter(|r| r.next_attempt_at <= now && r.locked_until.is_none_or(|l| l <= now))
            .collect();
        due.sort_by_key(|r| r.next_attempt_at);
        Ok(due
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(0))
            .map(|r| {
                r.locked_until = Some(now + lease);
                r.attempts += 1;
                QueuedMail {
                    id: r.id,
                    mail: r.mail.clone(),
                    attempts: r.attempts,
                }
            })
            .collect())
    }

    async fn mail_sent(&self, id: Uuid) -> StoreResult<()> {
        self.lock().outbox.retain(|r| r.id != id);
        Ok(())
    }

    async fn mail_failed(
        &self,
        id: Uuid,
        retry_at: OffsetDateTime,
        error: &str,
    ) -> StoreResult<()> {
        if let Some(r) = self.lock().outbox.iter_mut().find(|r| r.id == id) {
            r.next_attempt_at = retry_at;
            r.locked_until = None;
            r.last_error = Some(error.chars().take(MAX_ERROR).collect());
        }
        Ok(())
    }

    async fn pending_mail(&self) -> StoreResult<i64> {
        Ok(i64::try_from(self.lock().outbox.len()).unwrap_or(i64::MAX))
    }
}

#[async_trait]
impl SecurityStore for MemStore {
    async fn use_challenge(
        &self,
        id: &[u8; 32],
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut st = self.lock();
        // Expired entries can never be replayed (the expiry is signed), so drop them as we go.
        st.used_challenges.retain(|_, exp| *exp > now);
        if st.used_challenges.contains_key(id) {
            return Ok(false);
        }
        st.used_challenges.insert(*id, expires_at);
        Ok(true)
    }

    async fn server_secret(&self, name: &str, fresh: Vec<u8>) -> StoreResult<Vec<u8>> {
        Ok(self
            .lock()
            .secrets
            .entry(name.to_owned())
            .or_insert(fresh)
            .clone())
    }

    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }

    async fn data_version(&self, name: &str) -> StoreResult<i64> {
        Ok(self.lock().data_versions.get(name).copied().unwrap_or(0))
    }

    async fn set_data_version(
        &self,
        name: &str,
        version: i64,
        _now: OffsetDateTime,
    ) -> StoreResult<()> {
        self.lock().data_versions.insert(name.to_owned(), version);
        Ok(())
    }
}

/// Renders mail as data: subject and kind are [`Mail::kind`], the text is the one
/// field a test needs (the link for confirmation and reset mail, the username for
/// reminders and "account exists", the recovery link for "password changed").
#[derive(Debug, Default)]
pub(crate) struct FixedMailer;

impl MailRenderer for FixedMailer {
    fn render(&self, mail: &Mail) -> OutgoingMail {
        let text = match mail {
            Mail::VerifyEmail { link, .. }
            | Mail::ResetPassword { link, .. }
            | Mail::ConfirmEmailChange { link, .. } => link.clone(),
            Mail::EmailChangeRequested { new_email, .. } => new_email.clone(),
            Mail::EmailInUse { signin_link, .. } => signin_link.clone(),
            Mail::AccountExists { username, .. } | Mail::UsernameReminder { username, .. } => {
                username.clone()
            }
            Mail::PasswordChanged { recovery_link, .. } => recovery_link.clone(),
            Mail::NewDevice { device, .. } => device.clone(),
        };
        OutgoingMail {
            to: mail.to().to_owned(),
            subject: mail.kind().to_owned(),
            html: text.clone(),
            text,
            kind: mail.kind().to_owned(),
            unsubscribe: mail.unsubscribe().map(str::to_owned),
        }
    }
}

mod activity;
mod notify;
mod oauth;
mod profile;
#[cfg(test)]
mod tests;
