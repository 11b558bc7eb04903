//! The SDK's sans-IO relay client (`RelayClient`) fed arbitrary server frames, socket events,
//! time and calls. Replies can be raw text or well-formed replies to the commands the client
//! actually sent (so the fuzzer reaches subscriptions, recovery, history and publishing).
//!
//! Invariants: no panic; every frame the client sends is one Centrifugo command with an id
//! and a method; `Published` only for ids `publish` returned, at most once each; within one
//! epoch, a channel's publications are delivered in increasing offset order (a reset only
//! after `RecoveryFailed`, `Refused` or unsubscribing); after `handle_timeout(now)` the next deadline
//! lies after `now` (no busy loop).

use std::collections::{BTreeMap, BTreeSet};

use arbitrary::{Arbitrary, Unstructured};
use serde_json::{Value, json};
use walletwire::protocol::StreamPosition;
use walletwire::relay::Command;
use walletwire::relay::client::{RelayClient, RelayClientOptions, RelayEvent, Transmit};

use crate::input::{Encode, Json, List, Text, read_all, variant};
use crate::{SplitMix, T0, check};

/// The channels the ops name by index.
pub const CHANNELS: [&str; 3] = [
    "session:11111111-1111-4111-8111-111111111111",
    "handshake:22222222-2222-4222-8222-222222222222",
    "session:33333333-3333-4333-8333-333333333333",
];
/// The epochs the ops name by index.
pub const EPOCHS: [&str; 3] = ["", "aaaa", "bbbb"];

/// A publication in a reply.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
pub struct Publication {
    /// Its offset.
    pub offset: u8,
    /// Its data.
    pub data: Json,
}

/// An answer to a command the client sent.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
pub enum Answer {
    /// `connect` result.
    Connect { ping: u8, pong: bool },
    /// `subscribe` result.
    Subscribe {
        epoch: u8,
        offset: u8,
        recovered: bool,
        publications: List<Publication>,
    },
    /// `history` result.
    History {
        epoch: u8,
        offset: u8,
        publications: List<Publication>,
    },
    /// An empty result (publish, unsubscribe, ping).
    Empty,
    /// An error.
    Error { code: u32, temporary: bool },
    /// `{"id":N,` + this text + `}`.
    Raw(Text),
}

/// One step.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
pub enum Op {
    /// Any text frame.
    Text(Text),
    /// An answer to the `pick`-th command still unanswered.
    Reply { pick: u8, answer: Answer },
    /// A publication pushed on a channel.
    Push { channel: u8, offset: u8, data: Json },
    /// A server ping.
    Ping,
    /// The socket the client asked for opened.
    Open,
    /// The socket closed.
    Close { code: u16 },
    /// Time passes (in 10 ms units), firing every deadline on the way.
    Advance { ms: u16 },
    /// `subscribe`.
    Subscribe {
        channel: u8,
        since: Option<(u8, u8)>,
    },
    /// `unsubscribe`.
    Unsubscribe { channel: u8 },
    /// `publish`.
    Publish { channel: u8, data: Json },
    /// `sync`.
    Sync { channel: u8 },
    /// `wake`.
    Wake,
}

impl Encode for Publication {
    fn encode(&self, out: &mut Vec<u8>) {
        self.offset.encode(out);
        self.data.encode(out);
    }
}

impl Encode for Answer {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Answer::Connect { ping, pong } => {
                variant(0, 6, out);
                ping.encode(out);
                pong.encode(out);
            }
            Answer::Subscribe {
                epoch,
                offset,
                recovered,
                publications,
            } => {
                variant(1, 6, out);
                epoch.encode(out);
                offset.encode(out);
                recovered.encode(out);
                publications.encode(out);
            }
            Answer::History {
                epoch,
                offset,
                publications,
            } => {
                variant(2, 6, out);
                epoch.encode(out);
                offset.encode(out);
                publications.encode(out);
            }
            Answer::Empty => variant(3, 6, out),
            Answer::Error { code, temporary } => {
                variant(4, 6, out);
                code.encode(out);
                temporary.encode(out);
            }
            Answer::Raw(text) => {
                variant(5, 6, out);
                text.encode(out);
            }
        }
    }
}

impl Encode for Op {
    fn encode(&self, out: &mut Vec<u8>) {
        const N: u32 = 12;
        match self {
            Op::Text(text) => {
                variant(0, N, out);
                text.encode(out);
            }
            Op::Reply { pick, answer } => {
                variant(1, N, out);
                pick.encode(out);
                answer.encode(out);
            }
            Op::Push {
                channel,
                offset,
                data,
            } => {
                variant(2, N, out);
                channel.encode(out);
                offset.encode(out);
                data.encode(out);
            }
            Op::Ping => variant(3, N, out),
            Op::Open => variant(4, N, out),
            Op::Close { code } => {
                variant(5, N, out);
                code.encode(out);
            }
            Op::Advance { ms } => {
                variant(6, N, out);
                ms.encode(out);
            }
            Op::Subscribe { channel, since } => {
                variant(7, N, out);
                channel.encode(out);
                since.encode(out);
            }
            Op::Unsubscribe { channel } => {
                variant(8, N, out);
                channel.encode(out);
            }
            Op::Publish { channel, data } => {
                variant(9, N, out);
                channel.encode(out);
                data.encode(out);
            }
            Op::Sync { channel } => {
                variant(10, N, out);
                channel.encode(out);
            }
            Op::Wake => variant(11, N, out),
        }
    }
}

/// Reads the ops of an input.
pub fn decode(data: &[u8]) -> Vec<Op> {
    read_all(&mut Unstructured::new(data), 256)
}

fn publications(list: &[Publication]) -> Value {
    Value::Array(
        list.iter()
            .map(|p| json!({"data": p.data.0, "offset": p.offset}))
            .collect(),
    )
}

fn answer_text(id: u32, answer: &Answer) -> String {
    let mut body = match answer {
        Answer::Connect { ping, pong } => {
            json!({"connect": {"client": "c", "version": "0", "ping": ping, "pong": pong}})
        }
        Answer::Subscribe {
            epoch,
            offset,
            recovered,
            publications: list,
        } => json!({"subscribe": {
            "recoverable": true, "positioned": true,
            "epoch": EPOCHS[usize::from(*epoch) % 3], "offset": offset,
            "was_recovering": true, "recovered": recovered,
            "publications": publications(&list.0),
        }}),
        Answer::History {
            epoch,
            offset,
            publications: list,
        } => json!({"history": {
            "epoch": EPOCHS[usize::from(*epoch) % 3], "offset": offset,
            "publications": publications(&list.0),
        }}),
        Answer::Empty => json!({"publish": {}}),
        Answer::Error { code, temporary } => {
            json!({"error": {"code": code % 120, "message": "no", "temporary": temporary}})
        }
        Answer::Raw(text) => return format!(r#"{{"id":{id},{}}}"#, text.0),
    };
    body["id"] = json!(id);
    body.to_string()
}

struct Model {
    client: RelayClient,
    now: u64,
    /// Commands sent and not yet answered, oldest first.
    unanswered: Vec<u32>,
    issued: BTreeSet<u64>,
    acknowledged: BTreeSet<u64>,
    /// Per channel: the last delivered position.
    delivered: BTreeMap<String, StreamPosition>,
    /// The client asked for a socket and has not been told it opened.
    open_requested: bool,
}

impl Model {
    fn drain(&mut self) {
        while let Some(transmit) = self.client.poll_transmit() {
            match transmit {
                Transmit::Open => self.open_requested = true,
                Transmit::Close => {}
                Transmit::Send(text) if text == "{}" => {} // a pong
                Transmit::Send(text) => {
                    let command: Command = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("the client sent a non-command ({e}): {text}"));
                    assert!(command.id > 0, "a command without id: {text}");
                    assert!(
                        command.method_name().is_some(),
                        "a command without method: {text}"
                    );
                    self.unanswered.push(command.id);
                }
            }
        }
        while let Some(event) = self.client.poll_event() {
            match event {
                RelayEvent::Published { id } => {
                    assert!(self.issued.contains(&id), "Published for unknown id {id}");
                    assert!(self.acknowledged.insert(id), "Published twice for id {id}");
                }
                // A refused subscription is gone: subscribing again starts a fresh stream.
                RelayEvent::RecoveryFailed { channel } | RelayEvent::Refused { channel, .. } => {
                    self.delivered.remove(&channel);
                }
                RelayEvent::Publication {
                    channel, position, ..
                } => {
                    if let Some(last) = self.delivered.get(&channel)
                        && last.epoch == position.epoch
                    {
                        assert!(
                            position.offset > last.offset,
                            "{channel}: offset {} delivered after {}",
                            position.offset,
                            last.offset
                        );
                    }
                    self.delivered.insert(channel, position);
                }
                _ => {}
            }
        }
        let outstanding = self.issued.len() - self.acknowledged.len();
        assert!(
            self.client.queued() <= outstanding,
            "more queued than published"
        );
    }

    fn timeout(&mut self) {
        self.client.handle_timeout(self.now);
        check::timer_progress("relay client", self.now, self.client.poll_timeout());
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut m = Model {
        client: RelayClient::new(RelayClientOptions::default(), SplitMix::boxed(1)),
        now: T0,
        unanswered: Vec::new(),
        issued: BTreeSet::new(),
        acknowledged: BTreeSet::new(),
        delivered: BTreeMap::new(),
        open_requested: false,
    };
    // Every run starts connected: the socket opens, the relay answers `connect`.
    m.drain();
    m.timeout();
    m.client.handle_open(m.now);
    m.open_requested = false;
    m.drain();
    let id = m.unanswered.remove(0);
    let connect = Answer::Connect {
        ping: 25,
        pong: true,
    };
    m.client.handle_text(&answer_text(id, &connect), m.now);
    m.drain();
    for op in decode(data) {
        let now = m.now;
        match op {
            Op::Text(text) => m.client.handle_text(&text.0, now),
            Op::Reply { pick, answer } => {
                if !m.unanswered.is_empty() {
                    let id = m.unanswered.remove(usize::from(pick) % m.unanswered.len());
                    m.client.handle_text(&answer_text(id, &answer), now);
                }
            }
            Op::Push {
                channel,
                offset,
                data,
            } => {
                let channel = CHANNELS[usize::from(channel) % 3];
                let push = json!({"push": {"channel": channel, "pub": {"data": data.0, "offset": offset}}});
                m.client.handle_text(&push.to_string(), now);
            }
            Op::Ping => m.client.handle_text("{}", now),
            // The driver reports an open socket only after the client asked for one.
            Op::Open if m.open_requested => {
                m.open_requested = false;
                m.client.handle_open(now);
            }
            Op::Open => {}
            Op::Close { code } => {
                m.client.handle_close(code, now);
                m.unanswered.clear();
                m.open_requested = false;
            }
            Op::Advance { ms } => {
                // Fire every deadline on the way, as a driver would.
                let to = now + u64::from(ms) * 10;
                while let Some(next) = m.client.poll_timeout().filter(|t| *t <= to) {
                    m.now = m.now.max(next);
                    m.timeout();
                    m.drain();
                }
                m.now = to;
                m.timeout();
            }
            Op::Subscribe { channel, since } => {
                let since = since.map(|(epoch, offset)| StreamPosition {
                    offset: u64::from(offset),
                    epoch: EPOCHS[usize::from(epoch) % 3].to_owned(),
                });
                m.client
                    .subscribe(CHANNELS[usize::from(channel) % 3], since, now);
            }
            Op::Unsubscribe { channel } => {
                let channel = CHANNELS[usize::from(channel) % 3];
                m.client.unsubscribe(channel, now);
                m.delivered.remove(channel);
            }
            Op::Publish { channel, data } => {
                let channel = CHANNELS[usize::from(channel) % 3];
                if let Ok(id) = m.client.publish(channel, data.0.to_string(), now) {
                    assert!(m.issued.insert(id), "publish reused id {id}");
                }
            }
            Op::Sync { channel } => m.client.sync(CHANNELS[usize::from(channel) % 3], now),
            Op::Wake => m.client.wake(now),
        }
        m.drain();
    }
}
