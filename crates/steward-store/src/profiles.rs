//! Profiles.

use async_trait::async_trait;
use sqlx::Row;
use steward_core::ports::{ProfileStore, StoreResult};
use steward_core::profile::{Profile, StoredPhoto};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{SqlStore, Ts, backend};

macro_rules! profile_from_row {
    ($r:expr) => {{
        let r = $r;
        Profile {
            account_id: r.try_get("account_id")?,
            name: r.try_get("name")?,
            about: r.try_get("about")?,
            role: r.try_get("role")?,
            company: r.try_get("company")?,
            website: r.try_get("website")?,
            github: r.try_get("github")?,
            x: r.try_get("x")?,
            linkedin: r.try_get("linkedin")?,
            public: r.try_get("public")?,
            photo_id: r.try_get("photo_id")?,
            onboarded_at: r.try_get::<Option<Ts>, _>("onboarded_at")?.map(|t| t.0),
            updated_at: Some(r.try_get::<Ts, _>("updated_at")?.0),
        }
    }};
}

#[async_trait]
impl ProfileStore for SqlStore {
    async fn profile(&self, account_id: Uuid) -> StoreResult<Option<Profile>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query("SELECT * FROM profiles WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            row.map(|r| -> Result<Profile, sqlx::Error> { Ok(profile_from_row!(&r)) })
                .transpose()
                .map_err(backend)
        })
    }

    async fn save_profile(&self, p: &Profile) -> StoreResult<()> {
        let at = p.updated_at.unwrap_or_else(OffsetDateTime::now_utc);
        on_db!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO profiles (account_id, name, about, role, company, website, github, x, linkedin, public, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (account_id) DO UPDATE SET name = excluded.name, about = excluded.about,
                   role = excluded.role, company = excluded.company, website = excluded.website,
                   github = excluded.github, x = excluded.x, linkedin = excluded.linkedin,
                   public = excluded.public, updated_at = excluded.updated_at",
            )
            .bind(p.account_id)
            .bind(&p.name)
            .bind(&p.about)
            .bind(&p.role)
            .bind(&p.company)
            .bind(&p.website)
            .bind(&p.github)
            .bind(&p.x)
            .bind(&p.linkedin)
            .bind(p.public)
            .bind(Ts(at))
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(backend)
        })
    }

    async fn public_profile(&self, username: &str) -> StoreResult<Option<(String, Profile)>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query(
                "SELECT a.username, p.* FROM accounts a JOIN profiles p ON p.account_id = a.id
                 WHERE a.username = $1 AND p.public",
            )
            .bind(username)
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
            row.map(|r| -> Result<(String, Profile), sqlx::Error> {
                Ok((r.try_get("username")?, profile_from_row!(&r)))
            })
            .transpose()
            .map_err(backend)
        })
    }

    async fn save_photo(
        &self,
        account_id: Uuid,
        id: Uuid,
        large: &[u8],
        small: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            sqlx::query("DELETE FROM profile_photos WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            sqlx::query(
                "INSERT INTO profile_photos (id, account_id, large, small, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(account_id)
            .bind(large)
            .bind(small)
            .bind(Ts(at))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            sqlx::query(
                "INSERT INTO profiles (account_id, photo_id, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (account_id) DO UPDATE SET photo_id = excluded.photo_id, updated_at = excluded.updated_at",
            )
            .bind(account_id)
            .bind(id)
            .bind(Ts(at))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn mark_onboarded(&self, account_id: Uuid, at: OffsetDateTime) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO profiles (account_id, onboarded_at, updated_at) VALUES ($1, $2, $2)
                 ON CONFLICT (account_id) DO UPDATE SET onboarded_at = COALESCE(profiles.onboarded_at, excluded.onboarded_at)",
            )
            .bind(account_id)
            .bind(Ts(at))
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(backend)
        })
    }

    async fn delete_photo(&self, account_id: Uuid) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            let deleted = sqlx::query("DELETE FROM profile_photos WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected()
                > 0;
            sqlx::query("UPDATE profiles SET photo_id = NULL WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
            Ok(deleted)
        })
    }

    async fn photo(&self, id: Uuid) -> StoreResult<Option<StoredPhoto>> {
        on_db!(self, read, |pool| {
            let row = sqlx::query(
                "SELECT ph.account_id, ph.large, ph.small, COALESCE(p.public, FALSE) AS public
                 FROM profile_photos ph LEFT JOIN profiles p ON p.account_id = ph.account_id
                 WHERE ph.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
            row.map(|r| -> Result<StoredPhoto, sqlx::Error> {
                Ok(StoredPhoto {
                    account_id: r.try_get("account_id")?,
                    public: r.try_get("public")?,
                    large: r.try_get("large")?,
                    small: r.try_get("small")?,
                })
            })
            .transpose()
            .map_err(backend)
        })
    }
}
