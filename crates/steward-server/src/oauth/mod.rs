//! The OAuth 2.0 / OpenID Connect provider (issue 4, in progress). For now: the
//! signing keys of ID tokens and access tokens, and their public JWK set.

pub mod keys;
