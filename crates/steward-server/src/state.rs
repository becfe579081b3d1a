//! What every handler can reach.

use std::path::PathBuf;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use steward_core::Steward;

use crate::config::Config;
use crate::http::client::DeviceKeys;
use crate::http::cookies::CookieSettings;
use crate::http::limits::Limits;

/// Shared, cheap-to-clone application state.
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<Inner>);

/// The contents of [`AppState`].
#[derive(Debug)]
pub struct Inner {
    /// The domain.
    pub steward: Steward,
    /// The configuration in force.
    pub cfg: Config,
    /// Session cookie settings.
    pub cookies: CookieSettings,
    /// Rate limits.
    pub limits: Limits,
    /// Prometheus exposition.
    pub metrics: PrometheusHandle,
    /// Scheme, host and port of the public URL (for CSRF origin checks).
    pub origin: String,
    /// Local mailbox folder, when mail is not sent over SMTP.
    pub mailbox: Option<PathBuf>,
    /// Key for device cookies.
    pub devices: DeviceKeys,
    /// Becomes `true` when the server shuts down (long-lived connections close).
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// The ID-token signing keys.
    pub keys: std::sync::Arc<crate::oauth::keyring::KeyRing>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
