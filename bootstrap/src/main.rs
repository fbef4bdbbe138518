//! `tessera`: serve (default), migrate, sweep, openapi, admin create — see [`bootstrap::cli`].

use std::process::ExitCode;

// jemalloc (x86-64 Linux, bootstrap/Cargo.toml says why only there): 11–17% less CPU
// per request than glibc's malloc under the same load (bench/RESULTS.md, "Speed"), where malloc
// and free took 14–22% of the profile; it holds a few MB more at peak.
#[cfg(all(feature = "jemalloc", target_arch = "x86_64", target_os = "linux"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    bootstrap::cli::run_from_args().await
}
