//! The signaling server of the direct flow: JSON-RPC 2.0 over HTTP POST (`/` and
//! `/json_rpc`, CORS open) on its own listener. A dApp logs in (`auth.login`) and posts its
//! offer and candidates; the wallet daemon, holding the same JWT, reads them and posts its
//! answer and candidates, which the dApp polls for. Methods and codes:
//! [`walletwire::direct::signaling`]; protocol: `docs/DIRECT.md`.

pub mod options;
mod rpc;
pub mod store;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use tokio::net::TcpListener;
use tower_http::cors::CorsLayer;
use walletwire::direct::jwt::Secret;
use walletwire::direct::signaling::MAX_BODY_LEN;

use self::options::{DEFAULT_LISTEN, SignalingOptions};
use self::store::Store;

/// How often expired entries are dropped.
const SWEEP_INTERVAL: Duration = Duration::from_secs(10);

/// The signaling service: the JWT secret, the login counter and the entries.
#[derive(Debug)]
pub struct Signaling {
    secret: Secret,
    token_ttl: Duration,
    store: Mutex<Store>,
    /// Woken whenever an answer is stored, so that a waiting `get.answer` (its optional
    /// `waitMs`) answers at once.
    answered: tokio::sync::Notify,
    /// How many `get.answer` calls may wait at once, in total; beyond it they answer at once.
    waiters: tokio::sync::Semaphore,
}

/// Longest `waitMs` a `get.answer` may ask for.
pub const MAX_ANSWER_WAIT_MS: u64 = 10_000;
/// `get.answer` calls that may wait at the same time.
pub const MAX_ANSWER_WAITERS: usize = 1024;

impl Signaling {
    /// A service with the options' secret (or a random one) and caps.
    pub fn new(options: &SignalingOptions) -> anyhow::Result<Arc<Self>> {
        let secret = match &options.signaling_secret {
            Some(text) => Secret::new(text.as_bytes().to_vec())
                .ok_or_else(|| anyhow::anyhow!("--signaling-secret must be at least 16 bytes"))?,
            None => random_secret(),
        };
        Ok(Arc::new(Self {
            secret,
            token_ttl: options.signaling_token_ttl,
            store: Mutex::new(Store::new(
                options.signaling_max_entries,
                options.signaling_max_entries_per_address,
                options.signaling_max_bytes,
            )),
            answered: tokio::sync::Notify::new(),
            waiters: tokio::sync::Semaphore::new(MAX_ANSWER_WAITERS),
        }))
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // The store's invariants hold between statements; a panic elsewhere cannot break
        // them, so a poisoned lock is still usable.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The JSON-RPC routes.
    pub fn routes(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/", post(rpc::handle))
            .route("/json_rpc", post(rpc::handle))
            .layer(DefaultBodyLimit::max(MAX_BODY_LEN))
            .layer(CorsLayer::permissive())
            .with_state(self.clone())
    }

    /// Binds the listener: the given address, or the default one (when that is busy, `None`
    /// after a warning: the relay runs on without signaling).
    pub async fn bind(options: &SignalingOptions) -> anyhow::Result<Option<TcpListener>> {
        if options.no_signaling {
            return Ok(None);
        }
        match options.signaling_listen {
            Some(address) => Ok(Some(TcpListener::bind(address).await.map_err(|e| {
                anyhow::anyhow!("signaling server cannot listen on {address}: {e}")
            })?)),
            None => match TcpListener::bind(DEFAULT_LISTEN).await {
                Ok(listener) => Ok(Some(listener)),
                Err(error) => {
                    tracing::warn!(
                        %error,
                        "signaling server not started: {DEFAULT_LISTEN} is busy \
                         (pass --signaling-listen or --no-signaling)"
                    );
                    Ok(None)
                }
            },
        }
    }

    /// Announces the address on stdout and serves until SIGINT/SIGTERM.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> anyhow::Result<()> {
        let address: SocketAddr = listener.local_addr()?;
        // Not `println!`: a caller that read only the relay's line may have closed the pipe,
        // and that must not take the server down.
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "signaling listening on http://{address}/");
        let _ = stdout.flush();
        tracing::info!(%address, "signaling listening");
        let sweeper = {
            let this = Arc::downgrade(&self);
            tokio::spawn(async move {
                let mut interval = tokio::time::interval(SWEEP_INTERVAL);
                loop {
                    interval.tick().await;
                    let Some(this) = this.upgrade() else { break };
                    let mut store = this.store();
                    store.sweep(now_secs());
                    tracing::debug!(
                        entries = store.len(),
                        bytes = store.bytes(),
                        addresses = store.addresses(),
                        "signaling sweep"
                    );
                }
            })
        };
        let app = self
            .routes()
            .into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(crate::shutdown::signal())
            .await;
        sweeper.abort();
        Ok(result?)
    }
}

/// 256 random bits from the OS generator (two v4 UUIDs carry 122 random bits each; the
/// third tops the total up past 256).
fn random_secret() -> Secret {
    let bytes: Vec<u8> = (0..3)
        .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
        .collect();
    // 48 bytes is above the 16-byte minimum.
    Secret::new(bytes).expect("48 bytes is a valid secret")
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn now_secs() -> u64 {
    now_ms() / 1000
}

/// 128 uniform random bits for a login's token id: SHA-256 of two OS-random v4 UUIDs (244
/// random bits), cut to 16 bytes.
fn random_token_id() -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(uuid::Uuid::new_v4().as_bytes());
    hash.update(uuid::Uuid::new_v4().as_bytes());
    let digest = hash.finalize();
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    id
}
