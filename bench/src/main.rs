//! `tessera-bench`: the tools behind `bench/run.sh`.
//!
//! - `seed`: writes a realistic data set through the storage ports (so every backend gets the
//!   same data, written the way Tessera writes it) and the fixtures the load scripts use.
//! - `ceiling`: runs the storage calls one API operation makes, straight on the adapter, at a
//!   given concurrency: what the backend can do without HTTP, JSON and Tessera's services.
//! - `hidden`: what a creator's posts cost to page through when the caller sees almost none.

mod ceiling;
mod hidden;
mod seed;

use bootstrap::Config;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "tessera-bench")]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Tool,
}

#[derive(Debug, Subcommand)]
enum Tool {
    /// Seed the configured storage and write the fixtures file.
    Seed(seed::SeedArgs),
    /// Measure the storage's own rate for the calls of one operation.
    Ceiling(ceiling::CeilingArgs),
    /// Measure a creator's posts when the caller may see almost none of them (empty storage).
    Hidden(hidden::HiddenArgs),
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let cli = Cli::parse();
    match cli.command {
        Tool::Seed(args) => seed::run(&cli.config, &args).await,
        Tool::Ceiling(args) => ceiling::run(&cli.config, &args).await,
        Tool::Hidden(args) => hidden::run(&cli.config, &args).await,
    }
}
