//! The in-memory profile store.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::MemStore;
use crate::ports::{ProfileStore, StoreResult};
use crate::profile::{Profile, StoredPhoto};

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
        // The photo and the onboarding mark are kept: they are not part of the form.
        let before = st
            .profiles
            .iter()
            .find(|p| p.account_id == profile.account_id)
            .cloned()
            .unwrap_or_default();
        st.profiles.retain(|p| p.account_id != profile.account_id);
        st.profiles.push(Profile {
            photo_id: before.photo_id,
            onboarded_at: before.onboarded_at,
            ..profile.clone()
        });
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

    async fn save_photo(
        &self,
        account_id: Uuid,
        id: Uuid,
        large: &[u8],
        small: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut st = self.lock();
        st.photos.retain(|(_, p)| p.account_id != account_id);
        st.photos.push((
            id,
            StoredPhoto {
                account_id,
                public: false,
                large: large.to_vec(),
                small: small.to_vec(),
            },
        ));
        match st.profiles.iter_mut().find(|p| p.account_id == account_id) {
            Some(p) => p.photo_id = Some(id),
            None => st.profiles.push(Profile {
                account_id,
                photo_id: Some(id),
                updated_at: Some(at),
                ..Profile::default()
            }),
        }
        Ok(())
    }

    async fn mark_onboarded(&self, account_id: Uuid, at: OffsetDateTime) -> StoreResult<()> {
        let mut st = self.lock();
        match st.profiles.iter_mut().find(|p| p.account_id == account_id) {
            Some(p) => {
                p.onboarded_at.get_or_insert(at);
            }
            None => st.profiles.push(Profile {
                account_id,
                onboarded_at: Some(at),
                updated_at: Some(at),
                ..Profile::default()
            }),
        }
        Ok(())
    }

    async fn delete_photo(&self, account_id: Uuid) -> StoreResult<bool> {
        let mut st = self.lock();
        let before = st.photos.len();
        st.photos.retain(|(_, p)| p.account_id != account_id);
        if let Some(p) = st.profiles.iter_mut().find(|p| p.account_id == account_id) {
            p.photo_id = None;
        }
        Ok(st.photos.len() < before)
    }

    async fn photo(&self, id: Uuid) -> StoreResult<Option<StoredPhoto>> {
        let st = self.lock();
        Ok(st
            .photos
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, photo)| StoredPhoto {
                public: st
                    .profiles
                    .iter()
                    .any(|p| p.account_id == photo.account_id && p.public),
                ..photo.clone()
            }))
    }
}
