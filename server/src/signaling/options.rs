//! Command-line options of the signaling server.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use crate::relay::options::parse_duration;

/// The address used when `--signaling-listen` is not given (the Tari connector's default).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9100";

/// Signaling options, flattened into the server's command line.
#[derive(Debug, Clone, Args)]
pub struct SignalingOptions {
    /// Address of the signaling server's own listener [default: 127.0.0.1:9100; when that
    /// default is busy the server runs without signaling and says so on stderr].
    #[arg(long, env = "WALLETWIRE_SIGNALING_LISTEN")]
    pub signaling_listen: Option<SocketAddr>,
    /// Do not start the signaling server.
    #[arg(long)]
    pub no_signaling: bool,
    /// HS256 secret for the JWTs (at least 16 bytes); random per start when absent, so a
    /// restart invalidates every token.
    #[arg(long, env = "WALLETWIRE_SIGNALING_SECRET", hide_env_values = true)]
    pub signaling_secret: Option<String>,
    /// Lifetime of a login's JWT, and of the offer, answer and candidates stored for it.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub signaling_token_ttl: Duration,
    /// Most logins with stored data at once; beyond it `add.*` answers error 503.
    #[arg(long, default_value_t = 10_000)]
    pub signaling_max_entries: usize,
    /// Most logins with stored data created from one client address (IPv6: one /64); beyond
    /// it that address's `add.*` answers 503 while others carry on. Each connect attempt of a
    /// dApp is one login, kept until its token expires: the default leaves room for a busy
    /// page, or many users behind one NAT, reconnecting for the token's lifetime.
    #[arg(long, default_value_t = 256)]
    pub signaling_max_entries_per_address: usize,
    /// Most bytes of SDP and candidates stored in total; beyond it `add.*` answers 503.
    #[arg(long, default_value_t = 64 << 20)]
    pub signaling_max_bytes: usize,
}
