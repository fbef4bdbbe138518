//! `tessera`: serve (default), migrate, sweep, openapi, admin create — see [`bootstrap::cli`].

use std::process::ExitCode;

// jemalloc where it is a dependency: bootstrap/Cargo.toml says why, and where not.
#[cfg(all(feature = "jemalloc", target_arch = "x86_64", target_os = "linux"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    bootstrap::cli::run_from_args().await
}
