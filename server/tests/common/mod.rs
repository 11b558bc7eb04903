//! Shared helpers of the relay integration tests: start the real `walletwire-server` binary
//! on an ephemeral loopback port and talk to it over real WebSockets.
#![allow(dead_code)] // Each test file uses a different subset.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream as StdTcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single expected event may take.
pub const WAIT: Duration = Duration::from_secs(5);

/// Relay arguments that lift the per-connection publish and command rate limits, for tests
/// that push many commands through one connection on purpose.
pub const UNLIMITED_RATES: [&str; 8] = [
    "--publish-rate",
    "100000",
    "--publish-burst",
    "100000",
    "--command-rate",
    "100000",
    "--command-burst",
    "100000",
];

/// A channel id for tests.
pub fn channel(namespace: &str) -> String {
    format!("{namespace}:{}", uuid::Uuid::new_v4())
}

/// A running relay process, killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Server {
    /// Starts the relay with extra arguments and waits for its "listening" line.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_walletwire-server"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server prints a line");
        let port = line
            .trim()
            .strip_prefix("relay listening on ws://127.0.0.1:")
            .and_then(|rest| rest.strip_suffix("/connection/websocket"))
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        Self { child, port }
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/connection/websocket", self.port)
    }

    /// A plain HTTP GET: (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut stream = StdTcpStream::connect(("127.0.0.1", self.port)).expect("HTTP connect");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .expect("HTTP write");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("HTTP read");
        let status = response[9..12].parse().expect("status code");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not exit after SIGTERM");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    /// A close frame with this code.
    Code(u16),
    /// The socket ended without a close frame.
    Dropped,
}

/// A raw Centrifugo-protocol client.
pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u32,
    /// Answer server pings automatically.
    pub auto_pong: bool,
    /// Pushes received while waiting for a reply.
    pushes: std::collections::VecDeque<Value>,
    /// Server pings seen.
    pub pings: usize,
    /// Objects of a batch not yet returned.
    buffered: std::collections::VecDeque<Value>,
}

impl Client {
    /// Opens the WebSocket without sending `connect`.
    pub async fn open(url: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("WebSocket handshake");
        Self {
            ws,
            next_id: 0,
            auto_pong: true,
            pushes: Default::default(),
            pings: 0,
            buffered: Default::default(),
        }
    }

    /// Opens and connects.
    pub async fn connect(url: &str) -> Self {
        let mut client = Self::open(url).await;
        let reply = client.command("connect", json!({"name": "test"})).await;
        assert!(
            reply["connect"]["client"].is_string(),
            "connect reply: {reply}"
        );
        client
    }

    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.ws
            .send(Message::Text(text.into().into()))
            .await
            .expect("send");
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws
            .send(Message::Binary(bytes.into()))
            .await
            .expect("send");
    }

    /// A command object with a fresh id.
    pub fn command_json(&mut self, method: &str, body: Value) -> (u32, String) {
        self.next_id += 1;
        let mut command = json!({"id": self.next_id});
        command[method] = body;
        (self.next_id, command.to_string())
    }

    /// Sends one command and waits for its reply.
    pub async fn command(&mut self, method: &str, body: Value) -> Value {
        let (id, text) = self.command_json(method, body);
        self.send_text(text).await;
        self.reply(id).await
    }

    /// Waits for the reply with `id`, keeping pushes for later.
    pub async fn reply(&mut self, id: u32) -> Value {
        loop {
            let message = self.next().await.unwrap_or_else(|closed| {
                panic!("closed ({closed:?}) while waiting for reply {id}")
            });
            if message["id"] == id {
                return message;
            }
            if message.get("push").is_some() {
                self.pushes.push_back(message);
            }
        }
    }

    /// Forgets pushes stashed while waiting for replies (e.g. those of a subscription that
    /// has just been left: they all precede the unsubscribe reply).
    pub fn clear_pushes(&mut self) {
        self.pushes.clear();
    }

    /// The next publication push.
    pub async fn publication(&mut self) -> Value {
        if let Some(push) = self.pushes.pop_front() {
            return push;
        }
        loop {
            let message = self
                .next()
                .await
                .unwrap_or_else(|closed| panic!("closed ({closed:?}) while waiting for a push"));
            if message.get("push").is_some() {
                return message;
            }
        }
    }

    /// Whether a publication arrives within `wait`.
    pub async fn publication_within(&mut self, wait: Duration) -> Option<Value> {
        if let Some(push) = self.pushes.pop_front() {
            return Some(push);
        }
        tokio::time::timeout(wait, self.publication()).await.ok()
    }

    /// The next non-ping JSON object, answering pings when `auto_pong`.
    pub async fn next(&mut self) -> Result<Value, Closed> {
        loop {
            if let Some(value) = self.buffered.pop_front() {
                if value.as_object().is_some_and(|object| object.is_empty()) {
                    self.pings += 1;
                    if self.auto_pong {
                        self.send_text("{}").await;
                    }
                    continue;
                }
                return Ok(value);
            }
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("the server answers in time");
            match message {
                Some(Ok(Message::Text(text))) => {
                    for line in text
                        .as_str()
                        .split('\n')
                        .filter(|line| !line.trim().is_empty())
                    {
                        self.buffered
                            .push_back(serde_json::from_str(line).expect("server sends JSON"));
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(
                        frame.map_or(Closed::Dropped, |frame| Closed::Code(u16::from(frame.code)))
                    );
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Err(Closed::Dropped),
            }
        }
    }

    /// Reads until the connection closes and returns how.
    pub async fn closed(&mut self) -> Closed {
        loop {
            if let Err(closed) = self.next().await {
                return closed;
            }
        }
    }

    pub async fn subscribe(&mut self, channel: &str) -> Value {
        let reply = self.command("subscribe", json!({"channel": channel})).await;
        assert!(reply.get("subscribe").is_some(), "subscribe reply: {reply}");
        reply
    }

    /// Subscribes asking to recover everything after `offset` in `epoch`; returns the reply.
    pub async fn recover(&mut self, channel: &str, offset: u64, epoch: &str) -> Value {
        self.command(
            "subscribe",
            json!({"channel": channel, "recover": true, "offset": offset, "epoch": epoch}),
        )
        .await
    }

    pub async fn publish(&mut self, channel: &str, data: Value) -> Value {
        self.command("publish", json!({"channel": channel, "data": data}))
            .await
    }
}

/// The stream epoch of a subscribe reply.
pub fn epoch_of(reply: &Value) -> String {
    reply["subscribe"]["epoch"]
        .as_str()
        .expect("subscribe reply carries an epoch")
        .to_owned()
}

/// Close code helper for readability.
pub fn code(code: u16) -> Closed {
    let _ = CloseCode::from(code);
    Closed::Code(code)
}

/// The server with the signaling listener on an ephemeral port (the relay on another), killed
/// when dropped. `lines` holds the two start-up lines; later output is drained.
pub struct Signaling {
    pub child: Child,
    pub port: u16,
    pub lines: Vec<String>,
}

impl Signaling {
    /// Starts the binary with `args` added.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_walletwire-server"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--signaling-listen",
                "127.0.0.1:0",
            ])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server binary starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut lines = Vec::new();
        let mut port = None;
        for _ in 0..2 {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("the server prints");
            if let Some(rest) = line
                .trim()
                .strip_prefix("signaling listening on http://127.0.0.1:")
            {
                port = rest.strip_suffix('/').and_then(|p| p.parse().ok());
            }
            lines.push(line.trim().to_owned());
        }
        // Keep reading stdout so the server never writes into a closed pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = stdout.read_to_string(&mut sink);
        });
        let port = port.unwrap_or_else(|| panic!("no signaling line in {lines:?}"));
        Self { child, port, lines }
    }

    /// One raw HTTP exchange: (status, lower-cased head, body).
    pub fn http(&self, request: &[u8]) -> (u16, String, String) {
        self.http_from(std::net::Ipv4Addr::LOCALHOST, request)
    }

    /// [`Signaling::http`] from the source address `source` (any 127/8 address works on
    /// Linux loopback: a second client address without a second machine).
    pub fn http_from(&self, source: std::net::Ipv4Addr, request: &[u8]) -> (u16, String, String) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("runtime");
        let mut stream = runtime
            .block_on(async {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.bind((source, 0).into())?;
                socket.connect(([127, 0, 0, 1], self.port).into()).await
            })
            .and_then(|s| s.into_std())
            .expect("connect");
        stream.set_nonblocking(false).expect("blocking");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let _ = stream.write_all(request);
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let response = String::from_utf8_lossy(&response).into_owned();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, head.to_ascii_lowercase(), body.to_owned())
    }
}

impl Drop for Signaling {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
