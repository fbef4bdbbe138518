//! `tessera`: serve (default), migrate, sweep, openapi, admin create — see [`bootstrap::cli`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    bootstrap::cli::run_from_args().await
}
