//! `walletwire-server`: the relay (Centrifugo client protocol over WebSocket) for walletwire's
//! relay flow. See `docs/RELAY.md`.
#![forbid(unsafe_code)]

mod config;
mod http;
mod relay;
mod shutdown;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::config::Cli;
use crate::relay::Relay;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let relay = Relay::new(cli.relay).await?;
    let files = http::StaticFiles {
        www: cli.www,
        pkg: cli.pkg,
    };
    http::serve(cli.listen, relay, files).await
}
