//! `steward`: sign in to a Steward server from the terminal.

use std::process::ExitCode;

use clap::Parser;
use steward_cli::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(steward_cli::run(cli, steward_cli::ctrl_c())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
