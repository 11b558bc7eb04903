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
