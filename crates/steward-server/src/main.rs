//! `steward-server`: parse configuration, start, wait for Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use steward_core::clock::SystemClock;
use steward_server::config::{Config, Overrides};
use steward_server::telemetry;

/// Steward account server.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// TOML configuration file.
    #[arg(long, env = "STEWARD_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Public base URL used in emails and for cookie security.
    #[arg(long)]
    public_url: Option<String>,
    /// Data folder (default ./steward-data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database URL (sqlite://… or postgres://…).
    #[arg(long)]
    database_url: Option<String>,
    /// Print the effective configuration (secrets redacted) and exit.
    #[arg(long)]
    check_config: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Anything this process creates is its owner's alone, including files it does not
    // name itself (SQLite's temporary files); the data folder's modes are also set
    // explicitly, so an embedded server gets them without this.
    rustix::process::umask(rustix::fs::Mode::RWXG | rustix::fs::Mode::RWXO);
    let args = Args::parse();
    let overrides = Overrides {
        listen: args.listen,
        public_url: args.public_url,
        data_dir: args.data_dir,
        database_url: args.database_url,
    };
    let cfg = match Config::load(args.config.as_deref(), &overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("steward-server: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if args.check_config {
        println!("{cfg:#?}");
        return std::process::ExitCode::SUCCESS;
    }
    telemetry::init_logging(&cfg.log);
    let running = match steward_server::start(cfg, Arc::new(SystemClock)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("could not start: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    wait_for_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await;
    std::process::ExitCode::SUCCESS
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
