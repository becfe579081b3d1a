//! The in-memory profile store.

use async_trait::async_trait;
use uuid::Uuid;

use super::MemStore;
use crate::ports::{ProfileStore, StoreResult};
use crate::profile::Profile;

#[async_trait]
impl ProfileStore for MemStore {
    async fn profile(&self, account_id: Uuid) -> StoreResult<Option<Profile>> {
        Ok(self
            .lock()
            .profiles
            .iter()
            .find(|p| p.account_id == account_id)
            .cloned())
    }

    async fn save_profile(&self, profile: &Profile) -> StoreResult<()> {
        let mut st = self.lock();
        st.profiles.retain(|p| p.account_id != profile.account_id);
        st.profiles.push(profile.clone());
        Ok(())
    }

    async fn public_profile(&self, username: &str) -> StoreResult<Option<(String, Profile)>> {
        let st = self.lock();
        let Some(account) = st.accounts.iter().find(|a| a.account.username == username) else {
            return Ok(None);
        };
        Ok(st
            .profiles
            .iter()
            .find(|p| p.account_id == account.account.id && p.public)
            .map(|p| (account.account.username.clone(), p.clone())))
    }
}
