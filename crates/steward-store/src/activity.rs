//! The security activity log, and the events other writes record in their transaction.

use async_trait::async_trait;
use sqlx::Row;
use steward_core::activity::{EventKind, SecurityEvent};
use steward_core::ports::{ActivityStore, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{SqlStore, Ts, backend};

/// Appends a [`SecurityEvent`] inside an open transaction (or on a pool).
macro_rules! record_in_tx {
    ($tx:expr, $event:expr) => {{
        let e: &steward_core::activity::SecurityEvent = $event;
        sqlx::query(
            "INSERT INTO security_events (id, account_id, kind, created_at, ip, ip_network, user_agent, session_id, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(e.id)
        .bind(e.account_id)
        .bind(e.kind.as_str())
        .bind(crate::Ts(e.at))
        .bind(&e.ip)
        .bind(&e.ip_network)
        .bind(&e.user_agent)
        .bind(e.session_id)
        .bind(&e.detail)
        .execute(&mut *$tx)
        .await
        .map_err(crate::backend)
    }};
}
pub(crate) use record_in_tx;

macro_rules! event_from_row {
    ($row:expr) => {{
        let r = $row;
        let kind: String = r.try_get("kind")?;
        SecurityEvent {
            id: r.try_get("id")?,
            account_id: r.try_get("account_id")?,
            kind: EventKind::parse(&kind)
                .ok_or_else(|| sqlx::Error::Decode(format!("unknown event kind {kind}").into()))?,
            at: r.try_get::<Ts, _>("created_at")?.0,
            ip: r.try_get("ip")?,
            ip_network: r.try_get("ip_network")?,
            user_agent: r.try_get("user_agent")?,
            session_id: r.try_get("session_id")?,
            detail: r.try_get("detail")?,
        }
    }};
}

#[async_trait]
impl ActivityStore for SqlStore {
    async fn record_event(&self, event: &SecurityEvent) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            let mut conn = pool.acquire().await.map_err(backend)?;
            record_in_tx!(conn, event).map(|_| ())
        })
    }

    async fn events(
        &self,
        account_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<SecurityEvent>> {
        on_db!(self, read, |pool| {
            let rows = sqlx::query(
                "SELECT id, account_id, kind, created_at, ip, ip_network, user_agent, session_id, detail
                 FROM security_events
                 WHERE account_id = $1 AND ($2 IS NULL OR id < $2)
                 ORDER BY id DESC LIMIT $3",
            )
            .bind(account_id)
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            rows.iter()
                .map(|r| -> Result<SecurityEvent, sqlx::Error> { Ok(event_from_row!(r)) })
                .collect::<Result<_, _>>()
                .map_err(backend)
        })
    }

    async fn seen_device(
        &self,
        account_id: Uuid,
        user_agent: &str,
        ip_network: &str,
        since: OffsetDateTime,
    ) -> StoreResult<bool> {
        on_db!(self, read, |pool| {
            sqlx::query(
                "SELECT 1 FROM security_events
                 WHERE account_id = $1 AND kind IN ('signed_in', 'account_created') AND created_at >= $2
                   AND COALESCE(user_agent, '') = $3 AND COALESCE(ip_network, '') = $4
                 LIMIT 1",
            )
            .bind(account_id)
            .bind(Ts(since))
            .bind(user_agent)
            .bind(ip_network)
            .fetch_optional(pool)
            .await
            .map(|r| r.is_some())
            .map_err(backend)
        })
    }

    async fn delete_events_before(&self, before: OffsetDateTime) -> StoreResult<u64> {
        on_db!(self, write, |pool| {
            sqlx::query("DELETE FROM security_events WHERE created_at < $1")
                .bind(Ts(before))
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(backend)
        })
    }

    async fn drop_event_addresses_before(&self, before: OffsetDateTime) -> StoreResult<u64> {
        on_db!(self, write, |pool| {
            sqlx::query(
                "UPDATE security_events SET ip = NULL, ip_network = NULL, user_agent = NULL
                 WHERE created_at < $1 AND (ip IS NOT NULL OR ip_network IS NOT NULL OR user_agent IS NOT NULL)",
            )
            .bind(Ts(before))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(backend)
        })
    }
}
