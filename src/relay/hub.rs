//! One relay link carrying many connections: routes each connection's subscribe/publish/sync
//! outputs to the [`RelayClient`] and the relay's publications back to the connection that
//! owns the channel. Still sans-IO: the browser driver and the native wallet only move socket
//! frames, timers and storage. Several sessions side by side share one WebSocket.

use std::collections::VecDeque;

use super::client::{RelayClient, RelayClientOptions, RelayError, RelayEvent, Transmit};
use crate::crypto::RandomSource;
#[cfg(feature = "dapp")]
use crate::protocol::{DappConnection, DappOptions};
use crate::protocol::{Discard, Error, Event, Limits, Output, Record, StreamPosition};
use crate::protocol::{HANDSHAKE_PREFIX, STORAGE_FULL};
#[cfg(feature = "wallet")]
use crate::protocol::{Invitation, SessionRequest, WalletConnection, WalletOptions};
use crate::sorted::SortedMap;

/// Identifies a connection inside a [`Hub`].
pub type ConnectionId = u32;

/// A dApp or a wallet connection. Each side exists only with its cargo feature (`dapp`,
/// `wallet`; both by default), so a wasm build for one side carries no code of the other.
#[derive(Debug)]
pub enum AnyConnection {
    /// dApp side.
    #[cfg(feature = "dapp")]
    Dapp(DappConnection),
    /// Wallet side.
    #[cfg(feature = "wallet")]
    Wallet(WalletConnection),
}

macro_rules! both {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            #[cfg(feature = "dapp")]
            AnyConnection::Dapp($c) => $body,
            #[cfg(feature = "wallet")]
            AnyConnection::Wallet($c) => $body,
        }
    };
}

impl AnyConnection {
    /// The dApp connection, if this is one.
    #[cfg(feature = "dapp")]
    pub fn dapp(&mut self) -> Option<&mut DappConnection> {
        match self {
            Self::Dapp(c) => Some(c),
            #[cfg(feature = "wallet")]
            Self::Wallet(_) => None,
        }
    }

    /// The wallet connection, if this is one.
    #[cfg(feature = "wallet")]
    pub fn wallet(&mut self) -> Option<&mut WalletConnection> {
        match self {
            Self::Wallet(c) => Some(c),
            #[cfg(feature = "dapp")]
            Self::Dapp(_) => None,
        }
    }

    /// Sends a request (see [`crate::protocol::Connection::request`]).
    pub fn request(
        &mut self,
        method: &str,
        params: impl Into<crate::json::Json>,
        timeout_ms: Option<u64>,
        now: u64,
    ) -> Result<u64, Error> {
        let params = params.into();
        both!(self, c => c.request(method, params, timeout_ms, now))
    }

    /// Forgets one of our requests (see [`crate::protocol::Connection::forget_request`]).
    pub fn forget_request(&mut self, id: u64) {
        both!(self, c => c.forget_request(id))
    }

    /// See [`crate::protocol::Connection::adopt_requests`].
    pub fn adopt_requests(&mut self) {
        both!(self, c => c.adopt_requests())
    }

    /// Sends a notification.
    pub fn notify(
        &mut self,
        method: &str,
        params: impl Into<crate::json::Json>,
        now: u64,
    ) -> Result<(), Error> {
        let params = params.into();
        both!(self, c => c.notify(method, params, now))
    }

    /// Answers a request.
    pub fn respond(
        &mut self,
        id: u64,
        outcome: Result<crate::json::Json, crate::protocol::RpcError>,
        now: u64,
    ) -> Result<(), Error> {
        both!(self, c => c.respond(id, outcome, now))
    }

    /// Closes the connection.
    pub fn close(&mut self, reason: &str, now: u64) {
        both!(self, c => c.close(reason, now))
    }

    /// The session, once connected.
    pub fn session(&self) -> Option<&crate::protocol::SessionInfo> {
        both!(self, c => c.session())
    }

    /// Sends a liveness probe.
    pub fn ping(&mut self, now: u64) -> Result<u64, Error> {
        both!(self, c => c.ping(now))
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        both!(self, c => c.is_closed())
    }

    /// A publication arrived (see [`crate::protocol::Connection::handle_publication`]).
    pub fn handle_publication(
        &mut self,
        channel: &str,
        position: Option<StreamPosition>,
        data: &str,
        now: u64,
    ) -> Result<(), Discard> {
        both!(self, c => c.handle_publication(channel, position, data, now))
    }

    /// The relay confirmed a subscription at `top`.
    pub fn handle_subscribed(&mut self, channel: &str, top: StreamPosition, now: u64) {
        both!(self, c => c.handle_subscribed(channel, top, now))
    }

    /// The relay could not recover `channel` from the last position.
    pub fn handle_recovery_failed(&mut self, channel: &str) {
        both!(self, c => c.handle_recovery_failed(channel))
    }

    /// The relay acknowledged a publication on handshake channel `channel`.
    pub fn handle_published(&mut self, channel: &str, now: u64) {
        both!(self, c => c.handle_published(channel, now))
    }

    /// Everything the relay held for `channel` has been fed.
    pub fn handle_synced(&mut self, channel: &str, now: u64) {
        both!(self, c => c.handle_synced(channel, now))
    }

    /// Time passed.
    pub fn handle_timeout(&mut self, now: u64) {
        both!(self, c => c.handle_timeout(now))
    }

    /// The next thing the driver must do.
    pub fn poll_output(&mut self) -> Option<Output> {
        both!(self, c => c.poll_output())
    }

    /// When the connection wants [`AnyConnection::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<u64> {
        both!(self, c => c.poll_timeout())
    }
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum HubOutput {
    /// Socket action.
    Socket(Transmit),
    /// Persist.
    Store {
        /// Key.
        key: String,
        /// Encoded record.
        record: String,
    },
    /// Delete.
    Remove {
        /// Key.
        key: String,
    },
    /// Something the application learns about.
    Event(HubEvent),
    /// With [`Hub::mirror_outbox`]: a session frame was queued for the relay as publication
    /// `id`; until [`HubOutput::Published`] says the relay has it, another process holding
    /// this copy can publish it again ([`Hub::republish`]) if this one dies.
    Queued {
        /// The relay client's publication id.
        id: u64,
        /// Its channel (`session:<uuid>`).
        channel: String,
        /// The frame, verbatim.
        data: String,
    },
    /// With [`Hub::mirror_outbox`]: the relay acknowledged publication `id`.
    Published {
        /// The id of the [`HubOutput::Queued`].
        id: u64,
    },
}

/// What a hub tells the application (as opposed to the socket and storage work in
/// [`HubOutput`]); drivers hand these on.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum HubEvent {
    /// An event of one connection.
    Event {
        /// Which connection.
        id: ConnectionId,
        /// What happened.
        event: Event,
    },
    /// The relay link came up or went down.
    Link {
        /// True when connected.
        up: bool,
        /// False when the relay refused this client for good.
        will_retry: bool,
    },
    /// The relay refused a subscription or publication of a connection, its queue is full, or
    /// (with a [`RecordStore`]) a record could not be saved and the frame was not sent.
    RelayError {
        /// Which connection.
        id: ConnectionId,
        /// Stable code: `relay_refused`, `relay_queue_full`, `relay_frame_too_large`,
        /// `storage_full`.
        code: &'static str,
        /// Details.
        message: String,
    },
}

/// Synchronous storage a driver may hand the hub ([`Hub::set_store`]). With it the hub writes
/// each record itself, in order, and publishes a frame only once the record that accounts for
/// it (its advanced sequence number) is saved: when the write fails the frame is dropped
/// unsent, so a reload can never reuse a sequence number the peer has seen. Without it records
/// leave as [`HubOutput::Store`] / [`HubOutput::Remove`] for the driver to write later.
pub trait RecordStore {
    /// Writes one record; false when the storage refused (full, disabled).
    fn store(&mut self, key: &str, record: &str) -> bool;
    /// Deletes one record.
    fn remove(&mut self, key: &str);
}

/// See the module docs.
pub struct Hub {
    relay: RelayClient,
    connections: SortedMap<ConnectionId, AnyConnection>,
    owners: SortedMap<String, ConnectionId>,
    next_id: ConnectionId,
    out: VecDeque<HubOutput>,
    limits: Limits,
    store: Option<Box<dyn RecordStore>>,
    /// During [`Hub::send`]: the connection it sends on, and whether one of its frames was
    /// dropped because its record could not be saved.
    watch: Option<(ConnectionId, bool)>,
    /// Session frames leave as [`HubOutput::Queued`] / [`HubOutput::Published`] too.
    mirror: bool,
    /// Publications on handshake channels not yet acknowledged: id → (connection, channel).
    handshake_pubs: SortedMap<u64, (ConnectionId, String)>,
}

impl core::fmt::Debug for Hub {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Hub")
            .field("relay", &self.relay)
            .field("connections", &self.connections)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub whose relay client opens its socket at once. A payload limit raised above the
    /// default raises the client's frame limit with it (the relay's `--max-frame-size` must
    /// allow such frames too): otherwise every large message would be refused locally.
    pub fn new(
        mut options: RelayClientOptions,
        limits: Limits,
        rng: Box<dyn RandomSource>,
    ) -> Self {
        // Publish envelope: {"id":..,"publish":{"channel":"session:<uuid>","data":..}}.
        options.max_frame = options.max_frame.max(limits.max_frame_len() + 128);
        Self {
            relay: RelayClient::new(options, rng),
            connections: SortedMap::new(),
            owners: SortedMap::new(),
            next_id: 1,
            out: VecDeque::new(),
            limits,
            store: None,
            watch: None,
            mirror: false,
            handshake_pubs: SortedMap::new(),
        }
    }

    /// Hands the hub synchronous storage (see [`RecordStore`]).
    pub fn set_store(&mut self, store: Box<dyn RecordStore>) {
        self.store = Some(store);
    }

    /// Reports every session frame queued for the relay and its acknowledgement
    /// ([`HubOutput::Queued`], [`HubOutput::Published`]): the browser's tab owner hands them to
    /// the other tabs, so the next owner can publish what this one left unacknowledged.
    pub fn mirror_outbox(&mut self) {
        self.mirror = true;
    }

    /// Publishes a session frame another hub queued and may not have delivered (its owner
    /// went away). Only on a channel a live connection of this hub holds; the peer drops a
    /// copy it already has (its sequence number is not above the last one it accepted).
    pub fn republish(&mut self, channel: &str, data: String, now: u64) {
        if !channel.starts_with(crate::protocol::SESSION_PREFIX)
            || !self.owners.contains_key(channel)
        {
            return;
        }
        self.publish_frame(None, channel, data, now);
    }

    /// The session frames the relay has not acknowledged, in order: `(channel, data)`.
    pub fn unacknowledged(&self) -> Vec<(String, String)> {
        self.relay
            .unacknowledged()
            .filter(|(channel, _)| channel.starts_with(crate::protocol::SESSION_PREFIX))
            .map(|(c, d)| (c.to_owned(), d.to_owned()))
            .collect()
    }

    fn publish_frame(&mut self, id: Option<ConnectionId>, channel: &str, data: String, now: u64) {
        let mirrored = self.mirror.then(|| data.clone());
        match self.relay.publish(channel, data, now) {
            Ok(pid) => {
                if let Some(id) = id.filter(|_| channel.starts_with(HANDSHAKE_PREFIX)) {
                    self.handshake_pubs.insert(pid, (id, channel.to_owned()));
                }
                if let Some(data) =
                    mirrored.filter(|_| channel.starts_with(crate::protocol::SESSION_PREFIX))
                {
                    self.out.push_back(HubOutput::Queued {
                        id: pid,
                        channel: channel.to_owned(),
                        data,
                    });
                }
            }
            Err(e) => {
                let Some(id) = id else { return };
                let code = match e {
                    RelayError::QueueFull => "relay_queue_full",
                    RelayError::FrameTooLarge => "relay_frame_too_large",
                    _ => "relay_refused",
                };
                self.out.push_back(HubOutput::Event(HubEvent::RelayError {
                    id,
                    code,
                    message: e.to_string(),
                }));
            }
        }
    }

    /// Runs one send (`request`, `respond`, `notify`) on connection `id` and publishes what it
    /// produced. With a [`RecordStore`] set, fails with [`Error::StorageFull`] when the record
    /// that accounts for the frame could not be saved, so the frame was not sent (the session
    /// goes on from its saved state; the peer may see a gap of one sequence number, never a
    /// reuse).
    pub fn send<T>(
        &mut self,
        id: ConnectionId,
        now: u64,
        send: impl FnOnce(&mut AnyConnection) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let conn = self
            .connections
            .get_mut(&id)
            .ok_or(Error::InvalidState("closed"))?;
        let sent = send(conn)?;
        self.watch = Some((id, false));
        self.pump(now);
        match self.watch.take() {
            Some((_, true)) => Err(Error::StorageFull),
            _ => Ok(sent),
        }
    }

    fn insert(&mut self, conn: AnyConnection, now: u64) -> ConnectionId {
        let id = self.next_id;
        self.next_id += 1;
        self.connections.insert(id, conn);
        self.pump(now);
        id
    }

    /// Starts a dApp handshake.
    #[cfg(feature = "dapp")]
    pub fn connect_dapp(
        &mut self,
        options: DappOptions,
        now: u64,
        rng: Box<dyn RandomSource>,
    ) -> Result<ConnectionId, Error> {
        let conn = DappConnection::new(options, now, rng)?;
        Ok(self.insert(AnyConnection::Dapp(conn), now))
    }

    /// Answers a session request as a wallet.
    #[cfg(feature = "wallet")]
    pub fn connect_wallet(
        &mut self,
        request: &SessionRequest,
        options: WalletOptions,
        now: u64,
        rng: Box<dyn RandomSource>,
    ) -> Result<ConnectionId, Error> {
        let conn = WalletConnection::accept(request, options, now, rng)?;
        Ok(self.insert(AnyConnection::Wallet(conn), now))
    }

    /// Answers a scanned QR code or deep link as a wallet: reads the dApp's sealed request
    /// from the relay first (see [`WalletConnection::read`]).
    #[cfg(feature = "wallet")]
    pub fn read_wallet(
        &mut self,
        invitation: &Invitation,
        options: WalletOptions,
        now: u64,
        rng: Box<dyn RandomSource>,
    ) -> Result<ConnectionId, Error> {
        let conn = WalletConnection::read(invitation, options, now, rng)?;
        Ok(self.insert(AnyConnection::Wallet(conn), now))
    }

    /// Resumes a stored record (a session of either role, or a pending dApp handshake).
    #[cfg(all(feature = "dapp", feature = "wallet"))]
    pub fn resume(
        &mut self,
        record: &Record,
        now: u64,
        rng: Box<dyn RandomSource>,
    ) -> ConnectionId {
        self.try_resume(record, now, rng)
            // With both sides built every record has a side to resume it.
            .expect("both sides are built")
    }

    /// Resumes a stored record if this build holds its side (see [`AnyConnection`]); `None`
    /// for a record of the other side, which stays stored.
    pub fn try_resume(
        &mut self,
        record: &Record,
        now: u64,
        rng: Box<dyn RandomSource>,
    ) -> Option<ConnectionId> {
        let limits = self.limits.clone();
        let conn = match record {
            #[cfg(feature = "dapp")]
            Record::Pending(p) => {
                AnyConnection::Dapp(DappConnection::resume_pending(p, rng, limits))
            }
            #[cfg(feature = "dapp")]
            Record::Session(s) if s.info.role == crate::protocol::Role::Dapp => {
                AnyConnection::Dapp(DappConnection::resume_session(s, rng, limits))
            }
            #[cfg(feature = "wallet")]
            Record::Session(s) if s.info.role == crate::protocol::Role::Wallet => {
                AnyConnection::Wallet(WalletConnection::resume(s, rng, limits))
            }
            _ => {
                let _ = (rng, limits);
                return None;
            }
        };
        Some(self.insert(conn, now))
    }

    /// A connection, for user calls; call [`Hub::pump`] afterwards.
    pub fn connection(&mut self, id: ConnectionId) -> Option<&mut AnyConnection> {
        self.connections.get_mut(&id)
    }

    /// Ids of live connections.
    pub fn ids(&self) -> Vec<ConnectionId> {
        self.connections.keys().copied().collect()
    }

    /// True while the relay link is up.
    pub fn is_online(&self) -> bool {
        self.relay.is_connected()
    }

    /// Publications not yet acknowledged by the relay (a driver shutting down waits for 0 so
    /// a final `close` frame is not lost).
    pub fn queued(&self) -> usize {
        self.relay.queued()
    }

    /// Next thing for the driver to do.
    pub fn poll_output(&mut self) -> Option<HubOutput> {
        self.out.pop_front()
    }

    /// When to call [`Hub::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<u64> {
        let conns = self
            .connections
            .values()
            .filter_map(AnyConnection::poll_timeout);
        conns.chain(self.relay.poll_timeout()).min()
    }

    /// Socket opened.
    pub fn handle_open(&mut self, now: u64) {
        self.relay.handle_open(now);
        self.pump(now);
    }

    /// Socket closed (`code` 0 without a close frame).
    pub fn handle_close(&mut self, code: u16, now: u64) {
        self.relay.handle_close(code, now);
        self.pump(now);
    }

    /// Text frame received.
    pub fn handle_text(&mut self, text: &str, now: u64) {
        self.relay.handle_text(text, now);
        self.pump(now);
    }

    /// Page visible again / network back.
    pub fn wake(&mut self, now: u64) {
        self.relay.wake(now);
        self.pump(now);
    }

    /// Timers.
    pub fn handle_timeout(&mut self, now: u64) {
        self.relay.handle_timeout(now);
        for conn in self.connections.values_mut() {
            if conn.poll_timeout().is_some_and(|t| t <= now) {
                conn.handle_timeout(now);
            }
        }
        self.pump(now);
    }

    /// Moves outputs between the connections and the relay client until both are idle.
    pub fn pump(&mut self, now: u64) {
        loop {
            let mut busy = false;
            while let Some(event) = self.relay.poll_event() {
                busy = true;
                self.route(event, now);
            }
            let ids: Vec<ConnectionId> = self.connections.keys().copied().collect();
            for id in ids {
                busy |= self.drain(id, now);
            }
            if !busy {
                break;
            }
        }
        while let Some(t) = self.relay.poll_transmit() {
            self.out.push_back(HubOutput::Socket(t));
        }
        let closed: Vec<ConnectionId> = self
            .connections
            .iter()
            .filter(|(_, c)| c.is_closed())
            .map(|(id, _)| *id)
            .collect();
        for id in closed {
            self.connections.remove(&id);
            self.owners.retain(|_, owner| *owner != id);
            // An acknowledgement that never came (refused, or the link went for good) is
            // forgotten with its connection.
            self.handshake_pubs.retain(|_, (owner, _)| *owner != id);
        }
    }

    fn owner(&mut self, channel: &str) -> Option<(ConnectionId, &mut AnyConnection)> {
        let id = *self.owners.get(channel)?;
        self.connections.get_mut(&id).map(|c| (id, c))
    }

    fn route(&mut self, event: RelayEvent, now: u64) {
        match event {
            RelayEvent::Connected => self.out.push_back(HubOutput::Event(HubEvent::Link {
                up: true,
                will_retry: true,
            })),
            RelayEvent::Disconnected { reconnect, .. } => {
                self.out.push_back(HubOutput::Event(HubEvent::Link {
                    up: false,
                    will_retry: reconnect,
                }));
            }
            RelayEvent::Subscribed { channel, top } => {
                if let Some((_, c)) = self.owner(&channel) {
                    c.handle_subscribed(&channel, top, now);
                }
            }
            RelayEvent::RecoveryFailed { channel } => {
                if let Some((_, c)) = self.owner(&channel) {
                    c.handle_recovery_failed(&channel);
                }
            }
            RelayEvent::Publication {
                channel,
                position,
                data,
            } => {
                if let Some((_, c)) = self.owner(&channel) {
                    let verdict: Result<(), Discard> =
                        c.handle_publication(&channel, Some(position), &data, now);
                    // Junk, replays and forgeries are dropped by design (PROTOCOL.md §6).
                    let _ = verdict;
                }
            }
            RelayEvent::Synced { channel } => {
                if let Some((_, c)) = self.owner(&channel) {
                    c.handle_synced(&channel, now);
                }
            }
            RelayEvent::Published { id } => {
                if let Some((conn, channel)) = self.handshake_pubs.remove(&id) {
                    if let Some(c) = self.connections.get_mut(&conn) {
                        c.handle_published(&channel, now);
                    }
                }
                if self.mirror {
                    self.out.push_back(HubOutput::Published { id });
                }
            }
            RelayEvent::Refused {
                channel,
                code,
                message,
            } => {
                if let Some((id, _)) = self.owner(&channel) {
                    self.out.push_back(HubOutput::Event(HubEvent::RelayError {
                        id,
                        code: "relay_refused",
                        message: format!("relay refused {channel}: {code} {message}"),
                    }));
                }
            }
        }
    }

    /// Applies one connection's outputs; true if there were any.
    fn drain(&mut self, id: ConnectionId, now: u64) -> bool {
        let mut busy = false;
        // The last record write failed: the next publication is not sent.
        let mut unsaved = false;
        loop {
            let Some(conn) = self.connections.get_mut(&id) else {
                return busy;
            };
            let Some(output) = conn.poll_output() else {
                return busy;
            };
            busy = true;
            match output {
                Output::Subscribe { channel, since } => {
                    self.owners.insert(channel.clone(), id);
                    self.relay.subscribe(&channel, since, now);
                }
                Output::Unsubscribe { channel } => {
                    if self.owners.get(&channel) == Some(&id) {
                        self.owners.remove(&channel);
                        self.relay.unsubscribe(&channel, now);
                    }
                }
                Output::Publish { .. } if unsaved => {
                    unsaved = false;
                    if let Some((watched, dropped)) = &mut self.watch {
                        *dropped |= *watched == id;
                    }
                }
                Output::Publish { channel, data } => {
                    self.publish_frame(Some(id), &channel, data, now)
                }
                Output::Sync { channel } => self.relay.sync(&channel, now),
                Output::Store { key, record } => match &mut self.store {
                    Some(store) => {
                        unsaved = !store.store(&key, &record);
                        if unsaved {
                            self.out.push_back(HubOutput::Event(HubEvent::RelayError {
                                id,
                                code: "storage_full",
                                message: String::from(STORAGE_FULL),
                            }));
                        }
                    }
                    None => self.out.push_back(HubOutput::Store { key, record }),
                },
                Output::Remove { key } => match &mut self.store {
                    Some(store) => store.remove(&key),
                    None => self.out.push_back(HubOutput::Remove { key }),
                },
                Output::Event(event) => self
                    .out
                    .push_back(HubOutput::Event(HubEvent::Event { id, event })),
            }
        }
    }
}
