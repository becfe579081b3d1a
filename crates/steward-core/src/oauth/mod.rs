//! The OAuth 2.0 / OpenID Connect provider: the desktop app and the CLI sign in
//! through the browser (authorization code + PKCE on a loopback redirect, or the
//! device grant), and third-party apps sign people in with Steward after consent.
//!
//! The request checks (`authorize`, `pkce`, `redirect`, `device`) are pure rules;
//! `grant` is the person's side (approve, consent, type a code), `token` the
//! app's side (token endpoint, bearer tokens), `revocation` introspection and
//! revocation, `prompt` what a request asks of the person, `apps`
//! registration, Connected apps and the disclosure log.

pub mod apps;
pub mod authorize;
pub mod client;
pub mod device;
pub mod grant;
pub mod pkce;
pub mod prompt;
pub mod redirect;
pub mod revocation;
pub mod token;
