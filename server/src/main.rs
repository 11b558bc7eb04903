//! `walletwire-server`: the relay (Centrifugo client protocol over WebSocket) for walletwire's
//! relay flow (see `docs/RELAY.md`), and the signaling server of the direct flow on its own
//! listener (see `docs/DIRECT.md`).
#![forbid(unsafe_code)]

mod config;
mod http;
mod relay;
mod shutdown;
mod signaling;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::config::Cli;
use crate::relay::Relay;
use crate::signaling::Signaling;

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
    let signaling = Signaling::new(&cli.signaling)?;
    let signaling_listener = Signaling::bind(&cli.signaling).await?;
    // `try_join` polls the relay first, so its "listening" line stays the first line of
    // stdout; a failure of either ends both.
    tokio::try_join!(http::serve(cli.listen, relay, files), async move {
        match signaling_listener {
            Some(listener) => signaling.serve(listener).await,
            None => Ok(()),
        }
    })?;
    Ok(())
}
