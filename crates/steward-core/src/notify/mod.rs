//! Notifications: what a person wants to hear about and how (email, in the app),
//! the in-app list behind the bell, marketing email as a consent, and one-click
//! unsubscribe links (RFC 8058). Emails that protect the account (reset, email
//! change, confirmation, password changed) are transactional: they always go out
//! and never carry an unsubscribe link.

use steward_proto::notify::{
    NotificationList, NotificationPreferences, NotificationView, PreferenceRow,
    UpdateNotificationPreferences,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};
use crate::ports::ConsentRecord;
use crate::secret::{constant_time_eq, hmac_sha256};
use crate::session::{ClientInfo, SignedIn};
use crate::steward::{Steward, truncate_ip};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Sign-ins from new devices and similar alerts.
    Security,
    /// Plan usage and limits.
    Usage,
    /// Monitor results.
    Monitors,
    /// Comments and mentions.
    Comments,
}

impl Category {
    /// Every category, in the order shown.
    pub const ALL: [Category; 4] = [
        Category::Security,
        Category::Usage,
        Category::Monitors,
        Category::Comments,
    ];

    /// Wire and stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Security => "security",
            Category::Usage => "usage",
            Category::Monitors => "monitors",
            Category::Comments => "comments",
        }
    }

    /// The category with this name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Label on the preferences page.
    pub fn label(self) -> &'static str {
        match self {
            Category::Security => "Security alerts (sign-ins from new devices)",
            Category::Usage => "Usage and limits",
            Category::Monitors => "Monitor results",
            Category::Comments => "Comments and mentions",
        }
    }
}

/// The emails that always go out, whatever the preferences.
pub const ALWAYS_SENT: [&str; 4] = [
    "Email address confirmation links",
    "Password reset links and \"your password was changed\" notices",
    "Email address change confirmations and notices",
    "Username reminders you ask for",
];

/// Consent purpose of marketing email.
pub const MARKETING: &str = "marketing_email";

/// An in-app notification as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// UUIDv7.
    pub id: Uuid,
    /// For whom.
    pub account_id: Uuid,
    /// About what.
    pub category: Category,
    /// Headline.
    pub title: String,
    /// Text.
    pub body: String,
    /// A path on this server.
    pub link: Option<String>,
    /// When.
    pub created_at: OffsetDateTime,
    /// When read, if it was.
    pub read_at: Option<OffsetDateTime>,
}

/// One stored preference: (category, channel `email`/`in_app`, on).
pub type Preference = (Category, &'static str, bool);

/// Whether `category` goes out on `channel` (`email`/`in_app`) under `prefs`
/// (everything is on until turned off).
pub fn wants(prefs: &[Preference], category: Category, channel: &str) -> bool {
    prefs
        .iter()
        .find(|(c, ch, _)| *c == category && *ch == channel)
        .is_none_or(|(_, _, on)| *on)
}

/// What an unsubscribe link turns off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsubscribe {
    /// Email for one category.
    Category(Category),
    /// Marketing email (a consent withdrawal).
    Marketing,
}

impl Unsubscribe {
    fn name(self) -> &'static str {
        match self {
            Unsubscribe::Category(c) => c.as_str(),
            Unsubscribe::Marketing => MARKETING,
        }
    }

    /// What the confirmation page names.
    pub fn describe(self) -> &'static str {
        match self {
            Unsubscribe::Category(c) => c.label(),
            Unsubscribe::Marketing => "Product news and offers",
        }
    }
}

/// Name of the server secret that signs unsubscribe links.
pub const UNSUBSCRIBE_KEY: &str = "unsubscribe_hmac_key";

impl Steward {
    fn marketing_consent(records: &[ConsentRecord]) -> bool {
        records
            .iter()
            .filter(|c| c.purpose == MARKETING)
            .max_by_key(|c| (c.at, c.id))
            .is_some_and(|c| c.granted)
    }

    /// The preferences of `who`.
    pub async fn notification_preferences(
        &self,
        who: &SignedIn,
    ) -> CoreResult<NotificationPreferences> {
        let id = who.account().id;
        let prefs = self.store.notification_prefs(id).await?;
        let consents = self.store.consents(id).await?;
        Ok(NotificationPreferences {
            categories: Category::ALL
                .iter()
                .map(|c| PreferenceRow {
                    category: c.as_str().into(),
                    email: wants(&prefs, *c, "email"),
                    in_app: wants(&prefs, *c, "in_app"),
                })
                .collect(),
            marketing_email: Self::marketing_consent(&consents),
            always_sent: ALWAYS_SENT.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    /// Sets preferences; a change of the marketing opt-in is recorded as consent
    /// (granted or withdrawn, with the notice version, time, method and network).
    pub async fn update_notification_preferences(
        &self,
        who: &SignedIn,
        req: &UpdateNotificationPreferences,
        client: &ClientInfo,
    ) -> CoreResult<NotificationPreferences> {
        let mut rows = Vec::new();
        for r in &req.categories {
            let c = Category::parse(&r.category).ok_or_else(|| {
                CoreError::field(
                    "categories",
                    format!(
                        "Unknown category: {}",
                        r.category.chars().take(40).collect::<String>()
                    ),
                )
            })?;
            rows.push((c, "email", r.email));
            rows.push((c, "in_app", r.in_app));
        }
        let now = self.now();
        let current = self.notification_preferences(who).await?;
        let consent = req
            .marketing_email
            .filter(|m| *m != current.marketing_email)
            .map(|granted| {
                self.marketing_record(
                    who.account().id,
                    granted,
                    client,
                    client.channel.as_str(),
                    now,
                )
            });
        self.store
            .save_notification_prefs(who.account().id, &rows, consent.as_ref(), now)
            .await?;
        self.notification_preferences(who).await
    }

    fn marketing_record(
        &self,
        account_id: Uuid,
        granted: bool,
        client: &ClientInfo,
        method: &str,
        at: OffsetDateTime,
    ) -> ConsentRecord {
        ConsentRecord {
            id: Uuid::now_v7(),
            account_id,
            purpose: MARKETING.into(),
            legal_basis: "consent".into(),
            notice_version: self.cfg.privacy_version.clone(),
            granted,
            method: method.into(),
            ip_truncated: client.ip.map(truncate_ip),
            at,
        }
    }

    async fn unsubscribe_key(&self) -> CoreResult<Vec<u8>> {
        let mut fresh = vec![0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut fresh);
        Ok(self.store.server_secret(UNSUBSCRIBE_KEY, fresh).await?)
    }

    /// The one-click unsubscribe URL for `what` of `account_id`: opaque, signed, and
    /// usable without signing in.
    pub async fn unsubscribe_url(&self, account_id: Uuid, what: Unsubscribe) -> CoreResult<String> {
        let key = self.unsubscribe_key().await?;
        let payload = format!("{account_id}.{}", what.name());
        let mac = hmac_sha256(&key, payload.as_bytes());
        let token = format!(
            "{}.{}",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload),
            hex::encode(&mac[..16])
        );
        Ok(self.link(&format!("/unsubscribe/{token}")))
    }

    /// What an unsubscribe token is for, if it is genuine.
    pub async fn read_unsubscribe(&self, token: &str) -> CoreResult<Option<(Uuid, Unsubscribe)>> {
        let Some((payload, mac)) = token.split_once('.').filter(|_| token.len() <= 200) else {
            return Ok(None);
        };
        let Ok(payload) =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
        else {
            return Ok(None);
        };
        let Ok(mac) = hex::decode(mac) else {
            return Ok(None);
        };
        let key = self.unsubscribe_key().await?;
        if !constant_time_eq(&hmac_sha256(&key, &payload)[..16], &mac) {
            return Ok(None);
        }
        let Ok(payload) = String::from_utf8(payload) else {
            return Ok(None);
        };
        let Some((id, what)) = payload.split_once('.') else {
            return Ok(None);
        };
        let Ok(id) = Uuid::parse_str(id) else {
            return Ok(None);
        };
        let what = match what {
            MARKETING => Unsubscribe::Marketing,
            other => match Category::parse(other) {
                Some(c) => Unsubscribe::Category(c),
                None => return Ok(None),
            },
        };
        Ok(Some((id, what)))
    }

    /// Uses an unsubscribe link: that email stops (for marketing, consent is
    /// withdrawn with method `unsubscribe_link`). Transactional mail continues.
    pub async fn unsubscribe(&self, token: &str, client: &ClientInfo) -> CoreResult<Unsubscribe> {
        let (account_id, what) = self
            .read_unsubscribe(token)
            .await?
            .ok_or(CoreError::InvalidToken)?;
        if self.store.account_by_id(account_id).await?.is_none() {
            return Err(CoreError::InvalidToken);
        }
        let now = self.now();
        match what {
            Unsubscribe::Category(c) => {
                self.store
                    .save_notification_prefs(account_id, &[(c, "email", false)], None, now)
                    .await?;
            }
            Unsubscribe::Marketing => {
                let consents = self.store.consents(account_id).await?;
                if Self::marketing_consent(&consents) {
                    let record =
                        self.marketing_record(account_id, false, client, "unsubscribe_link", now);
                    self.store
                        .save_notification_prefs(account_id, &[], Some(&record), now)
                        .await?;
                }
            }
        }
        tracing::info!(account = %account_id, what = what.name(), "unsubscribed");
        Ok(what)
    }

    /// Adds an in-app notification for `account_id` if they want `category` in the app.
    pub async fn notify_in_app(
        &self,
        account_id: Uuid,
        category: Category,
        title: &str,
        body: &str,
        link: Option<&str>,
    ) -> CoreResult<()> {
        let prefs = self.store.notification_prefs(account_id).await?;
        if !wants(&prefs, category, "in_app") {
            return Ok(());
        }
        let n = Notification {
            id: Uuid::now_v7(),
            account_id,
            category,
            title: title.into(),
            body: body.into(),
            link: link.map(str::to_owned),
            created_at: self.now(),
            read_at: None,
        };
        Ok(self.store.add_notification(&n).await?)
    }

    /// The latest in-app notifications of `who` and how many are unread.
    pub async fn notifications(&self, who: &SignedIn) -> CoreResult<NotificationList> {
        let id = who.account().id;
        let list = self.store.notifications(id, 50).await?;
        Ok(NotificationList {
            unread: self.store.unread_notifications(id).await?,
            notifications: list
                .into_iter()
                .map(|n| NotificationView {
                    id: n.id,
                    category: n.category.as_str().into(),
                    title: n.title,
                    body: n.body,
                    link: n.link,
                    created_at: n.created_at,
                    read: n.read_at.is_some(),
                })
                .collect(),
        })
    }

    /// How many notifications of `who` are unread (the bell's count).
    pub async fn unread_notifications(&self, who: &SignedIn) -> CoreResult<u64> {
        Ok(self.store.unread_notifications(who.account().id).await?)
    }

    /// Marks one notification read; `NotFound` if it is not theirs.
    pub async fn mark_notification_read(&self, who: &SignedIn, id: Uuid) -> CoreResult<()> {
        if self
            .store
            .mark_notifications_read(who.account().id, Some(id), self.now())
            .await?
            == 0
        {
            return Err(CoreError::NotFound("notification"));
        }
        Ok(())
    }

    /// Marks every notification read; returns how many were unread.
    pub async fn mark_all_notifications_read(&self, who: &SignedIn) -> CoreResult<u64> {
        Ok(self
            .store
            .mark_notifications_read(who.account().id, None, self.now())
            .await?)
    }
}
