//! The protocol session of one connection: reads frames, enforces the connect handshake,
//! ping/pong and limits, and answers commands.
//!
//! Bad input follows Centrifugo: a frame that is not JSON, a binary frame, a command before
//! `connect`, a command without `id`, or a command missing a required field closes the
//! connection with 3501 (bad request); a well-formed command the relay cannot serve gets an
//! error reply (102–112) and the connection stays open.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{Message, WebSocket};
use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use serde_json::value::RawValue;
use tokio::sync::watch;
use tokio::time::sleep_until;
use walletwire::relay::{
    Command, ConnectResult, DisconnectCode, ErrorCode, HistoryRequest, HistoryResult, Publication,
    PublishRequest, PublishResult, Reply, SubscribeRequest, SubscribeResult, UnsubscribeRequest,
    UnsubscribeResult,
};

use super::handle::{ConnectionHandle, Frame};
use crate::relay::Relay;
use crate::relay::address::AddressTicket;
use crate::relay::broker::{BrokerError, HistoryQuery, StoredPublication};
use crate::relay::channel::{self, Namespace};
use crate::relay::limits::TokenBucket;

/// What a command handler tells the read loop: keep going, or close with a code.
type Outcome = Result<(), DisconnectCode>;

pub struct Session {
    relay: Arc<Relay>,
    handle: Arc<ConnectionHandle>,
    connected: bool,
    next_ping: Option<tokio::time::Instant>,
    pong_deadline: Option<tokio::time::Instant>,
    publish_bucket: TokenBucket,
    command_bucket: TokenBucket,
    address: AddressTicket,
    /// Most publication bytes one subscribe or history reply carries.
    reply_budget: usize,
}

impl Session {
    pub fn new(relay: Arc<Relay>, handle: Arc<ConnectionHandle>, address: AddressTicket) -> Self {
        let now = Instant::now();
        let options = &relay.options;
        let publish_bucket = TokenBucket::new(options.publish_rate, options.publish_burst, now);
        let command_bucket = TokenBucket::new(options.command_rate, options.command_burst, now);
        // A quarter of the queue limit, so a client subscribing to a few channels at once can
        // take every reply, but never less than one frame.
        let reply_budget = (options.max_queue_bytes / 4).max(options.max_frame_size);
        Self {
            relay,
            handle,
            connected: false,
            next_ping: None,
            pong_deadline: None,
            publish_bucket,
            command_bucket,
            address,
            reply_budget,
        }
    }

    /// Reads until the connection must close; returns why.
    pub async fn run(
        &mut self,
        mut stream: SplitStream<WebSocket>,
        mut disconnect: watch::Receiver<Option<DisconnectCode>>,
    ) -> DisconnectCode {
        let connect_deadline = tokio::time::Instant::now() + self.relay.options.connect_timeout;
        loop {
            let far = tokio::time::Instant::now() + std::time::Duration::from_secs(86400);
            tokio::select! {
                biased;
                _ = disconnect.changed() => {
                    return self.handle.disconnect_code().unwrap_or(DisconnectCode::ServerError);
                }
                _ = sleep_until(connect_deadline), if !self.connected => return DisconnectCode::Stale,
                _ = sleep_until(self.pong_deadline.unwrap_or(far)), if self.pong_deadline.is_some() => {
                    return DisconnectCode::NoPong;
                }
                _ = sleep_until(self.next_ping.unwrap_or(far)), if self.next_ping.is_some() => self.ping(),
                message = stream.next() => {
                    let outcome = match message {
                        None | Some(Ok(Message::Close(_))) => Err(DisconnectCode::ConnectionClosed),
                        Some(Ok(Message::Text(text))) => self.handle_text(text.as_str()).await,
                        Some(Ok(Message::Binary(_))) => Err(DisconnectCode::BadRequest),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                        Some(Err(error)) => Err(read_error_code(error)),
                    };
                    if let Err(code) = outcome {
                        return code;
                    }
                }
            }
        }
    }

    fn ping(&mut self) {
        let now = tokio::time::Instant::now();
        self.handle.enqueue(Frame::from("{}"));
        if self.pong_deadline.is_none() {
            self.pong_deadline = Some(now + self.relay.options.pong_timeout);
        }
        self.next_ping = Some(now + self.relay.options.ping_interval);
    }

    /// A text frame: one or more commands separated by newlines.
    async fn handle_text(&mut self, text: &str) -> Outcome {
        for line in text.split('\n') {
            if line.trim().is_empty() {
                continue;
            }
            let command: Command = serde_json::from_str(line).map_err(|error| {
                tracing::info!(connection = self.handle.id(), %error, "malformed command");
                DisconnectCode::BadRequest
            })?;
            self.handle_command(command).await?;
        }
        Ok(())
    }

    async fn handle_command(&mut self, command: Command) -> Outcome {
        if command.is_pong() {
            // Centrifugo ignores id-less empty commands before connect too.
            self.pong_deadline = None;
            return Ok(());
        }
        if !self.connected && command.connect.is_none() {
            tracing::info!(connection = self.handle.id(), "command before connect");
            return Err(DisconnectCode::BadRequest);
        }
        let id = command.id;
        if id == 0 {
            // Only `send` may come without an id, and the relay takes no messages.
            return Err(if command.send.is_some() {
                DisconnectCode::NotAvailable
            } else {
                DisconnectCode::BadRequest
            });
        }
        // Every command costs a token of the connection's and of its address's budget, so
        // reads (history, subscribe, unsubscribe) are as bounded as publishes.
        let now = Instant::now();
        if !self.command_bucket.try_take(now) || !self.address.try_take(now) {
            self.error(id, ErrorCode::TooManyRequests);
            return Ok(());
        }
        if command.connect.is_some() {
            return self.connect(id);
        }
        if let Some(request) = command.subscribe {
            return self.subscribe(id, request).await;
        }
        if let Some(request) = command.unsubscribe {
            return self.unsubscribe(id, request).await;
        }
        if let Some(request) = command.publish {
            return self.publish(id, request).await;
        }
        if let Some(request) = command.history {
            return self.history(id, request).await;
        }
        if command.ping.is_some() {
            self.reply(&Reply {
                id,
                ..Reply::default()
            });
            return Ok(());
        }
        let code = if command.method_name().is_some() {
            ErrorCode::NotAvailable // presence, RPC, refresh: Centrifugo features the relay lacks
        } else {
            ErrorCode::MethodNotFound
        };
        self.error(id, code);
        Ok(())
    }

    fn reply(&self, reply: &Reply) {
        match serde_json::to_string(reply) {
            Ok(text) => {
                self.handle.enqueue(Frame::from(text));
            }
            Err(error) => {
                tracing::error!(%error, "reply not serializable");
                self.handle.disconnect(DisconnectCode::ServerError);
            }
        }
    }

    fn error(&self, id: u32, code: ErrorCode) {
        self.relay.metrics.error_replied(code.code());
        self.reply(&Reply::error(id, code));
    }

    fn connect(&mut self, id: u32) -> Outcome {
        if self.connected {
            return Err(DisconnectCode::BadRequest); // "client already authenticated"
        }
        self.connected = true;
        let interval = self.relay.options.ping_interval;
        self.next_ping = Some(tokio::time::Instant::now() + interval);
        let ping = u32::try_from(interval.as_secs_f64().ceil() as u64)
            .unwrap_or(u32::MAX)
            .max(1);
        self.reply(&Reply {
            id,
            connect: Some(ConnectResult {
                client: uuid::Uuid::new_v4().to_string(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                ping,
                pong: true,
            }),
            ..Reply::default()
        });
        Ok(())
    }

    /// Checks a channel name: empty is a malformed command, a foreign name an error reply.
    fn namespace(&self, id: u32, channel: &str) -> Result<Option<Namespace>, DisconnectCode> {
        if channel.is_empty() {
            return Err(DisconnectCode::BadRequest);
        }
        match channel::parse(channel) {
            Ok(namespace) => Ok(Some(namespace)),
            Err(code) => {
                self.error(id, code);
                Ok(None)
            }
        }
    }

    async fn subscribe(&mut self, id: u32, request: SubscribeRequest) -> Outcome {
        let Some(namespace) = self.namespace(id, &request.channel)? else {
            return Ok(());
        };
        let channel = request.channel.as_str();
        if let Err(code) = self
            .handle
            .begin_subscription(channel, self.relay.options.max_channels_per_connection)
        {
            self.error(id, code);
            return Ok(());
        }
        // Registered before history is read: publications racing with the read are held by
        // the handle and merged by offset (see handle.rs).
        self.relay.hub.add(channel, self.handle.clone());
        if let Err(error) = self.relay.broker.subscribe(channel).await {
            tracing::error!(%error, channel, "broker subscribe failed");
            self.handle.end_subscription(channel);
            self.relay.hub.remove(channel, self.handle.id());
            self.error(id, ErrorCode::Internal);
            return Ok(());
        }
        let query = HistoryQuery {
            after: request.recover.then_some(request.offset),
            limit: if request.recover { None } else { Some(0) },
            ..HistoryQuery::default()
        };
        let policy = self.relay.policies.of(namespace);
        let slice = match self.relay.broker.history(channel, policy, query).await {
            Ok(slice) => slice,
            Err(error) => {
                tracing::error!(%error, channel, "broker history failed");
                self.leave_channel(channel).await;
                self.error(id, ErrorCode::Internal);
                return Ok(());
            }
        };
        // Recovery that would not fit one reply's budget is reported as not recovered: the
        // client then reads history page by page (bounded the same way) instead of queueing
        // an unbounded reply.
        let recovered = request.recover
            && slice.covers(&request.epoch, request.offset)
            && payload_bytes(&slice.publications) <= self.reply_budget;
        let reply = Reply {
            id,
            subscribe: Some(SubscribeResult {
                recoverable: true,
                positioned: true,
                epoch: slice.epoch.to_string(),
                offset: slice.top,
                was_recovering: request.recover,
                recovered,
                publications: if recovered {
                    slice
                        .publications
                        .iter()
                        .map(|publication| to_wire(publication))
                        .collect()
                } else {
                    Vec::new()
                },
            }),
            ..Reply::default()
        };
        match serde_json::to_string(&reply) {
            Ok(text) => {
                self.handle.finish_subscription(
                    channel,
                    slice.epoch.clone(),
                    slice.top,
                    Frame::from(text),
                );
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, "subscribe reply not serializable");
                Err(DisconnectCode::ServerError)
            }
        }
    }

    async fn leave_channel(&self, channel: &str) {
        if self.handle.end_subscription(channel) {
            self.relay.hub.remove(channel, self.handle.id());
            self.relay.broker.unsubscribe(channel).await;
        }
    }

    /// Drops every subscription when the connection ends.
    pub async fn leave_all_channels(&self) {
        for channel in self.handle.channels() {
            self.leave_channel(&channel).await;
        }
    }

    async fn unsubscribe(&mut self, id: u32, request: UnsubscribeRequest) -> Outcome {
        if request.channel.is_empty() {
            return Err(DisconnectCode::BadRequest);
        }
        self.leave_channel(&request.channel).await;
        self.reply(&Reply {
            id,
            unsubscribe: Some(UnsubscribeResult {}),
            ..Reply::default()
        });
        Ok(())
    }

    async fn publish(&mut self, id: u32, request: PublishRequest) -> Outcome {
        let Some(data) = request.data else {
            return Err(DisconnectCode::BadRequest);
        };
        let Some(namespace) = self.namespace(id, &request.channel)? else {
            return Ok(());
        };
        if !self.publish_bucket.try_take(Instant::now()) {
            self.error(id, ErrorCode::TooManyRequests);
            return Ok(());
        }
        let policy = self.relay.policies.of(namespace);
        match self
            .relay
            .broker
            .publish(&request.channel, policy, data)
            .await
        {
            Ok(_) => {
                self.relay.metrics.published();
                self.reply(&Reply {
                    id,
                    publish: Some(PublishResult {}),
                    ..Reply::default()
                });
            }
            Err(BrokerError::Full(full)) => {
                // Debug only: a flood of refusals must not become a flood of log lines (the
                // errors metric counts them).
                tracing::debug!(%full, channel = request.channel, "publish refused: relay full");
                self.error(id, ErrorCode::LimitExceeded);
            }
            Err(error) => {
                tracing::error!(%error, channel = request.channel, "broker publish failed");
                self.error(id, ErrorCode::Internal);
            }
        }
        Ok(())
    }

    async fn history(&mut self, id: u32, request: HistoryRequest) -> Outcome {
        let Some(namespace) = self.namespace(id, &request.channel)? else {
            return Ok(());
        };
        let policy = self.relay.policies.of(namespace);
        let limit = match request.limit {
            0 => Some(0),
            limit if limit < 0 => None,
            limit => Some(
                usize::try_from(limit)
                    .unwrap_or(usize::MAX)
                    .min(policy.size),
            ),
        };
        let since = request.since.as_ref();
        let query = HistoryQuery {
            after: since
                .filter(|_| !request.reverse)
                .map(|position| position.offset),
            before: since
                .filter(|_| request.reverse)
                .map(|position| position.offset),
            limit,
            reverse: request.reverse,
        };
        let slice = match self
            .relay
            .broker
            .history(&request.channel, policy, query)
            .await
        {
            Ok(slice) => slice,
            Err(error) => {
                tracing::error!(%error, channel = request.channel, "broker history failed");
                self.error(id, ErrorCode::Internal);
                return Ok(());
            }
        };
        if let Some(position) = since {
            let reachable = if request.reverse {
                position.epoch == *slice.epoch && position.offset <= slice.top + 1
            } else {
                slice.covers(&position.epoch, position.offset) && !position.epoch.is_empty()
            };
            if !reachable {
                self.error(id, ErrorCode::UnrecoverablePosition);
                return Ok(());
            }
        }
        // At most one budget of publications per reply, in the query's order: a client pages
        // on from the last offset it got (`since`).
        let fitting = fitting_prefix(&slice.publications, self.reply_budget);
        self.reply(&Reply {
            id,
            history: Some(HistoryResult {
                publications: slice.publications[..fitting]
                    .iter()
                    .map(|publication| to_wire(publication))
                    .collect(),
                epoch: slice.epoch.to_string(),
                offset: slice.top,
            }),
            ..Reply::default()
        });
        Ok(())
    }
}

fn payload_bytes(publications: &[Arc<StoredPublication>]) -> usize {
    publications.iter().map(|p| p.data.get().len()).sum()
}

/// How many of `publications`, from the first, fit in `budget` bytes of payload (at least one,
/// so a reply always makes progress).
fn fitting_prefix(publications: &[Arc<StoredPublication>], budget: usize) -> usize {
    let mut total = 0;
    for (index, publication) in publications.iter().enumerate() {
        total += publication.data.get().len();
        if total > budget && index > 0 {
            return index;
        }
    }
    publications.len()
}

fn to_wire(publication: &StoredPublication) -> Publication {
    Publication {
        data: clone_raw(&publication.data),
        offset: publication.offset,
    }
}

fn clone_raw(data: &RawValue) -> Box<RawValue> {
    data.to_owned()
}

/// A read error: an oversized frame is 1009, like Centrifugo's WebSocket layer sends;
/// anything else is a dead socket.
fn read_error_code(error: axum::Error) -> DisconnectCode {
    let inner = error.into_inner();
    match inner.downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Capacity(_)) => DisconnectCode::MessageTooBig,
        _ => DisconnectCode::ConnectionClosed,
    }
}
