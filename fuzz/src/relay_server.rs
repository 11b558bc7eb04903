//! The real relay (`walletwire-server`'s [`Relay`], memory broker) served in-process: each
//! client is a WebSocket over an in-memory pipe to hyper serving the relay's own routes, so
//! every frame goes through the same upgrade, WebSocket layer, command parser and dispatch
//! as on a socket, without a port.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio::io::DuplexStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use walletwire::relay::{DisconnectCode, ErrorCode, Reply};
use walletwire_server::{Cli, Relay};

/// Relay settings with small limits, so that history trimming, the channel limit, the frame
/// limit and the publish rate limit are all within a fuzz input's reach.
pub const RELAY_ARGS: &[&str] = &[
    "walletwire-server",
    "--no-signaling",
    "--handshake-history-size",
    "4",
    "--session-history-size",
    "8",
    "--max-channels-per-connection",
    "4",
    "--max-frame-size",
    "2048",
    "--publish-burst",
    "6",
    "--publish-rate",
    "1",
];

/// A fresh relay (empty broker, no connections) with [`RELAY_ARGS`], parsed once per
/// process: parsing cost more than building the relay.
pub async fn relay() -> Arc<Relay> {
    static CLI: OnceLock<Cli> = OnceLock::new();
    let cli = CLI
        .get_or_init(|| Cli::try_parse_from(RELAY_ARGS).expect("the fuzz relay arguments parse"));
    Relay::new(cli.relay.clone())
        .await
        .expect("the memory broker starts")
}

/// Opens a WebSocket to `relay` over an in-memory pipe.
pub async fn connect(relay: &Arc<Relay>) -> WebSocketStream<DuplexStream> {
    let (client, server) = tokio::io::duplex(1 << 20);
    let service = hyper_util::service::TowerToHyperService::new(relay.routes());
    tokio::spawn(async move {
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(hyper_util::rt::TokioIo::new(server), service)
            .with_upgrades()
            .await;
    });
    // The client's read buffer is small (the default, 128 KiB, is zeroed for every
    // connection); the relay's side keeps its own settings.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (ws, _) = tokio_tungstenite::client_async_with_config(
        "ws://relay/connection/websocket",
        client,
        Some(config),
    )
    .await
    .expect("the relay accepts the WebSocket upgrade");
    ws
}

/// What one client saw.
#[derive(Debug, Default)]
pub struct Transcript {
    /// Every reply and push, in order.
    pub replies: Vec<Reply>,
    /// The close code the relay sent, if any.
    pub close: Option<u16>,
}

/// A client whose incoming frames are collected by a task.
#[derive(Debug)]
pub struct Client {
    sink: futures_util::stream::SplitSink<WebSocketStream<DuplexStream>, Message>,
    reader: JoinHandle<Transcript>,
    /// Commands sent per id (from the text, as JSON objects with a numeric `id`).
    pub sent_ids: BTreeMap<u64, usize>,
}

impl Client {
    /// Connects and starts reading.
    pub async fn start(relay: &Arc<Relay>) -> Self {
        let (sink, mut stream) = connect(relay).await.split();
        let reader = tokio::spawn(async move {
            let mut transcript = Transcript::default();
            while let Some(message) = stream.next().await {
                match message {
                    Ok(Message::Text(text)) => {
                        for line in text.as_str().split('\n') {
                            let reply: Reply = serde_json::from_str(line).unwrap_or_else(|e| {
                                panic!("the relay sent a line the SDK cannot read ({e}): {line:?}")
                            });
                            transcript.replies.push(reply);
                        }
                    }
                    Ok(Message::Close(frame)) => {
                        transcript.close = frame.map(|f: CloseFrame| u16::from(f.code));
                    }
                    Ok(Message::Binary(_)) => panic!("the relay sent a binary frame"),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            transcript
        });
        Self {
            sink,
            reader,
            sent_ids: BTreeMap::new(),
        }
    }

    /// Sends one text frame (errors mean the relay already closed: ignored).
    pub async fn send(&mut self, text: String) {
        for line in text.split('\n') {
            if let Ok(serde_json::Value::Object(object)) = serde_json::from_str(line)
                && let Some(id) = object.get("id").and_then(serde_json::Value::as_u64)
            {
                *self.sent_ids.entry(id).or_default() += 1;
            }
        }
        let _ = self.sink.send(Message::text(text)).await;
    }

    /// Closes from the client side and waits (virtual time) for the relay to end the
    /// connection; checks what the relay sent.
    pub async fn finish(mut self) -> Transcript {
        let _ = self.sink.close().await;
        let transcript = tokio::time::timeout(Duration::from_secs(60), self.reader)
            .await
            .expect("the relay ends a connection the client closed")
            .expect("the reader task does not panic");
        if let Some(code) = transcript.close {
            assert!(
                code == 1000 || DisconnectCode::from_code(code).is_some(),
                "the relay closed with unknown code {code}"
            );
        }
        let mut answered: BTreeMap<u64, usize> = BTreeMap::new();
        let mut last_offset: BTreeMap<String, u64> = BTreeMap::new();
        for reply in &transcript.replies {
            if reply.id != 0 {
                let count = answered.entry(u64::from(reply.id)).or_default();
                *count += 1;
                assert!(
                    *count
                        <= self
                            .sent_ids
                            .get(&u64::from(reply.id))
                            .copied()
                            .unwrap_or(0),
                    "more replies than commands with id {}",
                    reply.id
                );
            }
            if let Some(error) = &reply.error {
                assert!(
                    ErrorCode::from_code(error.code).is_some(),
                    "unknown error code {}",
                    error.code
                );
            }
            if let Some(push) = &reply.push
                && let Some(publication) = &push.publication
            {
                let last = last_offset.entry(push.channel.clone()).or_default();
                assert!(
                    publication.offset > *last,
                    "{}: push at offset {} after {}",
                    push.channel,
                    publication.offset,
                    last
                );
                *last = publication.offset;
            }
        }
        transcript
    }
}
