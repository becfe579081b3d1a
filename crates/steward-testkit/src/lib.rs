//! Test kit: a real Steward server in-process on a free port (SQLite, or
//! PostgreSQL when asked), a real SMTP server that captures mail, an HTTP
//! client with a cookie jar, a Chromium driver, and a capture of what the
//! server logs.

pub mod browser;
pub mod client;
pub mod logs;
pub mod mmdb;
pub mod server;
pub mod smtp;

pub use client::ApiClient;
pub use logs::Logs;
pub use server::{TestServer, TestServerBuilder};
pub use smtp::{Received, SmtpSink};
