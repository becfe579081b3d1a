//! HTTP plumbing shared by the API and the pages: extractors, security middleware, limits.

pub mod browser;
pub mod client;
pub mod cookies;
pub mod json;
pub mod limits;
pub mod security;
