//! `tessera`: serve (default), migrate, sweep, openapi, admin create.

use std::process::ExitCode;
use std::time::Duration;

use application::auth::Registration;
use application::ErrorChain;
use bootstrap::config::AdminCommand;
use bootstrap::{App, BootError, Cli, Command, Config};
use clap::Parser;
use tokio::io::AsyncBufReadExt;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    bootstrap::telemetry::init_logs(cli.config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.config).await,
        Command::Migrate => migrate(&cli.config).await,
        Command::Sweep => sweep(&cli.config).await,
        Command::ConfigReference => {
            print!("{}", bootstrap::config::configuration_reference());
            Ok(())
        }
        Command::Openapi { yaml } => {
            println!("{}", bootstrap::openapi_document(yaml));
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
    let backend = bootstrap::backend::Backend::open(config).await?;
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
        "removed {} refresh tokens, {} refresh chains, {} login-attempt windows",
        swept.refresh_tokens, swept.refresh_chains, swept.login_attempts
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
