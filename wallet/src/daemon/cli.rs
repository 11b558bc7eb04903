//! The `walletwire-wallet daemon` command line: its options and its run until Ctrl-C or
//! SIGTERM (which closes every peer connection first, so dApps learn at once).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::{DaemonOptions, start};
use crate::api::WalletApi;

/// Options of `walletwire-wallet daemon`.
#[derive(Debug, Clone, Args)]
pub struct DaemonArgs {
    /// Address of the JSON-RPC endpoint for the wallet UI (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:9000")]
    pub listen: SocketAddr,
    /// The signaling server.
    #[arg(long, default_value = "http://127.0.0.1:9100/")]
    pub signaling_url: String,
    /// Local UDP address of the WebRTC peers.
    #[arg(long, default_value = "0.0.0.0:0")]
    pub webrtc_bind: String,
    /// HS256 secret of the admin and wallet tokens (at least 16 bytes); random per start
    /// when absent.
    #[arg(long, env = "WALLETWIRE_DAEMON_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Seconds a session may take from `webrtc.start` to an open data channel.
    #[arg(long, default_value_t = 60)]
    pub connect_timeout: u64,
    /// Most WebRTC sessions at once.
    #[arg(long, default_value_t = 32)]
    pub max_sessions: usize,
    /// Seconds the admin token printed at start is valid (`admin.rotate_token` issues a new
    /// one and revokes the old one at once).
    #[arg(long, default_value_t = 12 * 3600)]
    pub admin_token_ttl: u64,
}

/// Serves until Ctrl-C / SIGTERM.
pub async fn run(api: WalletApi, args: &DaemonArgs) -> anyhow::Result<()> {
    let options = DaemonOptions {
        listen: args.listen,
        signaling_url: args.signaling_url.clone(),
        webrtc_bind: args.webrtc_bind.clone(),
        secret: args.secret.as_ref().map(|s| s.as_bytes().to_vec()),
        connect_timeout: Duration::from_secs(args.connect_timeout.max(1)),
        max_sessions: args.max_sessions.max(1),
        admin_token_ttl: Duration::from_secs(args.admin_token_ttl.max(1)),
        on_event: Arc::new(|line| {
            use std::io::Write;
            // A closed stdout must not stop the daemon.
            let mut out = std::io::stdout();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }),
        ..DaemonOptions::default()
    };
    let handle = start(api, options).await?;
    wait_for_signal().await;
    eprintln!("closing WebRTC sessions");
    handle.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
