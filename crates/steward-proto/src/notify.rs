//! Notification preferences and in-app notifications.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// One category's channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PreferenceRow {
    /// `security`, `usage`, `monitors` or `comments`.
    pub category: String,
    /// Send email.
    pub email: bool,
    /// Show in the app (the bell).
    pub in_app: bool,
}

/// `GET /api/v1/me/notification-preferences`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotificationPreferences {
    /// Every category, in order.
    pub categories: Vec<PreferenceRow>,
    /// Product news and offers by email (opt-in, recorded as consent).
    pub marketing_email: bool,
    /// Emails that protect the account and always go out, whatever the settings.
    pub always_sent: Vec<String>,
}

/// `PUT /api/v1/me/notification-preferences`: categories not listed keep their setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpdateNotificationPreferences {
    /// Categories to set.
    #[serde(default)]
    pub categories: Vec<PreferenceRow>,
    /// Marketing email opt-in; absent keeps it.
    #[serde(default)]
    pub marketing_email: Option<bool>,
}

/// One in-app notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotificationView {
    /// Id.
    pub id: Uuid,
    /// Its category.
    pub category: String,
    /// Headline.
    pub title: String,
    /// Text.
    pub body: String,
    /// Where to look, a path on this server.
    pub link: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Whether it was read.
    pub read: bool,
}

/// `GET /api/v1/me/notifications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotificationList {
    /// Newest first (the 50 latest).
    pub notifications: Vec<NotificationView>,
    /// How many are unread.
    pub unread: u64,
}
