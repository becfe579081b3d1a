//! The stylesheet and scripts, compiled into the binary.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::AppState;

const STYLE: &str = include_str!("../../assets/style.css");
const POW: &str = include_str!("../../assets/pow.js");
const LIVE: &str = include_str!("../../assets/live.js");

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/assets/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .route(
            "/assets/pow.js",
            get(|| async { asset("text/javascript; charset=utf-8", POW) }),
        )
        .route(
            "/assets/live.js",
            get(|| async { asset("text/javascript; charset=utf-8", LIVE) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}
