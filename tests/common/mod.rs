//! In-memory relay and peers with simulated time: drives a dApp and a wallet connection
//! through the sans-IO core deterministically (quinn's `Pair::drive` idea).
#![allow(dead_code, unused_imports)]

use sha2::{Digest, Sha256};
use walletwire::crypto::RandomSource;
pub use walletwire::loopback::{LoopbackPeer, LoopbackPeer as Peer, LoopbackRelay};
use walletwire::protocol::{
    DappConnection, DappOptions, Event, Invitation, Metadata, Mode, SessionRequest,
    WalletConnection, WalletOptions,
};

pub const T0: u64 = 1_700_000_000_000;
pub const RELAY: &str = "ws://127.0.0.1:8000/connection/websocket";

/// Deterministic randomness: SHA-256 of (seed, counter).
pub struct SeededRandom {
    seed: u64,
    counter: u64,
}

impl SeededRandom {
    pub fn boxed(seed: u64) -> Box<dyn RandomSource> {
        Box::new(Self { seed, counter: 0 })
    }
}

impl RandomSource for SeededRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(32) {
            let digest = Sha256::new()
                .chain_update(self.seed.to_be_bytes())
                .chain_update(self.counter.to_be_bytes())
                .finalize();
            self.counter += 1;
            chunk.copy_from_slice(&digest[..chunk.len()]);
        }
    }
}

/// Two peers and the relay, with a simulated clock.
pub struct Pair {
    pub relay: LoopbackRelay,
    pub dapp: LoopbackPeer<walletwire::protocol::DappHandshake>,
    pub wallet: Option<LoopbackPeer<walletwire::protocol::WalletHandshake>>,
    /// Other wallets answering the same request (someone else has the QR code).
    pub rogues: Vec<LoopbackPeer<walletwire::protocol::WalletHandshake>>,
    pub now: u64,
    pub seed: u64,
    /// Limits both peers run with.
    pub limits: walletwire::protocol::Limits,
}

pub fn dapp_options(mode: Mode) -> DappOptions {
    let mut o = DappOptions::new(
        RELAY,
        Metadata {
            name: "Test dApp".into(),
            url: Some("https://dapp.example".into()),
            icon: None,
        },
    );
    o.mode = mode;
    o
}

pub fn wallet_options() -> WalletOptions {
    WalletOptions::new(Metadata {
        name: "Reference Wallet".into(),
        url: None,
        icon: None,
    })
}

impl Pair {
    pub fn new(mode: Mode) -> Self {
        Self::with_seed(mode, 1)
    }

    /// Seeds `seed` (dApp) and `seed + 1` (wallet): different seeds, different sessions.
    pub fn with_seed(mode: Mode, seed: u64) -> Self {
        Self::with_limits(mode, seed, walletwire::protocol::Limits::default())
    }

    pub fn with_limits(mode: Mode, seed: u64, limits: walletwire::protocol::Limits) -> Self {
        let mut options = dapp_options(mode);
        options.limits = limits.clone();
        let dapp = DappConnection::new(options, T0, SeededRandom::boxed(seed)).unwrap();
        let mut pair = Self {
            relay: LoopbackRelay::default(),
            dapp: LoopbackPeer::new(dapp),
            wallet: None,
            rogues: Vec::new(),
            now: T0,
            seed,
            limits,
        };
        pair.drive();
        pair
    }

    pub fn request(&self) -> SessionRequest {
        self.dapp
            .events
            .iter()
            .rev()
            .find_map(|e| match e {
                Event::SessionRequest(r) => Some((**r).clone()),
                _ => None,
            })
            .expect("dApp emitted a session request")
    }

    /// The wallet scans the QR code.
    pub fn scan(&mut self) {
        let uri = self.request().to_uri();
        let invitation = Invitation::from_uri(&uri).unwrap();
        let mut options = wallet_options();
        options.limits = self.limits.clone();
        let wallet = WalletConnection::read(
            &invitation,
            options,
            self.now,
            SeededRandom::boxed(self.seed + 1),
        )
        .unwrap();
        self.wallet = Some(LoopbackPeer::new(wallet));
        self.drive();
    }

    /// Another wallet (randomness `seed`, code window `otp_window_ms`) answers the request
    /// the dApp shows, as anyone who saw the QR code can; returns its index in `rogues`.
    pub fn rogue_scan(&mut self, seed: u64, otp_window_ms: u64) -> usize {
        let request = self.request();
        let mut options = wallet_options();
        options.limits = self.limits.clone();
        options.otp_window_ms = otp_window_ms;
        let rogue =
            WalletConnection::accept(&request, options, self.now, SeededRandom::boxed(seed))
                .unwrap();
        self.rogues.push(LoopbackPeer::new(rogue));
        self.drive();
        self.rogues.len() - 1
    }

    /// The code a rogue wallet displays.
    pub fn rogue_otp(&self, index: usize) -> String {
        displayed_otp(&self.rogues[index].events).expect("rogue displayed an OTP")
    }

    pub fn wallet(&mut self) -> &mut LoopbackPeer<walletwire::protocol::WalletHandshake> {
        self.wallet.as_mut().expect("wallet scanned")
    }

    /// Runs until nothing moves.
    pub fn drive(&mut self) {
        for _ in 0..1000 {
            let mut busy = false;
            if !self.dapp.frozen {
                self.dapp.collect(&mut self.relay);
                busy |= self.dapp.pump(&mut self.relay, self.now);
            }
            if let Some(w) = self.wallet.as_mut().filter(|w| !w.frozen) {
                w.collect(&mut self.relay);
                busy |= w.pump(&mut self.relay, self.now);
            }
            for w in self.rogues.iter_mut().filter(|w| !w.frozen) {
                w.collect(&mut self.relay);
                busy |= w.pump(&mut self.relay, self.now);
            }
            if !busy {
                return;
            }
        }
        panic!("the pair did not settle");
    }

    /// Advances the clock to `to`, firing every timer due on the way.
    pub fn advance_to(&mut self, to: u64) {
        loop {
            let next = [
                (!self.dapp.frozen)
                    .then(|| self.dapp.conn.poll_timeout())
                    .flatten(),
                self.wallet
                    .as_ref()
                    .filter(|w| !w.frozen)
                    .and_then(|w| w.conn.poll_timeout()),
            ]
            .into_iter()
            .flatten()
            .filter(|t| *t <= to)
            .min();
            let Some(t) = next else { break };
            self.now = self.now.max(t);
            if !self.dapp.frozen {
                self.dapp.conn.handle_timeout(self.now);
            }
            if let Some(w) = self.wallet.as_mut().filter(|w| !w.frozen) {
                w.conn.handle_timeout(self.now);
            }
            self.drive();
        }
        self.now = to;
        self.drive();
    }

    pub fn advance(&mut self, ms: u64) {
        self.advance_to(self.now + ms);
    }

    pub fn wallet_otp(&self) -> String {
        displayed_otp(&self.wallet.as_ref().unwrap().events).expect("wallet displayed an OTP")
    }

    /// Full handshake in `mode`; returns the pair connected.
    pub fn connected(mode: Mode) -> Self {
        Self::connected_with_seed(mode, 1)
    }

    pub fn connected_with_seed(mode: Mode, seed: u64) -> Self {
        Self::connected_with_limits(mode, seed, walletwire::protocol::Limits::default())
    }

    pub fn connected_with_limits(
        mode: Mode,
        seed: u64,
        limits: walletwire::protocol::Limits,
    ) -> Self {
        let mut pair = Self::with_limits(mode, seed, limits);
        pair.scan();
        if mode == Mode::Untrusted {
            let otp = pair.wallet_otp();
            pair.dapp.conn.submit_otp(&otp, pair.now).unwrap();
            pair.drive();
        }
        assert!(pair.dapp.conn.session().is_some(), "dApp connected");
        assert!(pair.wallet().conn.session().is_some(), "wallet connected");
        pair
    }
}

/// The code a wallet displayed, if it did.
pub fn displayed_otp(events: &[Event]) -> Option<String> {
    events.iter().find_map(|e| match e {
        Event::DisplayOtp { otp, .. } => Some(otp.clone()),
        _ => None,
    })
}

pub fn is_connected(e: &Event) -> bool {
    matches!(e, Event::Connected(_))
}

/// The id of the first request among `events`.
pub fn first_request_id(events: &[Event]) -> u64 {
    events
        .iter()
        .find_map(|e| match e {
            Event::Request { id, .. } => Some(*id),
            _ => None,
        })
        .expect("a request was received")
}
