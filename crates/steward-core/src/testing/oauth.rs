//! The in-memory OAuth store. Rows that hang off a session (refresh tokens) are
//! found through the session, so ending a session ends them as the SQL cascade does.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::MemStore;
use crate::account::Account;
use crate::activity::SecurityEvent;
use crate::error::StoreError;
use crate::ports::{
    AuthCode, DeviceDecision, DeviceGrant, Disclosure, OAuthConsent, OAuthStore, Redeemed,
    RegisteredClient, Rotation, StoreResult, StoredKey, StoredRequest,
};
use crate::secret::SecretHash;
use crate::session::Session;

#[derive(Debug, Default)]
pub(super) struct OAuthState {
    clients: Vec<RegisteredClient>,
    requests: Vec<(SecretHash, StoredRequest)>,
    codes: Vec<(AuthCode, Option<OffsetDateTime>, Option<Uuid>)>,
    refresh: Vec<(SecretHash, Uuid, Option<OffsetDateTime>)>,
    devices: Vec<DeviceGrant>,
    consents: Vec<OAuthConsent>,
    disclosures: Vec<Disclosure>,
    keys: Vec<StoredKey>,
}

impl MemStore {
    fn live_session(&self, id: Uuid, now: OffsetDateTime) -> Option<(Session, Account)> {
        let st = self.lock();
        let s = st
            .sessions
            .iter()
            .find(|s| s.id == id && s.expires_at > now)?;
        let a = st.accounts.iter().find(|a| a.account.id == s.account_id)?;
        Some((s.clone(), a.account.clone()))
    }
}

#[async_trait]
impl OAuthStore for MemStore {
    async fn create_client(&self, client: &RegisteredClient) -> StoreResult<()> {
        self.lock().oauth.clients.push(client.clone());
        Ok(())
    }

    async fn client(&self, id: &str) -> StoreResult<Option<RegisteredClient>> {
        Ok(self
            .lock()
            .oauth
            .clients
            .iter()
            .find(|c| c.id == id)
            .cloned())
    }

    async fn clients_of(&self, owner_id: Uuid) -> StoreResult<Vec<RegisteredClient>> {
        let mut v: Vec<_> = self
            .lock()
            .oauth
            .clients
            .iter()
            .filter(|c| c.owner_id == owner_id)
            .cloned()
            .collect();
        v.reverse();
        Ok(v)
    }

    async fn delete_client(&self, owner_id: Uuid, id: &str) -> StoreResult<bool> {
        let mut st = self.lock();
        let before = st.oauth.clients.len();
        st.oauth
            .clients
            .retain(|c| !(c.id == id && c.owner_id == owner_id));
        if st.oauth.clients.len() == before {
            return Ok(false);
        }
        st.oauth.consents.retain(|c| c.client_id != id);
        st.sessions
            .retain(|s| s.app.as_ref().is_none_or(|a| a.client_id != id));
        Ok(true)
    }

    async fn save_request(&self, handle: &SecretHash, request: &StoredRequest) -> StoreResult<()> {
        self.lock()
            .oauth
            .requests
            .push((handle.clone(), request.clone()));
        Ok(())
    }

    async fn request(&self, handle: &SecretHash) -> StoreResult<Option<StoredRequest>> {
        Ok(self
            .lock()
            .oauth
            .requests
            .iter()
            .find(|(h, _)| h == handle)
            .map(|(_, r)| r.clone()))
    }

    async fn issue_code(
        &self,
        handle: &SecretHash,
        code: &AuthCode,
        consent: Option<&OAuthConsent>,
        disclosure: Option<&Disclosure>,
        event: &SecurityEvent,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut st = self.lock();
        let Some((_, req)) = st
            .oauth
            .requests
            .iter_mut()
            .find(|(h, r)| h == handle && r.used_at.is_none() && r.expires_at > now)
        else {
            return Ok(false);
        };
        req.used_at = Some(now);
        st.oauth.codes.push((code.clone(), None, None));
        if let Some(c) = consent {
            st.oauth
                .consents
                .retain(|x| !(x.account_id == c.account_id && x.client_id == c.client_id));
            st.oauth.consents.push(c.clone());
        }
        if let Some(d) = disclosure {
            st.oauth.disclosures.push(d.clone());
        }
        st.events.push(event.clone());
        Ok(true)
    }

    async fn peek_code(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Redeemed<AuthCode>> {
        let st = self.lock();
        let Some((code, used, session)) = st.oauth.codes.iter().find(|(c, _, _)| &c.hash == hash)
        else {
            return Ok(Redeemed::Unknown);
        };
        if used.is_some() {
            return Ok(Redeemed::Replayed {
                account_id: code.account_id,
                session_id: *session,
            });
        }
        if code.expires_at <= now {
            return Ok(Redeemed::Unknown);
        }
        Ok(Redeemed::Fresh(code.clone()))
    }

    async fn create_app_session(
        &self,
        session: &Session,
        refresh: Option<&SecretHash>,
        code: Option<&SecretHash>,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut st = self.lock();
        if let Some(h) = code {
            let Some(row) = st
                .oauth
                .codes
                .iter_mut()
                .find(|(c, used, _)| &c.hash == h && used.is_none() && c.expires_at > now)
            else {
                return Ok(false);
            };
            row.1 = Some(now);
            row.2 = Some(session.id);
        }
        st.sessions.push(session.clone());
        if let Some(r) = refresh {
            st.oauth.refresh.push((r.clone(), session.id, None));
        }
        Ok(true)
    }

    async fn refresh_token_session(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Option<(Session, Account, bool)>> {
        let found = self
            .lock()
            .oauth
            .refresh
            .iter()
            .find(|(h, _, _)| h == hash)
            .map(|(_, s, used)| (*s, used.is_some()));
        Ok(found.and_then(|(id, used)| self.live_session(id, now).map(|(s, a)| (s, a, used))))
    }

    async fn rotate_refresh_token(
        &self,
        old: &SecretHash,
        session_id: Uuid,
        r: &Rotation,
    ) -> StoreResult<bool> {
        let mut st = self.lock();
        let Some(row) = st
            .oauth
            .refresh
            .iter_mut()
            .find(|(h, s, used)| h == old && *s == session_id && used.is_none())
        else {
            return Ok(false);
        };
        row.2 = Some(r.at);
        st.oauth.refresh.push((r.refresh.clone(), session_id, None));
        let s = st
            .sessions
            .iter_mut()
            .find(|s| s.id == session_id)
            .ok_or_else(|| StoreError::Backend("session gone".into()))?;
        s.token_hash = r.access.clone();
        s.expires_at = r.expires_at;
        s.last_seen_at = r.at;
        if let Some(app) = s.app.as_mut() {
            app.access_expires_at = r.access_expires_at;
        }
        Ok(true)
    }

    async fn expire_access_token(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut st = self.lock();
        let Some(app) = st
            .sessions
            .iter_mut()
            .find(|s| &s.token_hash == hash)
            .and_then(|s| s.app.as_mut())
            .filter(|a| a.access_expires_at > now)
        else {
            return Ok(false);
        };
        app.access_expires_at = now;
        Ok(true)
    }

    async fn create_device_grant(&self, grant: &DeviceGrant) -> StoreResult<()> {
        self.lock().oauth.devices.push(grant.clone());
        Ok(())
    }

    async fn device_grant_by_user_code(
        &self,
        user_code: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<DeviceGrant>> {
        Ok(self
            .lock()
            .oauth
            .devices
            .iter()
            .find(|g| g.user_code == user_code && g.expires_at > now)
            .cloned())
    }

    async fn device_grant(&self, device_hash: &SecretHash) -> StoreResult<Option<DeviceGrant>> {
        Ok(self
            .lock()
            .oauth
            .devices
            .iter()
            .find(|g| &g.device_hash == device_hash)
            .cloned())
    }

    async fn decide_device_grant(
        &self,
        user_code: &str,
        decision: &DeviceDecision,
        consent: Option<&OAuthConsent>,
        disclosure: Option<&Disclosure>,
        event: Option<&SecurityEvent>,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut st = self.lock();
        let Some(g) = st
            .oauth
            .devices
            .iter_mut()
            .find(|g| g.user_code == user_code && g.expires_at > now && g.decision.is_none())
        else {
            return Ok(false);
        };
        g.decision = Some(decision.clone());
        if let Some(c) = consent {
            st.oauth
                .consents
                .retain(|x| !(x.account_id == c.account_id && x.client_id == c.client_id));
            st.oauth.consents.push(c.clone());
        }
        if let Some(d) = disclosure {
            st.oauth.disclosures.push(d.clone());
        }
        if let Some(e) = event {
            st.events.push(e.clone());
        }
        Ok(true)
    }

    async fn record_device_poll(
        &self,
        device_hash: &SecretHash,
        at: OffsetDateTime,
        interval_secs: i64,
    ) -> StoreResult<()> {
        if let Some(g) = self
            .lock()
            .oauth
            .devices
            .iter_mut()
            .find(|g| &g.device_hash == device_hash)
        {
            g.last_poll_at = Some(at);
            g.interval_secs = interval_secs;
        }
        Ok(())
    }

    async fn take_device_grant(&self, device_hash: &SecretHash) -> StoreResult<bool> {
        let mut st = self.lock();
        let before = st.oauth.devices.len();
        st.oauth.devices.retain(|g| &g.device_hash != device_hash);
        Ok(st.oauth.devices.len() < before)
    }

    async fn consent(
        &self,
        account_id: Uuid,
        client_id: &str,
    ) -> StoreResult<Option<OAuthConsent>> {
        Ok(self
            .lock()
            .oauth
            .consents
            .iter()
            .find(|c| c.account_id == account_id && c.client_id == client_id)
            .cloned())
    }

    async fn consents_of(
        &self,
        account_id: Uuid,
    ) -> StoreResult<Vec<(OAuthConsent, RegisteredClient)>> {
        let st = self.lock();
        let mut v: Vec<_> = st
            .oauth
            .consents
            .iter()
            .filter(|c| c.account_id == account_id)
            .filter_map(|c| {
                let client = st.oauth.clients.iter().find(|k| k.id == c.client_id)?;
                Some((c.clone(), client.clone()))
            })
            .collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.0.granted_at));
        Ok(v)
    }

    async fn revoke_consent(
        &self,
        account_id: Uuid,
        client_id: &str,
        event: &SecurityEvent,
    ) -> StoreResult<bool> {
        let mut st = self.lock();
        let before = (st.oauth.consents.len(), st.sessions.len());
        st.oauth
            .consents
            .retain(|c| !(c.account_id == account_id && c.client_id == client_id));
        st.sessions.retain(|s| {
            s.account_id != account_id || s.app.as_ref().is_none_or(|a| a.client_id != client_id)
        });
        let changed = (st.oauth.consents.len(), st.sessions.len()) != before;
        if changed {
            st.events.push(event.clone());
        }
        Ok(changed)
    }

    async fn disclosures(&self, account_id: Uuid) -> StoreResult<Vec<Disclosure>> {
        let mut v: Vec<_> = self
            .lock()
            .oauth
            .disclosures
            .iter()
            .filter(|d| d.account_id == account_id)
            .cloned()
            .collect();
        v.reverse();
        Ok(v)
    }

    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>> {
        Ok(self.lock().oauth.keys.clone())
    }

    async fn add_signing_key(&self, key: &StoredKey) -> StoreResult<()> {
        self.lock().oauth.keys.push(key.clone());
        Ok(())
    }

    async fn delete_signing_keys_before(
        &self,
        alg: &str,
        before: OffsetDateTime,
    ) -> StoreResult<u64> {
        let mut st = self.lock();
        let n = st.oauth.keys.len();
        st.oauth
            .keys
            .retain(|k| k.alg != alg || k.created_at >= before);
        Ok((n - st.oauth.keys.len()) as u64)
    }

    async fn purge_oauth(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let mut st = self.lock();
        let n = st.oauth.requests.len() + st.oauth.codes.len() + st.oauth.devices.len();
        st.oauth.requests.retain(|(_, r)| r.expires_at > now);
        st.oauth.codes.retain(|(c, _, _)| c.expires_at > now);
        st.oauth.devices.retain(|g| g.expires_at > now);
        Ok((n - st.oauth.requests.len() - st.oauth.codes.len() - st.oauth.devices.len()) as u64)
    }
}
