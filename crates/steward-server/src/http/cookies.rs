//! The session cookie: name, attributes, reading.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use time::OffsetDateTime;

/// Cookie settings derived from the public URL.
#[derive(Debug, Clone)]
pub struct CookieSettings {
    /// `__Host-steward_session` over HTTPS, `steward_session` on plain http://localhost.
    pub session_name: &'static str,
    /// Whether to add `Secure`.
    pub secure: bool,
}

impl CookieSettings {
    /// Settings for a server whose public URL is HTTPS (`secure`) or not.
    pub fn new(secure: bool) -> Self {
        Self {
            session_name: if secure {
                "__Host-steward_session"
            } else {
                "steward_session"
            },
            secure,
        }
    }

    /// `Set-Cookie` value for a new session. Persistent only with "Keep me signed in".
    pub fn session_cookie(
        &self,
        token: &str,
        remember: bool,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> String {
        let mut c = format!(
            "{}={token}; Path=/; HttpOnly; SameSite=Lax",
            self.session_name
        );
        if remember {
            // Rounded up: a cookie that outlives its session by a fraction of a second is
            // harmless; one that dies a second early is not.
            let left = expires_at - now;
            let max_age = (left.whole_seconds() + i64::from(left.subsec_nanoseconds() > 0)).max(0);
            c.push_str(&format!("; Max-Age={max_age}"));
        }
        if self.secure {
            c.push_str("; Secure");
        }
        c
    }

    /// `Set-Cookie` value that removes the session cookie.
    pub fn clear_session(&self) -> String {
        let mut c = format!(
            "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
            self.session_name
        );
        if self.secure {
            c.push_str("; Secure");
        }
        c
    }

    /// A cookie name with the `__Host-` prefix when served over HTTPS.
    pub fn name(&self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    /// `Set-Cookie` for an HttpOnly, SameSite=Lax cookie named `base` (prefixed as
    /// [`CookieSettings::name`]); `max_age` `None` makes it last until the browser closes,
    /// `Some(0)` removes it.
    pub fn plain_cookie(&self, base: &str, value: &str, max_age: Option<i64>) -> String {
        let mut c = format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax",
            self.name(base)
        );
        if let Some(age) = max_age {
            c.push_str(&format!("; Max-Age={}", age.max(0)));
        }
        if self.secure {
            c.push_str("; Secure");
        }
        c
    }

    /// The session token from the request's cookies.
    pub fn session_token<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        read_cookie(headers, self.session_name)
    }
}

/// The value of the first cookie named `name`.
pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn host_prefix_and_secure_over_https_only() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let https = CookieSettings::new(true).session_cookie(
            "t",
            true,
            now + time::Duration::days(30),
            now,
        );
        assert_eq!(
            https,
            "__Host-steward_session=t; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000; Secure"
        );
        let http = CookieSettings::new(false).session_cookie(
            "t",
            false,
            now + time::Duration::minutes(30),
            now,
        );
        assert_eq!(http, "steward_session=t; Path=/; HttpOnly; SameSite=Lax");
    }

    #[test]
    fn reads_the_named_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; steward_session=abc; b=2"),
        );
        assert_eq!(read_cookie(&h, "steward_session"), Some("abc"));
        assert_eq!(read_cookie(&h, "missing"), None);
    }
}
