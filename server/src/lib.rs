//! `walletwire-server` as a library: the relay (Centrifugo client protocol over WebSocket) for
//! walletwire's relay flow (see `docs/RELAY.md`) and the signaling server of the direct flow
//! (see `docs/DIRECT.md`). The binary (`main.rs`) parses the command line and calls [`run`];
//! in-process harnesses (the fuzz targets in `fuzz/`) build a [`Relay`] or a [`Signaling`]
//! from a [`Cli`] and drive their routes without a listener.
#![forbid(unsafe_code)]

mod config;
mod http;
mod relay;
mod shutdown;
mod signaling;

pub use crate::config::Cli;
pub use crate::relay::Relay;
pub use crate::signaling::Signaling;

/// Runs the relay and, unless disabled, the signaling server until SIGINT/SIGTERM.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let relay = Relay::new(cli.relay).await?;
    let files = http::StaticFiles {
        www: cli.www,
        pkg: cli.pkg,
        public_metrics: cli.public_metrics,
    };
    let metrics_listener = match cli.metrics_listen {
        Some(address) => Some(tokio::net::TcpListener::bind(address).await?),
        None => None,
    };
    let signaling = Signaling::new(&cli.signaling)?;
    let signaling_listener = Signaling::bind(&cli.signaling).await?;
    // `try_join` polls the relay first, so its "listening" line stays the first line of
    // stdout; a failure of either ends both.
    tokio::try_join!(
        http::serve(cli.listen, relay.clone(), files),
        async move {
            match signaling_listener {
                Some(listener) => signaling.serve(listener).await,
                None => Ok(()),
            }
        },
        async move {
            match metrics_listener {
                Some(listener) => http::serve_metrics(listener, relay).await,
                None => Ok(()),
            }
        }
    )?;
    Ok(())
}
