//! The in-memory notification store.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::MemStore;
use crate::notify::{Notification, Preference};
use crate::ports::{ConsentRecord, NotificationStore, StoreResult};

#[async_trait]
impl NotificationStore for MemStore {
    async fn notification_prefs(&self, account_id: Uuid) -> StoreResult<Vec<Preference>> {
        Ok(self
            .lock()
            .prefs
            .iter()
            .filter(|(a, _)| *a == account_id)
            .map(|(_, p)| *p)
            .collect())
    }

    async fn save_notification_prefs(
        &self,
        account_id: Uuid,
        prefs: &[Preference],
        consent: Option<&ConsentRecord>,
        _at: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut st = self.lock();
        for p in prefs {
            st.prefs
                .retain(|(a, q)| !(*a == account_id && q.0 == p.0 && q.1 == p.1));
            st.prefs.push((account_id, *p));
        }
        if let Some(c) = consent {
            st.consents.push(c.clone());
        }
        Ok(())
    }

    async fn add_notification(&self, n: &Notification) -> StoreResult<()> {
        self.lock().notifications.push(n.clone());
        Ok(())
    }

    async fn notifications(&self, account_id: Uuid, limit: u32) -> StoreResult<Vec<Notification>> {
        let mut v: Vec<_> = self
            .lock()
            .notifications
            .iter()
            .filter(|n| n.account_id == account_id)
            .cloned()
            .collect();
        v.sort_by_key(|n| std::cmp::Reverse(n.id));
        v.truncate(limit as usize);
        Ok(v)
    }

    async fn unread_notifications(&self, account_id: Uuid) -> StoreResult<u64> {
        Ok(self
            .lock()
            .notifications
            .iter()
            .filter(|n| n.account_id == account_id && n.read_at.is_none())
            .count() as u64)
    }

    async fn mark_notifications_read(
        &self,
        account_id: Uuid,
        id: Option<Uuid>,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        let mut n = 0;
        for x in self.lock().notifications.iter_mut().filter(|x| {
            x.account_id == account_id && x.read_at.is_none() && id.is_none_or(|i| i == x.id)
        }) {
            x.read_at = Some(at);
            n += 1;
        }
        Ok(n)
    }
}
