//! In-memory relay and peers with simulated time: drives a dApp and a wallet connection
//! through the sans-IO core deterministically (quinn's `Pair::drive` idea).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};

use sha2::{Digest, Sha256};
use walletwire::crypto::RandomSource;
use walletwire::protocol::{
    Connection, DappConnection, DappOptions, Event, Handshake, Metadata, Mode, Output, Record,
    SessionRequest, StreamPosition, WalletConnection, WalletOptions,
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

/// One channel's stream: publications with offsets from 1, under an epoch.
#[derive(Default)]
pub struct Stream {
    pub epoch: String,
    pub publications: Vec<String>,
}

/// The in-memory relay: ordered channels with full history.
#[derive(Default)]
pub struct SimRelay {
    pub channels: HashMap<String, Stream>,
    epochs: u64,
}

impl SimRelay {
    fn stream(&mut self, channel: &str) -> &mut Stream {
        let next_epoch = self.epochs + 1;
        let created = !self.channels.contains_key(channel);
        let stream = self.channels.entry(channel.to_owned()).or_insert_with(|| Stream {
            epoch: format!("epoch-{next_epoch}"),
            publications: Vec::new(),
        });
        if created {
            self.epochs += 1;
        }
        stream
    }

    pub fn publish(&mut self, channel: &str, data: String) -> StreamPosition {
        let stream = self.stream(channel);
        stream.publications.push(data);
        StreamPosition { offset: stream.publications.len() as u64, epoch: stream.epoch.clone() }
    }

    pub fn top(&mut self, channel: &str) -> StreamPosition {
        let stream = self.stream(channel);
        StreamPosition { offset: stream.publications.len() as u64, epoch: stream.epoch.clone() }
    }

    /// Publications after `since` (all when the epoch differs: callers handle recovery).
    pub fn since(&mut self, channel: &str, since: &StreamPosition) -> Option<Vec<(StreamPosition, String)>> {
        let stream = self.stream(channel);
        if stream.epoch != since.epoch {
            return None;
        }
        let epoch = stream.epoch.clone();
        Some(
            stream.publications.iter().enumerate().skip(since.offset as usize)
                .map(|(i, d)| (StreamPosition { offset: i as u64 + 1, epoch: epoch.clone() }, d.clone()))
                .collect(),
        )
    }

    /// Forgets every stream (a memory-broker relay restart).
    pub fn restart(&mut self) {
        self.channels.clear();
    }
}

/// A peer: its connection, subscriptions, store and the events it emitted.
pub struct Peer<H> {
    pub conn: Connection<H>,
    pub subscriptions: BTreeMap<String, StreamPosition>,
    pub store: BTreeMap<String, String>,
    pub events: Vec<Event>,
    pub published: Vec<(String, String)>,
    /// A frozen peer applies no outputs and receives nothing (a suspended tab).
    pub frozen: bool,
    inbox: VecDeque<(String, StreamPosition, String)>,
}

impl<H: Handshake> Peer<H> {
    pub fn new(conn: Connection<H>) -> Self {
        Self {
            conn,
            subscriptions: BTreeMap::new(),
            store: BTreeMap::new(),
            events: Vec::new(),
            published: Vec::new(),
            frozen: false,
            inbox: VecDeque::new(),
        }
    }

    /// Applies queued outputs; returns true if anything happened.
    pub fn pump(&mut self, relay: &mut SimRelay, now: u64) -> bool {
        let mut busy = false;
        while let Some((channel, pos, data)) = self.inbox.pop_front() {
            busy = true;
            if let Some(p) = self.subscriptions.get_mut(&channel) {
                *p = pos.clone();
                let _ = self.conn.handle_publication(&channel, Some(pos), &data, now);
            }
        }
        while let Some(output) = self.conn.poll_output() {
            busy = true;
            match output {
                Output::Subscribe { channel, since } => {
                    let recovered = since.as_ref().map(|s| relay.since(&channel, s));
                    match recovered {
                        Some(Some(pubs)) => {
                            for (pos, data) in pubs {
                                let _ = self.conn.handle_publication(&channel, Some(pos), &data, now);
                            }
                        }
                        Some(None) => self.conn.handle_recovery_failed(&channel),
                        None => {}
                    }
                    let top = relay.top(&channel);
                    self.subscriptions.insert(channel.clone(), top.clone());
                    self.conn.handle_subscribed(&channel, top, now);
                }
                Output::Unsubscribe { channel } => {
                    self.subscriptions.remove(&channel);
                }
                Output::Publish { channel, data } => {
                    self.published.push((channel.clone(), data.clone()));
                    relay.publish(&channel, data);
                }
                Output::Sync { channel } => {
                    if let Some(seen) = self.subscriptions.get(&channel).cloned() {
                        for (pos, data) in relay.since(&channel, &seen).unwrap_or_default() {
                            self.subscriptions.insert(channel.clone(), pos.clone());
                            let _ = self.conn.handle_publication(&channel, Some(pos), &data, now);
                        }
                    }
                    self.conn.handle_synced(&channel, now);
                }
                Output::Store { key, record } => {
                    self.store.insert(key, record);
                }
                Output::Remove { key } => {
                    self.store.remove(&key);
                }
                Output::Event(e) => self.events.push(e),
                _ => {}
            }
        }
        busy
    }

    /// Delivers publications made since `seen` on subscribed channels into the inbox.
    fn collect(&mut self, relay: &mut SimRelay) {
        for (channel, seen) in self.subscriptions.clone() {
            if let Some(pubs) = relay.since(&channel, &seen) {
                let last = pubs.last().map(|(p, _)| p.clone());
                for (pos, data) in pubs {
                    self.inbox.push_back((channel.clone(), pos, data));
                }
                if let Some(last) = last {
                    self.subscriptions.insert(channel, last);
                }
            }
        }
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn has_event(&self, f: impl Fn(&Event) -> bool) -> bool {
        self.events.iter().any(f)
    }

    pub fn records(&self, now: u64) -> Vec<Record> {
        self.store.values().filter_map(|r| Record::decode(r, now).ok()).collect()
    }
}

/// Two peers and the relay, with a simulated clock.
pub struct Pair {
    pub relay: SimRelay,
    pub dapp: Peer<walletwire::protocol::DappHandshake>,
    pub wallet: Option<Peer<walletwire::protocol::WalletHandshake>>,
    pub now: u64,
    pub seed: u64,
}

pub fn dapp_options(mode: Mode) -> DappOptions {
    let mut o = DappOptions::new(RELAY, Metadata { name: "Test dApp".into(), url: Some("https://dapp.example".into()), icon: None });
    o.mode = mode;
    o
}

pub fn wallet_options() -> WalletOptions {
    WalletOptions::new(Metadata { name: "Reference Wallet".into(), url: None, icon: None })
}

impl Pair {
    pub fn new(mode: Mode) -> Self {
        Self::with_seed(mode, 1)
    }

    /// Seeds `seed` (dApp) and `seed + 1` (wallet): different seeds, different sessions.
    pub fn with_seed(mode: Mode, seed: u64) -> Self {
        let dapp = DappConnection::new(dapp_options(mode), T0, SeededRandom::boxed(seed)).unwrap();
        let mut pair = Self { relay: SimRelay::default(), dapp: Peer::new(dapp), wallet: None, now: T0, seed };
        pair.drive();
        pair
    }

    pub fn request(&self) -> SessionRequest {
        self.dapp.events.iter().rev().find_map(|e| match e {
            Event::SessionRequest(r) => Some(r.clone()),
            _ => None,
        }).expect("dApp emitted a session request")
    }

    /// The wallet scans the QR code.
    pub fn scan(&mut self) {
        let uri = self.request().to_uri();
        let request = SessionRequest::from_uri(&uri).unwrap();
        let wallet = WalletConnection::accept(&request, wallet_options(), self.now, SeededRandom::boxed(self.seed + 1)).unwrap();
        self.wallet = Some(Peer::new(wallet));
        self.drive();
    }

    pub fn wallet(&mut self) -> &mut Peer<walletwire::protocol::WalletHandshake> {
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
                (!self.dapp.frozen).then(|| self.dapp.conn.poll_timeout()).flatten(),
                self.wallet.as_ref().filter(|w| !w.frozen).and_then(|w| w.conn.poll_timeout()),
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
        self.wallet.as_ref().unwrap().events.iter().find_map(|e| match e {
            Event::DisplayOtp { otp, .. } => Some(otp.clone()),
            _ => None,
        }).expect("wallet displayed an OTP")
    }

    /// Full handshake in `mode`; returns the pair connected.
    pub fn connected(mode: Mode) -> Self {
        Self::connected_with_seed(mode, 1)
    }

    pub fn connected_with_seed(mode: Mode, seed: u64) -> Self {
        let mut pair = Self::with_seed(mode, seed);
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

pub fn is_connected(e: &Event) -> bool {
    matches!(e, Event::Connected(_))
}
