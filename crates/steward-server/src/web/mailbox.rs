//! The local mailbox page: mail the server delivered to files because no SMTP
//! server is configured. Shown only to loopback clients that name this server.

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::header::HOST;
use axum::http::uri::Authority;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;

use crate::mail::sender::MailboxEntry;
use crate::state::AppState;
use crate::web::view::{Nav, page};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new().route("/mailbox", get(show))
}

/// Newest messages shown.
const SHOWN: usize = 50;

#[derive(Template)]
#[template(path = "ops/mailbox.html")]
struct MailboxPage {
    nav: Nav,
    dir: String,
    entries: Vec<MailboxEntry>,
}

/// The mailbox holds live reset links, so it is shown only when everything says
/// the reader is on this machine: the socket peer is loopback, the request did not
/// come through a proxy (which would make every visitor look local), the server's
/// public URL is itself a loopback address, and the request names this server
/// (see [`names_this_server`]).
fn local_only(st: &AppState, peer: SocketAddr, uri: &Uri, headers: &HeaderMap) -> bool {
    let proxied = [
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-real-ip",
    ]
    .iter()
    .any(|h| headers.contains_key(*h));
    let Ok(public) = url::Url::parse(&st.cfg.public_url()) else {
        return false;
    };
    let public_is_loopback = match public.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    // HTTP/2 carries the name in the URI (`:authority`), HTTP/1.1 in `Host`.
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| headers.get(HOST)?.to_str().ok().map(str::to_owned));
    st.cfg.mailbox_page
        && peer.ip().to_canonical().is_loopback()
        && !proxied
        && public_is_loopback
        && authority.is_some_and(|a| names_this_server(&public, &a))
}

/// Whether `authority` (the request's `Host`) is the public URL's host and port, or
/// `localhost`, `127.0.0.1` or `[::1]` with that port. A loopback peer alone is not
/// enough: through DNS rebinding a page at `http://attacker.example:PORT`, its name
/// pointed at 127.0.0.1, is a loopback client that the browser lets read the
/// answer, because to the browser it is the attacker's own origin. Its `Host`
/// names the attacker, so it gets the 404 of an unknown page.
fn names_this_server(public: &url::Url, authority: &str) -> bool {
    // `Host` is `host[:port]`; an authority's user part has no place there.
    let Some(asked) = authority
        .parse::<Authority>()
        .ok()
        .filter(|_| !authority.contains('@'))
    else {
        return false;
    };
    let Some(port) = public.port_or_known_default() else {
        return false;
    };
    let asked_port = asked.port_u16().or(match public.scheme() {
        "https" => Some(443),
        _ => Some(80),
    });
    let host = asked.host().to_ascii_lowercase();
    let public_host = public.host_str().unwrap_or_default().to_ascii_lowercase();
    asked_port == Some(port)
        && (host == public_host || ["localhost", "127.0.0.1", "[::1]"].contains(&host.as_str()))
}

async fn show(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some(dir) = st
        .mailbox
        .as_ref()
        .filter(|_| local_only(&st, peer, &uri, &headers))
    else {
        return crate::error::ApiError::NotFound.into_response_page();
    };
    let mut entries = Vec::new();
    if let Ok(mut rd) = tokio::fs::read_dir(dir).await {
        while let Ok(Some(f)) = rd.next_entry().await {
            if f.path().extension().is_some_and(|e| e == "json")
                && let Ok(bytes) = tokio::fs::read(f.path()).await
                && let Ok(e) = serde_json::from_slice::<MailboxEntry>(&bytes)
            {
                entries.push(e);
            }
        }
    }
    // Ids are UUIDv7, so they sort by delivery time.
    entries.sort_by(|a, b| b.id.cmp(&a.id));
    entries.truncate(SHOWN);
    page(
        StatusCode::OK,
        &MailboxPage {
            nav: Nav::of(None),
            dir: dir.display().to_string(),
            entries,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_public_name_and_loopback_names_on_the_public_port() {
        let public = url::Url::parse("http://localhost:8080").unwrap();
        for ok in [
            "localhost:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "LOCALHOST:8080",
        ] {
            assert!(names_this_server(&public, ok), "{ok}");
        }
        for refused in [
            "localhost",
            "localhost:8081",
            "evil.example:8080",
            "localhost.evil.example:8080",
            "127.0.0.1.nip.io:8080",
            "user@localhost:8080",
            "",
        ] {
            assert!(!names_this_server(&public, refused), "{refused}");
        }
        let https = url::Url::parse("https://localhost").unwrap();
        assert!(names_this_server(&https, "localhost"));
        assert!(names_this_server(&https, "127.0.0.1:443"));
        assert!(!names_this_server(&https, "localhost:80"));
    }
}
