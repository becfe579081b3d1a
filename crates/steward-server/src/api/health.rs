//! `/healthz` (alive), `/readyz` (database reachable), `/metrics` (Prometheus).
//!
//! Metrics are for the operator only: on the main listener they answer only a
//! configured bearer token (404 otherwise, like any unknown path); the separate
//! metrics listener (loopback by default) serves them without one.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use steward_core::secret::{constant_time_eq, hmac_sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics_with_token))
}

/// The router of the separate metrics listener.
pub fn metrics_router() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::NotFound })
}

async fn ready(State(st): State<AppState>) -> impl IntoResponse {
    match st.steward.ready().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

async fn metrics_with_token(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = st.cfg.metrics.bearer_token.as_deref() else {
        return ApiError::NotFound.into_response();
    };
    let given = crate::oauth::endpoints::bearer(&headers).unwrap_or_default();
    // Compared as MACs, so neither the length nor any prefix of the token leaks.
    let mac = |t: &str| hmac_sha256(b"steward-metrics-token", t.as_bytes());
    if !constant_time_eq(&mac(given), &mac(expected.trim())) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
            "a valid metrics bearer token is required",
        )
            .into_response();
    }
    metrics(State(st)).await.into_response()
}

async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    if let Ok(pending) = st.steward.store().pending_mail().await {
        #[allow(clippy::cast_precision_loss)]
        metrics::gauge!("steward_mail_outbox_pending").set(pending as f64);
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(),
    )
}
