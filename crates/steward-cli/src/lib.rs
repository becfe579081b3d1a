//! The `steward` command-line tool: signs in to a Steward server with OAuth 2.0
//! and OpenID Connect (authorization code with PKCE through the browser and a
//! loopback redirect, or the device grant), keeps the tokens of several
//! accounts in an owner-only credentials file, refreshes them transparently,
//! and manages the account's sessions.
//!
//! The binary is `src/main.rs`; everything it does is here so tests can drive
//! it. See `README.md` for how to use it.

pub mod api;
pub mod cli;
pub mod commands;
pub mod error;
pub mod loopback;
pub mod me;
pub mod oauth;
pub mod secret;
pub mod store;

pub use error::{CliError, Result};

/// Makes aws-lc-rs the process's TLS crypto provider (the one the rest of the
/// workspace uses); harmless if one is installed already.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Runs a parsed command line against the real terminal, environment and
/// credentials file. `cancel` (Ctrl-C in `main`) abandons a login in progress.
pub async fn run(cli: cli::Cli, cancel: impl std::future::Future<Output = ()>) -> Result<()> {
    install_crypto_provider();
    let mut ctx = commands::Context {
        http: api::http_client()?,
        store: store::Store::from_env()?,
        server: cli.server.clone(),
        console: commands::Console::stdio(),
    };
    commands::run(cli, &mut ctx, cancel).await
}

/// Resolves on Ctrl-C; never, if the signal cannot be listened for.
pub async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
