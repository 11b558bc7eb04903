//! Stateful: a dApp and a wallet over the in-memory relay, driven by arbitrary operation
//! sequences: handshake codes (right, wrong, malformed), requests, responses, notifications,
//! pings, time, deliveries dropped / duplicated / reordered, reloads of either side from its
//! stored records, closes, and relay restarts that lose every stream.
//!
//! Invariants:
//! * no panic; stored records read back as themselves; timers make progress;
//! * every request settles exactly once (the peer's result or error, or a typed local error:
//!   timeout, cancelled, peer closed, session expired) or is abandoned by a reload of its
//!   side; never a response to a request not made;
//! * what one side delivers (requests, notifications, responses) is what the other sent, in
//!   order, never twice; something sent may be missing only if the receiver emitted
//!   `MessagesLost` before its next delivery (a response to a request that is no longer
//!   pending is dropped by design);
//! * once faults stop, a full replay of the relay's history brings a connected receiver
//!   everything still missing, unless it reported the loss.

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use serde_json::json;
use walletwire::protocol::{Error, Event, Mode, Role, RpcError};

use crate::input::{Encode, Text, read_all, variant};
use crate::pair::Pair;
use walletwire::relay::hub::AnyConnection;

/// Which end acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub enum Who {
    /// The dApp.
    Dapp,
    /// The wallet.
    Wallet,
}

impl Who {
    fn role(self) -> Role {
        match self {
            Who::Dapp => Role::Dapp,
            Who::Wallet => Role::Wallet,
        }
    }

    fn index(self) -> usize {
        match self {
            Who::Dapp => 0,
            Who::Wallet => 1,
        }
    }

    fn peer(self) -> usize {
        1 - self.index()
    }
}

/// The unit of [`Op::Advance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub enum Scale {
    /// Milliseconds.
    Ms,
    /// Seconds.
    Seconds,
    /// Minutes.
    Minutes,
}

/// One operation.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
pub enum Op {
    /// `request` (a 50 KB payload when `big`: over the limit).
    Request {
        who: Who,
        method: u8,
        big: bool,
        timeout: Option<u16>,
    },
    /// `notify`.
    Notify { who: Who, method: u8 },
    /// `respond` to one of the requests delivered to `who` and not answered.
    Respond {
        who: Who,
        pick: u8,
        error: bool,
        big: bool,
    },
    /// `ping`.
    Ping { who: Who },
    /// Copy what the relay holds for `who` into its inbox.
    Fetch { who: Who },
    /// Deliver 1 to 8 inbox entries.
    Deliver { who: Who, n: u8 },
    /// Lose the first inbox entry.
    Drop { who: Who },
    /// Deliver the first inbox entry again later.
    Duplicate { who: Who },
    /// Swap the first two inbox entries.
    Swap { who: Who },
    /// Normal operation until nothing moves.
    Settle,
    /// Time passes, timers fire on the way.
    Advance { amount: u16, scale: Scale },
    /// The page of `who` reloads from its stored records.
    Reload { who: Who },
    /// The user types the code the wallet shows.
    RightOtp,
    /// The user types a wrong six-digit code.
    WrongOtp(u32),
    /// The user types anything (not the right code).
    TypedOtp(Text),
    /// `close`.
    Close { who: Who },
    /// The relay loses every stream (memory broker restart).
    RelayRestart,
}

impl Encode for Who {
    fn encode(&self, out: &mut Vec<u8>) {
        variant(self.index() as u32, 2, out);
    }
}

impl Encode for Scale {
    fn encode(&self, out: &mut Vec<u8>) {
        let index = match self {
            Scale::Ms => 0,
            Scale::Seconds => 1,
            Scale::Minutes => 2,
        };
        variant(index, 3, out);
    }
}

impl Encode for Op {
    fn encode(&self, out: &mut Vec<u8>) {
        const N: u32 = 17;
        match self {
            Op::Request {
                who,
                method,
                big,
                timeout,
            } => {
                variant(0, N, out);
                who.encode(out);
                method.encode(out);
                big.encode(out);
                timeout.encode(out);
            }
            Op::Notify { who, method } => {
                variant(1, N, out);
                who.encode(out);
                method.encode(out);
            }
            Op::Respond {
                who,
                pick,
                error,
                big,
            } => {
                variant(2, N, out);
                who.encode(out);
                pick.encode(out);
                error.encode(out);
                big.encode(out);
            }
            Op::Ping { who } => {
                variant(3, N, out);
                who.encode(out);
            }
            Op::Fetch { who } => {
                variant(4, N, out);
                who.encode(out);
            }
            Op::Deliver { who, n } => {
                variant(5, N, out);
                who.encode(out);
                n.encode(out);
            }
            Op::Drop { who } => {
                variant(6, N, out);
                who.encode(out);
            }
            Op::Duplicate { who } => {
                variant(7, N, out);
                who.encode(out);
            }
            Op::Swap { who } => {
                variant(8, N, out);
                who.encode(out);
            }
            Op::Settle => variant(9, N, out),
            Op::Advance { amount, scale } => {
                variant(10, N, out);
                amount.encode(out);
                scale.encode(out);
            }
            Op::Reload { who } => {
                variant(11, N, out);
                who.encode(out);
            }
            Op::RightOtp => variant(12, N, out),
            Op::WrongOtp(n) => {
                variant(13, N, out);
                n.encode(out);
            }
            Op::TypedOtp(text) => {
                variant(14, N, out);
                text.encode(out);
            }
            Op::Close { who } => {
                variant(15, N, out);
                who.encode(out);
            }
            Op::RelayRestart => variant(16, N, out),
        }
    }
}

/// Reads an input: the mode (trusted?), then the operations.
pub fn decode(data: &[u8]) -> (bool, Vec<Op>) {
    let mut u = Unstructured::new(data);
    let trusted = bool::arbitrary(&mut u).unwrap_or(false);
    (trusted, read_all(&mut u, 96))
}

/// Writes an input.
pub fn encode(trusted: bool, ops: &[Op]) -> Vec<u8> {
    let mut out = Vec::new();
    trusted.encode(&mut out);
    for op in ops {
        op.encode(&mut out);
    }
    out
}

/// What a side sent that the peer should deliver.
#[derive(Debug, Clone, PartialEq)]
enum Sent {
    Req {
        id: u64,
        method: String,
        params: walletwire::json::Json,
    },
    Note {
        method: String,
        params: walletwire::json::Json,
    },
    Res {
        id: u64,
    },
}

#[derive(Debug, Default)]
struct Ledger {
    /// Everything this side sent, in order.
    sent: Vec<Sent>,
    /// How far the peer's deliveries got into `sent`.
    cursor: usize,
    /// The peer announced a loss since its last delivery.
    peer_reported_loss: bool,
    /// Requests this side made: (incarnation, id) → settled.
    issued: BTreeMap<(u32, u64), bool>,
    /// Peer requests delivered to this side and not answered (this incarnation).
    to_answer: Vec<u64>,
    incarnation: u32,
}

struct Run {
    pair: Pair,
    /// Indexed by `Who::index`.
    ledgers: [Ledger; 2],
    counter: u64,
}

const METHODS: [&str; 3] = ["wallet_getBalance", "wallet_sign", "x"];

impl Run {
    /// Unique params, so a message delivered twice cannot pass for two messages.
    fn params(&mut self, big: bool) -> walletwire::json::Json {
        self.counter += 1;
        if big {
            json!({"n": self.counter, "blob": "x".repeat(50_000)}).into()
        } else {
            json!({"n": self.counter}).into()
        }
    }

    fn conn(&mut self, who: Who) -> Option<&mut AnyConnection> {
        self.pair.side(who.role()).conn.as_mut()
    }

    /// Matches what `receiver` delivered against what the other side sent.
    fn deliver(&mut self, receiver: Who, item: Sent) {
        let sender = &mut self.ledgers[receiver.peer()];
        let start = sender.cursor;
        let Some(found) = sender.sent[start..].iter().position(|s| *s == item) else {
            panic!(
                "{receiver:?} delivered {item:?}, not sent after position {start} (duplicated, \
                 reordered or forged); sent: {:?}",
                sender.sent
            );
        };
        let skipped = &sender.sent[start..start + found];
        let lost = skipped.iter().any(|s| !matches!(s, Sent::Res { .. }));
        assert!(
            !lost || sender.peer_reported_loss,
            "{receiver:?} skipped {skipped:?} without reporting a loss"
        );
        sender.cursor = start + found + 1;
        sender.peer_reported_loss = false;
    }

    fn events(&mut self, who: Who) {
        let events = self.pair.side(who.role()).take_events();
        let incarnation = self.ledgers[who.index()].incarnation;
        for event in events {
            match event {
                Event::Request { id, method, params } => {
                    self.deliver(who, Sent::Req { id, method, params });
                    self.ledgers[who.index()].to_answer.push(id);
                }
                Event::Notification { method, params } => {
                    self.deliver(who, Sent::Note { method, params })
                }
                Event::Response { id, result } => {
                    let Some(settled) =
                        self.ledgers[who.index()].issued.get_mut(&(incarnation, id))
                    else {
                        panic!("{who:?}: a response to request {id}, never made");
                    };
                    assert!(!*settled, "{who:?}: request {id} settled twice");
                    *settled = true;
                    match result {
                        Ok(_) | Err(Error::Remote { .. }) => self.deliver(who, Sent::Res { id }),
                        Err(
                            Error::Timeout
                            | Error::Cancelled
                            | Error::PeerClosed
                            | Error::SessionExpired,
                        ) => {}
                        Err(other) => panic!("{who:?}: request {id} settled with {other:?}"),
                    }
                }
                Event::MessagesLost { .. } => self.ledgers[who.peer()].peer_reported_loss = true,
                _ => {}
            }
        }
    }

    fn after(&mut self) {
        self.pair.apply();
        self.events(Who::Dapp);
        self.events(Who::Wallet);
    }

    fn op(&mut self, op: Op) {
        let now = self.pair.now;
        match op {
            Op::Request {
                who,
                method,
                big,
                timeout,
            } => {
                let params = self.params(big);
                let method = METHODS[usize::from(method) % METHODS.len()];
                let timeout = timeout.map(u64::from);
                if let Some(conn) = self.conn(who)
                    && let Ok(id) = conn.request(method, params.clone(), timeout, now)
                {
                    let ledger = &mut self.ledgers[who.index()];
                    let fresh = ledger.issued.insert((ledger.incarnation, id), false);
                    assert!(fresh.is_none(), "{who:?}: request id {id} reused");
                    ledger.sent.push(Sent::Req {
                        id,
                        method: method.into(),
                        params,
                    });
                }
            }
            Op::Notify { who, method } => {
                let params = self.params(false);
                let method = METHODS[usize::from(method) % METHODS.len()];
                if let Some(conn) = self.conn(who)
                    && conn.notify(method, params.clone(), now).is_ok()
                {
                    self.ledgers[who.index()].sent.push(Sent::Note {
                        method: method.into(),
                        params,
                    });
                }
            }
            Op::Respond {
                who,
                pick,
                error,
                big,
            } => {
                let pending = &self.ledgers[who.index()].to_answer;
                if pending.is_empty() {
                    return;
                }
                let id = pending[usize::from(pick) % pending.len()];
                let outcome = if error {
                    Err(RpcError {
                        code: 4001,
                        message: "rejected".into(),
                    })
                } else {
                    Ok(self.params(big))
                };
                if let Some(conn) = self.conn(who)
                    && conn.respond(id, outcome, now).is_ok()
                {
                    let ledger = &mut self.ledgers[who.index()];
                    ledger.to_answer.retain(|x| *x != id);
                    ledger.sent.push(Sent::Res { id });
                }
            }
            Op::Ping { who } => {
                if let Some(conn) = self.conn(who) {
                    let _ = conn.ping(now);
                }
            }
            Op::Fetch { who } => self.pair.fetch(who.role()),
            Op::Deliver { who, n } => {
                for _ in 0..=n % 8 {
                    self.pair.side(who.role()).deliver_one(now);
                }
            }
            Op::Drop { who } => {
                self.pair.side(who.role()).inbox.pop_front();
            }
            Op::Duplicate { who } => {
                let side = self.pair.side(who.role());
                if let Some(first) = side.inbox.front().cloned() {
                    side.inbox.push_back(first);
                }
            }
            Op::Swap { who } => {
                let side = self.pair.side(who.role());
                if side.inbox.len() >= 2 {
                    side.inbox.swap(0, 1);
                }
            }
            Op::Settle => self.pair.settle(),
            Op::Advance { amount, scale } => {
                let unit = match scale {
                    Scale::Ms => 1,
                    Scale::Seconds => 1_000,
                    Scale::Minutes => 60_000,
                };
                self.pair.advance_to(now + u64::from(amount) * unit);
            }
            Op::Reload { who } => {
                self.pair.side(who.role()).reload(now);
                let ledger = &mut self.ledgers[who.index()];
                ledger.incarnation += 1;
                ledger.to_answer.clear();
            }
            Op::RightOtp => {
                let otp = self.pair.wallet_otp();
                if let (Some(otp), Some(AnyConnection::Dapp(dapp))) =
                    (otp, self.pair.dapp.conn.as_mut())
                {
                    let _ = dapp.submit_otp(&otp, now);
                }
            }
            Op::WrongOtp(n) => {
                let right = self.pair.wallet_otp().unwrap_or_default();
                let code = format!("{:06}", n % 1_000_000);
                if code != right
                    && let Some(AnyConnection::Dapp(dapp)) = self.pair.dapp.conn.as_mut()
                {
                    let _ = dapp.submit_otp(&code, now);
                }
            }
            Op::TypedOtp(code) => {
                let right = self.pair.wallet_otp().unwrap_or_default();
                let digits: String = code.0.chars().filter(char::is_ascii_digit).collect();
                if digits != right
                    && let Some(AnyConnection::Dapp(dapp)) = self.pair.dapp.conn.as_mut()
                {
                    let _ = dapp.submit_otp(&code.0, now);
                }
            }
            Op::Close { who } => {
                if let Some(conn) = self.conn(who) {
                    conn.close("bye", now);
                }
            }
            Op::RelayRestart => self.pair.restart_relay(),
        }
        self.after();
    }

    /// Faults stop: the relay's whole history is delivered again, then time runs past every
    /// request deadline.
    fn finish(&mut self) {
        self.pair.settle();
        self.after();
        let now = self.pair.now;
        self.pair.dapp.replay_all(&mut self.pair.relay, now);
        self.pair.wallet.replay_all(&mut self.pair.relay, now);
        self.after();
        self.pair.settle();
        self.after();
        for who in [Who::Dapp, Who::Wallet] {
            let receiver = self.pair.side(who.role());
            if !receiver.is_live() || receiver.session().is_none() {
                continue;
            }
            let sender = &self.ledgers[who.peer()];
            let missing: Vec<&Sent> = sender.sent[sender.cursor..]
                .iter()
                .filter(|s| !matches!(s, Sent::Res { .. }))
                .collect();
            assert!(
                missing.is_empty() || sender.peer_reported_loss,
                "{who:?} is connected but never received {missing:?} and reported no loss"
            );
        }
        // Past the longest request timeout (60 s by default, at most 65.5 s when given).
        let now = self.pair.now;
        self.pair.advance_to(now + 120_000);
        self.after();
        for who in [Who::Dapp, Who::Wallet] {
            let ledger = &self.ledgers[who.index()];
            if self.pair.side(who.role()).conn.is_none() {
                continue;
            }
            for ((incarnation, id), settled) in &ledger.issued {
                if *incarnation == ledger.incarnation {
                    assert!(*settled, "{who:?}: request {id} never settled");
                }
            }
        }
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let (trusted, ops) = decode(data);
    let mode = if trusted {
        Mode::Trusted
    } else {
        Mode::Untrusted
    };
    let mut run = Run {
        pair: Pair::new(mode, 31),
        ledgers: [Ledger::default(), Ledger::default()],
        counter: 0,
    };
    run.after();
    for op in ops {
        run.op(op);
    }
    run.finish();
}
