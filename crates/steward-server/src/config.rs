//! Typed configuration: defaults → TOML file → `STEWARD_*` environment (`__` for
//! nesting, `*_FILE` to read a value from a file) → command-line flags.
//! Unknown keys are errors. `Debug` never shows secrets.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Everything the server can be told.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Public base URL (links in emails, cookie security). Defaults to `http://{listen}`.
    pub public_url: Option<String>,
    /// Folder for the SQLite database and the local mailbox.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`. Defaults to SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Most database connections.
    pub database_max_connections: u32,
    /// Outgoing mail.
    pub mail: MailConfig,
    /// Serve HTTPS directly.
    pub tls: TlsConfig,
    /// Proxies whose forwarded-for header is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// The header those proxies write the client's address in.
    pub proxy_header: crate::http::client::ProxyHeader,
    /// Logging.
    pub log: LogConfig,
    /// Rate limits.
    pub limits: LimitsConfig,
    /// Password hashing cost.
    pub argon2: Argon2Config,
    /// "I'm not a robot" proof-of-work difficulty.
    pub challenge: ChallengeConfig,
    /// Versions of the legal documents a sign-up accepts.
    pub legal: LegalConfig,
    /// Show the local mailbox at `/mailbox` to loopback clients (only when no SMTP server is set).
    pub mailbox_page: bool,
    /// Session lifetimes and caching.
    pub sessions: SessionsConfig,
    /// Security activity retention.
    pub activity: ActivityConfig,
    /// Approximate locations of addresses.
    pub geoip: GeoIpConfig,
    /// The OAuth 2.0 / OpenID Connect provider.
    pub oauth: OAuthConfig,
    /// Account rules.
    pub accounts: AccountsConfig,
    /// Where the master key that seals stored signing keys is kept.
    pub secrets: SecretsConfig,
    /// Where Prometheus metrics are served.
    pub metrics: MetricsConfig,
}

/// Where `/metrics` is served: never to the public by default.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// A separate address serving only `/metrics`, `off` for none. Loopback by default,
    /// so only the machine itself (a local Prometheus or agent) can read it.
    pub listen: String,
    /// A bearer token (at least 16 characters) that also serves `/metrics` on the main
    /// listener to requests with `Authorization: Bearer <token>`. Unset: the main
    /// listener answers `/metrics` with 404 like any unknown path.
    pub bearer_token: Option<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9464".into(),
            bearer_token: None,
        }
    }
}

impl MetricsConfig {
    /// The separate metrics address, if one is to be served.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        match self.listen.trim() {
            "" | "off" => None,
            a => a.parse().ok(),
        }
    }
}

impl std::fmt::Debug for MetricsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsConfig")
            .field("listen", &self.listen)
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "REDACTED"),
            )
            .finish()
    }
}

/// Account rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsConfig {
    /// Days a username given up by a change stays reserved for its former owner
    /// (and `/@old` redirects).
    pub username_hold_days: u32,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            username_hold_days: 30,
        }
    }
}

/// The OAuth 2.0 / OpenID Connect provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuthConfig {
    /// Minutes an access token (and ID token) lives.
    pub access_token_minutes: u32,
    /// Days an app stays signed in without using its refresh token (each use extends it).
    pub refresh_days: u32,
    /// Days a signing key signs before a new one takes over.
    pub key_rotation_days: u32,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        Self {
            access_token_minutes: 15,
            refresh_days: 30,
            key_rotation_days: 30,
        }
    }
}

/// The master key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecretsConfig {
    /// File holding the 32-byte master key (64 hex digits). Unset: `master.key` in the data
    /// dir, created on first start. Several nodes must share the same key.
    pub master_key_path: Option<PathBuf>,
}

/// Session lifetimes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionsConfig {
    /// Without "Keep me signed in": minutes of inactivity before the session ends.
    pub idle_minutes: u32,
    /// Without "Keep me signed in": hours after sign-in when it ends however much it is used.
    pub absolute_hours: u32,
    /// With "Keep me signed in": days after sign-in when it ends.
    pub remember_days: u32,
    /// Longest a validated session is served from memory. Revocations through any node
    /// reach every node at once regardless; this bounds changes made behind Steward's back.
    pub cache_ttl_secs: u64,
}

/// How long security activity is kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActivityConfig {
    /// Days before events are deleted.
    pub retention_days: u32,
    /// Days before the IP address and User-Agent of an event are dropped.
    pub ip_retention_days: u32,
}

/// GeoIP lookups.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeoIpConfig {
    /// A MaxMind-format `.mmdb` City or Country database. Unset: no locations shown.
    pub database: Option<PathBuf>,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            idle_minutes: 30,
            absolute_hours: 12,
            remember_days: 30,
            cache_ttl_secs: 60,
        }
    }
}

impl Default for ActivityConfig {
    fn default() -> Self {
        Self {
            retention_days: 90,
            ip_retention_days: 90,
        }
    }
}

/// Outgoing mail settings.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `smtp://host:port`, `smtps://user:pass@host`, … Unset: write to the local mailbox.
    pub smtp_url: Option<String>,
    /// The From address.
    pub from: String,
    /// Seconds between outbox polls.
    pub poll_interval_ms: u64,
}

/// TLS certificate and key (PEM files).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Certificate chain.
    pub cert: Option<PathBuf>,
    /// Private key.
    pub key: Option<PathBuf>,
}

/// Log output.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `pretty` or `json`.
    pub format: String,
    /// A `tracing` filter, e.g. `info,steward_server=debug`.
    pub filter: String,
}

/// Rate limits on credential endpoints.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Requests per minute one IP may make to credential endpoints (sign-in, sign-up, recovery, …).
    pub credential_per_ip_per_minute: u32,
    /// Requests per minute one IP may make to the OAuth token, introspection and
    /// revocation endpoints (a bucket of its own: an app's backend makes many).
    pub token_per_ip_per_minute: u32,
    /// Failed sign-ins on one identifier (email or username) per 15 minutes before each
    /// further attempt needs a solved "I'm not a robot" check (`challenge_required`).
    pub signin_failures_per_account: u32,
    /// Failed sign-ins on one account per 15 minutes from browsers that signed in to it
    /// before (they skip the check until then).
    pub signin_failures_vouched: u32,
    /// Wrong current passwords one signed-in session may give per 15 minutes (password
    /// and email changes) before it must wait.
    pub reauth_failures_per_session: u32,
    /// Sign-ins nothing vouches for that may wait for the password hasher; more are
    /// answered 503 with `Retry-After` at once. Unset: four per core.
    pub hash_backlog: Option<usize>,
    /// Vouched attempts (one per account) that may wait for the hasher's priority lane.
    pub hash_priority_backlog: usize,
    /// Hashes one account may take through the priority lane per 15 minutes (vouched
    /// sign-ins, current-password checks); beyond, they wait in the open lane.
    pub priority_hashes_per_account: u32,
    /// Emails one address may be sent on request per hour (sign-up, confirmation, recovery).
    pub emails_per_address_per_hour: u32,
    /// Emails an account's own devices (its sessions, browsers that signed in to it before)
    /// may still ask for per hour once its address's quota is used up.
    pub emails_per_account_per_hour: u32,
    /// Emails one address may still be sent per hour past its quota for requests with a
    /// strong "I'm not a robot" check.
    pub emails_per_address_strong_per_hour: u32,
    /// Profile photos one account may upload per hour (through the page or the API).
    pub photo_uploads_per_account_per_hour: u32,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
}

/// Argon2id parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Argon2Config {
    /// Memory, KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

/// Proof-of-work settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChallengeConfig {
    /// Largest secret number; the expected work is half of it.
    pub max_number: u64,
    /// The same for a strong challenge (`?strength=strong`), accepted past an address's
    /// hourly email quota.
    pub strong_max_number: u64,
    /// Seconds a challenge stays valid.
    pub ttl_secs: u64,
}

/// Legal document versions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LegalConfig {
    /// Terms of Use version.
    pub terms_version: String,
    /// Privacy Policy version.
    pub privacy_version: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            data_dir: PathBuf::from("./steward-data"),
            database_url: None,
            database_max_connections: 16,
            mail: MailConfig::default(),
            tls: TlsConfig::default(),
            trusted_proxies: Vec::new(),
            proxy_header: crate::http::client::ProxyHeader::default(),
            log: LogConfig::default(),
            limits: LimitsConfig::default(),
            argon2: Argon2Config::default(),
            challenge: ChallengeConfig::default(),
            legal: LegalConfig::default(),
            mailbox_page: true,
            sessions: SessionsConfig::default(),
            oauth: OAuthConfig::default(),
            accounts: AccountsConfig::default(),
            secrets: SecretsConfig::default(),
            metrics: MetricsConfig::default(),
            activity: ActivityConfig::default(),
            geoip: GeoIpConfig::default(),
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Steward <no-reply@steward.localhost>".into(),
            poll_interval_ms: 500,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: "pretty".into(),
            filter: "info".into(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            credential_per_ip_per_minute: 30,
            token_per_ip_per_minute: 600,
            signin_failures_per_account: 10,
            signin_failures_vouched: 50,
            reauth_failures_per_session: 10,
            hash_backlog: None,
            hash_priority_backlog: 64,
            priority_hashes_per_account: 30,
            emails_per_address_per_hour: 5,
            emails_per_account_per_hour: 5,
            emails_per_address_strong_per_hour: 20,
            photo_uploads_per_account_per_hour: 10,
            max_body_bytes: 64 * 1024,
        }
    }
}

impl Default for Argon2Config {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Default for ChallengeConfig {
    fn default() -> Self {
        Self {
            max_number: 100_000,
            strong_max_number: 1_000_000,
            ttl_secs: 600,
        }
    }
}

impl Default for LegalConfig {
    fn default() -> Self {
        Self {
            terms_version: "2026-11-01".into(),
            privacy_version: "2026-11-01".into(),
        }
    }
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("from", &self.from)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .finish()
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url())
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("database_max_connections", &self.database_max_connections)
            .field("mail", &self.mail)
            .field("tls", &self.tls)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("proxy_header", &self.proxy_header)
            .field("log", &self.log)
            .field("limits", &self.limits)
            .field("argon2", &self.argon2)
            .field("challenge", &self.challenge)
            .field("legal", &self.legal)
            .field("mailbox_page", &self.mailbox_page)
            .field("metrics", &self.metrics)
            .finish()
    }
}

/// Hides the password part of a URL.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("REDACTED"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(unparsable URL)".into(),
    }
}

/// Config errors, shown to the operator at start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A source could not be read or a key is unknown or mistyped.
    #[error("configuration: {0}")]
    Invalid(String),
}

/// Command-line overrides (the last layer).
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// `--public-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

/// Environment variables with the prefix that are not configuration keys.
const NOT_CONFIG: &[&str] = &["config", "test_pg"];

impl Config {
    /// Loads the layers in order. `file` is the TOML file, if any.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars(), overrides)
    }

    /// Like [`Config::load`], with the environment passed in (for tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Invalid(format!(
                    "config file {} not found",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file(path));
        }
        for (key, value) in env.filter(|(k, _)| k.starts_with("STEWARD_")) {
            let name = key["STEWARD_".len()..].to_ascii_lowercase();
            if NOT_CONFIG.contains(&name.as_str()) {
                continue;
            }
            let (name, value) = match name.strip_suffix("_file") {
                Some(target) => {
                    let content = std::fs::read_to_string(&value).map_err(|e| {
                        ConfigError::Invalid(format!("{key}: cannot read {value}: {e}"))
                    })?;
                    (
                        target.to_owned(),
                        content.trim_end_matches(['\n', '\r']).to_owned(),
                    )
                }
                None => (name, value),
            };
            let path = name.replace("__", ".");
            // Parsed like figment's own `Env`: numbers, booleans and `[a, b]` arrays are typed.
            let value: figment::value::Value =
                value.parse().unwrap_or(figment::value::Value::from(value));
            fig = fig.merge(Serialized::default(&path, value));
        }
        fig = fig.merge(Serialized::defaults(overrides));
        let cfg: Config = fig
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(u) = &self.public_url {
            let parsed =
                url::Url::parse(u).map_err(|e| ConfigError::Invalid(format!("public_url: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(ConfigError::Invalid(
                    "public_url must be http:// or https://".into(),
                ));
            }
        }
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err(ConfigError::Invalid(
                "tls.cert and tls.key must be set together".into(),
            ));
        }
        let s = &self.sessions;
        if s.idle_minutes == 0 || s.remember_days == 0 {
            return Err(ConfigError::Invalid(
                "sessions.idle_minutes and sessions.remember_days must be at least 1".into(),
            ));
        }
        // Upper bounds keep every computed time far inside the representable range.
        if s.remember_days > 3_650
            || s.absolute_hours > 87_600
            || s.idle_minutes > 5_256_000
            || s.cache_ttl_secs > 86_400
        {
            return Err(ConfigError::Invalid(
                "sessions: at most 3650 remember_days, 87600 absolute_hours, 5256000 idle_minutes and 86400 cache_ttl_secs".into(),
            ));
        }
        if self.accounts.username_hold_days > 3_650 {
            return Err(ConfigError::Invalid(
                "accounts.username_hold_days must be at most 3650".into(),
            ));
        }
        let o = &self.oauth;
        if !(1..=1_440).contains(&o.access_token_minutes)
            || !(1..=3_650).contains(&o.refresh_days)
            || !(1..=3_650).contains(&o.key_rotation_days)
        {
            return Err(ConfigError::Invalid(
                "oauth: access_token_minutes 1-1440, refresh_days 1-3650 and key_rotation_days 1-3650".into(),
            ));
        }
        if self.activity.retention_days > 36_500 || self.activity.ip_retention_days > 36_500 {
            return Err(ConfigError::Invalid(
                "activity.retention_days and activity.ip_retention_days must be at most 36500"
                    .into(),
            ));
        }
        if u64::from(s.absolute_hours) * 60 < u64::from(s.idle_minutes) {
            return Err(ConfigError::Invalid(
                "sessions.absolute_hours must not be shorter than sessions.idle_minutes".into(),
            ));
        }
        if self.activity.retention_days == 0 || self.activity.ip_retention_days == 0 {
            return Err(ConfigError::Invalid(
                "activity.retention_days and activity.ip_retention_days must be at least 1".into(),
            ));
        }
        let m = &self.metrics;
        if !matches!(m.listen.trim(), "" | "off") && m.listen.trim().parse::<SocketAddr>().is_err()
        {
            return Err(ConfigError::Invalid(
                "metrics.listen must be an address such as 127.0.0.1:9464, or off".into(),
            ));
        }
        if m.bearer_token.as_ref().is_some_and(|t| t.trim().len() < 16) {
            return Err(ConfigError::Invalid(
                "metrics.bearer_token must be at least 16 characters".into(),
            ));
        }
        if !matches!(self.log.format.as_str(), "pretty" | "json") {
            return Err(ConfigError::Invalid(
                "log.format must be pretty or json".into(),
            ));
        }
        Ok(())
    }

    /// Public base URL without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => {
                let scheme = if self.tls.cert.is_some() {
                    "https"
                } else {
                    "http"
                };
                format!("{scheme}://{}", self.listen)
            }
        }
    }

    /// Database URL, defaulting to SQLite in the data dir.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("steward.db").display()))
    }

    /// Where the local mailbox keeps messages.
    pub fn mailbox_dir(&self) -> PathBuf {
        self.data_dir.join("mailbox")
    }

    /// Whether cookies must be `Secure` (and `__Host-` prefixed).
    pub fn secure_cookies(&self) -> bool {
        self.public_url().starts_with("https://")
    }
}
