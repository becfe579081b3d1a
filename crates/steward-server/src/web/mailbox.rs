//! The local mailbox page: mail the server delivered to files because no SMTP
//! server is configured. Shown only to loopback clients.

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
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

async fn show(State(st): State<AppState>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    let (Some(dir), true, true) = (&st.mailbox, st.cfg.mailbox_page, peer.ip().is_loopback())
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
