//! Security headers on every answer, and CSRF protection on every state-changing request.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The same policy with images from any HTTPS origin: only the consent page sets it,
/// to show the logo a third-party app registered.
pub const CSP_WITH_HTTPS_IMAGES: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data: https:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
base-uri 'none'; object-src 'none'";

/// Adds CSP, framing, referrer and sniffing protections; HSTS when served over HTTPS;
/// `no-store` on everything but static assets.
pub async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with("/assets/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // A handler may have set `CSP_WITH_HTTPS_IMAGES`; anything else gets the default.
    let widened = h
        .get(header::CONTENT_SECURITY_POLICY)
        .is_some_and(|v| v == CSP_WITH_HTTPS_IMAGES);
    if !widened {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    if !is_asset && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.cookies.secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}

/// Refuses cross-site state-changing requests. Browsers always send
/// `Sec-Fetch-Site` or `Origin` on such requests; programs without cookies send
/// neither and are not at risk, so they pass.
pub async fn csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    // One-click unsubscribe (RFC 8058) is POSTed by mail providers from anywhere; it
    // uses no cookie, and its signed token is the only authority.
    if req.uri().path().starts_with("/unsubscribe/") {
        return next.run(req).await;
    }
    let h = req.headers();
    let fetch_site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    // `Sec-Fetch-Site` cannot be set by pages and is exact, so it decides when present.
    // Otherwise `Origin` must be ours (with `Referrer-Policy: no-referrer`, browsers send
    // `Origin: null` even for same-origin form posts, which is why it is not checked first).
    let allowed = match (fetch_site, origin) {
        (Some(site), _) => site == "same-origin" || site == "none",
        (None, Some(o)) => o == state.origin,
        (None, None) => true,
    };
    if !allowed {
        tracing::warn!(
            origin = origin.unwrap_or("-"),
            fetch_site = fetch_site.unwrap_or("-"),
            "cross-site request refused"
        );
        return ApiError::CrossSite.into_response();
    }
    next.run(req).await
}
