//! Steward's domain: the rules and use cases of accounts, sessions and recovery.
//!
//! No HTTP and no SQL here. Use cases talk to the outside world only through
//! the traits in [`ports`]; time and randomness are passed in so that expiry
//! and throttling are tested exactly.

pub mod account;
pub mod activity;
pub mod challenge;
pub mod clock;
pub mod config;
pub mod error;
pub mod flow;
pub mod mail;
pub mod notify;
pub mod oauth;
pub mod ports;
pub mod profile;
pub mod secret;
pub mod session;
pub mod steward;
pub mod text;
pub mod throttle;

#[cfg(test)]
mod testing;

pub use config::CoreConfig;
pub use error::{CoreError, CoreResult, FieldErrors};
pub use steward::Steward;
