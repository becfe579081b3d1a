//! Server-rendered pages, one module per feature, each with its `router()`.
//!
//! Every form works without JavaScript except the "I'm not a robot" check,
//! whose proof of work runs in `/assets/pow.js`.

pub mod account;
pub mod assets;
pub mod connected_apps;
pub mod developer;
pub mod device;
pub mod form;
pub mod home;
pub mod legal;
pub mod mailbox;
pub mod notify;
pub mod oauth;
pub mod profile;
pub mod recovery;
pub mod sessions;
pub mod signin;
pub mod signup;
pub mod view;

use axum::Router;

use crate::state::AppState;

/// Every page route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(home::router())
        .merge(signup::router())
        .merge(signin::router())
        .merge(recovery::router())
        .merge(account::router())
        .merge(sessions::router())
        .merge(oauth::router())
        .merge(device::router())
        .merge(connected_apps::router())
        .merge(developer::router())
        .merge(profile::router())
        .merge(notify::router())
        .merge(legal::router())
        .merge(mailbox::router())
        .merge(assets::router())
}
