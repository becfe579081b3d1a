//! Replay protection for proof-of-work answers, shared server secrets, health.

use async_trait::async_trait;
use sqlx::Row;
use steward_core::ports::{SecurityStore, StoreResult};
use time::OffsetDateTime;

use crate::{SqlStore, Ts, backend};

#[async_trait]
impl SecurityStore for SqlStore {
    async fn use_challenge(
        &self,
        id: &[u8; 32],
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        on_db!(self, write, |pool| {
            // Expired entries can never be replayed (the expiry is signed), so drop them as we go.
            sqlx::query("DELETE FROM used_challenges WHERE expires_at <= $1")
                .bind(Ts(now))
                .execute(pool)
                .await
                .map_err(backend)?;
            let inserted = sqlx::query("INSERT INTO used_challenges (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
                .bind(&id[..])
                .bind(Ts(expires_at))
                .execute(pool)
                .await
                .map_err(backend)?;
            Ok(inserted.rows_affected() == 1)
        })
    }

    async fn server_secret(&self, name: &str, fresh: Vec<u8>) -> StoreResult<Vec<u8>> {
        on_db!(self, write, |pool| {
            sqlx::query("INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(&fresh)
                .bind(Ts(OffsetDateTime::now_utc()))
                .execute(pool)
                .await
                .map_err(backend)?;
            sqlx::query("SELECT value FROM server_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(pool)
                .await
                .and_then(|r| r.try_get::<Vec<u8>, _>("value"))
                .map_err(backend)
        })
    }

    async fn data_version(&self, name: &str) -> StoreResult<i64> {
        on_db!(self, read, |pool| {
            let row = sqlx::query("SELECT version FROM data_versions WHERE name = $1")
                .bind(name)
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            row.map_or(Ok(0), |r| r.try_get::<i64, _>("version"))
                .map_err(backend)
        })
    }

    async fn set_data_version(
        &self,
        name: &str,
        version: i64,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO data_versions (name, version, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at",
            )
            .bind(name)
            .bind(version)
            .bind(Ts(now))
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(backend)
        })
    }

    async fn ping(&self) -> StoreResult<()> {
        on_db!(self, read, |pool| {
            sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(backend)
        })
    }
}
