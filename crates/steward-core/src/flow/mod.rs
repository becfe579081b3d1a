//! Self-service flows, one module each, as `impl Steward` blocks.

pub mod email_change;
pub mod login;
pub mod recovery;
pub mod registration;
pub mod sessions;
pub mod settings;
pub mod upgrades;
pub mod verification;

#[cfg(test)]
mod tests;
