//! Notification preferences and in-app notifications.

use async_trait::async_trait;
use sqlx::Row;
use steward_core::notify::{Category, Notification, Preference};
use steward_core::ports::{ConsentRecord, NotificationStore, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::consent_in_tx;
use crate::{SqlStore, Ts, backend};

/// The stored channel names ('static for [`Preference`]).
fn channel(s: &str) -> Option<&'static str> {
    match s {
        "email" => Some("email"),
        "in_app" => Some("in_app"),
        _ => None,
    }
}

#[async_trait]
impl NotificationStore for SqlStore {
    async fn notification_prefs(&self, account_id: Uuid) -> StoreResult<Vec<Preference>> {
        on_db!(self, read, |pool| {
            let rows = sqlx::query(
                "SELECT category, channel, enabled FROM notification_prefs WHERE account_id = $1",
            )
            .bind(account_id)
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            let mut out = Vec::new();
            for r in rows {
                let (cat, chan): (String, String) = (
                    r.try_get("category").map_err(backend)?,
                    r.try_get("channel").map_err(backend)?,
                );
                // Rows of categories or channels this version does not know are skipped.
                if let (Some(c), Some(ch)) = (Category::parse(&cat), channel(&chan)) {
                    out.push((c, ch, r.try_get("enabled").map_err(backend)?));
                }
            }
            Ok(out)
        })
    }

    async fn save_notification_prefs(
        &self,
        account_id: Uuid,
        prefs: &[Preference],
        consent: Option<&ConsentRecord>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await.map_err(backend)?;
            for (c, ch, on) in prefs {
                sqlx::query(
                    "INSERT INTO notification_prefs (account_id, category, channel, enabled, updated_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (account_id, category, channel) DO UPDATE SET enabled = excluded.enabled,
                       updated_at = excluded.updated_at",
                )
                .bind(account_id)
                .bind(c.as_str())
                .bind(*ch)
                .bind(*on)
                .bind(Ts(at))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
            if let Some(c) = consent {
                consent_in_tx!(tx, c)?;
            }
            tx.commit().await.map_err(backend)
        })
    }

    async fn add_notification(&self, n: &Notification) -> StoreResult<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO notifications (id, account_id, category, title, body, link, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(n.id)
            .bind(n.account_id)
            .bind(n.category.as_str())
            .bind(&n.title)
            .bind(&n.body)
            .bind(&n.link)
            .bind(Ts(n.created_at))
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(backend)
        })
    }

    async fn notifications(&self, account_id: Uuid, limit: u32) -> StoreResult<Vec<Notification>> {
        on_db!(self, read, |pool| {
            let rows = sqlx::query(
                "SELECT * FROM notifications WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(account_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            let mut out = Vec::new();
            for r in rows {
                let cat: String = r.try_get("category").map_err(backend)?;
                let Some(category) = Category::parse(&cat) else {
                    continue;
                };
                out.push(Notification {
                    id: r.try_get("id").map_err(backend)?,
                    account_id,
                    category,
                    title: r.try_get("title").map_err(backend)?,
                    body: r.try_get("body").map_err(backend)?,
                    link: r.try_get("link").map_err(backend)?,
                    created_at: r.try_get::<Ts, _>("created_at").map_err(backend)?.0,
                    read_at: r
                        .try_get::<Option<Ts>, _>("read_at")
                        .map_err(backend)?
                        .map(|t| t.0),
                });
            }
            Ok(out)
        })
    }

    async fn unread_notifications(&self, account_id: Uuid) -> StoreResult<u64> {
        on_db!(self, read, |pool| {
            let n: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM notifications WHERE account_id = $1 AND read_at IS NULL",
            )
            .bind(account_id)
            .fetch_one(pool)
            .await
            .and_then(|r| r.try_get("n"))
            .map_err(backend)?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    async fn mark_notifications_read(
        &self,
        account_id: Uuid,
        id: Option<Uuid>,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        on_db!(self, write, |pool| {
            sqlx::query(
                "UPDATE notifications SET read_at = $1
                 WHERE account_id = $2 AND read_at IS NULL AND ($3 IS NULL OR id = $3)",
            )
            .bind(Ts(at))
            .bind(account_id)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(backend)
        })
    }
}
