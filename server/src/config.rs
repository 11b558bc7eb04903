//! The command line of `walletwire-server`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::relay::options::RelayOptions;
use crate::signaling::options::SignalingOptions;

/// walletwire relay server: Centrifugo-compatible pub/sub for the relay flow, and the
/// signaling server of the direct flow on its own listener.
#[derive(Debug, Parser)]
#[command(name = "walletwire-server", version, about)]
pub struct Cli {
    /// Address to listen on (`127.0.0.1:0` picks a free port; the real one is printed).
    #[arg(long, default_value = "127.0.0.1:8000", env = "WALLETWIRE_LISTEN")]
    pub listen: SocketAddr,
    /// Relay options.
    #[command(flatten)]
    pub relay: RelayOptions,
    /// Signaling server options (direct flow).
    #[command(flatten)]
    pub signaling: SignalingOptions,
    /// Serve the files of this directory at `/` (the demo pages).
    #[arg(long, env = "WALLETWIRE_WWW")]
    pub www: Option<PathBuf>,
    /// Serve the files of this directory at `/pkg` (the built npm package).
    #[arg(long, env = "WALLETWIRE_PKG")]
    pub pkg: Option<PathBuf>,
    /// Serve `/metrics` (Prometheus text) on this separate address, for the monitoring
    /// network only; the real address is printed as `metrics at http://…/metrics`.
    #[arg(long, env = "WALLETWIRE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Also serve `/metrics` on the main listener, to anyone who reaches it (development and
    /// tests; off by default: the counters tell how busy the relay is and how it fails).
    #[arg(long)]
    pub public_metrics: bool,
}
