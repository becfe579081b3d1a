//! Keeps this node's session cache in step with every other node.

use std::time::Duration;

use uuid::Uuid;

use crate::steward::Steward;

/// What live connections hear about: an account whose sessions or details changed,
/// on this node or any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// This account's sessions or details changed.
    Account(Uuid),
    /// Changes may have been missed (the feed broke or resumed): re-check everything.
    Unknown,
}

/// First wait before listening again after the feed broke; doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_RETRY: Duration = Duration::from_secs(30);

impl Steward {
    /// Drops an account's cached sessions on this node and tells its live connections.
    pub(crate) fn account_changed(&self, account: Uuid) {
        self.sessions.forget_account(account);
        let _ = self.changes.send(Change::Account(account));
    }

    /// Changes to sessions and accounts as they happen, for connections that must
    /// end when their session does (WebSockets). A lagging receiver should re-check
    /// as for [`Change::Unknown`].
    pub fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Follows the change feed for as long as the process runs: every account whose
    /// sessions changed on any node is dropped from this node's cache at once. While the
    /// feed is broken the cache is not used at all, so a revoked session can never be
    /// served from memory. Returns at once on a single-node backend (SQLite), after
    /// turning the cache on.
    pub async fn follow_changes(&self) {
        let mut retry = FIRST_RETRY;
        loop {
            match self.store.listen().await {
                Ok(None) => {
                    self.sessions.set_live(true);
                    return;
                }
                Ok(Some(mut listener)) => {
                    // Anything cached before the subscription started may have missed a change.
                    self.sessions.clear();
                    self.sessions.set_live(true);
                    let _ = self.changes.send(Change::Unknown);
                    retry = FIRST_RETRY;
                    tracing::debug!("following session changes from other nodes");
                    loop {
                        match listener.next().await {
                            Ok(account) => self.account_changed(account),
                            Err(e) => {
                                tracing::warn!(error = %e, "change feed broke; session cache off until it is back");
                                break;
                            }
                        }
                    }
                    self.sessions.set_live(false);
                    let _ = self.changes.send(Change::Unknown);
                }
                Err(e) => {
                    self.sessions.set_live(false);
                    tracing::warn!(error = %e, "cannot listen for session changes; retrying");
                }
            }
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(MAX_RETRY);
        }
    }
}
