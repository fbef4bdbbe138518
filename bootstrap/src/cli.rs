//! What the `tessera` command does with its parsed command line: serve (default), migrate,
//! sweep, backup, copy, openapi, admin create. `main.rs` only parses and calls [`run`], so a test can start the
//! very same program as a process of its own (tests/src/bin/tessera-under-test.rs).

use std::process::ExitCode;
use std::time::Duration;

use application::auth::Registration;
use application::ErrorChain;
use clap::Parser;
use tokio::io::AsyncBufReadExt;

use crate::config::AdminCommand;
use crate::{App, BootError, Cli, Command, Config};

/// Parses the process's command line (flags and `TESSERA_*` variables) and runs it.
pub async fn run_from_args() -> ExitCode {
    run(Cli::parse()).await
}

/// Runs the command `cli` names, logging as it asks, and says how the process should exit.
pub async fn run(cli: Cli) -> ExitCode {
    crate::telemetry::init_logs(cli.config.log_format, crate::lambda::started_by_lambda());
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve if crate::lambda::started_by_lambda() => crate::lambda::serve(&cli.config).await,
        Command::Serve => serve(&cli.config).await,
        Command::Migrate => migrate(&cli.config).await,
        Command::Sweep => sweep(&cli.config).await,
        Command::Backup { to } => crate::backup::backup(&cli.config, &to).await,
        Command::Copy {
            from,
            to,
            resume,
            files_from,
            files_to,
            files_shared,
            from_dynamodb_endpoint,
            to_dynamodb_endpoint,
        } => {
            let sides = crate::copy::Sides {
                from: crate::copy::Side { url: from, dynamodb_endpoint: from_dynamodb_endpoint, files: files_from },
                to: crate::copy::Side { url: to, dynamodb_endpoint: to_dynamodb_endpoint, files: files_to },
                files_shared,
            };
            crate::copy::copy(&cli.config, sides, resume).await
        }
        Command::ConfigReference => {
            print!("{}", crate::config::configuration_reference());
            Ok(())
        }
        Command::Openapi { yaml } => {
            println!("{}", crate::openapi_document(yaml));
            Ok(())
        }
        Command::Admin(AdminCommand::Create { email, username, first_name, last_name }) => {
            create_admin(&cli.config, Registration { email, username, password: String::new(), first_name, last_name })
                .await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %ErrorChain(&err), "tessera failed");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: &Config) -> Result<(), BootError> {
    let app = App::build(config, !config.no_migrate).await?;
    let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(|e| BootError::Io(e.to_string()))?;
    tracing::info!(listen = %config.listen, storage = ?config.storage, "serving; Swagger UI at /docs");
    app.serve(listener, shutdown_signal(), Duration::from_secs(config.shutdown_grace)).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutdown requested: finishing in-flight requests");
}

async fn migrate(config: &Config) -> Result<(), BootError> {
    let backend = crate::backend::Backend::open(config).await?;
    backend.migrate().await?;
    backend.close().await;
    tracing::info!("migrations applied");
    Ok(())
}

async fn sweep(config: &Config) -> Result<(), BootError> {
    let app = App::build(config, !config.no_migrate).await?;
    let swept = app.sweep.run().await.map_err(BootError::App);
    app.backend.close().await;
    let swept = swept?;
    println!(
        "removed {} refresh tokens, {} refresh chains, {} login-attempt windows, {} idempotency records, {} orphan blobs",
        swept.refresh_tokens, swept.refresh_chains, swept.login_attempts, swept.idempotency_records, swept.orphan_blobs
    );
    Ok(())
}

async fn create_admin(config: &Config, mut registration: Registration) -> Result<(), BootError> {
    registration.password = match std::env::var("TESSERA_ADMIN_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            let mut line = String::new();
            tokio::io::BufReader::new(tokio::io::stdin())
                .read_line(&mut line)
                .await
                .map_err(|e| BootError::Io(e.to_string()))?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let app = App::build(config, !config.no_migrate).await?;
    let user = app.auth.create_admin(registration).await.map_err(BootError::App)?;
    app.backend.close().await;
    println!("{}", user.id);
    Ok(())
}
