//! `GET /api/v1/live`: a WebSocket that stays open while its session is valid.
//!
//! The server closes it (code 4001) the moment its session ends, whichever node
//! ended it: revoked, signed out, password changed or reset, or expired. Pages
//! use it to show a signed-out tab at once; the sync issue carries workspace
//! changes over the same mechanism. Client messages are ignored.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use steward_core::CoreError;
use steward_core::session::changes::Change;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::openapi::NOT_SIGNED_IN;
use crate::error::{ApiError, ApiResult};
use crate::http::client::CurrentUser;
use crate::state::AppState;

/// Close code sent when the session ended.
pub const SESSION_ENDED: u16 = 4001;
/// Close code sent when the server shuts down (clients reconnect).
const GOING_AWAY: u16 = 1001;
/// Largest message accepted from a client (they have nothing to say yet).
const MAX_MESSAGE: usize = 4 * 1024;
/// How often an open connection re-checks its session even without a change notice
/// (catches plain expiry).
const RECHECK: Duration = Duration::from_secs(30);

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/live", get(live))
}

/// Opens the live connection for the signed-in session.
#[utoipa::path(get, path = "/api/v1/live", tag = "sessions", operation_id = "open_live_connection",
    responses(
        (status = 101, description = "WebSocket opened: a `{\"type\": \"hello\"}` message, then closed with code 4001 when the session ends (1001 when the server shuts down)"),
        (status = 400, description = "Not a WebSocket upgrade request (`malformed_request`)", body = steward_proto::ErrorBody),
        (status = 401, description = NOT_SIGNED_IN, body = steward_proto::ErrorBody),
        (status = 403, description = "The handshake comes from another site's page (`cross_site_request`)", body = steward_proto::ErrorBody)))]
pub async fn live(
    State(st): State<AppState>,
    CurrentUser(who): CurrentUser,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let ws = ws.map_err(|_| {
        ApiError::Malformed("This endpoint is a WebSocket: open it with an Upgrade request.".into())
    })?;
    // Browsers always send Origin on a WebSocket handshake; another site's page must
    // not open one with this person's cookies.
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
        && origin != st.origin
    {
        tracing::warn!(origin, "cross-site WebSocket refused");
        return Err(ApiError::CrossSite);
    }
    let token = st
        .cookies
        .session_token(&headers)
        .map(str::to_owned)
        .ok_or(CoreError::Unauthenticated)?;
    let account = who.account().id;
    let session = who.session().id;
    Ok(ws
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| serve(st, socket, token, account, session))
        .into_response())
}

async fn serve(st: AppState, mut socket: WebSocket, token: String, account: Uuid, session: Uuid) {
    // Subscribe before the first check, so nothing between the two is missed.
    let mut changes = st.steward.subscribe_changes();
    let hello = serde_json::json!({"type": "hello", "account_id": account, "session_id": session});
    if socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.tick().await;
    let mut stopping = st.stopping.clone();
    loop {
        let check = tokio::select! {
            _ = stopping.changed() => {
                let frame = CloseFrame { code: GOING_AWAY, reason: "server shutting down".into() };
                let _ = socket.send(Message::Close(Some(frame))).await;
                return;
            },
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => false,
            },
            change = changes.recv() => match change {
                Ok(Change::Account(id)) => id == account,
                Ok(Change::Unknown) | Err(RecvError::Lagged(_)) => true,
                Err(RecvError::Closed) => return,
            },
            _ = recheck.tick() => true,
        };
        if check {
            match st.steward.check_session(&token).await {
                Ok(who) if who.session().id == session => {}
                Ok(_) | Err(CoreError::Unauthenticated) => {
                    let frame = CloseFrame {
                        code: SESSION_ENDED,
                        reason: "session ended".into(),
                    };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    tracing::debug!(%session, "live connection closed: session ended");
                    return;
                }
                // The database is unreachable: keep the connection, check again later.
                Err(e) => tracing::warn!(error = %e, "could not re-check a live connection"),
            }
        }
    }
}
