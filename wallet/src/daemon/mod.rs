//! The wallet daemon of the direct flow: a JSON-RPC endpoint over HTTP for the wallet UI, and
//! one WebRTC peer per session started with `webrtc.start`, answering a dApp over the
//! `tari-data` data channel with the reference wallet's API ([`crate::api`]).
//!
//! * [`rpc`]: the HTTP endpoint (`webrtc.start`, `webrtc.sessions`, `webrtc.stop`, and the
//!   wallet methods for an admin caller);
//! * [`peer`]: one session: offer and candidates from the signaling server, the answer, the
//!   data channel, `get.token`, permission checks, and closing the peer connection;
//! * [`access`]: which permission each wallet method needs;
//! * [`signaling`]: the HTTP client of the signaling server;
//! * [`cli`]: the `walletwire-wallet daemon` command.
//!
//! The wallet UI authenticates with an admin JWT the daemon prints at start (`ADMIN_TOKEN`).
//! Output lines on stdout (through [`DaemonOptions::on_event`]):
//! `DAEMON_LISTENING http://ADDR/`, `ADMIN_TOKEN <jwt>`, `WEBRTC_STARTED <session> <name>`,
//! `WEBRTC_CONNECTED <session> <ms since webrtc.start>`, `WEBRTC_CLOSED <session> <reason>`.

pub mod access;
pub mod cli;
pub mod peer;
pub mod rpc;
pub mod signaling;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use walletwire::direct::jwt::{self, Claims, Secret};
use walletwire::direct::permission::ADMIN;
use walletwire::direct::{Permission, Permissions};

use crate::api::WalletApi;
use crate::system::{fill_random, now_ms};

/// What the daemon reports (one line each).
pub type EventSink = Arc<dyn Fn(&str) + Send + Sync>;

/// How the daemon runs.
#[derive(Clone)]
pub struct DaemonOptions {
    /// The JSON-RPC endpoint's address.
    pub listen: SocketAddr,
    /// Where the signaling server is.
    pub signaling_url: String,
    /// Local UDP address of the WebRTC peers (`0.0.0.0:0`: every interface but loopback,
    /// which is what browsers reach; `127.0.0.1:0` for native peers on one machine).
    pub webrtc_bind: String,
    /// HS256 secret of the tokens the daemon issues (random when `None`).
    pub secret: Option<Vec<u8>>,
    /// How long a session may take from `webrtc.start` to an open data channel.
    pub connect_timeout: Duration,
    /// Lifetime of the wallet tokens given to dApps.
    pub token_ttl: Duration,
    /// Lifetime of the admin token printed at start (and of each rotated one).
    pub admin_token_ttl: Duration,
    /// Most sessions at once.
    pub max_sessions: usize,
    /// ICE connectivity check interval (webrtc-rs default 200 ms; 50 ms connects faster).
    pub ice_check_interval: Duration,
    /// Receives the output lines.
    pub on_event: EventSink,
}

impl core::fmt::Debug for DaemonOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DaemonOptions")
            .field("listen", &self.listen)
            .field("signaling_url", &self.signaling_url)
            .field("webrtc_bind", &self.webrtc_bind)
            .finish_non_exhaustive()
    }
}

impl Default for DaemonOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
            signaling_url: "http://127.0.0.1:9100".into(),
            webrtc_bind: "0.0.0.0:0".into(),
            secret: None,
            connect_timeout: Duration::from_secs(60),
            token_ttl: Duration::from_secs(24 * 3600),
            admin_token_ttl: Duration::from_secs(12 * 3600),
            max_sessions: 32,
            ice_check_interval: Duration::from_millis(50),
            on_event: Arc::new(|line| println!("{line}")),
        }
    }
}

/// One session as `webrtc.sessions` lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionInfo {
    /// Session id (also the `id` claim of its wallet token).
    pub id: u64,
    /// The dApp's name.
    pub name: String,
    /// `starting`, `answered`, `connected`.
    pub state: &'static str,
    /// Granted permissions.
    pub permissions: Permissions,
}

/// State shared by the endpoint and the sessions.
pub struct Shared {
    pub(crate) api: Mutex<WalletApi>,
    pub(crate) secret: Secret,
    pub(crate) options: DaemonOptions,
    sessions: Mutex<BTreeMap<u64, SessionInfo>>,
    stops: Mutex<BTreeMap<u64, watch::Sender<bool>>>,
    next_session: AtomicU64,
    shutdown: watch::Sender<bool>,
    /// `jti` of the one admin token in force: rotating it revokes the one before.
    admin_jti: Mutex<String>,
}

impl core::fmt::Debug for Shared {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the data consistent; a panic elsewhere does not poison
    // its meaning.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub(crate) fn emit(&self, line: &str) {
        (self.options.on_event)(line);
    }

    /// The sessions, in id order.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        locked(&self.sessions).values().cloned().collect()
    }

    pub(crate) fn set_state(&self, id: u64, state: &'static str) {
        if let Some(s) = locked(&self.sessions).get_mut(&id) {
            s.state = state;
        }
    }

    /// Registers a session; `None` when at the cap.
    pub(crate) fn add_session(
        &self,
        name: String,
        permissions: Permissions,
    ) -> Option<(u64, watch::Receiver<bool>)> {
        let mut sessions = locked(&self.sessions);
        if sessions.len() >= self.options.max_sessions {
            return None;
        }
        let id = self.next_session.fetch_add(1, Ordering::Relaxed);
        sessions.insert(
            id,
            SessionInfo {
                id,
                name,
                state: "starting",
                permissions,
            },
        );
        let (stop, stopped) = watch::channel(false);
        locked(&self.stops).insert(id, stop);
        Some((id, stopped))
    }

    /// Whether session `id` is registered (starting or connected).
    pub(crate) fn session_live(&self, id: u64) -> bool {
        locked(&self.sessions).contains_key(&id)
    }

    pub(crate) fn remove_session(&self, id: u64) {
        locked(&self.sessions).remove(&id);
        locked(&self.stops).remove(&id);
    }

    /// Asks a session to close; false if there is none.
    pub fn stop_session(&self, id: u64) -> bool {
        match locked(&self.stops).get(&id) {
            Some(stop) => {
                let _ = stop.send(true);
                true
            }
            None => false,
        }
    }

    /// A receiver that turns true when the daemon shuts down.
    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Signs a wallet token.
    pub(crate) fn issue(
        &self,
        id: u64,
        name: &str,
        permissions: Permissions,
        ttl: Duration,
    ) -> String {
        self.sign(id, name, permissions, ttl).0
    }

    fn sign(
        &self,
        id: u64,
        name: &str,
        permissions: Permissions,
        ttl: Duration,
    ) -> (String, String) {
        let mut random = [0u8; 16];
        fill_random(&mut random);
        let claims = Claims {
            id,
            jti: jwt::token_id(random),
            aud: jwt::AUD_DAEMON.to_owned(),
            name: name.to_owned(),
            permissions,
            exp: now_ms() / 1000 + ttl.as_secs().max(1),
        };
        (jwt::encode(&claims, &self.secret), claims.jti)
    }

    /// Issues a new admin token for the wallet UI, revoking the one before, and prints it
    /// (`ADMIN_TOKEN`).
    pub fn rotate_admin_token(&self) -> String {
        // `Admin` is a valid permission name.
        let admin = Permissions::new(vec![Permission::unit("Admin").expect("valid name")])
            .expect("one permission");
        let (token, jti) = self.sign(0, "wallet-ui", admin, self.options.admin_token_ttl);
        *locked(&self.admin_jti) = jti;
        self.emit(&format!("ADMIN_TOKEN {token}"));
        token
    }

    /// Checks a token the daemon issued: signature, audience, expiry, and for a wallet-UI
    /// token (id 0) holding `Admin`, that it is the admin token in force (not a rotated-out
    /// or minted one). Session tokens (other ids) are checked against their live session by
    /// the caller.
    pub(crate) fn verify(&self, token: &str) -> Result<Claims, walletwire::direct::Error> {
        let claims = jwt::verify(token, &self.secret, now_ms() / 1000, jwt::AUD_DAEMON)?;
        let admin = claims.id == 0 && claims.permissions.holds(ADMIN);
        if admin && claims.jti != *locked(&self.admin_jti) {
            return Err(walletwire::direct::Error::InvalidToken);
        }
        Ok(claims)
    }
}

/// A running daemon.
#[derive(Debug)]
pub struct DaemonHandle {
    /// The endpoint's bound address.
    pub address: SocketAddr,
    /// The admin token for the wallet UI.
    pub admin_token: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl DaemonHandle {
    /// The shared state (sessions).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Closes every session's peer connection, then stops the endpoint.
    pub async fn shutdown(self) {
        let _ = self.shared.shutdown.send(true);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while !self.shared.sessions().is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.server.abort();
    }
}

/// Binds the endpoint, prints `DAEMON_LISTENING` and `ADMIN_TOKEN`, and serves in the
/// background.
pub async fn start(api: WalletApi, options: DaemonOptions) -> anyhow::Result<DaemonHandle> {
    let secret = match &options.secret {
        Some(bytes) => Secret::new(bytes.clone())
            .ok_or_else(|| anyhow::anyhow!("the daemon secret must be at least 16 bytes"))?,
        None => {
            let mut bytes = vec![0u8; 32];
            fill_random(&mut bytes);
            // 32 bytes is above the 16-byte minimum.
            Secret::new(bytes).expect("32-byte secret")
        }
    };
    let listener = TcpListener::bind(options.listen).await?;
    let address = listener.local_addr()?;
    let (shutdown, _) = watch::channel(false);
    let shared = Arc::new(Shared {
        api: Mutex::new(api),
        secret,
        options,
        sessions: Mutex::new(BTreeMap::new()),
        stops: Mutex::new(BTreeMap::new()),
        // Session ids start at the start time in ms, like the signaling server's login ids:
        // a wallet token names its session by id and stays valid for a day, so with a secret
        // kept across restarts, ids counted from 1 again would let a token of an earlier run
        // act on a new session with that run's (possibly wider) permissions.
        next_session: AtomicU64::new(now_ms()),
        shutdown,
        admin_jti: Mutex::new(String::new()),
    });
    shared.emit(&format!("DAEMON_LISTENING http://{address}/"));
    let admin_token = shared.rotate_admin_token();
    let app = rpc::router(shared.clone());
    let server = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            eprintln!("daemon endpoint stopped: {error}");
        }
    });
    Ok(DaemonHandle {
        address,
        admin_token,
        shared,
        server,
    })
}
