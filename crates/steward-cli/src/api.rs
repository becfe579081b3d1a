//! HTTP plumbing and authenticated calls to the Steward API.
//!
//! [`Authed`] sends requests as one stored account. It refreshes the access
//! token first when it expires within a minute, and once more if the server
//! answers 401; the rotated refresh token is written to the credentials file
//! before anything else happens. A refresh the server refuses with
//! `invalid_grant` drops that account's tokens and ends with
//! [`CliError::LoginExpired`].

use std::error::Error as _;
use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde::de::DeserializeOwned;
use steward_proto::ErrorBody;
use time::OffsetDateTime;

use crate::error::{CliError, Result, printable};
use crate::oauth::{self, Discovery, TokenResponse};
use crate::secret::Secret;
use crate::store::{Store, StoredAccount};

/// Server used when neither `--server`, `STEWARD_SERVER` nor a stored account says otherwise.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";
/// Refresh when the access token has less than this left.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Assumed lifetime of an access token whose answer had no `expires_in`.
const DEFAULT_EXPIRES_IN: u64 = 300;

/// `steward-cli/0.1.0 (linux)`: the server shows `steward-cli` as the device.
pub fn user_agent() -> String {
    format!(
        "steward-cli/{} ({})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS
    )
}

/// The HTTP client every command uses: no redirects followed (an OAuth
/// endpoint never redirects a client), 10 s to connect, 30 s per request.
pub fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(user_agent())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| CliError::Client(e.to_string()))
}

/// Checks a server address and writes it without a trailing slash:
/// `https://accounts.example.com`, `http://127.0.0.1:8080`.
pub fn normalize_server(input: &str) -> Result<String> {
    let bad = || CliError::BadServerUrl(printable(input));
    let url = url::Url::parse(input.trim()).map_err(|_| bad())?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !ok {
        return Err(bad());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Whether the server is on this machine (so plain HTTP is not a risk).
pub fn is_loopback(server: &str) -> bool {
    match url::Url::parse(server)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `{server}{path}`; `server` has no trailing slash and `path` starts with `/`.
pub fn endpoint(server: &str, path: &str) -> String {
    format!("{server}{path}")
}

/// Turns a failed request into "cannot reach" (or "unexpected answer").
pub fn transport_error(server: &str, e: &reqwest::Error) -> CliError {
    if e.is_connect() || e.is_timeout() || e.is_request() {
        CliError::Unreachable {
            server: server.to_owned(),
            reason: reason(e),
        }
    } else {
        CliError::Protocol {
            server: server.to_owned(),
            reason: printable(&e.to_string()),
        }
    }
}

/// A few words for why a request failed: "connection refused", "timed out", ...
fn reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut innermost = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            match io.kind() {
                ConnectionRefused => return "connection refused".into(),
                TimedOut => return "timed out".into(),
                ConnectionReset => return "connection reset".into(),
                _ => {}
            }
        }
        innermost = s.to_string();
        source = s.source();
    }
    if innermost.contains("dns error") || innermost.contains("failed to lookup address") {
        return "host not found".into();
    }
    printable(&innermost)
}

/// Maps a non-success API answer to [`CliError::Api`] using its error body.
pub async fn api_error(server: &str, resp: reqwest::Response) -> CliError {
    let status = resp.status();
    let body = resp.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(b) => {
            // Field errors say what to fix: "name: Use at most 100 characters."
            let mut message = printable(&b.error.message);
            for (field, why) in &b.error.fields {
                message.push_str(&format!("\n  {}: {}", printable(field), printable(why)));
            }
            CliError::Api {
                status: status.as_u16(),
                code: printable(&b.error.code),
                message,
            }
        }
        Err(_) => CliError::Protocol {
            server: server.to_owned(),
            reason: format!("HTTP {}", status.as_u16()),
        },
    }
}

/// Reads a JSON body, or says the answer was not understood.
pub async fn read_json<T: DeserializeOwned>(server: &str, resp: reqwest::Response) -> Result<T> {
    let url = resp.url().path().to_owned();
    let body = resp
        .bytes()
        .await
        .map_err(|e| transport_error(server, &e))?;
    serde_json::from_slice(&body).map_err(|e| CliError::Protocol {
        server: server.to_owned(),
        reason: format!("unreadable answer from {url}: {e}"),
    })
}

/// `GET {server}{path}` with a bearer token, expecting JSON (no refresh).
pub async fn get_with_token<T: DeserializeOwned>(
    http: &reqwest::Client,
    server: &str,
    path: &str,
    access_token: &Secret,
) -> Result<T> {
    let resp = http
        .get(endpoint(server, path))
        .bearer_auth(access_token.expose())
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| transport_error(server, &e))?;
    if !resp.status().is_success() {
        return Err(api_error(server, resp).await);
    }
    read_json(server, resp).await
}

/// When an access token from this answer stops working.
pub fn expires_at(tokens: &TokenResponse, now: OffsetDateTime) -> OffsetDateTime {
    let secs = tokens.expires_in.unwrap_or(DEFAULT_EXPIRES_IN);
    now + Duration::from_secs(secs.min(i64::MAX as u64 / 2))
}

/// Whether the access token must be refreshed before use.
pub fn needs_refresh(account: &StoredAccount, now: OffsetDateTime) -> bool {
    match (&account.access_token, account.access_expires_at) {
        (Some(_), Some(at)) => at - now < REFRESH_MARGIN,
        _ => true,
    }
}

/// Puts freshly issued tokens on an account (keeping the old refresh token if
/// the server sent none).
pub fn apply_tokens(account: &mut StoredAccount, tokens: TokenResponse, now: OffsetDateTime) {
    account.access_expires_at = Some(expires_at(&tokens, now));
    account.access_token = Some(tokens.access_token);
    if let Some(rt) = tokens.refresh_token {
        account.refresh_token = Some(rt);
    }
}

/// API calls as one stored account, refreshing its tokens as needed.
#[derive(Debug)]
pub struct Authed<'a> {
    http: &'a reqwest::Client,
    store: &'a Store,
    account: StoredAccount,
    discovery: Option<Discovery>,
}

impl<'a> Authed<'a> {
    /// Calls as `account` (as stored in `store`).
    pub fn new(http: &'a reqwest::Client, store: &'a Store, account: StoredAccount) -> Self {
        Self {
            http,
            store,
            account,
            discovery: None,
        }
    }

    /// The account, with its latest tokens.
    pub fn account(&self) -> &StoredAccount {
        &self.account
    }

    /// `GET` a JSON resource.
    pub async fn get<T: DeserializeOwned>(&mut self, path: &str) -> Result<T> {
        let resp = self.send(Method::GET, path).await?;
        read_json(&self.account.server, resp).await
    }

    /// `DELETE` a resource that answers with JSON.
    pub async fn delete_json<T: DeserializeOwned>(&mut self, path: &str) -> Result<T> {
        let resp = self.send(Method::DELETE, path).await?;
        read_json(&self.account.server, resp).await
    }

    /// `DELETE` a resource that answers 204.
    pub async fn delete(&mut self, path: &str) -> Result<()> {
        self.send(Method::DELETE, path).await.map(drop)
    }

    /// `PUT` a JSON body; the answer is JSON.
    pub async fn put_json<T: DeserializeOwned>(
        &mut self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T> {
        let resp = self.send_with(Method::PUT, path, Some(body)).await?;
        read_json(&self.account.server, resp).await
    }

    /// `POST` without a body, to an endpoint that answers 204.
    pub async fn post_empty(&mut self, path: &str) -> Result<()> {
        self.send_with(Method::POST, path, Some(&serde_json::json!({})))
            .await
            .map(drop)
    }

    async fn send(&mut self, method: Method, path: &str) -> Result<reqwest::Response> {
        self.send_with(method, path, None).await
    }

    /// Sends with the access token; refreshes first if it is about to expire,
    /// and once after a 401. Non-success answers become errors.
    async fn send_with(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response> {
        if !self.account.signed_in() {
            return Err(CliError::LoginExpired(self.account.username.clone()));
        }
        if needs_refresh(&self.account, OffsetDateTime::now_utc()) {
            self.refresh().await?;
        }
        let mut resp = self.send_once(method.clone(), path, body).await?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            self.refresh().await?;
            resp = self.send_once(method, path, body).await?;
        }
        if !resp.status().is_success() {
            return Err(api_error(&self.account.server, resp).await);
        }
        Ok(resp)
    }

    async fn send_once(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response> {
        let server = &self.account.server;
        let mut req = self
            .http
            .request(method, endpoint(server, path))
            .header(header::ACCEPT, "application/json");
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(at) = &self.account.access_token {
            req = req.bearer_auth(at.expose());
        }
        req.send().await.map_err(|e| transport_error(server, &e))
    }

    async fn discovery(&mut self) -> Result<&Discovery> {
        if self.discovery.is_none() {
            self.discovery = Some(oauth::discover(self.http, &self.account.server).await?);
        }
        self.discovery.as_ref().ok_or(CliError::NotSignedIn)
    }

    /// Gets a new access token with the refresh token, holding the store's
    /// lock so no other `steward` process uses the same refresh token.
    async fn refresh(&mut self) -> Result<()> {
        let _lock = self.store.lock()?;
        let mut creds = self.store.load()?;
        let key = self.account.key();
        let name = self.account.username.clone();
        let Some(stored) = creds.get(&key) else {
            // Signed out by another `steward` meanwhile.
            return Err(CliError::LoginExpired(name));
        };
        if stored.access_token != self.account.access_token
            || stored.refresh_token != self.account.refresh_token
        {
            // Another `steward` process refreshed first: use its tokens.
            self.account = stored.clone();
            if !self.account.signed_in() {
                return Err(CliError::LoginExpired(name));
            }
            if !needs_refresh(&self.account, OffsetDateTime::now_utc()) {
                return Ok(());
            }
        }
        let Some(refresh_token) = self.account.refresh_token.clone() else {
            return self.expire(&mut creds, &key, name);
        };
        let server = self.account.server.clone();
        let http = self.http;
        let disc = self.discovery().await?.clone();
        match oauth::refresh(http, &disc, &server, &refresh_token).await {
            Ok(tokens) => {
                apply_tokens(&mut self.account, tokens, OffsetDateTime::now_utc());
                if let Some(stored) = creds.get_mut(&key) {
                    *stored = self.account.clone();
                }
                self.store.save(&creds)
            }
            Err(CliError::OAuth { code, .. }) if code == "invalid_grant" => {
                self.expire(&mut creds, &key, name)
            }
            Err(e) => Err(e),
        }
    }

    /// Drops the account's tokens (keeping it listed) and says to log in again.
    fn expire(
        &mut self,
        creds: &mut crate::store::Credentials,
        key: &str,
        name: String,
    ) -> Result<()> {
        self.account.drop_tokens();
        if let Some(stored) = creds.get_mut(key) {
            stored.drop_tokens();
        }
        self.store.save(creds)?;
        Err(CliError::LoginExpired(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses_are_checked_and_normalized() {
        assert_eq!(
            normalize_server("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_server(" https://id.example/steward/ ").unwrap(),
            "https://id.example/steward"
        );
        for bad in [
            "localhost:8080",
            "id.example",
            "ftp://id.example",
            "https://id.example/?x=1",
            "https://user:pw@id.example",
        ] {
            assert!(normalize_server(bad).is_err(), "{bad}");
        }
        assert!(is_loopback("http://127.0.0.1:8080"));
        assert!(is_loopback("http://localhost:8080"));
        assert!(is_loopback("http://[::1]:8080"));
        assert!(!is_loopback("http://id.example"));
    }

    #[test]
    fn user_agent_names_the_cli() {
        assert!(user_agent().starts_with("steward-cli/"));
    }

    #[test]
    fn refresh_is_due_within_a_minute_of_expiry() {
        let now = OffsetDateTime::now_utc();
        let mut a = StoredAccount {
            server: "http://x".into(),
            issuer: "http://x".into(),
            account_id: "1".into(),
            username: "u".into(),
            email: "u@x".into(),
            access_token: Some(Secret::new("a")),
            access_expires_at: Some(now + Duration::from_secs(61)),
            refresh_token: Some(Secret::new("r")),
        };
        assert!(!needs_refresh(&a, now));
        a.access_expires_at = Some(now + Duration::from_secs(59));
        assert!(needs_refresh(&a, now));
        a.access_expires_at = None;
        assert!(needs_refresh(&a, now));
    }

    #[tokio::test]
    async fn refused_connections_read_as_such() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let server = format!("http://127.0.0.1:{port}");
        let err = oauth::discover(&http_client().unwrap(), &server)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "Cannot reach the Steward server at {server} (connection refused). Is it running?"
            )
        );
    }
}
