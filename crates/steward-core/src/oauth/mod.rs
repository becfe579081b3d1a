//! OAuth 2.0 / OpenID Connect provider rules (issue 4, in progress): the checks
//! an authorization request must pass. Endpoints and token issuance come later;
//! these rules are kept here, without HTTP, so they are tested exactly.

pub mod authorize;
pub mod client;
pub mod device;
pub mod pkce;
pub mod redirect;
