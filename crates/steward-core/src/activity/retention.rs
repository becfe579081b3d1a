//! The retention job for security activity: addresses are dropped after the
//! IP retention period, whole events after the event retention period.

use crate::error::CoreResult;
use crate::steward::Steward;

/// What one retention run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Events deleted.
    pub deleted: u64,
    /// Events whose IP address and User-Agent were dropped.
    pub anonymised: u64,
}

impl Steward {
    /// Applies the activity retention rules once and says what was done.
    pub async fn expire_activity(&self) -> CoreResult<RetentionReport> {
        let now = self.now();
        let deleted = self
            .store
            .delete_events_before(now - self.cfg.activity_retention)
            .await?;
        let anonymised = self
            .store
            .drop_event_addresses_before(now - self.cfg.activity_ip_retention)
            .await?;
        if deleted > 0 || anonymised > 0 {
            tracing::info!(deleted, anonymised, "security activity retention applied");
        }
        Ok(RetentionReport {
            deleted,
            anonymised,
        })
    }
}
