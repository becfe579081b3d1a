//! The OAuth 2.0 / OpenID Connect provider's HTTP side: the endpoints apps call
//! and the signing keys of ID tokens. The person's pages are in `web::oauth`;
//! the rules are in `steward_core::oauth`.

pub mod endpoints;
pub mod keyring;
pub mod keys;
