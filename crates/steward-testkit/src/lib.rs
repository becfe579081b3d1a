//! Test kit: a real Steward server in-process on a free port (SQLite, or
//! PostgreSQL when asked), a real SMTP server that captures mail, an HTTP
//! client with a cookie jar, and a Chromium driver.

pub mod browser;
pub mod client;
pub mod mmdb;
pub mod server;
pub mod smtp;

pub use client::ApiClient;
pub use server::{TestServer, TestServerBuilder};
pub use smtp::{Received, SmtpSink};
