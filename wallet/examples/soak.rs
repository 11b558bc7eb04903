//! Soak and load driver (issue 8): thousands of paired relay sessions exchange requests,
//! responses and notifications for minutes while an in-process TCP proxy cuts and stalls
//! their sockets and the relay may be killed and restarted. Every message carries a unique id
//! (`s` session, `n` per-direction counter) and is counted at both ends.
//!
//! Run it through `scripts/soak.sh`, which builds the release binaries, starts Redis when
//! asked and passes the relay binary; not part of CI (`cargo test` only compiles it).
//!
//! Layout, all real parts: this process starts the real `walletwire-server` itself (so it can
//! SIGKILL and restart it and read its RSS from `/proc/<pid>/status`), puts a TCP proxy in
//! front of it, and runs `--links` dApp links and `--links` wallet links. A link is one tokio
//! task with one WebSocket through the proxy: the wallet crate's [`Driver`] around a
//! `walletwire::relay::hub::Hub` carrying many sessions. Session `s` has its dApp on dApp link
//! `s % L` and its wallet on wallet link `(s + s / L) % L`. Pairing goes through the protocol
//! (trusted mode, and untrusted mode with the code handed over in-process for a fraction);
//! then each side of each session sends a request or a notification every `--interval-ms`
//! on average and answers every request it receives, a share of them with an error.
//!
//! Faults while running: a random proxied socket is cut every `--cut-every` s, one is stalled
//! (no byte moves either way) for `--stall-secs`, longer than the ping watchdog, every
//! `--stall-every` s and then dropped, one is paused for `--hiccup-secs` (shorter than the
//! watchdog, then resumes intact) every `--hiccup-every` s, and with `--restart-every` the
//! relay is SIGKILLed and started again on the same port after `--restart-down-secs`.
//!
//! When the time is up the faults stop, no new messages are started, and the driver waits
//! until every message sent was received and every request settled (or `--drain-secs`
//! passes). It prints a table: per direction and kind sent / received / lost / duplicated /
//! out of order, requests settled by a response or an error, reconnects, faults, protocol
//! events and the relay's RSS over time. It exits 1 when anything was lost, duplicated,
//! reordered, misrouted, reported lost by the protocol, or a session failed or ended.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinHandle};
use walletwire::protocol::{
    DappOptions, Disconnect, Error, Event, Limits, Metadata, Mode, RpcError, SessionRequest,
    WalletOptions,
};
use walletwire::relay::client::RelayClientOptions;
use walletwire::relay::hub::{ConnectionId, HubEvent};
use walletwire_wallet::driver::{Driver, DriverEvent};
use walletwire_wallet::system::{now_ms, os_random};

/// Soak/load driver: paired sessions over the real relay, faults, exact message accounting.
#[derive(Parser, Debug, Clone)]
#[command(name = "soak")]
struct Args {
    /// The `walletwire-server` binary to run (started with `--listen 127.0.0.1:0
    /// --no-signaling` plus the arguments after `--`).
    #[arg(long)]
    relay_bin: PathBuf,
    /// File the relay's stderr (logs) is appended to; default: inherited.
    #[arg(long)]
    relay_log: Option<PathBuf>,
    /// Paired sessions.
    #[arg(long, default_value_t = 2000)]
    sessions: usize,
    /// Minutes of traffic after pairing.
    #[arg(long, default_value_t = 5.0)]
    minutes: f64,
    /// WebSocket links per side (dApp links and as many wallet links).
    #[arg(long, default_value_t = 200)]
    links: usize,
    /// Share of sessions paired in untrusted mode (with the one-time code).
    #[arg(long, default_value_t = 0.1)]
    untrusted: f64,
    /// Mean time between messages a side starts (requests or notifications), per session.
    #[arg(long, default_value_t = 5000)]
    interval_ms: u64,
    /// Share of started messages that are requests (the rest are notifications).
    #[arg(long, default_value_t = 0.5)]
    request_share: f64,
    /// Share of requests answered with an error response.
    #[arg(long, default_value_t = 0.1)]
    error_share: f64,
    /// Padding bytes in each message's parameters.
    #[arg(long, default_value_t = 64)]
    payload_bytes: usize,
    /// Request timeout (a response later than this counts as lost).
    #[arg(long, default_value_t = 120)]
    request_timeout_secs: u64,
    /// Handshakes in flight per dApp link while pairing.
    #[arg(long, default_value_t = 2)]
    pair_concurrency: usize,
    /// Give up pairing after this long (unpaired sessions are reported as failures).
    #[arg(long, default_value_t = 180)]
    pair_timeout_secs: u64,
    /// How long to wait at the end for in-flight messages and requests.
    #[arg(long, default_value_t = 150)]
    drain_secs: u64,
    /// End the drain early once every request settled and nothing arrived for this long.
    #[arg(long, default_value_t = 30)]
    quiet_secs: u64,
    /// Disable every fault.
    #[arg(long)]
    no_faults: bool,
    /// Mean seconds between socket cuts (0: none).
    #[arg(long, default_value_t = 2.0)]
    cut_every: f64,
    /// Mean seconds between long stalls (0: none).
    #[arg(long, default_value_t = 10.0)]
    stall_every: f64,
    /// Length of a long stall; must exceed the ping watchdog (relay ping interval + 2 s).
    #[arg(long, default_value_t = 12.0)]
    stall_secs: f64,
    /// Mean seconds between short pauses that resume intact (0: none).
    #[arg(long, default_value_t = 5.0)]
    hiccup_every: f64,
    /// Length of a short pause.
    #[arg(long, default_value_t = 1.0)]
    hiccup_secs: f64,
    /// Seconds between relay kill-and-restarts (0: never). With the memory broker history
    /// dies with the relay: losses are expected and reported (`messages_lost`).
    #[arg(long, default_value_t = 0.0)]
    restart_every: f64,
    /// How long the relay stays down on a restart.
    #[arg(long, default_value_t = 2.0)]
    restart_down_secs: f64,
    /// Another process whose RSS is sampled with the relay's, as `NAME=PID` (repeatable).
    #[arg(long)]
    watch: Vec<String>,
    /// Threads running the links (each link stays on one thread).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Seconds between progress lines.
    #[arg(long, default_value_t = 10)]
    progress_secs: u64,
    /// Seed of the traffic and fault choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Arguments passed to the relay (after `--`), e.g. `--broker redis --redis-url ...`.
    #[arg(last = true)]
    relay_args: Vec<String>,
}

/// Message kinds, as indexes of the per-kind tallies.
const REQ: usize = 0;
const RES: usize = 1;
const ERR: usize = 2;
const NOTE: usize = 3;
const KIND_NAMES: [&str; 4] = ["request", "response ok", "response error", "notification"];
/// Error code of the deliberate error responses.
const SOAK_ERROR: i64 = 4001;
/// Ids beyond this are treated as garbage rather than grown into a bitmap.
const MAX_ID: u64 = 50_000_000;
/// Notable events printed to stderr before going quiet.
const LOG_LIMIT: u64 = 20;

// ---------------------------------------------------------------------------------------------
// Small deterministic generator for traffic and fault choices (no cryptographic use).

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(0x2545_F491_4F6C_DD1D)
                | 1,
        )
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// `mean` scaled by a factor uniform in [0.5, 1.5).
    fn around(&mut self, mean: f64) -> f64 {
        mean * (0.5 + self.unit())
    }
}

// ---------------------------------------------------------------------------------------------
// Shared counters (progress lines and the end-of-drain check).

#[derive(Default)]
struct Counters {
    dapp_live: AtomicI64,
    wallet_live: AtomicI64,
    pair_failed: AtomicU64,
    sent: AtomicU64,
    received: AtomicU64,
    duplicated: AtomicU64,
    out_of_order: AtomicU64,
    pending: AtomicI64,
    link_up: AtomicU64,
    link_down: AtomicU64,
    socket_failed: AtomicU64,
    messages_lost: AtomicU64,
    relay_errors: AtomicU64,
    send_refused: AtomicU64,
    ended: AtomicU64,
    /// Links that saw the `Draining` phase (and start nothing new).
    draining_links: AtomicU64,
    cuts: AtomicU64,
    stalls: AtomicU64,
    hiccups: AtomicU64,
    restarts: AtomicU64,
}

fn bump(counter: &AtomicU64) -> u64 {
    counter.fetch_add(1, Relaxed) + 1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Pairing,
    Running,
    Draining,
    Stop,
}

/// Messages between link tasks while pairing.
enum Cmd {
    /// To a wallet link: answer this session request.
    Accept {
        session: usize,
        request: Box<SessionRequest>,
    },
    /// To a dApp link: the code the wallet shows.
    Otp { session: usize, otp: String },
    /// The other side of this session failed to pair: close ours.
    Abandon { session: usize },
}

/// Settings every link shares.
struct Config {
    sessions: usize,
    links: usize,
    url: String,
    untrusted: f64,
    interval_ms: u64,
    request_share: f64,
    error_share: f64,
    pad: String,
    request_timeout_ms: u64,
    pair_concurrency: usize,
}

impl Config {
    fn dapp_link(&self, session: usize) -> usize {
        session % self.links
    }

    fn wallet_link(&self, session: usize) -> usize {
        (session + session / self.links) % self.links
    }

    /// Spreads untrusted sessions evenly: session `s` is untrusted when `s * share` crosses
    /// an integer.
    fn mode(&self, session: usize) -> Mode {
        let a = (session as f64 * self.untrusted).floor();
        let b = ((session + 1) as f64 * self.untrusted).floor();
        if b > a {
            Mode::Untrusted
        } else {
            Mode::Trusted
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One end of one session, inside a link task.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// dApp handshake not started yet.
    Idle,
    Pairing,
    Active,
    Dead,
}

struct Side {
    session: usize,
    conn: Option<ConnectionId>,
    status: Status,
    /// Reached `Active` at some point.
    paired: bool,
    request_forwarded: bool,
    otp: Option<String>,
    otp_prompted: bool,
    otp_submitted: bool,
    next_send: u64,
    /// Kind of each message this side sent, indexed by its id.
    sent: Vec<u8>,
    /// Ids received from the peer.
    seen: Vec<bool>,
    /// One past the highest id received.
    high: u64,
    received: [u64; 4],
    duplicated: [u64; 4],
    out_of_order: [u64; 4],
    misrouted: u64,
    unreadable: u64,
    /// Our requests awaiting their outcome: request id -> sent at (Unix ms).
    pending: HashMap<u64, u64>,
    /// Outcomes of our requests: ok, error response, timeout, other error.
    settled: [u64; 4],
}

impl Side {
    fn new(session: usize, status: Status) -> Self {
        Self {
            session,
            conn: None,
            status,
            paired: false,
            request_forwarded: false,
            otp: None,
            otp_prompted: false,
            otp_submitted: false,
            next_send: 0,
            sent: Vec::new(),
            seen: Vec::new(),
            high: 0,
            received: [0; 4],
            duplicated: [0; 4],
            out_of_order: [0; 4],
            misrouted: 0,
            unreadable: 0,
            pending: HashMap::new(),
            settled: [0; 4],
        }
    }

    /// Counts one message from the peer carrying `(s, n)`.
    fn record(&mut self, kind: usize, id: Option<(u64, u64)>, c: &Counters) {
        let Some((s, n)) = id.filter(|(_, n)| *n < MAX_ID) else {
            self.unreadable += 1;
            return;
        };
        if s != self.session as u64 {
            self.misrouted += 1;
            return;
        }
        let index = n as usize;
        if self.seen.len() <= index {
            self.seen.resize(index + 1, false);
        }
        if self.seen[index] {
            self.duplicated[kind] += 1;
            c.duplicated.fetch_add(1, Relaxed);
            return;
        }
        self.seen[index] = true;
        self.received[kind] += 1;
        c.received.fetch_add(1, Relaxed);
        if n + 1 < self.high {
            self.out_of_order[kind] += 1;
            c.out_of_order.fetch_add(1, Relaxed);
        }
        self.high = self.high.max(n + 1);
    }
}

/// What a link task hands back at the end.
struct LinkReport {
    dapp: bool,
    ups: u64,
    sides: Vec<Side>,
    round_trips: Vec<u32>,
}

fn ids_of(value: &walletwire::json::Json) -> Option<(u64, u64)> {
    let value = value.value().ok()?;
    Some((value.get("s")?.as_u64()?, value.get("n")?.as_u64()?))
}

/// `soak s=<s> n=<n>` in a deliberate error response.
fn ids_of_error(message: &str) -> Option<(u64, u64)> {
    let rest = message.strip_prefix("soak s=")?;
    let (s, n) = rest.split_once(" n=")?;
    Some((s.parse().ok()?, n.parse().ok()?))
}

/// Counts a notable event; prints the first [`LOG_LIMIT`] of its kind to stderr.
fn note(counter: &AtomicU64, message: impl FnOnce() -> String) {
    if bump(counter) <= LOG_LIMIT {
        eprintln!("soak: {}", message());
    }
}

// ---------------------------------------------------------------------------------------------
// A link: one WebSocket (through the proxy) carrying many sessions of one role.

struct Link {
    dapp: bool,
    index: usize,
    driver: Driver,
    sides: Vec<Side>,
    by_conn: HashMap<ConnectionId, usize>,
    by_session: HashMap<usize, usize>,
    /// Inboxes of the other role's links.
    peers: Arc<Vec<mpsc::UnboundedSender<Cmd>>>,
    inbox: mpsc::UnboundedReceiver<Cmd>,
    phase: watch::Receiver<Phase>,
    cfg: Arc<Config>,
    c: Arc<Counters>,
    rng: Rng,
    handshaking: usize,
    next_idle: usize,
    ups: u64,
    round_trips: Vec<u32>,
}

enum Woke {
    Event(DriverEvent),
    Cmd(Cmd),
    Phase,
    Send,
}

impl Link {
    #[allow(clippy::too_many_arguments)]
    fn new(
        dapp: bool,
        index: usize,
        sessions: Vec<usize>,
        peers: Arc<Vec<mpsc::UnboundedSender<Cmd>>>,
        inbox: mpsc::UnboundedReceiver<Cmd>,
        phase: watch::Receiver<Phase>,
        cfg: Arc<Config>,
        c: Arc<Counters>,
        seed: u64,
    ) -> Self {
        let options = RelayClientOptions {
            name: format!("soak-{}-{index}", if dapp { "dapp" } else { "wallet" }),
            backoff_min_ms: 200,
            backoff_max_ms: 5_000,
            ping_grace_ms: 2_000,
            ..RelayClientOptions::default()
        };
        let driver = Driver::new(cfg.url.clone(), options, Limits::default(), None);
        let mut link = Self {
            dapp,
            index,
            driver,
            sides: Vec::new(),
            by_conn: HashMap::new(),
            by_session: HashMap::new(),
            peers,
            inbox,
            phase,
            cfg,
            c,
            rng: Rng::new(seed),
            handshaking: 0,
            next_idle: 0,
            ups: 0,
            round_trips: Vec::new(),
        };
        for session in sessions {
            link.by_session.insert(session, link.sides.len());
            link.sides.push(Side::new(session, Status::Idle));
        }
        link
    }

    fn name(&self) -> String {
        format!(
            "{} link {}",
            if self.dapp { "dApp" } else { "wallet" },
            self.index
        )
    }

    fn peer(&self, session: usize) -> &mpsc::UnboundedSender<Cmd> {
        let index = if self.dapp {
            self.cfg.wallet_link(session)
        } else {
            self.cfg.dapp_link(session)
        };
        &self.peers[index]
    }

    async fn run(mut self) -> LinkReport {
        loop {
            let phase = *self.phase.borrow();
            if phase == Phase::Stop {
                break;
            }
            if self.dapp && phase == Phase::Pairing {
                self.start_handshakes();
            }
            let due = (phase == Phase::Running)
                .then(|| {
                    self.sides
                        .iter()
                        .filter(|s| s.status == Status::Active)
                        .map(|s| s.next_send)
                        .min()
                })
                .flatten();
            let wait = Duration::from_millis(due.map_or(0, |d| d.saturating_sub(now_ms())));
            let woke = tokio::select! {
                event = self.driver.next() => Woke::Event(event),
                Some(cmd) = self.inbox.recv() => Woke::Cmd(cmd),
                changed = self.phase.changed() => match changed {
                    Ok(()) => Woke::Phase,
                    Err(_) => break,
                },
                () = tokio::time::sleep(wait), if due.is_some() => Woke::Send,
            };
            match woke {
                Woke::Event(event) => self.on_event(event),
                Woke::Cmd(cmd) => self.on_cmd(cmd),
                Woke::Phase => self.on_phase(),
                Woke::Send => self.send_due(),
            }
        }
        LinkReport {
            dapp: self.dapp,
            ups: self.ups,
            sides: self.sides,
            round_trips: self.round_trips,
        }
    }

    fn start_handshakes(&mut self) {
        while self.handshaking < self.cfg.pair_concurrency && self.next_idle < self.sides.len() {
            let i = self.next_idle;
            self.next_idle += 1;
            let session = self.sides[i].session;
            let mut options = DappOptions::new(
                self.cfg.url.clone(),
                Metadata {
                    name: "soak dApp".into(),
                    url: None,
                    icon: None,
                },
            );
            options.mode = self.cfg.mode(session);
            match self
                .driver
                .hub()
                .connect_dapp(options, now_ms(), os_random())
            {
                Ok(conn) => {
                    self.by_conn.insert(conn, i);
                    self.sides[i].conn = Some(conn);
                    self.sides[i].status = Status::Pairing;
                    self.handshaking += 1;
                }
                Err(e) => {
                    eprintln!("soak: session {session}: connect_dapp failed: {e}");
                    self.sides[i].status = Status::Dead;
                    bump(&self.c.pair_failed);
                }
            }
        }
    }

    fn on_cmd(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Accept { session, request } => {
                let options = WalletOptions::new(Metadata {
                    name: "soak wallet".into(),
                    url: None,
                    icon: None,
                });
                let i = self.sides.len();
                self.by_session.insert(session, i);
                self.sides.push(Side::new(session, Status::Pairing));
                match self
                    .driver
                    .hub()
                    .connect_wallet(&request, options, now_ms(), os_random())
                {
                    Ok(conn) => {
                        self.by_conn.insert(conn, i);
                        self.sides[i].conn = Some(conn);
                    }
                    Err(e) => {
                        eprintln!("soak: session {session}: connect_wallet failed: {e}");
                        self.pairing_failed(i);
                    }
                }
            }
            Cmd::Otp { session, otp } => {
                if let Some(&i) = self.by_session.get(&session) {
                    self.sides[i].otp = Some(otp);
                    self.try_otp(i);
                }
            }
            Cmd::Abandon { session } => {
                if let Some(&i) = self.by_session.get(&session) {
                    self.abandon(i);
                }
            }
        }
    }

    /// Closes our end because the other end failed to pair.
    fn abandon(&mut self, i: usize) {
        let was = self.sides[i].status;
        if was == Status::Dead {
            return;
        }
        self.sides[i].status = Status::Dead;
        if let Some(conn) = self.sides[i].conn
            && let Some(c) = self.driver.hub().connection(conn)
        {
            c.close("soak: peer failed to pair", now_ms());
        }
        if was == Status::Active {
            self.live().fetch_sub(1, Relaxed);
        }
        if self.dapp {
            if was == Status::Pairing {
                self.handshaking -= 1;
            }
            bump(&self.c.pair_failed);
        }
    }

    /// Our end failed while pairing: count it once (on the dApp side) and tell the other end.
    fn pairing_failed(&mut self, i: usize) {
        let was = self.sides[i].status;
        self.sides[i].status = Status::Dead;
        if was == Status::Active {
            self.live().fetch_sub(1, Relaxed);
        }
        if self.dapp {
            if was == Status::Pairing {
                self.handshaking -= 1;
            }
            bump(&self.c.pair_failed);
        }
        let session = self.sides[i].session;
        let _ = self.peer(session).send(Cmd::Abandon { session });
    }

    fn live(&self) -> &AtomicI64 {
        if self.dapp {
            &self.c.dapp_live
        } else {
            &self.c.wallet_live
        }
    }

    fn try_otp(&mut self, i: usize) {
        let side = &mut self.sides[i];
        let (Some(conn), Some(otp)) = (side.conn, side.otp.clone()) else {
            return;
        };
        if !side.otp_prompted || side.otp_submitted || side.status != Status::Pairing {
            return;
        }
        side.otp_submitted = true;
        let session = side.session;
        let result = match self.driver.hub().connection(conn).and_then(|c| c.dapp()) {
            Some(dapp) => dapp.submit_otp(&otp, now_ms()),
            None => return,
        };
        if let Err(e) = result {
            eprintln!("soak: session {session}: submit_otp failed: {e}");
        }
    }

    fn on_phase(&mut self) {
        let phase = *self.phase.borrow_and_update();
        if phase == Phase::Draining {
            bump(&self.c.draining_links);
        }
        if phase != Phase::Running {
            return;
        }
        // Whatever did not pair in time is given up on both ends.
        for i in 0..self.sides.len() {
            if matches!(self.sides[i].status, Status::Idle | Status::Pairing) {
                let session = self.sides[i].session;
                eprintln!(
                    "soak: session {session}: not paired in time ({})",
                    self.name()
                );
                if let Some(conn) = self.sides[i].conn
                    && let Some(c) = self.driver.hub().connection(conn)
                {
                    c.close("soak: pairing timed out", now_ms());
                }
                self.pairing_failed(i);
            }
        }
        let now = now_ms();
        let interval = self.cfg.interval_ms as f64;
        for side in &mut self.sides {
            side.next_send = now + (self.rng.unit() * interval) as u64;
        }
    }

    fn on_event(&mut self, event: DriverEvent) {
        match event {
            DriverEvent::Hub(HubEvent::Event { id, event }) => self.on_session_event(id, event),
            DriverEvent::Hub(HubEvent::Link { up, will_retry }) => {
                if up {
                    self.ups += 1;
                    bump(&self.c.link_up);
                } else {
                    bump(&self.c.link_down);
                    if !will_retry {
                        eprintln!("soak: {}: relay refused the link for good", self.name());
                    }
                }
            }
            DriverEvent::Hub(HubEvent::RelayError { code, message, .. }) => {
                note(&self.c.relay_errors, || {
                    format!("{}: relay error {code}: {message}", self.name())
                });
            }
            DriverEvent::SocketFailed { .. } => {
                bump(&self.c.socket_failed);
            }
            _ => {}
        }
    }

    fn on_session_event(&mut self, conn: ConnectionId, event: Event) {
        let Some(&i) = self.by_conn.get(&conn) else {
            return;
        };
        let session = self.sides[i].session;
        match event {
            Event::SessionRequest(request) if self.dapp && !self.sides[i].request_forwarded => {
                self.sides[i].request_forwarded = true;
                let _ = self.peer(session).send(Cmd::Accept { session, request });
            }
            Event::OtpRequired { .. } => {
                self.sides[i].otp_prompted = true;
                self.try_otp(i);
            }
            Event::DisplayOtp { otp, .. } => {
                let _ = self.peer(session).send(Cmd::Otp { session, otp });
            }
            Event::Connected(_) if self.sides[i].status == Status::Pairing => {
                self.sides[i].status = Status::Active;
                self.sides[i].paired = true;
                self.live().fetch_add(1, Relaxed);
                if self.dapp {
                    self.handshaking -= 1;
                }
            }
            Event::Request { id, params, .. } => {
                self.sides[i].record(REQ, ids_of(&params), &self.c);
                self.answer(i, conn, id);
            }
            Event::Notification { params, .. } => {
                self.sides[i].record(NOTE, ids_of(&params), &self.c);
            }
            Event::Response { id, result } => {
                let side = &mut self.sides[i];
                if let Some(at) = side.pending.remove(&id) {
                    self.c.pending.fetch_sub(1, Relaxed);
                    let rtt = now_ms().saturating_sub(at);
                    self.round_trips
                        .push(u32::try_from(rtt).unwrap_or(u32::MAX));
                }
                match result {
                    Ok(value) => {
                        side.settled[0] += 1;
                        side.record(RES, ids_of(&value), &self.c);
                    }
                    Err(Error::Remote { code, message }) if code == SOAK_ERROR => {
                        side.settled[1] += 1;
                        side.record(ERR, ids_of_error(&message), &self.c);
                    }
                    Err(Error::Timeout) => side.settled[2] += 1,
                    Err(e) => {
                        side.settled[3] += 1;
                        eprintln!("soak: session {session}: request {id} failed: {e}");
                    }
                }
            }
            Event::MessagesLost { count } => {
                note(&self.c.messages_lost, || {
                    format!(
                        "session {session} ({}): messages_lost {count:?}",
                        self.name()
                    )
                });
            }
            Event::Disconnected(why) => self.on_disconnected(i, &why),
            _ => {}
        }
    }

    fn on_disconnected(&mut self, i: usize, why: &Disconnect) {
        let session = self.sides[i].session;
        let phase = *self.phase.borrow();
        match self.sides[i].status {
            Status::Pairing => {
                eprintln!(
                    "soak: session {session}: pairing failed ({}): {why:?}",
                    self.name()
                );
                self.pairing_failed(i);
            }
            Status::Active if phase == Phase::Pairing => {
                eprintln!(
                    "soak: session {session}: ended while pairing ({}): {why:?}",
                    self.name()
                );
                self.pairing_failed(i);
            }
            Status::Active => {
                self.sides[i].status = Status::Dead;
                self.live().fetch_sub(1, Relaxed);
                note(&self.c.ended, || {
                    format!("session {session} ended ({}): {why:?}", self.name())
                });
            }
            Status::Idle | Status::Dead => {}
        }
    }

    /// Answers the peer's request `id`, with a result or (a share of the time) an error.
    fn answer(&mut self, i: usize, conn: ConnectionId, id: u64) {
        let side = &self.sides[i];
        if side.status != Status::Active {
            return;
        }
        let (s, n) = (side.session, side.sent.len());
        let (kind, outcome) = if self.rng.unit() < self.cfg.error_share {
            let message = format!("soak s={s} n={n}");
            (
                ERR,
                Err(RpcError {
                    code: SOAK_ERROR,
                    message,
                }),
            )
        } else {
            (RES, Ok(json!({"s": s, "n": n, "pad": self.cfg.pad})))
        };
        let result = match self.driver.hub().connection(conn) {
            Some(c) => c.respond(id, outcome.map(Into::into), now_ms()),
            None => Err(Error::InvalidState("gone")),
        };
        self.sent(i, kind, result.map(|()| None));
    }

    /// Starts a request or a notification on every active side whose turn it is.
    fn send_due(&mut self) {
        let now = now_ms();
        for i in 0..self.sides.len() {
            let side = &self.sides[i];
            if side.status != Status::Active || side.next_send > now {
                continue;
            }
            let Some(conn) = side.conn else { continue };
            let (s, n) = (side.session, side.sent.len());
            let params = json!({"s": s, "n": n, "pad": self.cfg.pad});
            let request = self.rng.unit() < self.cfg.request_share;
            let timeout = self.cfg.request_timeout_ms;
            let result = match self.driver.hub().connection(conn) {
                Some(c) if request => c
                    .request("soak.request", params, Some(timeout), now)
                    .map(Some),
                Some(c) => c.notify("soak.note", params, now).map(|()| None),
                None => Err(Error::InvalidState("gone")),
            };
            self.sent(i, if request { REQ } else { NOTE }, result);
            let pause = self.rng.around(self.cfg.interval_ms as f64) as u64;
            self.sides[i].next_send = now + pause.max(1);
        }
    }

    /// Books a send: `Ok(Some(id))` for a request, `Ok(None)` for other messages.
    fn sent(&mut self, i: usize, kind: usize, result: Result<Option<u64>, Error>) {
        let side = &mut self.sides[i];
        match result {
            Ok(request) => {
                side.sent.push(kind as u8);
                self.c.sent.fetch_add(1, Relaxed);
                if let Some(id) = request {
                    side.pending.insert(id, now_ms());
                    self.c.pending.fetch_add(1, Relaxed);
                }
            }
            Err(e) => {
                note(&self.c.send_refused, || {
                    format!(
                        "session {}: {} not sent: {e}",
                        side.session, KIND_NAMES[kind]
                    )
                });
            }
        }
    }
}

/// What a link thread needs to build one link.
struct LinkPlan {
    dapp: bool,
    index: usize,
    sessions: Vec<usize>,
    peers: Arc<Vec<mpsc::UnboundedSender<Cmd>>>,
    inbox: mpsc::UnboundedReceiver<Cmd>,
    seed: u64,
}

/// Runs `plans` on this thread until the phase is `Stop`; returns their reports.
fn run_links(
    plans: Vec<LinkPlan>,
    phase: watch::Receiver<Phase>,
    cfg: Arc<Config>,
    c: Arc<Counters>,
) -> anyhow::Result<Vec<LinkReport>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let handles: Vec<_> = plans
            .into_iter()
            .map(|p| {
                let link = Link::new(
                    p.dapp,
                    p.index,
                    p.sessions,
                    p.peers,
                    p.inbox,
                    phase.clone(),
                    cfg.clone(),
                    c.clone(),
                    p.seed,
                );
                tokio::task::spawn_local(link.run())
            })
            .collect();
        let mut reports = Vec::new();
        for handle in handles {
            reports.push(handle.await?);
        }
        Ok(reports)
    })
}

// ---------------------------------------------------------------------------------------------
// The relay process.

struct RelayProcess {
    child: Child,
    port: u16,
}

impl RelayProcess {
    async fn start(args: &Args, port: u16) -> anyhow::Result<Self> {
        let mut command = Command::new(&args.relay_bin);
        command
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--no-signaling")
            .args(&args.relay_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if std::env::var_os("RUST_LOG").is_none() {
            command.env("RUST_LOG", "warn");
        }
        if let Some(path) = &args.relay_log {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("open {}", path.display()))?;
            command.stderr(Stdio::from(file));
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("start {}", args.relay_bin.display()))?;
        let stdout = child.stdout.take().context("relay stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(15), lines.next_line())
            .await
            .context("relay did not announce itself within 15 s")??
            .context("relay exited before announcing itself")?;
        let port = line
            .trim()
            .strip_prefix("relay listening on ws://127.0.0.1:")
            .and_then(|rest| rest.strip_suffix("/connection/websocket"))
            .and_then(|port| port.parse().ok())
            .with_context(|| format!("unexpected first relay line: {line:?}"))?;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { child, port })
    }

    fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// SIGKILL, `down` of nothing, then a new relay on the same port.
    async fn restart(&mut self, args: &Args, down: Duration) -> anyhow::Result<()> {
        let _ = self.child.kill().await;
        tokio::time::sleep(down).await;
        let mut last = None;
        for _ in 0..40 {
            match Self::start(args, self.port).await {
                Ok(relay) => {
                    *self = relay;
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("relay restart failed")))
    }
}

/// The relay's counters from `/metrics` (publications, deliveries, disconnects by close code,
/// errors by code), for the summary; empty when the relay does not answer.
async fn relay_metrics(port: u16) -> Vec<String> {
    let fetch = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut body = String::new();
        stream.read_to_string(&mut body).await.ok()?;
        Some(body)
    };
    let body = tokio::time::timeout(Duration::from_secs(5), fetch)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    body.lines()
        .filter(|l| l.starts_with("walletwire_relay_") && !l.starts_with("walletwire_relay_conn"))
        .map(|l| l.trim_start_matches("walletwire_relay_").to_owned())
        .collect()
}

/// VmRSS of a process in kB.
fn rss_kb(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kb: Option<u64>) -> String {
    kb.map_or_else(|| "?".into(), |kb| format!("{:.1} MiB", kb as f64 / 1024.0))
}

// ---------------------------------------------------------------------------------------------
// TCP proxy between every link and the relay; each socket can be cut, stalled or paused.

struct ProxyConn {
    pause: watch::Sender<bool>,
    /// Paused or stalled: not picked for another fault.
    faulted: bool,
    task: AbortHandle,
}

type ProxyConns = Arc<Mutex<HashMap<u64, ProxyConn>>>;

struct Proxy {
    port: u16,
    conns: ProxyConns,
    acceptor: JoinHandle<()>,
}

impl Proxy {
    async fn start(target: u16) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let conns: ProxyConns = Arc::default();
        let registry = conns.clone();
        let acceptor = tokio::spawn(async move {
            let mut next_id = 0u64;
            loop {
                let inbound = match listener.accept().await {
                    Ok((inbound, _)) => inbound,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                next_id += 1;
                let id = next_id;
                let (pause, paused) = watch::channel(false);
                let mut map = registry.lock().expect("proxy registry");
                let task = tokio::spawn(proxy_conn(id, inbound, target, paused, registry.clone()));
                map.insert(
                    id,
                    ProxyConn {
                        pause,
                        faulted: false,
                        task: task.abort_handle(),
                    },
                );
            }
        });
        Ok(Self {
            port,
            conns,
            acceptor,
        })
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/connection/websocket", self.port)
    }

    fn live(&self) -> usize {
        self.conns.lock().expect("proxy registry").len()
    }

    /// A random connection not already under a fault.
    fn pick(map: &HashMap<u64, ProxyConn>, rng: &mut Rng) -> Option<u64> {
        let ids: Vec<u64> = map
            .iter()
            .filter(|(_, c)| !c.faulted)
            .map(|(id, _)| *id)
            .collect();
        (!ids.is_empty()).then(|| ids[rng.below(ids.len())])
    }

    /// Drops a random socket at once (both ends see the TCP connection close).
    fn cut(&self, rng: &mut Rng) -> bool {
        let mut map = self.conns.lock().expect("proxy registry");
        let Some(id) = Self::pick(&map, rng) else {
            return false;
        };
        if let Some(conn) = map.remove(&id) {
            conn.task.abort();
        }
        true
    }

    /// Stops moving bytes on a random socket for `length`; then drops it (`resume` false)
    /// or lets the held bytes through (`resume` true).
    fn pause(&self, rng: &mut Rng, length: Duration, resume: bool) -> bool {
        let mut map = self.conns.lock().expect("proxy registry");
        let Some(id) = Self::pick(&map, rng) else {
            return false;
        };
        if let Some(conn) = map.get_mut(&id) {
            conn.faulted = true;
            let _ = conn.pause.send(true);
        }
        let conns = self.conns.clone();
        tokio::spawn(async move {
            tokio::time::sleep(length).await;
            let mut map = conns.lock().expect("proxy registry");
            if resume {
                if let Some(conn) = map.get_mut(&id) {
                    conn.faulted = false;
                    let _ = conn.pause.send(false);
                }
            } else if let Some(conn) = map.remove(&id) {
                conn.task.abort();
            }
        });
        true
    }

    /// Ends every fault now: stalled sockets are dropped, paused ones resume.
    fn heal(&self) {
        let mut map = self.conns.lock().expect("proxy registry");
        let stalled: Vec<u64> = map
            .iter()
            .filter(|(_, c)| c.faulted)
            .map(|(id, _)| *id)
            .collect();
        for id in stalled {
            if let Some(conn) = map.remove(&id) {
                conn.task.abort();
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        for (_, conn) in self.conns.lock().expect("proxy registry").drain() {
            conn.task.abort();
        }
    }
}

async fn proxy_conn(
    id: u64,
    inbound: TcpStream,
    target: u16,
    paused: watch::Receiver<bool>,
    conns: ProxyConns,
) {
    if let Ok(outbound) = TcpStream::connect(("127.0.0.1", target)).await {
        let _ = inbound.set_nodelay(true);
        let _ = outbound.set_nodelay(true);
        let (client_read, client_write) = inbound.into_split();
        let (relay_read, relay_write) = outbound.into_split();
        tokio::join!(
            pump(client_read, relay_write, paused.clone()),
            pump(relay_read, client_write, paused),
        );
    }
    conns.lock().expect("proxy registry").remove(&id);
}

/// Copies one direction; while paused nothing is read or written (bytes already read are
/// held, so a pause that ends delivers them intact).
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut paused: watch::Receiver<bool>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if paused.wait_for(|p| !*p).await.is_err() {
            break;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if paused.wait_for(|p| !*p).await.is_err() {
            break;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Faults over time.

async fn inject_faults(
    args: Args,
    proxy: Arc<Proxy>,
    relay: Arc<tokio::sync::Mutex<RelayProcess>>,
    relay_pid: Arc<AtomicU32>,
    c: Arc<Counters>,
    mut stop: watch::Receiver<bool>,
) {
    let mut rng = Rng::new(args.seed ^ 0xFA17);
    let start = Instant::now();
    let secs = Duration::from_secs_f64;
    let first = |rng: &mut Rng, every: f64| (every > 0.0).then(|| start + secs(rng.around(every)));
    let mut next_cut = first(&mut rng, args.cut_every);
    let mut next_stall = first(&mut rng, args.stall_every);
    let mut next_hiccup = first(&mut rng, args.hiccup_every);
    let mut next_restart = (args.restart_every > 0.0).then(|| start + secs(args.restart_every));
    loop {
        let Some(next) = [next_cut, next_stall, next_hiccup, next_restart]
            .into_iter()
            .flatten()
            .min()
        else {
            return;
        };
        tokio::select! {
            () = tokio::time::sleep_until(next.into()) => {}
            _ = stop.changed() => return,
        }
        let now = Instant::now();
        if next_cut.is_some_and(|t| t <= now) {
            if proxy.cut(&mut rng) {
                bump(&c.cuts);
            }
            next_cut = Some(now + secs(rng.around(args.cut_every)));
        }
        if next_stall.is_some_and(|t| t <= now) {
            if proxy.pause(&mut rng, secs(args.stall_secs), false) {
                bump(&c.stalls);
            }
            next_stall = Some(now + secs(rng.around(args.stall_every)));
        }
        if next_hiccup.is_some_and(|t| t <= now) {
            if proxy.pause(&mut rng, secs(args.hiccup_secs), true) {
                bump(&c.hiccups);
            }
            next_hiccup = Some(now + secs(rng.around(args.hiccup_every)));
        }
        if next_restart.is_some_and(|t| t <= now) {
            let mut relay = relay.lock().await;
            let old = relay.pid();
            match relay.restart(&args, secs(args.restart_down_secs)).await {
                Ok(()) => {
                    relay_pid.store(relay.pid(), Relaxed);
                    let n = bump(&c.restarts);
                    eprintln!(
                        "soak: relay restart {n}: pid {old} killed, pid {} on port {}",
                        relay.pid(),
                        relay.port
                    );
                }
                Err(e) => eprintln!("soak: relay restart failed: {e:#}"),
            }
            next_restart = Some(Instant::now() + secs(args.restart_every));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Main.

struct Sample {
    label: String,
    relay_kb: Option<u64>,
    own_kb: Option<u64>,
    /// RSS of each `--watch` process.
    watched_kb: Vec<Option<u64>>,
}

fn sample(label: impl Into<String>, relay_pid: &AtomicU32, watch: &[(String, String)]) -> Sample {
    Sample {
        label: label.into(),
        relay_kb: rss_kb(&relay_pid.load(Relaxed).to_string()),
        own_kb: rss_kb("self"),
        watched_kb: watch.iter().map(|(_, pid)| rss_kb(pid)).collect(),
    }
}

fn progress(label: &str, started: Instant, c: &Counters, proxy: &Proxy, relay_pid: &AtomicU32) {
    let sent = c.sent.load(Relaxed);
    let received = c.received.load(Relaxed);
    println!(
        "[{:>5.0}s] {label:<8} sent {sent} received {received} in flight {} pending requests {} \
         | links up {} down {} socket failures {} proxied {} | cuts {} stalls {} pauses {} \
         restarts {} | dup {} out-of-order {} messages_lost {} ended {} | relay RSS {} soak RSS {}",
        started.elapsed().as_secs_f64(),
        sent.saturating_sub(received),
        c.pending.load(Relaxed),
        c.link_up.load(Relaxed),
        c.link_down.load(Relaxed),
        c.socket_failed.load(Relaxed),
        proxy.live(),
        c.cuts.load(Relaxed),
        c.stalls.load(Relaxed),
        c.hiccups.load(Relaxed),
        c.restarts.load(Relaxed),
        c.duplicated.load(Relaxed),
        c.out_of_order.load(Relaxed),
        c.messages_lost.load(Relaxed),
        c.ended.load(Relaxed),
        mib(rss_kb(&relay_pid.load(Relaxed).to_string())),
        mib(rss_kb("self")),
    );
}

#[derive(Default)]
struct Direction {
    sent: [u64; 4],
    received: [u64; 4],
    lost: [u64; 4],
    duplicated: [u64; 4],
    out_of_order: [u64; 4],
    /// Ids received that were never sent.
    phantom: u64,
    misrouted: u64,
    unreadable: u64,
}

impl Direction {
    fn add(&mut self, sender: &Side, receiver: &Side) {
        for (n, kind) in sender.sent.iter().enumerate() {
            let kind = usize::from(*kind);
            self.sent[kind] += 1;
            if receiver.seen.get(n).copied().unwrap_or(false) {
                self.received[kind] += 1;
            } else {
                self.lost[kind] += 1;
            }
        }
        let extra = receiver.seen.iter().skip(sender.sent.len());
        self.phantom += extra.filter(|b| **b).count() as u64;
        for kind in 0..4 {
            self.duplicated[kind] += receiver.duplicated[kind];
            self.out_of_order[kind] += receiver.out_of_order[kind];
        }
        self.misrouted += receiver.misrouted;
        self.unreadable += receiver.unreadable;
    }

    fn bad(&self) -> u64 {
        let sum = |a: &[u64; 4]| a.iter().sum::<u64>();
        sum(&self.lost)
            + sum(&self.duplicated)
            + sum(&self.out_of_order)
            + self.phantom
            + self.misrouted
            + self.unreadable
    }
}

fn row(out: &mut String, dir: &str, kind: &str, v: [u64; 5]) {
    let _ = writeln!(
        out,
        "{dir:<14} {kind:<15} {:>10} {:>10} {:>8} {:>11} {:>13}",
        v[0], v[1], v[2], v[3], v[4]
    );
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("soak: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<bool> {
    if args.sessions == 0 || args.links == 0 {
        bail!("--sessions and --links must be at least 1");
    }
    if !Path::new(&args.relay_bin).exists() {
        bail!("no relay binary at {}", args.relay_bin.display());
    }
    let links = args.links.min(args.sessions);
    let faults = !args.no_faults;
    let relay = RelayProcess::start(&args, 0).await?;
    let relay_port = relay.port;
    let relay_pid = Arc::new(AtomicU32::new(relay.pid()));
    let relay = Arc::new(tokio::sync::Mutex::new(relay));
    let watch: Vec<(String, String)> = args
        .watch
        .iter()
        .map(|w| match w.split_once('=') {
            Some((name, pid)) => (name.to_owned(), pid.to_owned()),
            None => (format!("pid {w}"), w.clone()),
        })
        .collect();
    let mut samples = vec![sample("start (idle relay)", &relay_pid, &watch)];
    let proxy = Arc::new(Proxy::start(relay_port).await?);
    println!(
        "soak: relay pid {} on 127.0.0.1:{relay_port} (args: {}), proxy {}",
        relay_pid.load(Relaxed),
        args.relay_args.join(" "),
        proxy.url()
    );
    println!(
        "soak: {} sessions ({:.0}% untrusted) over {links} dApp + {links} wallet links, \
         {} min, one message started per side every {} ms on average ({:.0}% requests, {:.0}% \
         of them answered with an error), {} bytes padding; faults {}",
        args.sessions,
        args.untrusted * 100.0,
        args.minutes,
        args.interval_ms,
        args.request_share * 100.0,
        args.error_share * 100.0,
        args.payload_bytes,
        if faults {
            format!(
                "on (cut every ~{} s, stall {} s every ~{} s, pause {} s every ~{} s, relay \
                 restart {})",
                args.cut_every,
                args.stall_secs,
                args.stall_every,
                args.hiccup_secs,
                args.hiccup_every,
                if args.restart_every > 0.0 {
                    format!(
                        "every {} s, down {} s",
                        args.restart_every, args.restart_down_secs
                    )
                } else {
                    "never".into()
                }
            )
        } else {
            "off".into()
        }
    );
    let expected_rate = args.sessions as f64 * 2.0 * (1.0 + args.request_share)
        / (args.interval_ms as f64 / 1000.0);
    println!("soak: expected load about {expected_rate:.0} messages/s");

    let cfg = Arc::new(Config {
        sessions: args.sessions,
        links,
        url: proxy.url(),
        untrusted: args.untrusted.clamp(0.0, 1.0),
        interval_ms: args.interval_ms.max(1),
        request_share: args.request_share,
        error_share: args.error_share,
        pad: "x".repeat(args.payload_bytes),
        request_timeout_ms: args.request_timeout_secs * 1000,
        pair_concurrency: args.pair_concurrency.max(1),
    });
    let c = Arc::new(Counters::default());
    let (phase_tx, phase_rx) = watch::channel(Phase::Pairing);

    // Inboxes first: each side's tasks hold the other side's senders.
    let (dapp_senders, dapp_inboxes): (Vec<_>, Vec<_>) =
        (0..links).map(|_| mpsc::unbounded_channel()).unzip();
    let (wallet_senders, wallet_inboxes): (Vec<_>, Vec<_>) =
        (0..links).map(|_| mpsc::unbounded_channel()).unzip();
    let dapp_senders = Arc::new(dapp_senders);
    let wallet_senders = Arc::new(wallet_senders);
    // Links on `--threads` threads, each a current-thread runtime: a hub's random source is
    // not `Send`, so a link stays on the thread that made it.
    let threads = args.threads.max(1);
    let mut plans: Vec<Vec<LinkPlan>> = (0..threads).map(|_| Vec::new()).collect();
    let mut count = 0;
    for (index, inbox) in wallet_inboxes.into_iter().enumerate() {
        plans[count % threads].push(LinkPlan {
            dapp: false,
            index,
            sessions: Vec::new(),
            peers: dapp_senders.clone(),
            inbox,
            seed: args.seed.wrapping_add(2 * index as u64 + 1),
        });
        count += 1;
    }
    for (index, inbox) in dapp_inboxes.into_iter().enumerate() {
        let sessions: Vec<usize> = (0..cfg.sessions)
            .filter(|s| cfg.dapp_link(*s) == index)
            .collect();
        plans[count % threads].push(LinkPlan {
            dapp: true,
            index,
            sessions,
            peers: wallet_senders.clone(),
            inbox,
            seed: args.seed.wrapping_add(2 * index as u64 + 2),
        });
        count += 1;
    }
    let mut workers = Vec::new();
    for (n, plans) in plans.into_iter().enumerate() {
        let (phase, cfg, c) = (phase_rx.clone(), cfg.clone(), c.clone());
        let worker = std::thread::Builder::new()
            .name(format!("soak-links-{n}"))
            .spawn(move || run_links(plans, phase, cfg, c))
            .context("start a link thread")?;
        workers.push(worker);
    }

    // Pairing.
    let started = Instant::now();
    let n = args.sessions as i64;
    let pair_deadline = started + Duration::from_secs(args.pair_timeout_secs);
    let mut last_progress = Instant::now();
    loop {
        let failed = c.pair_failed.load(Relaxed) as i64;
        let dapps = c.dapp_live.load(Relaxed);
        let wallets = c.wallet_live.load(Relaxed);
        if dapps + failed >= n && wallets + failed >= n {
            break;
        }
        if Instant::now() >= pair_deadline {
            println!("soak: pairing timed out: {dapps} dApps and {wallets} wallets connected");
            break;
        }
        if last_progress.elapsed() >= Duration::from_secs(args.progress_secs) {
            last_progress = Instant::now();
            println!(
                "soak: pairing: {dapps} dApps and {wallets} wallets connected, {failed} failed"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pairing_secs = started.elapsed().as_secs_f64();
    println!(
        "soak: paired {} sessions in {pairing_secs:.1} s ({} failed)",
        c.dapp_live.load(Relaxed).min(c.wallet_live.load(Relaxed)),
        c.pair_failed.load(Relaxed)
    );
    samples.push(sample("after pairing", &relay_pid, &watch));

    // Traffic under faults.
    phase_tx.send_replace(Phase::Running);
    let running = Instant::now();
    let (stop_faults, stop_rx) = watch::channel(false);
    let injector = faults.then(|| {
        tokio::spawn(inject_faults(
            args.clone(),
            proxy.clone(),
            relay.clone(),
            relay_pid.clone(),
            c.clone(),
            stop_rx,
        ))
    });
    let run_for = Duration::from_secs_f64(args.minutes.max(0.0) * 60.0);
    let tick = Duration::from_secs(args.progress_secs.max(1));
    let mut next_minute = 1;
    while running.elapsed() < run_for {
        let left = run_for.saturating_sub(running.elapsed());
        tokio::time::sleep(tick.min(left)).await;
        progress("running", running, &c, &proxy, &relay_pid);
        while running.elapsed() >= Duration::from_secs(60 * next_minute) {
            samples.push(sample(format!("minute {next_minute}"), &relay_pid, &watch));
            next_minute += 1;
        }
    }
    let _ = stop_faults.send(true);
    if let Some(injector) = injector {
        let _ = injector.await;
    }
    proxy.heal();

    // Drain: no new messages; wait for every message and request to settle.
    phase_tx.send_replace(Phase::Draining);
    let draining = Instant::now();
    // Until every link saw the phase, one may still start a message.
    while c.draining_links.load(Relaxed) < 2 * links as u64
        && draining.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let drain_for = Duration::from_secs(args.drain_secs);
    let quiet_for = Duration::from_secs(args.quiet_secs);
    let mut last_progress = Instant::now();
    let (mut last_received, mut last_change) = (c.received.load(Relaxed), Instant::now());
    let drained = loop {
        let received = c.received.load(Relaxed);
        let pending = c.pending.load(Relaxed);
        if c.sent.load(Relaxed) == received && pending <= 0 {
            break true;
        }
        if received != last_received {
            (last_received, last_change) = (received, Instant::now());
        }
        // Every request settled and nothing arrived for a while: the rest is not coming.
        if draining.elapsed() >= drain_for || (pending <= 0 && last_change.elapsed() >= quiet_for) {
            break false;
        }
        if last_progress.elapsed() >= tick {
            last_progress = Instant::now();
            progress("draining", running, &c, &proxy, &relay_pid);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let drain_secs = draining.elapsed().as_secs_f64();
    progress("end", running, &c, &proxy, &relay_pid);
    samples.push(sample("end", &relay_pid, &watch));
    let metrics = relay_metrics(relay_port).await;

    phase_tx.send_replace(Phase::Stop);
    let mut reports = Vec::new();
    for worker in workers {
        let joined = tokio::task::spawn_blocking(move || worker.join());
        match tokio::time::timeout(Duration::from_secs(30), joined).await {
            Ok(Ok(Ok(Ok(mut done)))) => reports.append(&mut done),
            Ok(Ok(Ok(Err(e)))) => bail!("a link failed: {e}"),
            Ok(_) => bail!("a link thread panicked"),
            Err(_) => bail!("the links did not stop within 30 s"),
        }
    }
    relay.lock().await.child.kill().await.ok();

    Ok(summarize(
        &args,
        &c,
        &reports,
        &samples,
        &watch,
        &metrics,
        SummaryTimes {
            pairing_secs,
            run_secs: run_for.as_secs_f64(),
            drain_secs,
            drained,
        },
    ))
}

struct SummaryTimes {
    pairing_secs: f64,
    run_secs: f64,
    drain_secs: f64,
    drained: bool,
}

fn summarize(
    args: &Args,
    c: &Counters,
    reports: &[LinkReport],
    samples: &[Sample],
    watch: &[(String, String)],
    metrics: &[String],
    times: SummaryTimes,
) -> bool {
    let sessions = args.sessions;
    let mut dapps: Vec<Option<&Side>> = vec![None; sessions];
    let mut wallets: Vec<Option<&Side>> = vec![None; sessions];
    let (mut dapp_ups, mut wallet_ups, mut dapp_links, mut wallet_links) = (0, 0, 0, 0);
    let mut round_trips: Vec<u32> = Vec::new();
    for report in reports {
        let (slots, ups, count) = if report.dapp {
            (&mut dapps, &mut dapp_ups, &mut dapp_links)
        } else {
            (&mut wallets, &mut wallet_ups, &mut wallet_links)
        };
        // The first `up` of a link is its initial connection, not a reconnect.
        *ups += report.ups.saturating_sub(1);
        *count += 1;
        for side in &report.sides {
            slots[side.session] = Some(side);
        }
        round_trips.extend_from_slice(&report.round_trips);
    }
    round_trips.sort_unstable();

    let mut to_wallet = Direction::default();
    let mut to_dapp = Direction::default();
    let mut settled = [0u64; 4];
    let mut unsettled = 0u64;
    let (mut paired, mut untrusted) = (0usize, 0usize);
    let mut unpaired_sends = 0u64;
    for s in 0..sessions {
        let (Some(d), Some(w)) = (dapps[s], wallets[s]) else {
            continue;
        };
        if !(d.paired && w.paired) {
            unpaired_sends += (d.sent.len() + w.sent.len()) as u64;
            continue;
        }
        paired += 1;
        if args.untrusted > 0.0 {
            let a = (s as f64 * args.untrusted).floor();
            let b = ((s + 1) as f64 * args.untrusted).floor();
            untrusted += usize::from(b > a);
        }
        to_wallet.add(d, w);
        to_dapp.add(w, d);
        for side in [d, w] {
            for (total, v) in settled.iter_mut().zip(side.settled) {
                *total += v;
            }
            unsettled += side.pending.len() as u64;
        }
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n================ walletwire soak summary ================"
    );
    let _ = writeln!(
        out,
        "sessions paired {paired}/{sessions} ({untrusted} untrusted with OTP), links {dapp_links} \
         dApp + {wallet_links} wallet; pairing {:.1} s, traffic {:.0} s, drain {:.1} s{}",
        times.pairing_secs,
        times.run_secs,
        times.drain_secs,
        if times.drained {
            ""
        } else {
            " (ended with messages missing)"
        }
    );
    let total_sent: u64 = to_wallet.sent.iter().chain(&to_dapp.sent).sum();
    let _ = writeln!(
        out,
        "rate: one message started per side every {} ms on average -> {:.0} messages/s \
         measured over the traffic phase",
        args.interval_ms,
        total_sent as f64 / times.run_secs.max(1.0)
    );
    let _ = writeln!(
        out,
        "\n{:<14} {:<15} {:>10} {:>10} {:>8} {:>11} {:>13}",
        "direction", "kind", "sent", "received", "lost", "duplicated", "out-of-order"
    );
    let mut all = [0u64; 5];
    for (name, dir) in [("dApp->wallet", &to_wallet), ("wallet->dApp", &to_dapp)] {
        let mut sum = [0u64; 5];
        for (kind, kind_name) in KIND_NAMES.iter().enumerate() {
            let v = [
                dir.sent[kind],
                dir.received[kind],
                dir.lost[kind],
                dir.duplicated[kind],
                dir.out_of_order[kind],
            ];
            if v[0] + v[1] + v[3] == 0 {
                continue;
            }
            row(&mut out, name, kind_name, v);
            for (t, x) in sum.iter_mut().zip(v) {
                *t += x;
            }
        }
        row(&mut out, name, "all", sum);
        for (t, x) in all.iter_mut().zip(sum) {
            *t += x;
        }
    }
    row(&mut out, "both", "all", all);
    let phantom = to_wallet.phantom + to_dapp.phantom;
    let misrouted = to_wallet.misrouted + to_dapp.misrouted;
    let unreadable = to_wallet.unreadable + to_dapp.unreadable;
    let _ = writeln!(
        out,
        "never-sent ids received {phantom}, misrouted {misrouted}, unreadable {unreadable}, \
         sends by sessions that did not pair {unpaired_sends}"
    );

    let requests = to_wallet.sent[REQ] + to_dapp.sent[REQ];
    let _ = writeln!(
        out,
        "\nrequests {requests}: settled by a response {} ({} ok, {} error responses), settled \
         by an error {} ({} timeouts, {} other), unsettled {unsettled}",
        settled[0] + settled[1],
        settled[0],
        settled[1],
        settled[2] + settled[3],
        settled[2],
        settled[3],
    );
    if !round_trips.is_empty() {
        let _ = writeln!(
            out,
            "request round trip (informational, includes faults): p50 {} ms, p99 {} ms, max {} ms",
            percentile(&round_trips, 0.5),
            percentile(&round_trips, 0.99),
            round_trips.last().copied().unwrap_or(0)
        );
    }
    let _ = writeln!(
        out,
        "reconnects: dApp links {dapp_ups}, wallet links {wallet_ups} (link downs {}, failed \
         socket opens {})",
        c.link_down.load(Relaxed),
        c.socket_failed.load(Relaxed)
    );
    let _ = writeln!(
        out,
        "faults injected: socket cuts {}, stalls of {} s {}, pauses of {} s {}, relay restarts {}",
        c.cuts.load(Relaxed),
        args.stall_secs,
        c.stalls.load(Relaxed),
        args.hiccup_secs,
        c.hiccups.load(Relaxed),
        c.restarts.load(Relaxed)
    );
    let messages_lost = c.messages_lost.load(Relaxed);
    let ended = c.ended.load(Relaxed);
    let pair_failed = c.pair_failed.load(Relaxed);
    let _ = writeln!(
        out,
        "protocol events: messages_lost {messages_lost}, sessions ended {ended}, pairing \
         failures {pair_failed}, relay errors {}, sends refused locally {}",
        c.relay_errors.load(Relaxed),
        c.send_refused.load(Relaxed)
    );
    let _ = write!(
        out,
        "\n{:<22} {:>14} {:>14}",
        "RSS", "relay", "soak process"
    );
    for (name, _) in watch {
        let _ = write!(out, " {name:>14}");
    }
    out.push('\n');
    for s in samples {
        let _ = write!(
            out,
            "{:<22} {:>14} {:>14}",
            s.label,
            mib(s.relay_kb),
            mib(s.own_kb)
        );
        for kb in &s.watched_kb {
            let _ = write!(out, " {:>14}", mib(*kb));
        }
        out.push('\n');
    }
    if c.restarts.load(Relaxed) > 0 {
        let _ = writeln!(
            out,
            "(after a relay restart the relay figures are the new process)"
        );
    }
    if !metrics.is_empty() {
        let _ = writeln!(out, "relay /metrics at the end: {}", metrics.join(", "));
    }

    let bad = to_wallet.bad() + to_dapp.bad();
    let ok = bad == 0
        && unsettled == 0
        && settled[2] + settled[3] == 0
        && messages_lost == 0
        && ended == 0
        && pair_failed == 0
        && paired == sessions;
    let _ = writeln!(
        out,
        "\nverdict: {}",
        if ok {
            "PASS (nothing lost, duplicated or reordered)"
        } else {
            "FAIL"
        }
    );
    print!("{out}");
    ok
}
