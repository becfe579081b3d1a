//! Who is asking: client IP (trusting only configured proxies), User-Agent,
//! the signed-in session, and the device cookie that exempts a known browser
//! from per-account sign-in slow-down.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use steward_core::CoreError;
use steward_core::secret::{constant_time_eq, hmac_sha256 as sign};
use steward_core::session::{Channel, ClientInfo, MAX_USER_AGENT, SignedIn};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::cookies::{CookieSettings, read_cookie};
use crate::state::AppState;

/// The client's address and browser, for sessions and records.
#[derive(Debug, Clone)]
pub struct Client(pub ClientInfo);

impl Client {
    /// The IP, or the unspecified address when unknown (only in unusual test setups).
    pub fn ip(&self) -> IpAddr {
        self.0.ip.unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    /// The same client, marked as using the JSON API.
    pub fn api(mut self) -> ClientInfo {
        self.0.channel = Channel::Api;
        self.0
    }
}

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let ip = peer.map(|p| client_ip(p, &parts.headers, &state.cfg.trusted_proxies));
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(MAX_USER_AGENT).collect());
        Ok(Client(ClientInfo {
            ip,
            user_agent,
            channel: Channel::Web,
        }))
    }
}

/// The socket peer, unless it is a trusted proxy: then the right-most
/// `X-Forwarded-For` address that is not itself a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

/// A signed-in request. Extracting it fails with 401 when there is no live session.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub SignedIn);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Apps present an OAuth access token; browsers their session cookie.
        if let Some(token) = crate::oauth::endpoints::bearer(&parts.headers) {
            return Ok(CurrentUser(
                state.steward.authenticate_account_bearer(token).await?,
            ));
        }
        let token = state
            .cookies
            .session_token(&parts.headers)
            .ok_or(CoreError::Unauthenticated)?;
        Ok(CurrentUser(state.steward.authenticate(token).await?))
    }
}

/// A request that may or may not be signed in (pages).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<SignedIn>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let browser = crate::http::browser::Browser::from_request_parts(parts, state).await?;
        Ok(MaybeUser(browser.active.map(|h| h.who)))
    }
}

/// Name of the device cookie (`__Host-` prefixed over HTTPS, like the others).
pub const DEVICE_COOKIE: &str = "steward_device";
/// Accounts remembered per browser.
const MAX_DEVICE_ACCOUNTS: usize = 5;
/// How long a browser stays known to an account after its last successful sign-in.
const DEVICE_LIFETIME: time::Duration = time::Duration::days(90);

/// Signs and reads the device cookie: the accounts this browser signed in to, each
/// entry `base64(account id ‖ signed-in-at ‖ HMAC)`, valid for 90 days.
#[derive(Clone)]
pub struct DeviceKeys {
    key: Vec<u8>,
    /// `__Host-steward_device` over HTTPS, so no sibling subdomain can plant or
    /// shadow it; only this name is read, so a browser holding the unprefixed cookie
    /// of an older version is a new device once.
    name: String,
    secure: bool,
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKeys(..)")
    }
}

impl DeviceKeys {
    /// Keys from a server secret, for a cookie named and secured as `cookies` says.
    pub fn new(key: Vec<u8>, cookies: &CookieSettings) -> Self {
        Self {
            key,
            name: cookies.name(DEVICE_COOKIE),
            secure: cookies.secure,
        }
    }

    fn entries(&self, headers: &HeaderMap, now: OffsetDateTime) -> Vec<(Uuid, i64)> {
        let Some(value) = read_cookie(headers, &self.name) else {
            return Vec::new();
        };
        value
            .split('.')
            .take(MAX_DEVICE_ACCOUNTS)
            .filter_map(|entry| {
                let bytes = URL_SAFE_NO_PAD.decode(entry).ok()?;
                let (signed, mac) = bytes.split_at_checked(24)?;
                if !constant_time_eq(mac, &sign(&self.key, signed)[..16]) {
                    return None;
                }
                let (id, at) = signed.split_at(16);
                let at = i64::from_be_bytes(at.try_into().ok()?);
                let fresh = OffsetDateTime::from_unix_timestamp(at)
                    .is_ok_and(|t| t <= now && now - t < DEVICE_LIFETIME);
                fresh
                    .then(|| Uuid::from_slice(id).ok().map(|id| (id, at)))
                    .flatten()
            })
            .collect()
    }

    /// Accounts listed in a valid, unexpired device cookie, with when this browser last
    /// signed in to each; forged or tampered entries are ignored.
    pub fn accounts(
        &self,
        headers: &HeaderMap,
        now: OffsetDateTime,
    ) -> Vec<(Uuid, OffsetDateTime)> {
        self.entries(headers, now)
            .into_iter()
            .filter_map(|(id, at)| Some((id, OffsetDateTime::from_unix_timestamp(at).ok()?)))
            .collect()
    }

    /// Just the accounts of [`DeviceKeys::accounts`].
    pub fn account_ids(&self, headers: &HeaderMap, now: OffsetDateTime) -> Vec<Uuid> {
        self.entries(headers, now)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// The device cookie after a successful sign-in to `account` at `now`.
    pub fn cookie_with(&self, headers: &HeaderMap, account: Uuid, now: OffsetDateTime) -> String {
        let mut entries = vec![(account, now.unix_timestamp())];
        entries.extend(
            self.entries(headers, now)
                .into_iter()
                .filter(|(a, _)| *a != account),
        );
        entries.truncate(MAX_DEVICE_ACCOUNTS);
        let value = entries
            .iter()
            .map(|(id, at)| {
                let mut bytes = id.as_bytes().to_vec();
                bytes.extend_from_slice(&at.to_be_bytes());
                let mac = sign(&self.key, &bytes);
                bytes.extend_from_slice(&mac[..16]);
                URL_SAFE_NO_PAD.encode(bytes)
            })
            .collect::<Vec<_>>()
            .join(".");
        let secure = if self.secure { "; Secure" } else { "" };
        let max_age = DEVICE_LIFETIME.whole_seconds();
        format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use axum::http::header::COOKIE;

    fn jar(set_cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let pair = set_cookie.split(';').next().unwrap();
        h.insert(COOKIE, HeaderValue::from_str(pair).unwrap());
        h
    }

    #[test]
    fn device_entries_are_signed_and_expire_after_90_days() {
        let keys = DeviceKeys::new(b"k".to_vec(), &CookieSettings::new(false));
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let t0 = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let first = keys.cookie_with(&HeaderMap::new(), a, t0);
        let later = t0 + time::Duration::days(30);
        let both = keys.cookie_with(&jar(&first), b, later);
        assert_eq!(keys.accounts(&jar(&both), later), vec![(b, later), (a, t0)]);
        assert_eq!(
            keys.accounts(&jar(&both), t0 + time::Duration::days(90)),
            vec![(b, later)],
            "a's entry expired"
        );
        let other = DeviceKeys::new(b"other".to_vec(), &CookieSettings::new(false));
        assert!(
            other.accounts(&jar(&both), later).is_empty(),
            "entries are signed"
        );
    }

    #[test]
    fn over_https_only_the_host_prefixed_name_is_written_and_read() {
        let keys = DeviceKeys::new(b"k".to_vec(), &CookieSettings::new(true));
        let a = Uuid::now_v7();
        let t0 = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let cookie = keys.cookie_with(&HeaderMap::new(), a, t0);
        assert!(cookie.starts_with("__Host-steward_device="), "{cookie}");
        assert!(cookie.ends_with("; Secure") && cookie.contains("; Path=/;"));
        assert_eq!(keys.account_ids(&jar(&cookie), t0), vec![a]);
        let unprefixed = cookie.trim_start_matches("__Host-");
        assert!(keys.account_ids(&jar(unprefixed), t0).is_empty());
    }
}
