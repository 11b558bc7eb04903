//! Shared helpers of the wallet's integration tests: the real `walletwire-server` relay on an
//! ephemeral loopback port (memory broker, or Redis on a `redis-server` of the test's own),
//! the real `walletwire-wallet` binary reading its output lines, a native dApp (a `Hub` with
//! `connect_dapp` on the crate's tokio driver) and a native wallet (`connect_wallet`), and a
//! TCP proxy that can cut, freeze, stall and delay sockets. No mocks: every byte crosses real
//! WebSockets and the real relay.
//!
//! The relay binary: `CARGO_BIN_EXE_*` exists only for this package's own binaries, so the
//! first test that needs the relay runs `cargo build -p walletwire-server` (same profile, same
//! target directory; a no-op when it is up to date) and uses `walletwire-server` next to this
//! package's binary. `WALLETWIRE_SERVER_BIN=<path>` skips the build and uses that binary.
//!
//! Every wait has a time limit, so a broken build fails instead of hanging.
#![allow(dead_code)] // Each test file uses a different subset.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use walletwire::protocol::{
    DappOptions, Disconnect, Error, Event, Limits, Metadata, Mode, RpcError, SessionInfo,
    SessionRequest, WalletOptions,
};
use walletwire::relay::client::RelayClientOptions;
use walletwire::relay::hub::{ConnectionId, HubEvent};
use walletwire_wallet::driver::{Driver, DriverEvent};
use walletwire_wallet::system::{now_ms, os_random};

/// How long any single expected step may take.
pub const WAIT: Duration = Duration::from_secs(15);

/// The relay binary, built once per test process.
pub fn relay_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("WALLETWIRE_SERVER_BIN") {
                return PathBuf::from(path);
            }
            let wallet = Path::new(env!("CARGO_BIN_EXE_walletwire-wallet"));
            let profile_dir = wallet.parent().expect("binary has a directory");
            let mut build = std::process::Command::new(env!("CARGO"));
            build.args(["build", "--quiet", "-p", "walletwire-server"]);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            let status = build
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building walletwire-server failed");
            let server = profile_dir.join("walletwire-server");
            assert!(server.exists(), "no relay binary at {}", server.display());
            server
        })
        .clone()
}

/// A running relay process, killed when dropped.
pub struct Relay {
    child: Child,
    pub port: u16,
}

impl Relay {
    /// Starts the relay on an ephemeral port.
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// Starts the relay on `port` (0: ephemeral) and waits for its "listening" line.
    pub async fn start_on(port: u16) -> Self {
        Self::start_with(port, &[]).await
    }

    /// Starts the relay on `port` with extra command-line arguments.
    pub async fn start_with(port: u16, args: &[&str]) -> Self {
        let binary = relay_binary();
        let mut child = Command::new(binary)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--public-metrics"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("the relay binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("relay announces itself in time")
            .expect("relay stdout readable")
            .expect("relay printed a line");
        let port = line
            .trim()
            .strip_prefix("relay listening on ws://127.0.0.1:")
            .and_then(|rest| rest.strip_suffix("/connection/websocket"))
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first relay line: {line:?}"));
        // Keep draining stdout so the relay never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { child, port }
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/connection/websocket", self.port)
    }

    /// SIGKILL: no goodbye to any client (a crash or a node replaced).
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

/// A fresh, empty data directory for one wallet.
pub fn data_dir(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "walletwire-wallet-test-{name}-{}-{}-{}",
        std::process::id(),
        now_ms(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A `walletwire-wallet` process; its stdout lines are collected.
pub struct WalletProcess {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
}

impl WalletProcess {
    /// Runs `walletwire-wallet <args>`.
    pub fn spawn(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_walletwire-wallet"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("the wallet binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                eprintln!("[wallet] {line}");
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// `pair <uri> --data-dir <dir> <extra>`.
    pub fn pair(uri: &str, dir: &Path, extra: &[&str]) -> Self {
        let dir = dir.to_str().expect("UTF-8 temp path");
        let mut args = vec!["pair", uri, "--data-dir", dir];
        args.extend_from_slice(extra);
        Self::spawn(&args)
    }

    /// The next line, or None when stdout ended.
    pub async fn next_line(&mut self) -> Option<String> {
        let line = self.lines.recv().await?;
        self.seen.push(line.clone());
        Some(line)
    }

    /// Waits for a line starting with `prefix` (skipping others); returns the rest.
    pub async fn expect(&mut self, prefix: &str) -> String {
        let wait = async {
            loop {
                match self.next_line().await {
                    Some(line) => {
                        if let Some(rest) = line.strip_prefix(prefix) {
                            return rest.trim().to_owned();
                        }
                    }
                    None => panic!("wallet output ended before {prefix:?}; saw {:?}", self.seen),
                }
            }
        };
        match tokio::time::timeout(WAIT, wait).await {
            Ok(rest) => rest,
            Err(_) => panic!("no {prefix:?} line in time; saw {:?}", self.seen),
        }
    }

    /// Writes one line to the wallet's stdin (answers to `APPROVE`).
    pub async fn answer(&mut self, line: &str) {
        use tokio::io::AsyncWriteExt;
        let stdin = self.child.stdin.as_mut().expect("stdin is piped");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("wallet reads stdin");
        stdin.flush().await.expect("flush stdin");
    }

    /// Sends a signal (`INT`, `TERM`, `KILL`).
    pub async fn signal(&self, name: &str) {
        let pid = self.child.id().expect("wallet still running");
        let status = Command::new("kill")
            .args([&format!("-{name}"), &pid.to_string()])
            .status()
            .await
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the exit status, reading the rest of the output.
    pub async fn exit(&mut self) -> std::process::ExitStatus {
        self.exit_within(WAIT).await
    }

    /// [`WalletProcess::exit`] with its own time limit.
    pub async fn exit_within(&mut self, limit: Duration) -> std::process::ExitStatus {
        let run = async {
            while self.next_line().await.is_some() {}
            self.child.wait().await.expect("wait works")
        };
        tokio::time::timeout(limit, run)
            .await
            .unwrap_or_else(|_| panic!("wallet did not exit in time; saw {:?}", self.seen))
    }

    /// Reads whatever the wallet prints during `duration`.
    pub async fn drain_for(&mut self, duration: Duration) {
        let deadline = tokio::time::Instant::now() + duration;
        while let Ok(Some(_)) = tokio::time::timeout_at(deadline, self.next_line()).await {}
    }

    /// Lines starting with `prefix` seen so far.
    pub fn count(&self, prefix: &str) -> usize {
        self.seen.iter().filter(|l| l.starts_with(prefix)).count()
    }
}

/// Runs the wallet binary to completion: (exit status, stdout lines).
pub async fn run_wallet(args: &[&str]) -> (std::process::ExitStatus, Vec<String>) {
    let mut process = WalletProcess::spawn(args);
    let status = process.exit().await;
    (status, process.seen)
}

/// A native dApp: the SDK's dApp connection in a hub, on the wallet crate's tokio driver.
pub struct NativeDapp {
    pub driver: Driver,
    pub id: ConnectionId,
    /// Events not consumed by a wait, oldest first.
    pub backlog: VecDeque<Event>,
    /// Every event seen, for assertions.
    pub log: Vec<Event>,
    pub links: Vec<bool>,
}

/// Relay client settings for tests: quick reconnects.
pub fn quick_relay_options() -> RelayClientOptions {
    RelayClientOptions {
        name: "test-dapp".into(),
        backoff_min_ms: 100,
        backoff_max_ms: 1_000,
        ping_grace_ms: 1_500,
        ..RelayClientOptions::default()
    }
}

impl NativeDapp {
    /// Connects to `socket_url`; the session request names `request_relay` for the wallet.
    pub fn start(socket_url: &str, request_relay: &str, mode: Mode) -> Self {
        Self::start_with(socket_url, request_relay, mode, |_| {})
    }

    /// [`NativeDapp::start`] with the dApp options adjusted by `adjust` (e.g. the request's
    /// lifetime).
    pub fn start_with(
        socket_url: &str,
        request_relay: &str,
        mode: Mode,
        adjust: impl FnOnce(&mut DappOptions),
    ) -> Self {
        let mut driver = Driver::new(socket_url, quick_relay_options(), Limits::default(), None);
        let meta = Metadata {
            name: "Test dApp".into(),
            url: Some("http://127.0.0.1".into()),
            icon: None,
        };
        let mut options = DappOptions::new(request_relay, meta);
        options.mode = mode;
        adjust(&mut options);
        let id = driver
            .hub()
            .connect_dapp(options, now_ms(), os_random())
            .expect("dApp options are valid");
        Self {
            driver,
            id,
            backlog: VecDeque::new(),
            log: Vec::new(),
            links: Vec::new(),
        }
    }

    /// Waits for the first event of this connection matching `pick` (others are kept).
    pub async fn wait_for<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&Event) -> Option<T>,
    ) -> T {
        if let Some(index) = self.backlog.iter().position(|e| pick(e).is_some()) {
            let event = self.backlog.remove(index).expect("index is in range");
            return pick(&event).expect("matched before");
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let event = tokio::time::timeout_at(deadline, self.driver.next())
                .await
                .unwrap_or_else(|_| panic!("dApp: no {what} in time; log {:?}", self.log));
            if let Some(event) = self.absorb(event) {
                match pick(&event) {
                    Some(found) => return found,
                    None => self.backlog.push_back(event),
                }
            }
        }
    }

    /// Records a driver event; returns it if it is an event of this connection.
    fn absorb(&mut self, event: DriverEvent) -> Option<Event> {
        match event {
            DriverEvent::Hub(HubEvent::Event { id, event }) if id == self.id => {
                self.log.push(event.clone());
                Some(event)
            }
            DriverEvent::Hub(HubEvent::Link { up, .. }) => {
                self.links.push(up);
                None
            }
            _ => None,
        }
    }

    /// Records a driver event and keeps this connection's events in the backlog.
    fn keep(&mut self, event: DriverEvent) {
        if let Some(event) = self.absorb(event) {
            self.backlog.push_back(event);
        }
    }

    /// Runs the dApp for `duration`, keeping every event.
    pub async fn run_for(&mut self, duration: Duration) {
        let deadline = tokio::time::Instant::now() + duration;
        while let Ok(event) = tokio::time::timeout_at(deadline, self.driver.next()).await {
            self.keep(event);
        }
    }

    /// Runs the dApp until the wallet prints a line starting with `prefix`; returns the rest.
    pub async fn until_line(&mut self, wallet: &mut WalletProcess, prefix: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            tokio::select! {
                line = wallet.next_line() => match line {
                    Some(line) => if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.trim().to_owned();
                    },
                    None => panic!("wallet output ended before {prefix:?}; saw {:?}", wallet.seen),
                },
                event = self.driver.next() => self.keep(event),
                () = tokio::time::sleep_until(deadline) => {
                    panic!("no {prefix:?} line in time; wallet saw {:?}", wallet.seen)
                }
            }
        }
    }

    /// A memory relay came back without its history: the dApp is told (`messages_lost` with
    /// no count) and so is the wallet (`MESSAGES_LOST <session> unknown`).
    pub async fn history_lost(&mut self, wallet: &mut WalletProcess, session: &str) {
        self.wait_for("messages_lost", |e| {
            matches!(e, Event::MessagesLost { count: None }).then_some(())
        })
        .await;
        assert_eq!(
            self.until_line(wallet, "MESSAGES_LOST ").await,
            format!("{session} unknown")
        );
    }

    /// The session request once the relay confirmed the handshake channel.
    pub async fn session_request(&mut self) -> SessionRequest {
        self.wait_for("session_request", |e| match e {
            Event::SessionRequest(r) => Some((**r).clone()),
            _ => None,
        })
        .await
    }

    /// Waits for `otp_required`, then types `code`.
    pub fn submit_otp(&mut self, code: &str) -> Result<(), Error> {
        let now = now_ms();
        let conn = self
            .driver
            .hub()
            .connection(self.id)
            .expect("dApp connection");
        conn.dapp().expect("a dApp").submit_otp(code, now)
    }

    /// Waits for `otp_required`; returns its `attempts_left`.
    pub async fn otp_required(&mut self) -> u8 {
        self.wait_for("otp_required", |e| match e {
            Event::OtpRequired { attempts_left, .. } => Some(*attempts_left),
            _ => None,
        })
        .await
    }

    /// Waits for `connected`.
    pub async fn connected(&mut self) -> SessionInfo {
        self.wait_for("connected", |e| match e {
            Event::Connected(info) => Some(info.clone()),
            _ => None,
        })
        .await
    }

    /// Sends a request without waiting; returns its id.
    pub fn send(&mut self, method: &str, params: Value) -> u64 {
        let now = now_ms();
        self.driver
            .hub()
            .connection(self.id)
            .expect("dApp connection")
            .request(method, params, Some(WAIT.as_millis() as u64), now)
            .expect("request accepted")
    }

    /// Sends a request that times out after `timeout`; returns its id.
    pub fn send_within(&mut self, method: &str, params: Value, timeout: Duration) -> u64 {
        let now = now_ms();
        self.driver
            .hub()
            .connection(self.id)
            .expect("connection")
            .request(method, params, Some(timeout.as_millis() as u64), now)
            .expect("request accepted")
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        let now = now_ms();
        self.driver
            .hub()
            .connection(self.id)
            .expect("connection")
            .notify(method, params, now)
            .expect("notification accepted");
    }

    /// The next event of the driver, recorded like every other; `Some` when it belongs to this
    /// connection (held events first). For loops that drive several peers at once.
    pub async fn next_event(&mut self) -> Option<Event> {
        if let Some(event) = self.backlog.pop_front() {
            return Some(event);
        }
        let event = self.driver.next().await;
        self.absorb(event)
    }

    /// The response to request `id`.
    pub async fn response(&mut self, id: u64) -> Result<Value, Error> {
        self.wait_for("response", |e| match e {
            Event::Response { id: r, result } if *r == id => Some(result.clone()),
            _ => None,
        })
        .await
        .map(|json| json.value().expect("the response is JSON serde_json reads"))
    }

    /// Sends a request and waits for its response.
    pub async fn request(&mut self, method: &str, params: Value) -> Result<Value, Error> {
        let id = self.send(method, params);
        self.response(id).await
    }

    /// Waits for `disconnected`.
    pub async fn disconnected(&mut self) -> Disconnect {
        self.wait_for("disconnected", |e| match e {
            Event::Disconnected(d) => Some(d.clone()),
            _ => None,
        })
        .await
    }

    /// Closes the session and waits until the relay took the close frame.
    pub async fn close(&mut self) {
        let now = now_ms();
        if let Some(conn) = self.driver.hub().connection(self.id) {
            conn.close("test finished", now);
        }
        assert!(self.driver.settle(WAIT).await, "close frame delivered");
    }

    /// Closes the session; the wallet sees the peer end it (`DISCONNECTED <session> peer`).
    pub async fn close_seen_by(&mut self, wallet: &mut WalletProcess, session: &str) {
        self.close().await;
        assert_eq!(
            wallet.expect("DISCONNECTED ").await,
            format!("{session} peer")
        );
    }

    /// How many events of this kind were seen.
    pub fn seen(&self, f: impl Fn(&Event) -> bool) -> usize {
        self.log.iter().filter(|e| f(e)).count()
    }
}

/// A native wallet: the SDK's wallet connection in a hub on the tokio driver the reference
/// wallet uses, for what the wallet binary does not do (notifications to the dApp, answers the
/// test chooses). Waits, logs and sends are [`NativeDapp`]'s, which do not depend on the role.
pub struct NativeWallet(NativeDapp);

impl NativeWallet {
    /// Answers `request` through the relay at `socket_url`.
    pub fn start(socket_url: &str, request: &SessionRequest) -> Self {
        let mut driver = Driver::new(socket_url, quick_relay_options(), Limits::default(), None);
        let options = WalletOptions::new(Metadata {
            name: "Test wallet".into(),
            url: None,
            icon: None,
        });
        let id = driver
            .hub()
            .connect_wallet(request, options, now_ms(), os_random())
            .expect("the session request is fresh");
        Self(NativeDapp {
            driver,
            id,
            backlog: VecDeque::new(),
            log: Vec::new(),
            links: Vec::new(),
        })
    }

    /// Answers the dApp's request `request`.
    pub fn respond(&mut self, request: u64, outcome: Result<Value, RpcError>) {
        let (now, id) = (now_ms(), self.id);
        self.driver
            .hub()
            .connection(id)
            .expect("wallet connection")
            .respond(request, outcome.map(Into::into), now)
            .expect("the request is open");
    }
}

impl Deref for NativeWallet {
    type Target = NativeDapp;

    fn deref(&self) -> &NativeDapp {
        &self.0
    }
}

impl DerefMut for NativeWallet {
    fn deref_mut(&mut self) -> &mut NativeDapp {
        &mut self.0
    }
}

/// A `redis-server` of its own on a Unix socket, killed when dropped (no TCP port: a port
/// picked free and then handed to redis-server could be taken in between by a relay another
/// test starts). The test fails, not skips, when `redis-server` is not installed
/// (`scripts/setup.sh` installs it).
pub struct Redis {
    _child: Child,
    pub socket: PathBuf,
    pub url: String,
}

impl Redis {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// With extra `redis-server` arguments.
    pub async fn start_with(extra: &[&str]) -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let socket = std::env::temp_dir().join(format!(
            "walletwire-redis-{}-{}.sock",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&socket);
        let child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(&socket)
            .args([
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed (apt-get install -y redis-server)");
        let up = async {
            while tokio::net::UnixStream::connect(&socket).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(WAIT, up)
            .await
            .expect("redis-server accepts connections in time");
        let url = format!("redis+unix://{}", socket.display());
        Self {
            _child: child,
            socket,
            url,
        }
    }

    /// `redis-cli <args>` on this server: its stdout.
    pub fn cli(&self, args: &[&str]) -> Vec<u8> {
        let output = std::process::Command::new("redis-cli")
            .arg("-s")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("redis-cli runs");
        assert!(output.status.success(), "redis-cli {args:?}");
        output.stdout
    }

    /// A relay on `port` (0: ephemeral) keeping its channels in this Redis under `prefix`;
    /// relays with the same prefix share every stream.
    pub async fn relay(&self, port: u16, prefix: &str, extra: &[&str]) -> Relay {
        let mut args = vec!["--broker", "redis", "--redis-url", &self.url];
        args.extend_from_slice(&["--redis-prefix", prefix]);
        args.extend_from_slice(extra);
        Relay::start_with(port, &args).await
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// What a [`Proxy`] does to the bytes it moves; none of it by default.
#[derive(Debug, Clone, Copy, Default)]
struct Faults {
    /// Latency added to bytes from the client to the relay.
    up: Duration,
    /// Latency added to bytes from the relay to the client.
    down: Duration,
    /// Up to this much more, drawn per chunk read; bytes never overtake each other.
    jitter: Duration,
    /// No byte moves on any socket (new ones too) until resumed; nothing is closed.
    stalled: bool,
}

/// A TCP proxy in front of the relay whose sockets can be cut (and new ones refused), frozen,
/// stalled for a while, or slowed down by a latency with jitter.
pub struct Proxy {
    pub port: u16,
    refusing: Arc<AtomicBool>,
    freeze: Arc<tokio::sync::Notify>,
    faults: Arc<watch::Sender<Faults>>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    acceptor: JoinHandle<()>,
}

impl Proxy {
    /// Proxies 127.0.0.1:<ephemeral> to 127.0.0.1:`target`.
    pub async fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("address").port();
        let refusing = Arc::new(AtomicBool::new(false));
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let freeze = Arc::new(tokio::sync::Notify::new());
        let faults = Arc::new(watch::Sender::new(Faults::default()));
        let (flag, list, frozen, settings) = (
            refusing.clone(),
            tasks.clone(),
            freeze.clone(),
            faults.clone(),
        );
        let acceptor = tokio::spawn(async move {
            let mut seed = now_ms() | 1;
            while let Ok((mut inbound, _)) = listener.accept().await {
                if flag.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let frozen = frozen.clone();
                let faults = settings.subscribe();
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1) | 1;
                let task = tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await else {
                        return;
                    };
                    // Small frames both ways: no Nagle delay on top of the one asked for.
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    tokio::select! {
                        () = carry(&mut inbound, &mut outbound, faults, seed) => {}
                        () = frozen.notified() => {
                            // Silent: sockets stay open, nothing moves (a dead NAT mapping).
                            std::future::pending::<()>().await;
                        }
                    }
                });
                list.lock().expect("not poisoned").push(task);
            }
        });
        Self {
            port,
            refusing,
            freeze,
            faults,
            tasks,
            acceptor,
        }
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/connection/websocket", self.port)
    }

    /// Drops every proxied socket and refuses new ones until [`Proxy::restore`].
    pub fn cut(&self) {
        self.refusing.store(true, Ordering::SeqCst);
        for task in self.tasks.lock().expect("not poisoned").drain(..) {
            task.abort();
        }
    }

    /// Stops moving bytes on every current socket without closing it; new ones work.
    pub fn freeze(&self) {
        self.freeze.notify_waiters();
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.refusing.store(false, Ordering::SeqCst);
    }

    /// Delays bytes read from now on: `up` from the client to the relay, `down` back, each
    /// chunk by up to `jitter` more (order is kept).
    pub fn delay(&self, up: Duration, down: Duration, jitter: Duration) {
        self.faults.send_modify(|f| {
            f.up = up;
            f.down = down;
            f.jitter = jitter;
        });
    }

    /// Holds every byte, on current and new sockets, without closing anything, until
    /// [`Proxy::resume`]; then what was held flows on in order. Bytes held when a socket is
    /// [`Proxy::cut`] are lost with it.
    pub fn stall(&self) {
        self.faults.send_modify(|f| f.stalled = true);
    }

    /// Ends a [`Proxy::stall`].
    pub fn resume(&self) {
        self.faults.send_modify(|f| f.stalled = false);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.cut();
    }
}

/// Moves bytes both ways between the client's socket and the relay's until both sides are
/// done or one fails. The sockets belong to the caller, so stopping this future leaves them
/// open.
async fn carry(
    client: &mut TcpStream,
    relay: &mut TcpStream,
    faults: watch::Receiver<Faults>,
    seed: u64,
) {
    let (from_client, to_client) = client.split();
    let (from_relay, to_relay) = relay.split();
    let up = one_way(from_client, to_relay, faults.clone(), true, seed);
    let down = one_way(
        from_relay,
        to_client,
        faults,
        false,
        seed.rotate_left(29) | 1,
    );
    let _ = tokio::try_join!(up, down);
}

/// One direction: a reader stamps each chunk with the time it may leave (now + latency +
/// jitter, never before the previous chunk), a writer sends it then, unless stalled. At the
/// end of the input the writer sends what is queued and shuts its side down.
async fn one_way(
    mut from: tokio::net::tcp::ReadHalf<'_>,
    mut to: tokio::net::tcp::WriteHalf<'_>,
    mut faults: watch::Receiver<Faults>,
    upstream: bool,
    mut seed: u64,
) -> std::io::Result<()> {
    let (queue, mut queued) = mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let settings = faults.clone();
    let read = async move {
        // Dropped on return, which tells the writer the input ended.
        let queue = queue;
        let mut buffer = vec![0u8; 64 * 1024];
        let mut last = tokio::time::Instant::now();
        loop {
            let read = from.read(&mut buffer).await?;
            if read == 0 {
                return Ok::<(), std::io::Error>(());
            }
            let f = *settings.borrow();
            let latency = if upstream { f.up } else { f.down };
            let due =
                (tokio::time::Instant::now() + latency + jitter(&mut seed, f.jitter)).max(last);
            last = due;
            if queue.send((due, buffer[..read].to_vec())).is_err() {
                return Ok(());
            }
        }
    };
    let write = async move {
        while let Some((due, bytes)) = queued.recv().await {
            tokio::time::sleep_until(due).await;
            // An error means the proxy is gone: nothing stalls any more.
            let _ = faults.wait_for(|f| !f.stalled).await;
            to.write_all(&bytes).await?;
        }
        to.shutdown().await
    };
    tokio::try_join!(read, write).map(|_| ())
}

/// A pseudo-random duration below `max` (xorshift; `state` must not be 0).
fn jitter(state: &mut u64, max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    Duration::from_micros(*state % max.as_micros().max(1) as u64)
}
