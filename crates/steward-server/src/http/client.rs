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
        let ip = peer.map(|p| {
            client_ip(
                p,
                &parts.headers,
                &state.cfg.trusted_proxies,
                state.cfg.proxy_header,
            )
        });
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

/// The socket peer, unless it is a trusted proxy: then the forwarded addresses are
/// walked from the right (the hop nearest to us) past trusted proxies, and the
/// first address that is not one is the client. An entry that is not a plain IP
/// address (`unknown`, `203.0.113.8:4711`, an obfuscated RFC 7239 node) stops the
/// walk at the last trusted hop: anything left of it was written by someone we
/// cannot vouch for, and skipping it would let a client pick its own address.
pub fn client_ip(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &[IpAddr],
    header: ProxyHeader,
) -> IpAddr {
    // On a dual-stack listener IPv4 peers arrive as `::ffff:a.b.c.d`: one form for
    // every comparison, limit and record.
    let peer = peer.to_canonical();
    let trusted_hop = |ip: &IpAddr| trusted.iter().any(|t| t.to_canonical() == *ip);
    if !trusted_hop(&peer) {
        return peer;
    }
    // Entries are split and parsed one by one from the raw bytes: a byte that is not
    // text spoils only its own entry (where the walk then stops), not the whole header
    // and with it the real client's address a proxy appended after it.
    let entries: Vec<Option<IpAddr>> = headers
        .get_all(header.name())
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .map(|raw| {
            let entry = std::str::from_utf8(raw).ok()?;
            let ip = match header {
                ProxyHeader::XForwardedFor => entry.trim().parse().ok(),
                ProxyHeader::Forwarded => forwarded_for(entry),
            };
            ip.map(|ip: IpAddr| ip.to_canonical())
        })
        .collect();
    let mut client = peer;
    for entry in entries.into_iter().rev() {
        match entry {
            Some(ip) if trusted_hop(&ip) => client = ip,
            Some(ip) => return ip,
            None => return client,
        }
    }
    client
}

/// The `for=` address of one RFC 7239 `Forwarded` element, if it is an IP address
/// (quoted or not, IPv6 in brackets, with or without a port).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let mut fors = element.split(';').filter_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        k.trim().eq_ignore_ascii_case("for").then(|| v.trim())
    });
    let value = fors.next()?;
    // RFC 7239 §4: a parameter appears once per element; two `for`s is not an answer.
    if fors.next().is_some() {
        return None;
    }
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    if let Some(rest) = value.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(valid_port);
        return port_ok
            .then(|| ip.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6))
            .flatten();
    }
    let (ip, port) = match value.split_once(':') {
        Some((ip, port)) => (ip, Some(port)),
        None => (value, None),
    };
    if port.is_some_and(|p| !valid_port(p)) {
        return None;
    }
    ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

fn valid_port(p: &str) -> bool {
    p.parse::<u16>().is_ok()
}

/// Which header a trusted proxy writes the client's address in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, …`
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1, …`
    Forwarded,
}

impl ProxyHeader {
    fn name(self) -> &'static str {
        match self {
            ProxyHeader::XForwardedFor => "x-forwarded-for",
            ProxyHeader::Forwarded => "forwarded",
        }
    }
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

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn walk(header: ProxyHeader, values: &[&str]) -> IpAddr {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header.name(), HeaderValue::from_str(v).unwrap());
        }
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        client_ip(ip("10.0.0.1"), &h, &trusted, header)
    }

    #[test]
    fn the_walk_passes_trusted_proxies_and_stops_at_anything_unparsable() {
        use ProxyHeader::XForwardedFor as X;
        assert_eq!(walk(X, &["198.51.100.9"]), ip("198.51.100.9"));
        assert_eq!(
            walk(X, &["6.6.6.6, 198.51.100.9, 10.0.0.2"]),
            ip("198.51.100.9")
        );
        assert_eq!(
            walk(X, &["6.6.6.6", "198.51.100.9"]),
            ip("198.51.100.9"),
            "headers in order"
        );
        // A hop we cannot read ends the walk at the last trusted one: the client's own
        // entries left of it never count.
        assert_eq!(walk(X, &["6.6.6.6, 203.0.113.8:4711"]), ip("10.0.0.1"));
        assert_eq!(walk(X, &["6.6.6.6, unknown, 10.0.0.2"]), ip("10.0.0.2"));
        assert_eq!(walk(X, &["6.6.6.6,,"]), ip("10.0.0.1"));
        assert_eq!(walk(X, &[]), ip("10.0.0.1"), "no header: the proxy itself");
        assert_eq!(
            walk(X, &["10.0.0.2, 10.0.0.1"]),
            ip("10.0.0.2"),
            "all trusted: the left-most"
        );
        // From an untrusted peer, nothing is believed.
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6"));
        assert_eq!(
            client_ip(ip("198.51.100.1"), &h, &[ip("10.0.0.1")], X),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn mapped_addresses_and_stray_bytes_do_not_confuse_the_walk() {
        use ProxyHeader::XForwardedFor as X;
        let trusted = [ip("127.0.0.1")];
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("198.51.100.9"));
        // A dual-stack listener sees the proxy as ::ffff:127.0.0.1.
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &h, &trusted, X),
            ip("198.51.100.9")
        );
        assert_eq!(
            client_ip(ip("::ffff:203.0.113.4"), &h, &trusted, X),
            ip("203.0.113.4")
        );
        // A client-written entry that is not text spoils only itself.
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"6.6.6.6\xff, 198.51.100.9").unwrap(),
        );
        assert_eq!(
            client_ip(ip("127.0.0.1"), &h, &trusted, X),
            ip("198.51.100.9")
        );
        assert_eq!(
            walk(ProxyHeader::Forwarded, &["for=6.6.6.6;for=198.51.100.1"]),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn forwarded_is_read_the_same_way_when_chosen() {
        use ProxyHeader::Forwarded as F;
        assert_eq!(
            walk(F, &["for=198.51.100.9;proto=https"]),
            ip("198.51.100.9")
        );
        assert_eq!(
            walk(F, &["for=\"[2001:db8:cafe::17]:4711\""]),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            walk(F, &["for=192.0.2.43:47011, For=10.0.0.2"]),
            ip("192.0.2.43")
        );
        assert_eq!(
            walk(F, &["for=6.6.6.6, for=_hidden"]),
            ip("10.0.0.1"),
            "obfuscated"
        );
        assert_eq!(walk(F, &["for=6.6.6.6, for=unknown"]), ip("10.0.0.1"));
        assert_eq!(
            walk(F, &["for=6.6.6.6, by=10.0.0.1"]),
            ip("10.0.0.1"),
            "no for="
        );
        assert_eq!(
            walk(F, &["for=\"[::1]:99999\""]),
            ip("10.0.0.1"),
            "bad port"
        );
        // The other header is not read at all.
        assert_eq!(walk(ProxyHeader::XForwardedFor, &[]), ip("10.0.0.1"));
    }

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
