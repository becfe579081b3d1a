//! Which `redirect_uri` an authorization request may send the browser back to.
//!
//! Registered URIs match exactly (RFC 6749 §3.1.2, as OAuth 2.1 requires), with
//! one exception for native apps (RFC 8252 §7.3): a registered loopback IP
//! literal (`http://127.0.0.1/…` or `http://[::1]/…`) matches that address on
//! any port, because the app picks a free port at run time. `localhost` gets no
//! such leeway (RFC 8252 §8.3: it may resolve elsewhere).

use std::net::IpAddr;

use url::{Host, Url};

/// Why a presented `redirect_uri` was refused. The browser is then shown an error
/// page and never sent to the URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectError {
    /// Not an absolute URL.
    Malformed,
    /// Carries a fragment, which the response parameters could be confused with.
    Fragment,
    /// Not one of the client's registered redirect URIs.
    NotRegistered,
}

fn loopback_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(ip) if ip.is_loopback() => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) if ip.is_loopback() => Some(IpAddr::V6(ip)),
        _ => None,
    }
}

/// The URL to send the browser back to, if `presented` matches one of `registered`.
pub fn check_redirect(registered: &[String], presented: &str) -> Result<Url, RedirectError> {
    let url = Url::parse(presented).map_err(|_| RedirectError::Malformed)?;
    if url.cannot_be_a_base() {
        return Err(RedirectError::Malformed);
    }
    if url.fragment().is_some() {
        return Err(RedirectError::Fragment);
    }
    let matches = registered.iter().any(|r| {
        if r == presented {
            return true;
        }
        let Ok(reg) = Url::parse(r) else {
            return false;
        };
        // Loopback: same scheme (http), same IP literal, same path and query; any port.
        reg.scheme() == "http"
            && url.scheme() == "http"
            && loopback_ip(&reg).is_some()
            && loopback_ip(&reg) == loopback_ip(&url)
            && reg.username().is_empty()
            && url.username().is_empty()
            && url.password().is_none()
            && reg.path() == url.path()
            && reg.query() == url.query()
    });
    if matches {
        Ok(url)
    } else {
        Err(RedirectError::NotRegistered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(uris: &[&str]) -> Vec<String> {
        uris.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn registered_uris_match_exactly() {
        let r = reg(&["https://app.example.com/callback"]);
        assert!(check_redirect(&r, "https://app.example.com/callback").is_ok());
        for bad in [
            "https://app.example.com/callback/",
            "https://app.example.com/callback?x=1",
            "https://app.example.com:444/callback",
            "http://app.example.com/callback",
            "https://evil.example.com/callback",
            "https://app.example.com.evil.example/callback",
            "https://user@app.example.com/callback",
        ] {
            assert_eq!(
                check_redirect(&r, bad),
                Err(RedirectError::NotRegistered),
                "{bad}"
            );
        }
        assert_eq!(
            check_redirect(&r, "https://app.example.com/callback#x"),
            Err(RedirectError::Fragment)
        );
        assert_eq!(
            check_redirect(&r, "/callback"),
            Err(RedirectError::Malformed)
        );
        assert_eq!(
            check_redirect(&r, "mailto:a@b.c"),
            Err(RedirectError::Malformed)
        );
    }

    #[test]
    fn loopback_ip_redirects_match_on_any_port() {
        let r = reg(&["http://127.0.0.1/callback", "http://[::1]/callback"]);
        assert!(check_redirect(&r, "http://127.0.0.1:49152/callback").is_ok());
        assert!(check_redirect(&r, "http://127.0.0.1/callback").is_ok());
        assert!(check_redirect(&r, "http://[::1]:8000/callback").is_ok());
        for bad in [
            "http://127.0.0.1:49152/other",
            "http://127.0.0.2:49152/callback",
            "https://127.0.0.1:49152/callback",
            "http://localhost:49152/callback",
            "http://user:pw@127.0.0.1:49152/callback",
            "http://127.0.0.1:49152/callback?next=x",
        ] {
            assert_eq!(
                check_redirect(&r, bad),
                Err(RedirectError::NotRegistered),
                "{bad}"
            );
        }
    }

    #[test]
    fn localhost_gets_no_port_leeway() {
        let r = reg(&["http://localhost/callback"]);
        assert!(check_redirect(&r, "http://localhost/callback").is_ok());
        assert_eq!(
            check_redirect(&r, "http://localhost:5000/callback"),
            Err(RedirectError::NotRegistered)
        );
    }
}
