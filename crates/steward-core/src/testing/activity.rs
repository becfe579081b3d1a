//! The in-memory security activity log and (absent) change feed.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::MemStore;
use crate::activity::{EventKind, SecurityEvent};
use crate::ports::{ActivityStore, ChangeFeed, ChangeListener, StoreResult};

#[async_trait]
impl ActivityStore for MemStore {
    async fn record_event(&self, event: &SecurityEvent) -> StoreResult<()> {
        self.lock().events.push(event.clone());
        Ok(())
    }

    async fn events(
        &self,
        account_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<SecurityEvent>> {
        let mut out: Vec<SecurityEvent> = self
            .lock()
            .events
            .iter()
            .filter(|e| e.account_id == account_id && before.is_none_or(|b| e.id < b))
            .cloned()
            .collect();
        out.sort_by_key(|e| std::cmp::Reverse(e.id));
        out.truncate(limit as usize);
        Ok(out)
    }

    async fn seen_device(
        &self,
        account_id: Uuid,
        user_agent: &str,
        ip_network: &str,
        since: OffsetDateTime,
    ) -> StoreResult<bool> {
        Ok(self.lock().events.iter().any(|e| {
            e.account_id == account_id
                && matches!(e.kind, EventKind::SignedIn | EventKind::AccountCreated)
                && e.at >= since
                && e.user_agent.as_deref().unwrap_or_default() == user_agent
                && e.ip_network.as_deref().unwrap_or_default() == ip_network
        }))
    }

    async fn delete_events_before(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let mut st = self.lock();
        let n = st.events.len();
        st.events.retain(|e| e.at >= before);
        Ok((n - st.events.len()) as u64)
    }

    async fn drop_event_addresses_before(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let mut n = 0;
        for e in self.lock().events.iter_mut() {
            if e.at < before && (e.ip.is_some() || e.user_agent.is_some() || e.ip_network.is_some())
            {
                e.ip = None;
                e.ip_network = None;
                e.user_agent = None;
                n += 1;
            }
        }
        Ok(n)
    }
}

#[async_trait]
impl ChangeFeed for MemStore {
    async fn listen(&self) -> StoreResult<Option<Box<dyn ChangeListener>>> {
        Ok(None)
    }
}
