//! The `tessera` program, built inside the test package so that its tests can start it as a
//! process of its own (Cargo gives a package's tests the paths of that package's binaries only):
//! the same `bootstrap::cli` the real binary runs, nothing else.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    bootstrap::cli::run_from_args().await
}
