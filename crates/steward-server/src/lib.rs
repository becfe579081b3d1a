//! Steward's HTTP server: the JSON API, the pages, the mail sender and the
//! background jobs, assembled from configuration. `main.rs` only parses the
//! configuration and calls [`serve`].

pub mod api;
pub mod app;
pub mod config;
pub mod error;
pub mod files;
pub mod geo;
pub mod http;
pub mod mail;
pub mod oauth;
pub mod state;
pub mod telemetry;
pub mod web;

pub use app::{Running, start};
pub use config::{Config, Overrides};
