//! The tokio driver of a [`Hub`]: one WebSocket to the relay, the hub's timers, and the
//! sessions file. It only moves bytes, time and records; every protocol decision stays in the
//! sans-IO core.
//!
//! The loop, inside [`Driver::next`]:
//! 1. pump the hub and apply its outputs in order: `Socket(Open)` starts a connection attempt,
//!    `Socket(Send)` hands the text to the socket's writer task, `Socket(Close)` drops the
//!    socket, `Store` / `Remove` go to the sessions file (written before the next frame leaves,
//!    so a crash never reuses a sequence number), events are queued for the caller;
//! 2. return the oldest queued event, if any;
//! 3. otherwise wait for whichever comes first: the connection attempt finishing, a frame or
//!    the close of the socket, or the hub's next deadline.
//!
//! Every await point keeps its state in the driver (the pending connection attempt, the
//! reader, the writer task), so [`Driver::next`] is cancel-safe: callers may race it against
//! Ctrl-C or a test timeout and call it again later without losing anything.
//!
//! User calls go through [`Driver::hub`] (e.g. `hub.connection(id)`); the next call to
//! [`Driver::next`] or [`Driver::settle`] pumps and sends what they produced.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use walletwire::protocol::Limits;
use walletwire::relay::client::{RelayClientOptions, Transmit};
use walletwire::relay::hub::{Hub, HubEvent, HubOutput};

use crate::store::SessionStore;
use crate::system::{now_ms, os_random};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Connecting = Pin<Box<dyn Future<Output = Result<Socket, tungstenite::Error>> + Send>>;

/// Longest single sleep: deadlines far away (a 7-day session expiry) are re-checked.
const MAX_SLEEP_MS: u64 = 60_000;

/// What the driver reports to the application.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DriverEvent {
    /// What the hub reports: a connection's event, the link going up or down, a relay refusal.
    Hub(HubEvent),
    /// Opening the WebSocket failed (the client retries with backoff).
    SocketFailed {
        /// Why.
        error: String,
    },
    /// Writing the sessions file failed; the session goes on in memory.
    StoreFailed {
        /// Why.
        error: String,
    },
}

enum Link {
    Idle,
    Connecting(Connecting),
    Open {
        reader: SplitStream<Socket>,
        writer: mpsc::UnboundedSender<Message>,
        task: JoinHandle<()>,
    },
}

/// What ended a wait.
enum Woke {
    Connected(Box<Result<Socket, tungstenite::Error>>),
    Frame(Option<Result<Message, tungstenite::Error>>),
    WriterEnded,
    Timer,
}

/// See the module docs.
pub struct Driver {
    hub: Hub,
    url: String,
    store: Option<SessionStore>,
    link: Link,
    events: VecDeque<DriverEvent>,
    changes: Vec<(String, Option<String>)>,
}

impl core::fmt::Debug for Driver {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let link = match self.link {
            Link::Idle => "idle",
            Link::Connecting(_) => "connecting",
            Link::Open { .. } => "open",
        };
        f.debug_struct("Driver")
            .field("url", &self.url)
            .field("link", &link)
            .field("hub", &self.hub)
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// A driver for the relay at `url`; records go to `store` (None: kept nowhere).
    pub fn new(
        url: impl Into<String>,
        options: RelayClientOptions,
        limits: Limits,
        store: Option<SessionStore>,
    ) -> Self {
        let mut hub = Hub::new(options, limits, os_random());
        hub.pump(now_ms());
        Self {
            hub,
            url: url.into(),
            store,
            link: Link::Idle,
            events: VecDeque::new(),
            changes: Vec::new(),
        }
    }

    /// The relay URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The hub, for user calls (`connect_dapp`, `connect_wallet`, `resume`,
    /// `connection(id)`); what they produce is applied by the next [`Driver::next`].
    pub fn hub(&mut self) -> &mut Hub {
        &mut self.hub
    }

    /// The next event, running the socket and timers until there is one. Cancel-safe.
    pub async fn next(&mut self) -> DriverEvent {
        loop {
            self.apply_outputs();
            if let Some(event) = self.events.pop_front() {
                return event;
            }
            self.wait().await;
        }
    }

    /// An event already at hand, without waiting (applies pending outputs first).
    pub fn poll_event(&mut self) -> Option<DriverEvent> {
        self.apply_outputs();
        self.events.pop_front()
    }

    /// [`Driver::next`] with a time limit.
    pub async fn next_within(&mut self, limit: Duration) -> Option<DriverEvent> {
        tokio::time::timeout(limit, self.next()).await.ok()
    }

    /// Runs until the relay acknowledged every queued publication (true) or `limit` passes
    /// (false). Events that arrive meanwhile are kept for [`Driver::next`].
    pub async fn settle(&mut self, limit: Duration) -> bool {
        let run = async {
            loop {
                self.apply_outputs();
                if self.hub.is_online() && self.hub.queued() == 0 {
                    return;
                }
                self.wait().await;
            }
        };
        tokio::time::timeout(limit, run).await.is_ok()
    }

    /// Drops the socket without telling the hub first (the hub learns it as a close with no
    /// code, as when the network fails). For tests and for shutting down.
    pub fn drop_socket(&mut self) {
        if let Link::Open { task, .. } = std::mem::replace(&mut self.link, Link::Idle) {
            task.abort();
            self.hub.handle_close(0, now_ms());
        } else {
            self.link = Link::Idle;
        }
    }

    fn apply_outputs(&mut self) {
        self.hub.pump(now_ms());
        while let Some(output) = self.hub.poll_output() {
            match output {
                HubOutput::Socket(transmit) => self.transmit(transmit),
                HubOutput::Store { key, record } => self.changes.push((key, Some(record))),
                HubOutput::Remove { key } => self.changes.push((key, None)),
                HubOutput::Event(event) => self.events.push_back(DriverEvent::Hub(event)),
                _ => {}
            }
        }
        self.flush_store();
    }

    fn flush_store(&mut self) {
        if self.changes.is_empty() {
            return;
        }
        let changes = std::mem::take(&mut self.changes);
        if let Some(store) = &self.store
            && let Err(e) = store.apply(&changes)
        {
            self.events.push_back(DriverEvent::StoreFailed {
                error: e.to_string(),
            });
        }
    }

    fn transmit(&mut self, transmit: Transmit) {
        match transmit {
            Transmit::Open => {
                if let Link::Open { task, .. } = &self.link {
                    task.abort();
                }
                let url = self.url.clone();
                self.link = Link::Connecting(Box::pin(async move {
                    // Small frames both ways: Nagle's algorithm would hold each one back for the
                    // peer's delayed ACK (~40 ms per request round trip).
                    tokio_tungstenite::connect_async_with_config(url.as_str(), None, true)
                        .await
                        .map(|(socket, _response)| socket)
                }));
            }
            Transmit::Send(text) => {
                // Records the frame depends on (sequence numbers) reach the file first.
                self.flush_store();
                if let Link::Open { writer, .. } = &self.link {
                    // A closed writer means the socket died; the wait notices and reports it.
                    let _ = writer.send(Message::Text(text.into()));
                }
            }
            Transmit::Close => {
                if let Link::Open { writer, .. } = &self.link {
                    // The writer task sends the close frame and ends.
                    let _ = writer.send(Message::Close(None));
                }
                self.link = Link::Idle;
            }
        }
    }

    async fn wait(&mut self) {
        let now = now_ms();
        let sleep_ms = self
            .hub
            .poll_timeout()
            .map_or(MAX_SLEEP_MS, |t| t.saturating_sub(now).min(MAX_SLEEP_MS));
        let sleep = tokio::time::sleep(Duration::from_millis(sleep_ms));
        let woke = match &mut self.link {
            Link::Idle => {
                sleep.await;
                Woke::Timer
            }
            Link::Connecting(attempt) => tokio::select! {
                result = attempt => Woke::Connected(Box::new(result)),
                () = sleep => Woke::Timer,
            },
            Link::Open { reader, task, .. } => tokio::select! {
                frame = reader.next() => Woke::Frame(frame),
                _ = task => Woke::WriterEnded,
                () = sleep => Woke::Timer,
            },
        };
        let now = now_ms();
        match woke {
            Woke::Timer => self.hub.handle_timeout(now),
            Woke::Connected(result) => self.opened(*result, now),
            Woke::Frame(Some(Ok(Message::Text(text)))) => self.hub.handle_text(text.as_str(), now),
            Woke::Frame(Some(Ok(Message::Close(frame)))) => {
                let code = frame.map_or(0, |f| u16::from(f.code));
                self.close_link(code, now);
            }
            // Pings are answered by tungstenite; Centrifugo JSON never sends binary frames.
            Woke::Frame(Some(Ok(_))) => {}
            Woke::Frame(Some(Err(_)) | None) | Woke::WriterEnded => self.close_link(0, now),
        }
    }

    fn opened(&mut self, result: Result<Socket, tungstenite::Error>, now: u64) {
        match result {
            Ok(socket) => {
                let (sink, reader) = socket.split();
                let (writer, queue) = mpsc::unbounded_channel();
                let task = tokio::spawn(write_frames(sink, queue));
                self.link = Link::Open {
                    reader,
                    writer,
                    task,
                };
                self.hub.handle_open(now);
            }
            Err(error) => {
                self.link = Link::Idle;
                self.events.push_back(DriverEvent::SocketFailed {
                    error: error.to_string(),
                });
                self.hub.handle_close(0, now);
            }
        }
    }

    fn close_link(&mut self, code: u16, now: u64) {
        if let Link::Open { task, .. } = std::mem::replace(&mut self.link, Link::Idle) {
            task.abort();
        }
        self.hub.handle_close(code, now);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Link::Open { task, .. } = &self.link {
            task.abort();
        }
    }
}

/// Writes queued frames, batching whatever is already waiting into one flush; ends after a
/// close frame or on the first error (the reader then sees the socket end).
async fn write_frames(
    mut sink: SplitSink<Socket, Message>,
    mut queue: mpsc::UnboundedReceiver<Message>,
) {
    while let Some(message) = queue.recv().await {
        let mut closing = matches!(message, Message::Close(_));
        if sink.feed(message).await.is_err() {
            return;
        }
        while !closing && let Ok(message) = queue.try_recv() {
            closing = matches!(message, Message::Close(_));
            if sink.feed(message).await.is_err() {
                return;
            }
        }
        if sink.flush().await.is_err() || closing {
            let _ = sink.close().await;
            return;
        }
    }
    let _ = sink.close().await;
}
