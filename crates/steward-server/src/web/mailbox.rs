//! The local mailbox page: mail the server delivered to files because no SMTP
//! server is configured. Shown only to loopback clients.

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
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
/// come through a proxy (which would make every visitor look local), and the
/// server's public URL is itself a loopback address.
fn local_only(st: &AppState, peer: SocketAddr, headers: &HeaderMap) -> bool {
    let proxied = [
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-real-ip",
    ]
    .iter()
    .any(|h| headers.contains_key(*h));
    let public_is_loopback = url::Url::parse(&st.cfg.public_url()).is_ok_and(|u| match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    });
    st.cfg.mailbox_page && peer.ip().is_loopback() && !proxied && public_is_loopback
}

async fn show(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let Some(dir) = st
        .mailbox
        .as_ref()
        .filter(|_| local_only(&st, peer, &headers))
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
