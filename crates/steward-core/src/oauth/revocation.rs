//! What an app may ask about or give back its tokens: introspection (RFC 7662)
//! and revocation (RFC 7009), for the calling client's own tokens only.

use steward_proto::oauth::IntrospectionResponse;

use crate::activity::{EventKind, SecurityEvent};
use crate::error::CoreResult;
use crate::oauth::token::ClientCredentials;
use crate::secret::parse_secret;
use crate::session::ClientInfo;
use crate::steward::Steward;

impl Steward {
    /// `POST /oauth/introspect`: whether a token of this client is live, and what it is.
    /// Tokens of other clients are reported inactive.
    pub async fn introspect(
        &self,
        creds: &ClientCredentials,
        token: &str,
    ) -> CoreResult<IntrospectionResponse> {
        let client = self.authenticate_client(creds).await?;
        let Some(hash) = parse_secret(token) else {
            return Ok(IntrospectionResponse::default());
        };
        let now = self.now();
        let found = match self.store.session_by_token(&hash, now).await? {
            Some((s, a))
                if s.app
                    .as_ref()
                    .is_some_and(|app| app.access_expires_at > now) =>
            {
                let exp = s.app.as_ref().map(|app| app.access_expires_at);
                Some((s, a, "access_token", exp))
            }
            _ => match self.store.refresh_token_session(&hash, now).await? {
                Some((s, a, false)) => {
                    let exp = Some(s.expires_at);
                    Some((s, a, "refresh_token", exp))
                }
                _ => None,
            },
        };
        let Some((session, account, kind, exp)) = found else {
            return Ok(IntrospectionResponse::default());
        };
        let Some(app) = session.app.filter(|a| a.client_id == client.id) else {
            return Ok(IntrospectionResponse::default());
        };
        Ok(IntrospectionResponse {
            active: true,
            scope: Some(app.scope),
            client_id: Some(app.client_id),
            username: Some(account.username),
            token_type: Some(kind.into()),
            exp: exp.map(|t| t.unix_timestamp()),
            iat: (kind == "access_token")
                .then(|| (app.access_expires_at - self.cfg.oauth_access_ttl).unix_timestamp()),
            sub: Some(account.id.to_string()),
            iss: Some(self.issuer().to_owned()),
        })
    }

    /// `POST /oauth/revoke` (RFC 7009): a refresh token ends its whole sign-in; an
    /// access token stops working (its refresh token still can get a new one).
    /// Unknown tokens and other clients' tokens are ignored, as the RFC asks.
    pub async fn revoke_token(
        &self,
        creds: &ClientCredentials,
        token: &str,
        from: &ClientInfo,
    ) -> CoreResult<()> {
        let client = self.authenticate_client(creds).await?;
        let Some(hash) = parse_secret(token) else {
            return Ok(());
        };
        let now = self.now();
        if let Some((session, _, _)) = self.store.refresh_token_session(&hash, now).await? {
            if session
                .app
                .as_ref()
                .is_some_and(|a| a.client_id == client.id)
            {
                let event = SecurityEvent::new(session.account_id, EventKind::SignedOut, from, now)
                    .about(&session)
                    .detail(client.name.clone());
                self.store
                    .end_session(session.account_id, session.id, Some(&event))
                    .await?;
                self.account_changed(session.account_id);
            }
            return Ok(());
        }
        if let Some((session, _)) = self.store.session_by_token(&hash, now).await?
            && session
                .app
                .as_ref()
                .is_some_and(|a| a.client_id == client.id)
        {
            self.store.expire_access_token(&hash, now).await?;
            self.account_changed(session.account_id);
        }
        Ok(())
    }
}
