//! A dApp and a wallet over the in-memory relay ([`LoopbackRelay`]), with simulated time
//! and deliveries the caller controls.
//!
//! Unlike [`walletwire::loopback::LoopbackPeer`], which delivers every publication at once,
//! each [`Side`] here has an inbox: [`Side::fetch`] copies what the relay holds beyond the
//! side's position into it, and the caller delivers, drops, duplicates or reorders its
//! entries. Subscriptions (with recovery) and syncs are served from the relay at once, as a
//! relay client does. A side can be reloaded from what it stored, and the relay can lose
//! every stream (a memory-broker restart: new epochs).

use std::collections::{BTreeMap, VecDeque};

use walletwire::crypto::Key;
use walletwire::loopback::LoopbackRelay;
use walletwire::protocol::{
    DappConnection, Event, Invitation, Mode, Output, Record, Role, SessionInfo, SessionRecord,
    StreamPosition, WalletConnection, frame_aad, session_key,
};
use walletwire::relay::hub::AnyConnection;

use crate::check;
use crate::{SplitMix, T0, dapp_options, wallet_options};

/// One publication waiting to be delivered.
pub type Delivery = (String, StreamPosition, String);

/// One end: its connection (if any), subscriptions, storage and inbox.
#[derive(Debug)]
pub struct Side {
    /// Which end.
    pub role: Role,
    /// The live connection; `None` once reloaded with nothing to resume.
    pub conn: Option<AnyConnection>,
    /// Subscribed channels and the position fetched up to.
    pub subs: BTreeMap<String, StreamPosition>,
    /// What the connection stored (key → record).
    pub store: BTreeMap<String, String>,
    /// Fetched, not yet delivered.
    pub inbox: VecDeque<Delivery>,
    /// Events emitted and not yet taken.
    pub events: Vec<Event>,
    /// Counts reloads.
    pub incarnation: u32,
    seed: u64,
}

impl Side {
    /// A side running `conn`; `seed` feeds the randomness of later incarnations.
    pub fn new(role: Role, conn: AnyConnection, seed: u64) -> Self {
        Self {
            role,
            conn: Some(conn),
            subs: BTreeMap::new(),
            store: BTreeMap::new(),
            inbox: VecDeque::new(),
            events: Vec::new(),
            incarnation: 0,
            seed,
        }
    }

    /// True while the connection is live.
    pub fn is_live(&self) -> bool {
        self.conn.as_ref().is_some_and(|c| !c.is_closed())
    }

    /// The session, once connected.
    pub fn session(&self) -> Option<&SessionInfo> {
        self.conn.as_ref().and_then(AnyConnection::session)
    }

    /// Applies every queued output; returns true if there was any.
    pub fn apply(&mut self, relay: &mut LoopbackRelay, now: u64) -> bool {
        let mut busy = false;
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return busy;
            };
            let Some(output) = conn.poll_output() else {
                return busy;
            };
            busy = true;
            match output {
                Output::Subscribe { channel, since } => {
                    match since.as_ref().map(|s| relay.since(&channel, s)) {
                        Some(Some(recovered)) => {
                            for (position, data) in recovered {
                                let _ =
                                    conn.handle_publication(&channel, Some(position), &data, now);
                            }
                        }
                        Some(None) => conn.handle_recovery_failed(&channel),
                        None => {}
                    }
                    let top = relay.top(&channel);
                    self.subs.insert(channel.clone(), top.clone());
                    conn.handle_subscribed(&channel, top, now);
                }
                Output::Unsubscribe { channel } => {
                    self.subs.remove(&channel);
                    self.inbox.retain(|(c, _, _)| *c != channel);
                }
                Output::Publish { channel, data } => {
                    relay.publish(&channel, data);
                    conn.handle_published(&channel, now);
                }
                Output::Sync { channel } => {
                    if let Some(seen) = self.subs.get(&channel).cloned() {
                        for (position, data) in relay.since(&channel, &seen).unwrap_or_default() {
                            self.subs.insert(channel.clone(), position.clone());
                            let _ = conn.handle_publication(&channel, Some(position), &data, now);
                        }
                    }
                    conn.handle_synced(&channel, now);
                }
                Output::Store { key, record } => {
                    check::stored_record(&key, &record, now);
                    self.store.insert(key, record);
                }
                Output::Remove { key } => {
                    self.store.remove(&key);
                }
                Output::Event(event) => self.events.push(event),
                other => panic!("unknown output {other:?}"),
            }
        }
    }

    /// Copies what the relay holds beyond each subscription's position into the inbox. A
    /// stream the relay lost (new epoch) is reported with `handle_recovery_failed` and read
    /// from the start of its new epoch, as the relay client does.
    pub fn fetch(&mut self, relay: &mut LoopbackRelay) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        for (channel, seen) in self.subs.clone() {
            let fresh = match relay.since(&channel, &seen) {
                Some(fresh) => fresh,
                None => {
                    conn.handle_recovery_failed(&channel);
                    let start = StreamPosition {
                        offset: 0,
                        epoch: relay.top(&channel).epoch,
                    };
                    self.subs.insert(channel.clone(), start.clone());
                    relay.since(&channel, &start).unwrap_or_default()
                }
            };
            if let Some((last, _)) = fresh.last() {
                self.subs.insert(channel.clone(), last.clone());
            }
            for (position, data) in fresh {
                self.inbox.push_back((channel.clone(), position, data));
            }
        }
    }

    /// Delivers the first inbox entry; false if the inbox is empty.
    pub fn deliver_one(&mut self, now: u64) -> bool {
        let Some((channel, position, data)) = self.inbox.pop_front() else {
            return false;
        };
        if let Some(conn) = self.conn.as_mut()
            && self.subs.contains_key(&channel)
        {
            let _ = conn.handle_publication(&channel, Some(position), &data, now);
        }
        true
    }

    /// Delivers every publication of the current epoch of each subscribed channel again,
    /// from the first: what a fresh full recovery would feed. Replays must be refused.
    pub fn replay_all(&mut self, relay: &mut LoopbackRelay, now: u64) {
        self.fetch(relay);
        self.inbox.clear();
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        for channel in self.subs.keys().cloned().collect::<Vec<_>>() {
            let start = StreamPosition {
                offset: 0,
                epoch: relay.top(&channel).epoch,
            };
            for (position, data) in relay.since(&channel, &start).unwrap_or_default() {
                let _ = conn.handle_publication(&channel, Some(position), &data, now);
            }
        }
    }

    /// Fires the connection's timer if due, checking that the next one lies ahead.
    pub fn fire(&mut self, now: u64) {
        if let Some(conn) = self.conn.as_mut()
            && conn.poll_timeout().is_some_and(|t| t <= now)
        {
            conn.handle_timeout(now);
            check::timer_progress("connection", now, conn.poll_timeout());
        }
    }

    /// The page reloads: the connection and the inbox are gone; a new connection resumes
    /// from the stored records the way the SDK does (unreadable or expired ones are deleted).
    pub fn reload(&mut self, now: u64) {
        self.conn = None;
        self.inbox.clear();
        self.subs.clear();
        self.incarnation += 1;
        let seed = self
            .seed
            .wrapping_add(u64::from(self.incarnation).wrapping_mul(0x1000));
        let mut records = Vec::new();
        for (key, text) in self.store.clone() {
            match Record::decode(&text, now) {
                Ok(record) => records.push(record),
                Err(_) => {
                    self.store.remove(&key);
                }
            }
        }
        let limits = walletwire::protocol::Limits::default();
        let session = records.iter().find_map(|r| match r {
            Record::Session(s) if s.info.role == self.role => Some(s),
            _ => None,
        });
        let pending = records.iter().find_map(|r| match r {
            Record::Pending(p) if self.role == Role::Dapp => Some(p),
            _ => None,
        });
        self.conn =
            match (self.role, session, pending) {
                (Role::Dapp, Some(s), _) => Some(AnyConnection::Dapp(
                    DappConnection::resume_session(s, SplitMix::boxed(seed), limits),
                )),
                (Role::Dapp, None, Some(p)) => Some(AnyConnection::Dapp(
                    DappConnection::resume_pending(p, SplitMix::boxed(seed), limits),
                )),
                (Role::Wallet, Some(s), _) => Some(AnyConnection::Wallet(
                    WalletConnection::resume(s, SplitMix::boxed(seed), limits),
                )),
                _ => None,
            };
    }

    /// The stored session record of this side, if any.
    pub fn session_record(&self, now: u64) -> Option<SessionRecord> {
        self.store
            .values()
            .filter_map(|text| match Record::decode(text, now) {
                Ok(Record::Session(s)) if s.info.role == self.role => Some(s),
                _ => None,
            })
            .next()
    }

    /// Takes the events emitted so far.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }
}

/// Seals `plain` as this side's frame number `seq` on its session channel, with the key
/// from its stored record: a frame the peer must accept as authentic.
pub fn seal_frame(record: &SessionRecord, seq: u64, plain: &[u8], nonce: [u8; 24]) -> String {
    let key = Key::from_bytes(record.send_key);
    let aad = frame_aad(&record.info.channel, record.info.role, seq);
    let sealed = key.seal_with_nonce(nonce, &aad, plain);
    serde_json::json!({
        "from": record.info.role,
        "seq": seq,
        "box": walletwire::base64url::encode(&sealed),
    })
    .to_string()
}

/// The two ends and the relay between them.
#[derive(Debug)]
pub struct Pair {
    /// The in-memory relay.
    pub relay: LoopbackRelay,
    /// The dApp.
    pub dapp: Side,
    /// The wallet.
    pub wallet: Side,
    /// Simulated time (Unix ms).
    pub now: u64,
    /// The mode of the handshake.
    pub mode: Mode,
}

impl Pair {
    /// A dApp showing its request and a wallet that scanned it (through the URI), with the
    /// wallet's offer published but nothing delivered yet.
    pub fn new(mode: Mode, seed: u64) -> Self {
        let mut relay = LoopbackRelay::default();
        let now = T0;
        let dapp = DappConnection::new(dapp_options(mode), now, SplitMix::boxed(seed))
            .expect("the dApp options are valid");
        let mut dapp = Side::new(Role::Dapp, AnyConnection::Dapp(dapp), seed);
        dapp.apply(&mut relay, now);
        let request = dapp
            .events
            .iter()
            .find_map(|e| match e {
                Event::SessionRequest(r) => Some((**r).clone()),
                _ => None,
            })
            .expect("the dApp shows its request once subscribed");
        let invitation = Invitation::from_uri(&request.to_uri()).expect("the QR code parses");
        assert_eq!(
            invitation,
            request.invitation(),
            "the invitation survives its URI"
        );
        // The wallet scans the code and reads the sealed request from the relay (v3).
        let wallet_seed = seed ^ 0x5a5a_5a5a;
        let wallet = WalletConnection::read(
            &invitation,
            wallet_options(),
            now,
            SplitMix::boxed(wallet_seed),
        )
        .expect("a scanned invitation is read");
        let mut wallet = Side::new(Role::Wallet, AnyConnection::Wallet(wallet), wallet_seed);
        wallet.apply(&mut relay, now);
        Self {
            relay,
            dapp,
            wallet,
            now,
            mode,
        }
    }

    /// A pair that completed the handshake (the code typed correctly in untrusted mode).
    pub fn connected(mode: Mode, seed: u64) -> Self {
        let mut pair = Self::new(mode, seed);
        pair.settle();
        if mode == Mode::Untrusted {
            let otp = pair.wallet_otp().expect("the wallet shows a code");
            if let Some(AnyConnection::Dapp(dapp)) = pair.dapp.conn.as_mut() {
                dapp.submit_otp(&otp, pair.now).expect("the right code");
            }
            pair.apply();
            pair.settle();
        }
        assert!(pair.dapp.session().is_some(), "dApp connected");
        assert!(pair.wallet.session().is_some(), "wallet connected");
        pair
    }

    /// The last code the wallet displayed.
    pub fn wallet_otp(&self) -> Option<String> {
        self.wallet.events.iter().rev().find_map(|e| match e {
            Event::DisplayOtp { otp, .. } => Some(otp.clone()),
            _ => None,
        })
    }

    /// The side for `role`.
    pub fn side(&mut self, role: Role) -> &mut Side {
        match role {
            Role::Dapp => &mut self.dapp,
            Role::Wallet => &mut self.wallet,
        }
    }

    /// Copies what the relay holds for `role` into its inbox.
    pub fn fetch(&mut self, role: Role) {
        match role {
            Role::Dapp => self.dapp.fetch(&mut self.relay),
            Role::Wallet => self.wallet.fetch(&mut self.relay),
        }
    }

    /// The relay restarts and loses every stream (memory broker): the sockets to it die, so
    /// what was in flight to either side is gone too.
    pub fn restart_relay(&mut self) {
        self.relay.restart();
        self.dapp.inbox.clear();
        self.wallet.inbox.clear();
    }

    /// Applies both sides' outputs until neither has any.
    pub fn apply(&mut self) {
        for _ in 0..64 {
            let a = self.dapp.apply(&mut self.relay, self.now);
            let b = self.wallet.apply(&mut self.relay, self.now);
            if !(a || b) {
                return;
            }
        }
        panic!("outputs keep coming");
    }

    /// Normal operation: fetch and deliver everything, in order, until nothing moves.
    pub fn settle(&mut self) {
        for _ in 0..256 {
            self.apply();
            self.dapp.fetch(&mut self.relay);
            self.wallet.fetch(&mut self.relay);
            let mut moved = false;
            while self.dapp.deliver_one(self.now) {
                moved = true;
            }
            while self.wallet.deliver_one(self.now) {
                moved = true;
            }
            self.apply();
            if !moved {
                return;
            }
        }
        panic!("the pair did not settle");
    }

    /// Advances the clock to `to`, firing every timer due on the way, in order.
    pub fn advance_to(&mut self, to: u64) {
        for _ in 0..10_000 {
            let next = [
                self.dapp
                    .conn
                    .as_ref()
                    .and_then(AnyConnection::poll_timeout),
                self.wallet
                    .conn
                    .as_ref()
                    .and_then(AnyConnection::poll_timeout),
            ]
            .into_iter()
            .flatten()
            .filter(|t| *t <= to)
            .min();
            let Some(t) = next else {
                self.now = self.now.max(to);
                return;
            };
            self.now = self.now.max(t);
            self.dapp.fire(self.now);
            self.wallet.fire(self.now);
            self.apply();
        }
        panic!("timers keep firing");
    }
}

/// The key under which `side` keeps its session record, once connected.
pub fn record_key(side: &Side) -> Option<String> {
    side.session().map(|s| session_key(s.role, &s.id))
}
