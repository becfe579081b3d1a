//! The home page.

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use crate::state::AppState;
use crate::web::view::{Nav, page};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template)]
#[template(path = "account/home.html")]
struct Home {
    nav: Nav,
}

async fn home(nav: Nav) -> Response {
    page(StatusCode::OK, &Home { nav: nav.clone() })
}
