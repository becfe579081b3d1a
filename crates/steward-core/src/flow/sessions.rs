//! Active sessions and security activity: what a signed-in person sees about
//! where they are signed in and what happened to their account, and revoking.

use steward_proto::{SecurityActivity, SecurityEventView, SessionView};
use uuid::Uuid;

use crate::activity::{DEFAULT_PAGE, EventKind, MAX_PAGE, SecurityEvent};
use crate::error::{CoreError, CoreResult};
use crate::ports::TokenKind;
use crate::session::device::describe;
use crate::session::{ClientInfo, Session, SignedIn};
use crate::steward::Steward;

impl Steward {
    /// The signed-in account's live sessions, most recently used first, this one marked.
    pub async fn list_sessions(&self, who: &SignedIn) -> CoreResult<Vec<SessionView>> {
        let sessions = self.store.sessions_of(who.account().id, self.now()).await?;
        Ok(sessions
            .iter()
            .map(|s| self.session_view(s, s.id == who.session().id))
            .collect())
    }

    fn session_view(&self, s: &Session, current: bool) -> SessionView {
        SessionView {
            id: s.id,
            current,
            device: s.app.as_ref().map_or_else(
                || describe(s.user_agent.as_deref()),
                |a| a.client_name.clone(),
            ),
            ip: s.ip.clone(),
            location: self.locate(s.ip.as_deref()),
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            remember: s.remember,
        }
    }

    /// Ends one of the signed-in account's sessions (this one too, if named). A session
    /// of another account, or none, is `NotFound` alike.
    pub async fn revoke_session(
        &self,
        who: &SignedIn,
        id: Uuid,
        client: &ClientInfo,
    ) -> CoreResult<()> {
        let account_id = who.account().id;
        let now = self.now();
        let target = self
            .store
            .sessions_of(account_id, now)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(CoreError::NotFound("session"))?;
        let event = SecurityEvent::new(account_id, EventKind::SessionRevoked, client, now)
            .about(&target)
            .detail(describe(target.user_agent.as_deref()));
        if !self.store.end_session(account_id, id, Some(&event)).await? {
            return Err(CoreError::NotFound("session"));
        }
        self.account_changed(account_id);
        tracing::info!(account = %account_id, session = %id, "session revoked");
        Ok(())
    }

    /// Ends every session of the signed-in account but this one; returns how many.
    pub async fn revoke_other_sessions(
        &self,
        who: &SignedIn,
        client: &ClientInfo,
    ) -> CoreResult<u64> {
        let account_id = who.account().id;
        let now = self.now();
        let event = SecurityEvent::new(account_id, EventKind::SessionsRevoked, client, now)
            .about(who.session());
        let ended = self
            .store
            .end_sessions_except(account_id, Some(who.session().id), Some(&event))
            .await?;
        // Someone signed in elsewhere may have asked to move the account to their address.
        if self
            .store
            .void_tokens(account_id, TokenKind::ChangeEmail, now)
            .await?
            > 0
        {
            self.record_email_change_cancelled(account_id, client, "all other sessions revoked")
                .await;
        }
        self.account_changed(account_id);
        tracing::info!(account = %account_id, ended, "other sessions revoked");
        Ok(ended)
    }

    /// A page of the signed-in account's security activity, newest first.
    pub async fn security_activity(
        &self,
        who: &SignedIn,
        before: Option<Uuid>,
        limit: Option<u32>,
    ) -> CoreResult<SecurityActivity> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if limit == 0 || limit > MAX_PAGE {
            return Err(CoreError::field(
                "limit",
                format!("Ask for between 1 and {MAX_PAGE} events."),
            ));
        }
        // One more than asked tells whether there is a next page.
        let mut events = self
            .store
            .events(who.account().id, before, limit + 1)
            .await?;
        let more = events.len() > limit as usize;
        events.truncate(limit as usize);
        let next_before = more.then(|| events.last().map(|e| e.id)).flatten();
        Ok(SecurityActivity {
            events: events.iter().map(|e| self.event_view(e)).collect(),
            next_before,
        })
    }

    /// Says in the security activity that a pending email change was cancelled, and why.
    /// The cancellation stands even if this record cannot be written.
    pub(crate) async fn record_email_change_cancelled(
        &self,
        account_id: Uuid,
        client: &ClientInfo,
        why: &str,
    ) {
        let event = SecurityEvent::new(
            account_id,
            EventKind::EmailChangeCancelled,
            client,
            self.now(),
        )
        .detail(why);
        if let Err(e) = self.store.record_event(&event).await {
            tracing::error!(error = %e, "could not record a cancelled email change");
        }
        tracing::info!(account = %account_id, why, "pending email change cancelled");
    }

    fn event_view(&self, e: &SecurityEvent) -> SecurityEventView {
        let detail = match e.kind {
            EventKind::SessionsRevoked => e.detail.as_deref().map(|n| match n {
                "1" => "1 session".to_owned(),
                n => format!("{n} sessions"),
            }),
            _ => e.detail.clone(),
        };
        SecurityEventView {
            id: e.id,
            kind: e.kind.as_str().to_owned(),
            description: e.kind.describe().to_owned(),
            at: e.at,
            // Dropped together after the retention period.
            device: (e.user_agent.is_some() || e.ip.is_some())
                .then(|| describe(e.user_agent.as_deref())),
            ip: e.ip.clone(),
            location: self.locate(e.ip.as_deref()),
            detail,
        }
    }
}
