//! A sans-IO Centrifugo client: the connection life cycle, subscriptions with recovery,
//! acknowledged publishing with an offline queue, history sync, the ping watchdog and
//! reconnection with jittered backoff. The browser driver and the native wallet feed it
//! socket events and time and carry out its [`Transmit`]s.
//!
//! Guarantees to the layer above: publications of a channel are delivered in offset order,
//! never twice (offsets at or below the last delivered are dropped, also across the recovery
//! boundary); a recovery the relay cannot satisfy is reported as
//! [`RelayEvent::RecoveryFailed`], never silently skipped; every publish is retried until
//! acknowledged or refused with a permanent error.

use std::collections::VecDeque;

use super::codec;
use super::codes::{ErrorCode, close_code_reconnects};
use super::wire::{self, ClientReply, Command, ConnectRequest, HistoryRequest};
use crate::crypto::RandomSource;
use crate::protocol::StreamPosition;
use crate::sorted::SortedMap;

/// Pause before re-sending a publication the relay refused temporarily (rate limit).
const PUBLISH_RETRY_MS: u64 = 500;

/// Settings of a [`RelayClient`].
#[derive(Debug, Clone)]
pub struct RelayClientOptions {
    /// Client name sent in `connect`.
    pub name: String,
    /// Largest text frame the relay accepts; larger publishes are refused locally.
    pub max_frame: usize,
    /// Reply timeout for every command; a silent relay is dropped and reconnected.
    pub command_timeout_ms: u64,
    /// Extra time beyond the announced ping interval before the link is considered dead.
    pub ping_grace_ms: u64,
    /// First reconnect delay cap; doubles per failed attempt.
    pub backoff_min_ms: u64,
    /// Largest reconnect delay.
    pub backoff_max_ms: u64,
    /// Publications kept while offline or unacknowledged.
    pub max_queued: usize,
}

impl Default for RelayClientOptions {
    fn default() -> Self {
        Self {
            name: "walletwire".into(),
            max_frame: 64 * 1024,
            command_timeout_ms: 10_000,
            ping_grace_ms: 10_000,
            backoff_min_ms: 500,
            backoff_max_ms: 20_000,
            max_queued: 1024,
        }
    }
}

/// What the driver must do with the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmit {
    /// Open a WebSocket to the relay URL, then call `handle_open` (or `handle_close`).
    Open,
    /// Send one text frame.
    Send(String),
    /// Close the socket (the client already counts it as closed).
    Close,
}

/// What the layer above learns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayEvent {
    /// Connected (again) to the relay.
    Connected,
    /// The link dropped; `reconnect` says whether the client will try again.
    Disconnected {
        /// WebSocket close code, 0 when none was received.
        code: u16,
        /// False for terminal codes (the relay refused this client for good).
        reconnect: bool,
    },
    /// A subscription is live; `top` is the channel's current position.
    Subscribed {
        /// Channel name.
        channel: String,
        /// Current stream top.
        top: StreamPosition,
    },
    /// Could not recover the channel from the position we held; missed data is gone.
    RecoveryFailed {
        /// Channel name.
        channel: String,
    },
    /// A publication, in offset order, never repeated.
    Publication {
        /// Channel name.
        channel: String,
        /// Its position.
        position: StreamPosition,
        /// The JSON data, verbatim.
        data: String,
    },
    /// A requested sync finished: every publication the relay held was delivered.
    Synced {
        /// Channel name.
        channel: String,
    },
    /// The relay acknowledged a publish.
    Published {
        /// The id `publish` returned.
        id: u64,
    },
    /// The relay refused a publish or a subscription for good.
    Refused {
        /// Channel name.
        channel: String,
        /// Centrifugo error code.
        code: u32,
        /// The relay's message.
        message: String,
    },
}

/// Errors of local calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelayError {
    /// The publication would exceed the relay's frame limit.
    FrameTooLarge,
    /// Too many publications are waiting for the relay.
    QueueFull,
    /// `data` is not JSON.
    InvalidData,
    /// The relay refused this client with a terminal code.
    Refused,
}

impl core::fmt::Display for RelayError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::FrameTooLarge => "publication exceeds the relay frame limit",
            Self::QueueFull => "too many publications waiting for the relay",
            Self::InvalidData => "publication data is not JSON",
            Self::Refused => "the relay refused this client",
        })
    }
}

impl std::error::Error for RelayError {}

#[derive(Debug)]
enum Link {
    /// No socket; reconnect at `retry_at` (None: not before a call or `wake`).
    Down { retry_at: Option<u64> },
    /// Socket requested, waiting for `handle_open`; `since` is None for the first attempt of a
    /// client made by [`RelayClient::new`], which has no clock: its timer starts at the first
    /// `handle_timeout` (before, `since: 0` made a real-time driver drop that attempt at once).
    Opening { since: Option<u64> },
    /// `connect` sent.
    Handshaking { id: u32, since: u64 },
    /// Connected; `deadline` is when silence means a dead link.
    Up {
        ping_ms: u64,
        pong: bool,
        deadline: u64,
    },
    /// Refused for good.
    Terminal,
}

#[derive(Debug)]
enum Pending {
    Subscribe {
        channel: String,
        recovering: bool,
    },
    Publish {
        id: u64,
    },
    /// `backfill`: read for a subscription's backfill, not for a sync.
    History {
        channel: String,
        backfill: bool,
    },
    Unsubscribe,
    Ping,
}

#[derive(Debug, Default)]
struct Subscription {
    /// Last delivered position (recovery point).
    position: Option<StreamPosition>,
    /// Subscribe sent and not yet answered; pushes are buffered meanwhile.
    subscribing: bool,
    buffered: Vec<(u64, String)>,
    /// A sync was requested and must be answered with `Synced`.
    sync_wanted: bool,
    /// Recovery failed in the same epoch (history trimmed): the retained part of the stream
    /// is being read with `history` before the subscription goes live.
    backfill: bool,
    /// A fresh backfill's `history`, sent right behind its `subscribe`, and which of the two
    /// has answered.
    read: PipelinedRead,
}

/// A backfill's `history` sent right behind its `subscribe` (a fresh read of everything
/// retained needs nothing from the subscribe reply), until both have answered.
#[derive(Debug, Default)]
enum PipelinedRead {
    /// None out (the backfill, if any, reads after the subscribe reply).
    #[default]
    No,
    /// Both out.
    Sent,
    /// The subscribe answered first, at this top (offset, epoch); the read is out.
    Subscribed(u64, String),
    /// The read answered first, with this; the subscribe is out.
    Answered(wire::HistoryResultOf<String>),
}

#[derive(Debug)]
struct Outgoing {
    id: u64,
    channel: String,
    data: String,
    in_flight: bool,
    /// Not before this time (after a temporary refusal such as a rate limit); 0: now.
    retry_at: u64,
}

/// The client. See the module docs.
pub struct RelayClient {
    options: RelayClientOptions,
    link: Link,
    next_command: u32,
    next_publish: u64,
    /// Command id → what it was, and its reply deadline.
    pending: SortedMap<u32, (Pending, u64)>,
    subscriptions: SortedMap<String, Subscription>,
    queue: VecDeque<Outgoing>,
    attempts: u32,
    transmits: VecDeque<Transmit>,
    events: VecDeque<RelayEvent>,
    rng: Box<dyn RandomSource>,
}

impl core::fmt::Debug for RelayClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RelayClient")
            .field("link", &self.link)
            .field("subscriptions", &self.subscriptions.len())
            .field("queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}

fn to_protocol(p: &wire::StreamPosition) -> StreamPosition {
    StreamPosition {
        offset: p.offset,
        epoch: p.epoch.clone(),
    }
}

impl RelayClient {
    /// A client that opens its socket at once.
    pub fn new(options: RelayClientOptions, rng: Box<dyn RandomSource>) -> Self {
        let mut client = Self {
            options,
            link: Link::Down { retry_at: None },
            next_command: 1,
            next_publish: 1,
            pending: SortedMap::new(),
            subscriptions: SortedMap::new(),
            queue: VecDeque::new(),
            attempts: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            rng,
        };
        client.link = Link::Opening { since: None };
        client.transmits.push_back(Transmit::Open);
        client
    }

    /// True while connected to the relay.
    pub fn is_connected(&self) -> bool {
        matches!(self.link, Link::Up { .. })
    }

    /// True once `connect` is sent: commands may follow it at once. The relay runs a
    /// connection's commands in order (RELAY.md), so they run after `connect`; if `connect`
    /// fails the link drops and everything is sent again over the next one.
    fn can_send(&self) -> bool {
        matches!(self.link, Link::Up { .. } | Link::Handshaking { .. })
    }

    /// Publications waiting for acknowledgement.
    /// The publications the relay has not acknowledged, in order: `(channel, data)`.
    pub fn unacknowledged(&self) -> impl Iterator<Item = (&str, &str)> {
        self.queue
            .iter()
            .map(|o| (o.channel.as_str(), o.data.as_str()))
    }

    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Next socket action.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Next event.
    pub fn poll_event(&mut self) -> Option<RelayEvent> {
        self.events.pop_front()
    }

    /// When to call `handle_timeout` next.
    pub fn poll_timeout(&self) -> Option<u64> {
        let link = match &self.link {
            Link::Down { retry_at } => *retry_at,
            Link::Opening { since: None } => Some(0),
            Link::Opening { since: Some(since) } | Link::Handshaking { since, .. } => {
                Some(since + self.options.command_timeout_ms)
            }
            Link::Up { deadline, .. } => Some(*deadline),
            Link::Terminal => None,
        };
        let replies = self.pending.values().map(|(_, d)| *d).min();
        // A paused publication is retried only over a live link (reconnecting flushes the
        // queue): while the link is down its pause must not wake the driver, or a pause that
        // ended before the link dropped would ask for `handle_timeout` again and again.
        let retries = self
            .queue
            .iter()
            .filter(|o| self.can_send() && !o.in_flight && o.retry_at > 0)
            .map(|o| o.retry_at)
            .min();
        [link, replies, retries].into_iter().flatten().min()
    }

    fn open(&mut self, now: u64) {
        self.link = Link::Opening { since: Some(now) };
        self.transmits.push_back(Transmit::Open);
    }

    fn command(&mut self, mut command: Command, what: Pending, now: u64) {
        self.command_text(
            |id| {
                command.id = id;
                command.to_json()
            },
            what,
            now,
        );
    }

    /// Sends the command `write` makes for the next command id.
    fn command_text(&mut self, write: impl FnOnce(u32) -> String, what: Pending, now: u64) {
        let id = self.next_command;
        self.next_command = self.next_command.wrapping_add(1).max(1);
        self.pending
            .insert(id, (what, now + self.options.command_timeout_ms));
        let text = write(id);
        self.transmits.push_back(Transmit::Send(text));
    }

    fn send_subscribe(&mut self, channel: &str, now: u64) {
        let Some(sub) = self.subscriptions.get_mut(channel) else {
            return;
        };
        sub.subscribing = true;
        sub.buffered.clear();
        let mut request = wire::SubscribeRequest {
            channel: channel.to_owned(),
            ..Default::default()
        };
        let recovering = sub.position.is_some();
        if let Some(p) = &sub.position {
            request.recover = true;
            request.offset = p.offset;
            request.epoch = p.epoch.clone();
        }
        // A fresh backfill reads everything retained: its `history` goes right behind the
        // `subscribe` (the relay runs them in order, so nothing published in between is
        // missed: it is in the history or pushed, and offsets drop the copies).
        let read_now = sub.backfill && !recovering;
        sub.read = if read_now {
            PipelinedRead::Sent
        } else {
            PipelinedRead::No
        };
        let command = Command {
            subscribe: Some(request),
            ..Default::default()
        };
        self.command(
            command,
            Pending::Subscribe {
                channel: channel.to_owned(),
                recovering,
            },
            now,
        );
        if read_now {
            self.send_history(channel, now);
        }
    }

    fn send_publish(&mut self, index: usize, now: u64) {
        let out = &mut self.queue[index];
        out.in_flight = true;
        let (id, channel) = (out.id, out.channel.clone());
        // The data was checked to be JSON in `publish`.
        let data = out.data.clone();
        self.command_text(
            |command| codec::publish_command(command, &channel, &data),
            Pending::Publish { id },
            now,
        );
    }

    fn send_history(&mut self, channel: &str, now: u64) {
        // A backfill reads everything retained (no `since`: the position is gone).
        let sub = self.subscriptions.get(channel);
        let backfill = sub.is_some_and(|s| s.backfill);
        let since = sub.filter(|s| !s.backfill).and_then(|s| s.position.clone());
        let request = HistoryRequest {
            channel: channel.to_owned(),
            limit: -1,
            since: since.map(|p| wire::StreamPosition {
                offset: p.offset,
                epoch: p.epoch,
            }),
            reverse: false,
        };
        let command = Command {
            history: Some(request),
            ..Default::default()
        };
        self.command(
            command,
            Pending::History {
                channel: channel.to_owned(),
                backfill,
            },
            now,
        );
    }

    /// Subscribes to `channel`, recovering after `since` when given (an empty epoch: from the
    /// oldest publication retained). Idempotent.
    pub fn subscribe(&mut self, channel: &str, since: Option<StreamPosition>, now: u64) {
        let connected = self.can_send();
        let sub = self.subscriptions.get_or_default(channel.to_owned());
        match since {
            // An empty epoch: everything the relay retains, read with `history` before the
            // subscription goes live (a wallet reading a dApp's sealed request).
            Some(p) if p.epoch.is_empty() && sub.position.is_none() => sub.backfill = true,
            Some(p) if sub.position.is_none() => sub.position = Some(p),
            _ => {}
        }
        if connected && !sub.subscribing {
            self.send_subscribe(channel, now);
        }
    }

    /// Leaves `channel`.
    pub fn unsubscribe(&mut self, channel: &str, now: u64) {
        if self.subscriptions.remove(channel).is_some() && self.can_send() {
            let request = wire::UnsubscribeRequest {
                channel: channel.to_owned(),
            };
            let command = Command {
                unsubscribe: Some(request),
                ..Default::default()
            };
            self.command(command, Pending::Unsubscribe, now);
        }
    }

    /// Queues a publication; it is sent now or after reconnecting, and retried until the
    /// relay acknowledges it ([`RelayEvent::Published`] with the returned id).
    pub fn publish(&mut self, channel: &str, data: String, now: u64) -> Result<u64, RelayError> {
        if matches!(self.link, Link::Terminal) {
            return Err(RelayError::Refused);
        }
        if !codec::is_json(&data) {
            return Err(RelayError::InvalidData);
        }
        // Command envelope: {"id":4294967295,"publish":{"channel":"...","data":...}}.
        if data.len() + channel.len() + 48 > self.options.max_frame {
            return Err(RelayError::FrameTooLarge);
        }
        if self.queue.len() >= self.options.max_queued {
            return Err(RelayError::QueueFull);
        }
        let id = self.next_publish;
        self.next_publish += 1;
        self.queue.push_back(Outgoing {
            id,
            channel: channel.to_owned(),
            data,
            in_flight: false,
            retry_at: 0,
        });
        self.flush_queue(now);
        Ok(id)
    }

    /// Delivers every publication the relay holds for `channel` after the last one
    /// delivered, then [`RelayEvent::Synced`]. Reconnects first if the link is down.
    pub fn sync(&mut self, channel: &str, now: u64) {
        let connected = self.can_send();
        let Some(sub) = self.subscriptions.get_mut(channel) else {
            self.events.push_back(RelayEvent::Synced {
                channel: channel.to_owned(),
            });
            return;
        };
        sub.sync_wanted = true;
        if connected && !sub.subscribing {
            self.send_history(channel, now);
        } else {
            self.wake(now);
        }
    }

    /// The page became visible or the network came back: reconnect now if down, and probe
    /// the link if up (a socket that survived a frozen tab may be dead without knowing it).
    pub fn wake(&mut self, now: u64) {
        match self.link {
            Link::Down { .. } => self.open(now),
            Link::Up { .. } => {
                self.command_text(codec::ping_command, Pending::Ping, now);
            }
            _ => {}
        }
    }

    /// The socket opened.
    pub fn handle_open(&mut self, now: u64) {
        let request = ConnectRequest {
            name: self.options.name.clone(),
            version: env!("CARGO_PKG_VERSION").into(),
            ..Default::default()
        };
        // The connect reply is matched through `link`, not `pending`. The subscriptions and the
        // queued publications follow `connect` at once, without waiting for its reply: one
        // round trip less for every (re)connection. The relay runs them after `connect`.
        let id = self.next_command;
        self.next_command = self.next_command.wrapping_add(1).max(1);
        let command = Command {
            id,
            connect: Some(request),
            ..Default::default()
        };
        let text = command.to_json();
        self.transmits.push_back(Transmit::Send(text));
        self.link = Link::Handshaking { id, since: now };
        self.send_subscriptions(now);
        self.flush_queue(now);
    }

    /// Subscribes every channel that has no subscribe in flight.
    fn send_subscriptions(&mut self, now: u64) {
        let idle: Vec<String> = self
            .subscriptions
            .iter()
            .filter(|(_, sub)| !sub.subscribing)
            .map(|(channel, _)| channel.clone())
            .collect();
        for channel in idle {
            self.send_subscribe(&channel, now);
        }
    }

    /// The socket closed or failed to open (`code` 0 when there was no close frame).
    pub fn handle_close(&mut self, code: u16, now: u64) {
        if matches!(self.link, Link::Terminal | Link::Down { .. }) {
            return;
        }
        let reconnect = code == 0 || close_code_reconnects(code);
        self.drop_link(code, reconnect, now, false);
    }

    fn drop_link(&mut self, code: u16, reconnect: bool, now: u64, close_socket: bool) {
        if close_socket {
            self.transmits.push_back(Transmit::Close);
        }
        let was_up = matches!(self.link, Link::Up { .. });
        self.pending.clear();
        for sub in self.subscriptions.values_mut() {
            sub.subscribing = false;
            sub.buffered.clear();
            sub.read = PipelinedRead::No;
        }
        for out in &mut self.queue {
            out.in_flight = false;
        }
        if reconnect {
            self.attempts = self.attempts.saturating_add(1);
            let cap = (self.options.backoff_min_ms << self.attempts.min(16))
                .min(self.options.backoff_max_ms);
            let mut bytes = [0u8; 8];
            self.rng.fill(&mut bytes);
            // Full jitter: anywhere in [cap/2, cap], so many clients do not reconnect in step.
            let delay = cap / 2 + u64::from_be_bytes(bytes) % (cap / 2 + 1);
            self.link = Link::Down {
                retry_at: Some(now + delay),
            };
        } else {
            self.link = Link::Terminal;
            self.queue.clear();
        }
        if was_up || !reconnect {
            self.events
                .push_back(RelayEvent::Disconnected { code, reconnect });
        }
    }

    /// Deadlines: reconnect, command replies, the ping watchdog.
    pub fn handle_timeout(&mut self, now: u64) {
        match self.link {
            Link::Down { retry_at: Some(t) } if now >= t => self.open(now),
            Link::Opening { since: None } => self.link = Link::Opening { since: Some(now) },
            Link::Opening { since: Some(since) } | Link::Handshaking { since, .. }
                if now >= since + self.options.command_timeout_ms =>
            {
                self.drop_link(0, true, now, true);
            }
            Link::Up { deadline, .. } if now >= deadline => self.drop_link(0, true, now, true),
            _ => {
                if self.pending.values().any(|(_, d)| now >= *d) {
                    // A relay that stops answering commands is treated as a dead link.
                    self.drop_link(0, true, now, true);
                } else {
                    self.flush_queue(now);
                }
            }
        }
    }

    /// A text frame arrived: one or more JSON replies separated by newlines.
    pub fn handle_text(&mut self, text: &str, now: u64) {
        // Text from a socket the client has already given up on (a frame the driver read
        // before it saw the close) is stale: a push taken now would move a subscription's
        // position while nothing is subscribed, and the reconnect recovers it anyway.
        if matches!(
            self.link,
            Link::Down { .. } | Link::Terminal | Link::Opening { .. }
        ) {
            return;
        }
        if let Link::Up {
            ping_ms, deadline, ..
        } = &mut self.link
        {
            *deadline = now + *ping_ms + self.options.ping_grace_ms;
        }
        for line in text.split('\n').filter(|l| !l.trim().is_empty()) {
            match ClientReply::from_json(line) {
                Ok(reply) => self.handle_reply(reply, now),
                // A relay speaking something else: drop the link rather than guess.
                Err(_) => return self.drop_link(0, true, now, true),
            }
        }
    }

    fn handle_reply(&mut self, reply: ClientReply, now: u64) {
        if reply.is_ping() {
            if let Link::Up { pong: true, .. } = self.link {
                self.transmits.push_back(Transmit::Send("{}".into()));
            }
            return;
        }
        if let Some(push) = reply.push {
            if let Some(publication) = push.publication {
                self.live_publication(&push.channel, publication);
            }
            return;
        }
        if let Link::Handshaking { id, .. } = self.link
            && reply.id == id
        {
            return self.connected(reply, now);
        }
        let Some((what, _)) = self.pending.remove(&reply.id) else {
            return;
        };
        match (what, reply.error) {
            (
                Pending::Subscribe {
                    channel,
                    recovering,
                },
                None,
            ) => {
                if let Some(result) = reply.subscribe {
                    self.subscribed(&channel, recovering, result, now);
                }
            }
            (Pending::Subscribe { channel, .. }, Some(error)) => {
                self.refused(channel, error, now, true)
            }
            (Pending::Publish { id }, None) => {
                self.queue.retain(|o| o.id != id);
                self.events.push_back(RelayEvent::Published { id });
            }
            (Pending::Publish { id }, Some(error)) => {
                let Some(index) = self.queue.iter().position(|o| o.id == id) else {
                    return;
                };
                if error.temporary || error.code == ErrorCode::TooManyRequests.code() {
                    // Retried after a pause; later publications of the channel wait behind it,
                    // so the peer still receives them in order.
                    self.queue[index].in_flight = false;
                    self.queue[index].retry_at = now + PUBLISH_RETRY_MS;
                } else if let Some(out) = self.queue.remove(index) {
                    self.refused(out.channel, error, now, false);
                }
            }
            // A backfill read of a subscription that is gone (refused, left): nobody waits.
            (
                Pending::History {
                    channel,
                    backfill: true,
                },
                _,
            ) if !self.subscriptions.get(&channel).is_some_and(|s| s.backfill) => {}
            (Pending::History { channel, .. }, None)
                if self.subscriptions.get(&channel).is_some_and(|s| s.backfill) =>
            {
                self.backfilled(&channel, reply.history.unwrap_or_default(), now);
            }
            (Pending::History { channel, .. }, Some(_))
                if self.subscriptions.get(&channel).is_some_and(|s| s.backfill) =>
            {
                // The loss is already reported; go live from the top.
                let Some(sub) = self.subscriptions.get_mut(&channel) else {
                    return;
                };
                sub.backfill = false;
                match std::mem::take(&mut sub.read) {
                    // The subscribe went with the read and gave the top already.
                    PipelinedRead::Subscribed(offset, epoch) => {
                        sub.subscribing = false;
                        let buffered = std::mem::take(&mut sub.buffered);
                        self.go_live(&channel, &[], offset, &epoch, buffered, now);
                    }
                    // It went with the read and will: its reply goes live.
                    PipelinedRead::Sent | PipelinedRead::Answered(_) => {}
                    PipelinedRead::No => self.send_subscribe(&channel, now),
                }
            }
            (Pending::History { channel, .. }, None) => {
                if let Some(result) = reply.history {
                    for publication in result.publications {
                        self.deliver(
                            &channel,
                            publication.offset,
                            &result.epoch,
                            &publication.data,
                        );
                    }
                }
                self.synced(&channel);
            }
            (Pending::History { channel, .. }, Some(error)) => {
                if error.code == ErrorCode::UnrecoverablePosition.code() {
                    self.events.push_back(RelayEvent::RecoveryFailed {
                        channel: channel.clone(),
                    });
                    if let Some(sub) = self.subscriptions.get_mut(&channel) {
                        sub.position = None;
                    }
                    // Resubscribe fresh to learn the new position.
                    self.send_subscribe(&channel, now);
                }
                self.synced(&channel);
            }
            (Pending::Unsubscribe | Pending::Ping, _) => {}
        }
        self.flush_queue(now);
    }

    fn connected(&mut self, reply: ClientReply, now: u64) {
        let Some(result) = reply.connect else {
            let code = reply.error.map_or(0, |e| e.code);
            // An error to connect is permanent unless marked temporary.
            return self.drop_link(code as u16, false, now, true);
        };
        let ping_ms = u64::from(result.ping) * 1000;
        let deadline = if ping_ms == 0 {
            u64::MAX
        } else {
            now + ping_ms + self.options.ping_grace_ms
        };
        self.link = Link::Up {
            ping_ms,
            pong: result.pong,
            deadline,
        };
        self.attempts = 0;
        self.events.push_back(RelayEvent::Connected);
        // Sent with `connect` already; nothing new unless a reply in between changed that.
        self.send_subscriptions(now);
        self.flush_queue(now);
    }

    /// Sends the oldest unacknowledged publication of each channel, one in flight per channel:
    /// if the relay refused one temporarily while a later one went through, the peer would see
    /// them out of order and drop the retried one as a replay.
    fn flush_queue(&mut self, now: u64) {
        if !self.can_send() {
            return;
        }
        let mut busy_channels: Vec<String> = Vec::new();
        for index in 0..self.queue.len() {
            let out = &self.queue[index];
            if busy_channels.contains(&out.channel) {
                continue;
            }
            busy_channels.push(out.channel.clone());
            if !out.in_flight && out.retry_at <= now {
                self.send_publish(index, now);
            }
        }
    }

    fn refused(
        &mut self,
        channel: String,
        error: wire::ClientError,
        _now: u64,
        subscription: bool,
    ) {
        if subscription {
            self.subscriptions.remove(&channel);
        }
        self.events.push_back(RelayEvent::Refused {
            channel,
            code: error.code,
            message: error.message,
        });
    }

    fn subscribed(
        &mut self,
        channel: &str,
        recovering: bool,
        result: wire::SubscribeResultOf<String>,
        now: u64,
    ) {
        let Some(sub) = self.subscriptions.get_mut(channel) else {
            return;
        };
        sub.subscribing = false;
        let buffered = std::mem::take(&mut sub.buffered);
        let backfill_pending = sub.backfill;
        let epoch_changed = sub
            .position
            .as_ref()
            .is_some_and(|p| p.epoch != result.epoch);
        if recovering && epoch_changed {
            // The relay lost the stream (a memory-broker restart): what we missed in the old
            // epoch is gone, but everything published in the new one is still in its history,
            // typically frames the peer sent while we were reconnecting. Jumping to the new
            // top would skip those too, so re-subscribe from the start of the new epoch
            // (pushes buffered so far are part of that history).
            self.events.push_back(RelayEvent::RecoveryFailed {
                channel: channel.to_owned(),
            });
            if let Some(sub) = self.subscriptions.get_mut(channel) {
                sub.position = Some(StreamPosition {
                    offset: 0,
                    epoch: result.epoch.clone(),
                });
            }
            let command = Command {
                unsubscribe: Some(wire::UnsubscribeRequest {
                    channel: channel.to_owned(),
                }),
                ..Default::default()
            };
            self.command(command, Pending::Unsubscribe, now);
            self.send_subscribe(channel, now);
            return;
        }
        if backfill_pending && !matches!(sub.read, PipelinedRead::No) {
            // Its `history` went with it: go live with that, now if it came first.
            sub.buffered = buffered;
            if let PipelinedRead::Answered(early) = std::mem::take(&mut sub.read) {
                return self.backfilled(channel, early, now);
            }
            sub.subscribing = true;
            sub.read = PipelinedRead::Subscribed(result.offset, result.epoch);
            return;
        }
        if (recovering && !result.recovered) || backfill_pending {
            // Same epoch, but the relay trimmed the history past our position (we were away
            // longer than its window). What it still holds is the newest part of what we
            // missed: read it with `history` before going live instead of jumping to the top
            // (the protocol then counts exactly the frames that are gone). Pushes keep being
            // buffered until then. (A backfill cut short by a reconnect starts again.)
            if !backfill_pending {
                self.events.push_back(RelayEvent::RecoveryFailed {
                    channel: channel.to_owned(),
                });
            }
            if let Some(sub) = self.subscriptions.get_mut(channel) {
                sub.position = None;
                sub.subscribing = true;
                sub.backfill = true;
                sub.buffered = buffered;
            }
            self.send_history(channel, now);
            return;
        }
        self.go_live(
            channel,
            &result.publications,
            result.offset,
            &result.epoch,
            buffered,
            now,
        );
    }

    /// The retained history after a failed recovery arrived: deliver it, then what was pushed
    /// meanwhile, then go live.
    fn backfilled(&mut self, channel: &str, result: wire::HistoryResultOf<String>, now: u64) {
        let Some(sub) = self.subscriptions.get_mut(channel) else {
            return;
        };
        if matches!(sub.read, PipelinedRead::Sent) {
            // Read right behind a subscribe that has not answered yet: live after it does
            // (`subscribed` takes this result back).
            sub.read = PipelinedRead::Answered(result);
            return;
        }
        sub.read = PipelinedRead::No;
        sub.backfill = false;
        sub.subscribing = false;
        let buffered = std::mem::take(&mut sub.buffered);
        self.go_live(
            channel,
            &result.publications,
            result.offset,
            &result.epoch,
            buffered,
            now,
        );
    }

    /// Delivers `publications` (a subscribe or backfill reply), reports the subscription at
    /// `top`, delivers the pushes `buffered` meanwhile, and answers a pending sync.
    fn go_live(
        &mut self,
        channel: &str,
        publications: &[wire::PublicationOf<String>],
        top: u64,
        epoch: &str,
        buffered: Vec<(u64, String)>,
        now: u64,
    ) {
        for publication in publications {
            self.deliver(channel, publication.offset, epoch, &publication.data);
        }
        let top = StreamPosition {
            offset: top,
            epoch: epoch.to_owned(),
        };
        let Some(sub) = self.subscriptions.get_mut(channel) else {
            return;
        };
        // A fresh subscription starts at the top; a recovered one is already there.
        if sub.position.is_none() {
            sub.position = Some(top.clone());
        }
        let wants_sync = sub.sync_wanted;
        self.events.push_back(RelayEvent::Subscribed {
            channel: channel.to_owned(),
            top,
        });
        for (offset, data) in buffered {
            self.deliver(channel, offset, epoch, &data);
        }
        if wants_sync {
            self.send_history(channel, now);
        }
    }

    fn synced(&mut self, channel: &str) {
        if let Some(sub) = self.subscriptions.get_mut(channel) {
            sub.sync_wanted = false;
        }
        self.events.push_back(RelayEvent::Synced {
            channel: channel.to_owned(),
        });
    }

    fn live_publication(&mut self, channel: &str, publication: wire::PublicationOf<String>) {
        let Some(sub) = self.subscriptions.get_mut(channel) else {
            return;
        };
        if sub.subscribing {
            sub.buffered.push((publication.offset, publication.data));
            return;
        }
        let epoch = sub
            .position
            .as_ref()
            .map(|p| p.epoch.clone())
            .unwrap_or_default();
        self.deliver(channel, publication.offset, &epoch, &publication.data);
    }

    /// Delivers one publication unless it is at or below the last delivered offset.
    fn deliver(&mut self, channel: &str, offset: u64, epoch: &str, data: &str) {
        let Some(sub) = self.subscriptions.get_mut(channel) else {
            return;
        };
        if let Some(p) = &sub.position
            && p.epoch == epoch
            && offset <= p.offset
        {
            return;
        }
        let position = StreamPosition {
            offset,
            epoch: epoch.to_owned(),
        };
        sub.position = Some(position.clone());
        self.events.push_back(RelayEvent::Publication {
            channel: channel.to_owned(),
            position,
            data: data.to_owned(),
        });
    }
}

/// Converts a wire position (for drivers that read replies themselves).
pub fn position_from_wire(p: &wire::StreamPosition) -> StreamPosition {
    to_protocol(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(u8);

    impl RandomSource for Counter {
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                self.0 = self.0.wrapping_add(1);
                *b = self.0;
            }
        }
    }

    fn client() -> RelayClient {
        RelayClient::new(RelayClientOptions::default(), Box::new(Counter(0)))
    }

    /// Unix time, as real drivers pass it.
    const NOW: u64 = 1_700_000_000_000;

    #[test]
    fn first_open_is_not_timed_out_by_the_first_clock_reading() {
        let mut c = client();
        assert_eq!(c.poll_transmit(), Some(Transmit::Open));
        // The driver learns the deadline is due (no clock yet) and reports the time.
        assert!(c.poll_timeout().is_some_and(|t| t <= NOW));
        c.handle_timeout(NOW);
        assert_eq!(c.poll_transmit(), None, "no Close, no second Open");
        assert_eq!(
            c.poll_timeout(),
            Some(NOW + RelayClientOptions::default().command_timeout_ms)
        );
        c.handle_open(NOW + 5);
        assert!(matches!(c.poll_transmit(), Some(Transmit::Send(t)) if t.contains("connect")));
        // A socket that never opens is still given up after the command timeout.
        let mut c = client();
        c.handle_timeout(NOW);
        c.handle_timeout(NOW + 10_000);
        assert_eq!(c.poll_transmit(), Some(Transmit::Open));
        assert_eq!(c.poll_transmit(), Some(Transmit::Close));
    }
    fn reply(c: &mut RelayClient, text: String) {
        c.handle_text(&text, NOW);
    }

    /// The id of a command (0 for a pong).
    fn id_of(text: &str) -> u32 {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        value["id"].as_u64().unwrap_or(0) as u32
    }

    /// The id of the next command sent, with its text.
    fn sent(c: &mut RelayClient) -> (u32, String) {
        loop {
            match c.poll_transmit() {
                Some(Transmit::Send(text)) => return (id_of(&text), text),
                Some(_) => continue,
                None => panic!("nothing sent"),
            }
        }
    }

    fn connect(c: &mut RelayClient) {
        c.handle_timeout(NOW);
        c.handle_open(NOW);
        let (id, _) = sent(c);
        let connect = r#"{"client":"c","version":"0","ping":25,"pong":true}"#;
        reply(c, format!(r#"{{"id":{id},"connect":{connect}}}"#));
    }

    #[test]
    fn epoch_change_recovers_the_new_epoch_from_its_start() {
        let mut c = client();
        connect(&mut c);
        let since = StreamPosition {
            offset: 5,
            epoch: "old".into(),
        };
        c.subscribe("session:x", Some(since), NOW);
        let (id, text) = sent(&mut c);
        assert!(text.contains(r#""offset":5"#) && text.contains(r#""epoch":"old""#));
        // The relay restarted: new epoch, nothing recovered, one publication already in it.
        let result = r#"{"recoverable":true,"positioned":true,"epoch":"new","offset":1,"was_recovering":true}"#;
        reply(&mut c, format!(r#"{{"id":{id},"subscribe":{result}}}"#));
        assert_eq!(
            c.poll_event(),
            Some(RelayEvent::Connected),
            "from the connect reply"
        );
        assert!(matches!(
            c.poll_event(),
            Some(RelayEvent::RecoveryFailed { .. })
        ));
        assert_eq!(c.poll_event(), None, "not subscribed at the new top yet");
        let (_, unsubscribe) = sent(&mut c);
        assert!(unsubscribe.contains("unsubscribe"));
        let (id, resubscribe) = sent(&mut c);
        assert!(resubscribe.contains(r#""epoch":"new""#), "{resubscribe}");
        assert!(
            !resubscribe.contains(r#""offset""#),
            "from offset 0: {resubscribe}"
        );
        let result = r#"{"recoverable":true,"positioned":true,"epoch":"new","offset":1,"was_recovering":true,"recovered":true,"publications":[{"data":{"n":1},"offset":1}]}"#;
        reply(&mut c, format!(r#"{{"id":{id},"subscribe":{result}}}"#));
        assert!(matches!(
            c.poll_event(),
            Some(RelayEvent::Publication { position, .. }) if position.offset == 1 && position.epoch == "new"
        ));
        assert!(matches!(
            c.poll_event(),
            Some(RelayEvent::Subscribed { .. })
        ));
        assert_eq!(c.poll_event(), None, "reported lost once");
    }

    #[test]
    fn trimmed_history_is_read_before_going_live() {
        let mut c = client();
        connect(&mut c);
        while c.poll_event().is_some() {}
        let since = StreamPosition {
            offset: 2,
            epoch: "e".into(),
        };
        c.subscribe("session:x", Some(since), NOW);
        let (id, _) = sent(&mut c);
        // Same epoch, but the relay kept only offsets 7..=9: not recovered.
        let result = r#"{"recoverable":true,"positioned":true,"epoch":"e","offset":9,"was_recovering":true}"#;
        reply(&mut c, format!(r#"{{"id":{id},"subscribe":{result}}}"#));
        // A push arriving meanwhile waits behind the retained history.
        reply(
            &mut c,
            r#"{"push":{"channel":"session:x","pub":{"data":{"n":10},"offset":10}}}"#.into(),
        );
        assert!(matches!(
            c.poll_event(),
            Some(RelayEvent::RecoveryFailed { .. })
        ));
        assert_eq!(c.poll_event(), None, "nothing delivered before the history");
        let (id, history) = sent(&mut c);
        assert!(
            history.contains(r#""history""#) && !history.contains("since"),
            "{history}"
        );
        let pubs: Vec<String> = (7..=9)
            .map(|n| format!(r#"{{"data":{{"n":{n}}},"offset":{n}}}"#))
            .collect();
        reply(
            &mut c,
            format!(
                r#"{{"id":{id},"history":{{"publications":[{}],"epoch":"e","offset":9}}}}"#,
                pubs.join(",")
            ),
        );
        let mut offsets = Vec::new();
        while let Some(event) = c.poll_event() {
            match event {
                RelayEvent::Publication { position, .. } => offsets.push(position.offset),
                RelayEvent::Subscribed { top, .. } => {
                    assert_eq!(top.offset, 9);
                    offsets.push(0);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(offsets, [7, 8, 9, 0, 10], "retained, live, then the push");
    }

    #[test]
    fn a_rate_limited_publish_is_retried_first_and_keeps_channel_order() {
        let mut c = client();
        connect(&mut c);
        while c.poll_event().is_some() {}
        let a = c.publish("session:x", "1".into(), NOW).unwrap();
        let b = c.publish("session:x", "2".into(), NOW).unwrap();
        let other = c.publish("session:y", "3".into(), NOW).unwrap();
        // One in flight per channel: `b` waits behind `a`; the other channel is independent.
        let (first, text) = sent(&mut c);
        assert!(text.contains(r#""data":1"#), "{text}");
        let (third, text) = sent(&mut c);
        assert!(text.contains(r#""data":3"#), "{text}");
        assert_eq!(c.poll_transmit(), None);
        // The relay refuses `a` for now (rate limit): nothing is sent until the pause ends.
        reply(
            &mut c,
            format!(
                r#"{{"id":{first},"error":{{"code":111,"message":"too many requests","temporary":true}}}}"#
            ),
        );
        reply(&mut c, format!(r#"{{"id":{third},"publish":{{}}}}"#));
        assert_eq!(c.poll_event(), Some(RelayEvent::Published { id: other }));
        assert_eq!(c.poll_transmit(), None, "b does not overtake a");
        assert_eq!(c.poll_timeout(), Some(NOW + PUBLISH_RETRY_MS));
        c.handle_timeout(NOW + PUBLISH_RETRY_MS);
        let (retry, text) = sent(&mut c);
        assert!(text.contains(r#""data":1"#), "a first: {text}");
        reply(&mut c, format!(r#"{{"id":{retry},"publish":{{}}}}"#));
        assert_eq!(c.poll_event(), Some(RelayEvent::Published { id: a }));
        let (next, text) = sent(&mut c);
        assert!(text.contains(r#""data":2"#), "then b: {text}");
        reply(&mut c, format!(r#"{{"id":{next},"publish":{{}}}}"#));
        assert_eq!(c.poll_event(), Some(RelayEvent::Published { id: b }));
    }

    #[test]
    fn unacknowledged_lists_what_the_relay_has_not_confirmed_in_order() {
        let mut c = client();
        connect(&mut c);
        while c.poll_event().is_some() {}
        c.publish("session:x", "1".into(), NOW).unwrap();
        c.publish("session:x", "2".into(), NOW).unwrap();
        c.publish("session:y", "3".into(), NOW).unwrap();
        let all: Vec<_> = c.unacknowledged().collect();
        assert_eq!(
            all,
            [("session:x", "1"), ("session:x", "2"), ("session:y", "3")]
        );
        // Sent is not acknowledged: only the relay's reply removes a publication.
        let (first, _) = sent(&mut c);
        assert_eq!(c.unacknowledged().count(), 3);
        reply(&mut c, format!(r#"{{"id":{first},"publish":{{}}}}"#));
        let left: Vec<_> = c.unacknowledged().collect();
        assert_eq!(left, [("session:x", "2"), ("session:y", "3")]);
    }

    /// Every command queued for sending, in order.
    fn sent_all(c: &mut RelayClient) -> Vec<String> {
        std::iter::from_fn(|| c.poll_transmit())
            .filter_map(|t| match t {
                Transmit::Send(text) => Some(text),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn subscriptions_and_publications_follow_connect_without_waiting_for_its_reply() {
        let mut c = client();
        c.subscribe("session:a", None, NOW);
        c.subscribe("session:b", None, NOW);
        c.publish("session:a", "1".into(), NOW).unwrap();
        c.handle_timeout(NOW);
        assert_eq!(c.poll_transmit(), Some(Transmit::Open));
        assert_eq!(c.poll_transmit(), None, "nothing before the socket opens");
        c.handle_open(NOW);
        let texts = sent_all(&mut c);
        let kinds: Vec<&str> = texts
            .iter()
            .map(|t| {
                ["connect", "subscribe", "publish"]
                    .into_iter()
                    .find(|k| t.contains(&format!("\"{k}\"")))
                    .unwrap_or("?")
            })
            .collect();
        assert_eq!(kinds, ["connect", "subscribe", "subscribe", "publish"]);
        let ids: Vec<u32> = texts.iter().map(|t| id_of(t)).collect();
        // The connect reply sends nothing again; the pipelined replies are matched.
        reply(
            &mut c,
            format!(
                r#"{{"id":{},"connect":{{"client":"c","version":"0","ping":25,"pong":true}}}}"#,
                ids[0]
            ),
        );
        assert_eq!(c.poll_event(), Some(RelayEvent::Connected));
        assert_eq!(c.poll_transmit(), None, "no command twice");
        reply(
            &mut c,
            format!(
                r#"{{"id":{},"subscribe":{{"epoch":"e","offset":0}}}}
{{"id":{},"subscribe":{{"epoch":"f","offset":3}}}}
{{"id":{},"publish":{{}}}}"#,
                ids[1], ids[2], ids[3]
            ),
        );
        let events: Vec<RelayEvent> = std::iter::from_fn(|| c.poll_event()).collect();
        assert!(
            matches!(&events[..], [
            RelayEvent::Subscribed { channel: a, .. },
            RelayEvent::Subscribed { channel: b, top },
            RelayEvent::Published { id: 1 },
        ] if a == "session:a" && b == "session:b" && top.offset == 3),
            "{events:?}"
        );
        assert_eq!(c.queued(), 0);
    }

    #[test]
    fn a_refused_connect_ends_the_pipelined_commands_with_the_link() {
        let mut c = client();
        c.subscribe("session:a", None, NOW);
        c.publish("session:a", "1".into(), NOW).unwrap();
        c.handle_timeout(NOW);
        c.handle_open(NOW);
        let texts = sent_all(&mut c);
        assert_eq!(texts.len(), 3);
        let id = id_of(&texts[0]);
        reply(
            &mut c,
            format!(r#"{{"id":{id},"error":{{"code":3501,"message":"bad request"}}}}"#),
        );
        assert!(!c.is_connected());
        assert_eq!(c.poll_timeout(), None, "terminal: nothing is retried");
        assert_eq!(c.queued(), 0);
        assert!(matches!(
            c.publish("session:a", "2".into(), NOW),
            Err(RelayError::Refused)
        ));
    }

    #[test]
    fn a_link_lost_during_connect_sends_the_pipelined_commands_again_once() {
        let mut c = client();
        c.subscribe("session:a", None, NOW);
        c.publish("session:a", "1".into(), NOW).unwrap();
        c.handle_timeout(NOW);
        c.handle_open(NOW);
        assert_eq!(sent_all(&mut c).len(), 3);
        c.handle_close(1006, NOW);
        let retry = c.poll_timeout().expect("a reconnect is scheduled");
        c.handle_timeout(retry);
        assert_eq!(c.poll_transmit(), Some(Transmit::Open));
        c.handle_open(retry);
        let texts = sent_all(&mut c);
        assert_eq!(
            texts.len(),
            3,
            "connect, subscribe, publish again: {texts:?}"
        );
        assert!(texts[1].contains("session:a") && texts[2].contains(r#""data":1"#));
    }

    /// A wallet reading a dApp's handshake channel: subscribe, then everything retained.
    fn backfill_sent(c: &mut RelayClient) -> (u32, u32) {
        connect(c);
        while c.poll_event().is_some() {}
        let everything = StreamPosition {
            offset: 0,
            epoch: String::new(),
        };
        c.subscribe("handshake:x", Some(everything), NOW);
        let (subscribe, text) = sent(c);
        assert!(text.contains(r#""subscribe""#), "{text}");
        let (history, text) = sent(c);
        assert!(
            text.contains(r#""history""#) && !text.contains("since"),
            "the read goes right behind the subscribe: {text}"
        );
        assert_eq!(c.poll_transmit(), None);
        (subscribe, history)
    }

    /// Offsets of the publications delivered, 0 for `Subscribed` (with its top checked).
    fn delivered(c: &mut RelayClient, top: u64) -> Vec<u64> {
        std::iter::from_fn(|| c.poll_event())
            .map(|event| match event {
                RelayEvent::Publication { position, .. } => position.offset,
                RelayEvent::Subscribed { top: t, .. } => {
                    assert_eq!(t.offset, top);
                    0
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    const SUBSCRIBED_AT_2: &str =
        r#""subscribe":{"recoverable":true,"positioned":true,"epoch":"e","offset":2}"#;
    const PUSH_3: &str = r#"{"push":{"channel":"handshake:x","pub":{"data":{"n":3},"offset":3}}}"#;
    const HISTORY_1_TO_3: &str = r#""history":{"publications":[{"data":{"n":1},"offset":1},{"data":{"n":2},"offset":2},{"data":{"n":3},"offset":3}],"epoch":"e","offset":3}"#;

    #[test]
    fn a_backfill_reads_the_history_without_waiting_for_the_subscribe_reply() {
        let mut c = client();
        let (subscribe, history) = backfill_sent(&mut c);
        reply(&mut c, format!(r#"{{"id":{subscribe},{SUBSCRIBED_AT_2}}}"#));
        // Published between the two commands: pushed, and in the history too.
        reply(&mut c, PUSH_3.into());
        assert_eq!(c.poll_event(), None, "nothing before the history");
        reply(&mut c, format!(r#"{{"id":{history},{HISTORY_1_TO_3}}}"#));
        assert_eq!(delivered(&mut c, 3), [1, 2, 3, 0], "each once, then live");
        reply(
            &mut c,
            r#"{"push":{"channel":"handshake:x","pub":{"data":{"n":4},"offset":4}}}"#.into(),
        );
        assert_eq!(delivered(&mut c, 3), [4]);
        assert_eq!(c.poll_transmit(), None, "nothing read twice");
    }

    #[test]
    fn a_backfill_history_answered_before_its_subscribe_waits_for_it() {
        let mut c = client();
        let (subscribe, history) = backfill_sent(&mut c);
        reply(&mut c, format!(r#"{{"id":{history},{HISTORY_1_TO_3}}}"#));
        assert_eq!(c.poll_event(), None, "not live before the subscribe reply");
        reply(&mut c, PUSH_3.into());
        reply(&mut c, format!(r#"{{"id":{subscribe},{SUBSCRIBED_AT_2}}}"#));
        assert_eq!(
            delivered(&mut c, 3),
            [1, 2, 3, 0],
            "one Subscribed, no copies"
        );
        assert_eq!(c.poll_transmit(), None);
    }

    #[test]
    fn a_failed_backfill_read_goes_live_from_the_subscribe_top() {
        let mut c = client();
        let (subscribe, history) = backfill_sent(&mut c);
        reply(&mut c, format!(r#"{{"id":{subscribe},{SUBSCRIBED_AT_2}}}"#));
        reply(&mut c, PUSH_3.into());
        reply(
            &mut c,
            format!(r#"{{"id":{history},"error":{{"code":100,"message":"internal"}}}}"#),
        );
        assert_eq!(
            delivered(&mut c, 2),
            [0, 3],
            "live at the top, then the push"
        );
        assert_eq!(c.poll_transmit(), None, "no second subscribe");
    }

    #[test]
    fn a_refused_backfill_subscription_ignores_its_read() {
        let mut c = client();
        let (subscribe, history) = backfill_sent(&mut c);
        reply(
            &mut c,
            format!(r#"{{"id":{subscribe},"error":{{"code":103,"message":"permission denied"}}}}"#),
        );
        assert!(matches!(c.poll_event(), Some(RelayEvent::Refused { .. })));
        reply(&mut c, format!(r#"{{"id":{history},{HISTORY_1_TO_3}}}"#));
        assert_eq!(
            c.poll_event(),
            None,
            "no publication, no Synced for a refused channel"
        );
    }

    #[test]
    fn a_backfill_cut_by_a_reconnect_reads_again() {
        let mut c = client();
        let (subscribe, _) = backfill_sent(&mut c);
        reply(&mut c, format!(r#"{{"id":{subscribe},{SUBSCRIBED_AT_2}}}"#));
        c.handle_close(1006, NOW);
        while c.poll_event().is_some() {}
        let retry = c.poll_timeout().expect("reconnect scheduled");
        c.handle_timeout(retry);
        c.handle_open(retry);
        let texts = sent_all(&mut c);
        assert_eq!(texts.len(), 3, "connect, subscribe, history: {texts:?}");
        assert!(texts[2].contains(r#""history""#) && !texts[2].contains("since"));
    }
}
