//! Wire types shared by the server, the client, the CLI and the tests.
//!
//! Everything here is plain data with serde and OpenAPI schemas; no behaviour.

pub mod account;
pub mod error;
pub mod notify;
pub mod oauth;
pub mod profile;
pub mod session;

pub use account::*;
pub use error::*;
pub use notify::*;
pub use oauth::*;
pub use profile::*;
pub use session::*;
