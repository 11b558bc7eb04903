//! Attacks on the relay's memory and fairness by anonymous clients, over real WebSockets
//! against the real binary (SECURITY.md, "Availability of the relay"):
//!
//! * reading (history, subscribe, unsubscribe) thousands of fresh channels creates no state;
//! * every command costs rate tokens, per connection and per client address, and one address
//!   holds a bounded number of connections;
//! * a client that subscribes with recovery to channels full of history without reading is
//!   closed as slow at the queue limit instead of making the relay queue it all;
//! * publishing into fresh channels stops at the global caps on streams and history bytes with
//!   error 106, while an honest session goes on working throughout.
//!
//! The Redis broker's side (a read writes no key) is in `redis_broker.rs`.

mod common;

use std::time::Duration;

use common::{Client, Server, UNLIMITED_RATES, WAIT, channel};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;

/// A gauge or counter line of `/metrics` (0 when absent).
fn metric(server: &Server, name: &str) -> u64 {
    let (status, text) = server.get("/metrics");
    assert_eq!(status, 200);
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0)
}

/// Resident memory of a process in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("procfs");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line")
}

/// Sends `commands` (method, body) in frames of `batch` newline-separated commands, then
/// collects one reply per command.
async fn pipelined(client: &mut Client, commands: &[(&str, Value)], batch: usize) -> Vec<Value> {
    let mut replies = Vec::with_capacity(commands.len());
    for chunk in commands.chunks(batch) {
        let mut ids = Vec::new();
        let mut frame = String::new();
        for (method, body) in chunk {
            let (id, text) = client.command_json(method, body.clone());
            ids.push(id);
            frame.push_str(&text);
            frame.push('\n');
        }
        client.send_text(frame).await;
        for id in ids {
            replies.push(client.reply(id).await);
        }
    }
    replies
}

/// An honest pair on one session channel: `publish` through one, received by the other.
struct HonestPair {
    subscriber: Client,
    publisher: Client,
    channel: String,
    sent: u64,
}

impl HonestPair {
    async fn new(server: &Server) -> Self {
        let channel = channel("session");
        let mut subscriber = Client::connect(&server.url()).await;
        subscriber.subscribe(&channel).await;
        let publisher = Client::connect(&server.url()).await;
        Self {
            subscriber,
            publisher,
            channel,
            sent: 0,
        }
    }

    /// One message through the relay, checked end to end.
    async fn exchange(&mut self) {
        self.sent += 1;
        let n = self.sent;
        let reply = self
            .publisher
            .publish(&self.channel, json!({"honest": n, "pad": "x".repeat(200)}))
            .await;
        assert!(reply.get("error").is_none(), "honest publish {n}: {reply}");
        let push = self.subscriber.publication().await;
        assert_eq!(push["push"]["pub"]["data"]["honest"], n, "{push}");
        assert_eq!(push["push"]["pub"]["offset"], n, "{push}");
    }
}

#[tokio::test]
async fn attack_reading_20000_fresh_channels_leaves_no_state() {
    // Rate limits off, so the test shows that reads themselves store nothing.
    let server = Server::start(&[
        "--public-metrics",
        "--command-rate",
        "100000000",
        "--command-burst",
        "100000000",
        "--address-command-rate",
        "0",
    ]);
    let mut attacker = Client::connect(&server.url()).await;
    let reads = |count: usize| -> Vec<(&'static str, Value)> {
        (0..count)
            .flat_map(|_| {
                let channel = channel("session");
                [
                    ("history", json!({"channel": channel, "limit": -1})),
                    (
                        "subscribe",
                        json!({"channel": channel, "recover": true, "offset": 0, "epoch": ""}),
                    ),
                    ("unsubscribe", json!({"channel": channel})),
                ]
            })
            .collect()
    };
    // Warm up (allocator arenas, buffers) before the baseline.
    for reply in pipelined(&mut attacker, &reads(2000), 300).await {
        assert!(reply.get("error").is_none(), "{reply}");
    }
    let before = rss_kib(server.pid());
    for reply in pipelined(&mut attacker, &reads(20_000), 300).await {
        assert!(reply.get("error").is_none(), "{reply}");
    }
    let after = rss_kib(server.pid());
    assert_eq!(metric(&server, "walletwire_relay_streams"), 0);
    assert_eq!(metric(&server, "walletwire_relay_channels"), 0);
    assert_eq!(metric(&server, "walletwire_relay_history_bytes"), 0);
    // Before the fix each read kept a stream (about 250 bytes with its name) for the
    // namespace's TTL: 20 000 reads grew the relay by about 5 MiB. Allow allocator noise.
    let grown = after.saturating_sub(before);
    println!("RSS {before} KiB -> {after} KiB after 60 000 reads of fresh channels");
    assert!(grown < 1536, "relay RSS grew by {grown} KiB");
    // A read of a fresh channel and its first publication agree on the epoch.
    let fresh = channel("session");
    let read = attacker
        .command("history", json!({"channel": fresh, "limit": 0}))
        .await;
    let mut subscriber = Client::connect(&server.url()).await;
    let subscribed = subscriber.subscribe(&fresh).await;
    assert_eq!(read["history"]["epoch"], subscribed["subscribe"]["epoch"]);
    attacker.publish(&fresh, json!({"first": true})).await;
    let push = subscriber.publication().await;
    assert_eq!(push["push"]["pub"]["offset"], 1);
    let again = attacker
        .command("history", json!({"channel": fresh, "limit": -1}))
        .await;
    assert_eq!(again["history"]["epoch"], read["history"]["epoch"]);
    assert_eq!(metric(&server, "walletwire_relay_streams"), 1);
}

#[tokio::test]
async fn attack_command_floods_are_rate_limited_per_connection_and_per_address() {
    // Per connection: every kind of command costs a token.
    let server = Server::start(&[
        "--public-metrics",
        "--command-rate",
        "10",
        "--command-burst",
        "50",
    ]);
    let mut flooder = Client::connect(&server.url()).await;
    let reads: Vec<(&str, Value)> = (0..300)
        .map(|i| match i % 3 {
            0 => (
                "history",
                json!({"channel": channel("session"), "limit": -1}),
            ),
            1 => ("subscribe", json!({"channel": channel("handshake")})),
            _ => ("unsubscribe", json!({"channel": channel("handshake")})),
        })
        .collect();
    let replies = pipelined(&mut flooder, &reads, 100).await;
    let limited = replies.iter().filter(|r| r["error"]["code"] == 111).count();
    // 50 in the burst, plus what refilled while the replies were read.
    assert!(limited >= 200, "{limited} of 300 refused");
    assert!(
        replies
            .iter()
            .all(|r| r.get("error").is_none() || r["error"]["code"] == 111),
        "only rate-limit errors"
    );
    // The budget refills; the connection was not closed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ok = flooder
        .command(
            "history",
            json!({"channel": channel("session"), "limit": 0}),
        )
        .await;
    assert!(ok.get("history").is_some(), "{ok}");
    drop(flooder);

    // Per address: connections of one address share one budget, and their number is capped.
    let server = Server::start(&[
        "--public-metrics",
        "--address-command-rate",
        "10",
        "--address-command-burst",
        "60",
        "--max-connections-per-address",
        "4",
    ]);
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(Client::connect(&server.url()).await);
    }
    let mut limited = 0;
    for client in &mut clients {
        let reads: Vec<(&str, Value)> = (0..40)
            .map(|_| {
                (
                    "history",
                    json!({"channel": channel("session"), "limit": 0}),
                )
            })
            .collect();
        limited += pipelined(client, &reads, 40)
            .await
            .iter()
            .filter(|r| r["error"]["code"] == 111)
            .count();
    }
    // 160 commands, 60 in the shared burst (4 connect commands took 4 of it).
    assert!(limited >= 80, "{limited} of 160 refused");
    assert_eq!(metric(&server, "walletwire_relay_client_addresses"), 1);
    let mut fifth = Client::open(&server.url()).await;
    assert_eq!(fifth.closed().await, common::code(3504));
    drop(clients.pop());
    // The place is freed when a connection closes.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut again = Client::open(&server.url()).await;
        let (id, text) = again.command_json("connect", json!({}));
        again.send_text(text).await;
        match again.next().await {
            Ok(reply) if reply["id"] == id => break,
            _ => assert!(tokio::time::Instant::now() < deadline, "no place freed"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn attack_recovering_without_reading_is_cut_at_the_queue_limit() {
    let server = Server::start(
        &[
            ["--public-metrics", "--max-queue-bytes", "262144"].as_slice(),
            &UNLIMITED_RATES,
        ]
        .concat(),
    );
    // 100 channels, each with 15 publications of 4 KiB: every recovery reply fits the reply
    // budget (64 KiB), all together are 6 MB.
    let channels: Vec<String> = (0..100).map(|_| channel("session")).collect();
    let mut publisher = Client::connect(&server.url()).await;
    let payload = "p".repeat(4000);
    let publishes: Vec<(&str, Value)> = channels
        .iter()
        .flat_map(|c| (0..15).map(move |_| c.clone()))
        .map(|c| ("publish", json!({"channel": c, "data": {"p": payload}})))
        .collect();
    for reply in pipelined(&mut publisher, &publishes, 10).await {
        assert!(reply.get("error").is_none(), "{reply}");
    }
    let mut honest = HonestPair::new(&server).await;
    honest.exchange().await;

    // The attacker's socket takes almost nothing from the relay: a tiny receive buffer, and
    // it never reads.
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let stream = socket
        .connect(
            format!("127.0.0.1:{}", server.port)
                .parse()
                .expect("address"),
        )
        .await
        .expect("TCP connect");
    let (mut ws, _) = tokio_tungstenite::client_async(server.url(), stream)
        .await
        .expect("WebSocket handshake");
    ws.send(Message::Text(r#"{"id":1,"connect":{}}"#.into()))
        .await
        .expect("send connect");
    let before = rss_kib(server.pid());
    for (i, c) in channels.iter().enumerate() {
        let command = json!({"id": i + 2, "subscribe": {"channel": c, "recover": true, "offset": 0, "epoch": ""}});
        if ws
            .send(Message::Text(command.to_string().into()))
            .await
            .is_err()
        {
            break; // cut already
        }
    }
    // The relay closes it as slow (3008) at its queue limit. (Before the fix recovery replies
    // skipped the limit: the relay queued all 6 MB and the socket was only dropped by the
    // write timeout.)
    let deadline = tokio::time::Instant::now() + WAIT;
    while metric(&server, "walletwire_relay_disconnects_total{code=\"3008\"}") == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not closed as slow; disconnects so far: {}",
            server.get("/metrics").1
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let grown = rss_kib(server.pid()).saturating_sub(before);
    println!("relay RSS grew by {grown} KiB while the attacker recovered");
    assert!(grown < 4096, "relay RSS grew by {grown} KiB");
    // What the attacker's socket holds ends, as far as it gets, with the close.
    let drained =
        tokio::time::timeout(WAIT, async { while let Some(Ok(_)) = ws.next().await {} }).await;
    assert!(drained.is_ok(), "the attacker's connection ends");
    honest.exchange().await;
}

#[tokio::test]
async fn attack_publishing_into_fresh_channels_hits_the_global_caps() {
    let caps = [
        "--public-metrics",
        "--max-streams",
        "200",
        "--max-history-bytes",
        "1000000",
    ];
    let server = Server::start(&[caps.as_slice(), &UNLIMITED_RATES].concat());
    let mut honest = HonestPair::new(&server).await;
    for _ in 0..5 {
        honest.exchange().await;
    }

    // Small frames into fresh channels: the stream cap.
    let mut attacker = Client::connect(&server.url()).await;
    let publishes: Vec<(&str, Value)> = (0..400)
        .map(|_| {
            (
                "publish",
                json!({"channel": channel("session"), "data": {"junk": 1}}),
            )
        })
        .collect();
    let replies = pipelined(&mut attacker, &publishes, 100).await;
    let refused: Vec<&Value> = replies
        .iter()
        .filter(|r| r.get("error").is_some())
        .collect();
    assert!(refused.len() >= 200, "{} refused", refused.len());
    for reply in &refused {
        assert_eq!(reply["error"]["code"], 106, "{reply}");
        assert_eq!(reply["error"]["message"], "limit exceeded", "{reply}");
    }
    assert_eq!(metric(&server, "walletwire_relay_streams"), 200);
    honest.exchange().await;

    // Big frames into the channels it got: the history byte cap holds, each channel paying
    // for its own growth; the honest channel still takes and delivers its messages.
    let owned: Vec<String> = replies
        .iter()
        .zip(&publishes)
        .filter(|(r, _)| r.get("error").is_none())
        .map(|(_, (_, body))| body["channel"].as_str().expect("channel").to_owned())
        .take(150)
        .collect();
    let big = "b".repeat(30_000);
    for round in 0..3 {
        let publishes: Vec<(&str, Value)> = owned
            .iter()
            .map(|c| ("publish", json!({"channel": c, "data": {"b": big}})))
            .collect();
        for reply in pipelined(&mut attacker, &publishes, 1).await {
            assert!(
                reply.get("error").is_none() || reply["error"]["code"] == 106,
                "round {round}: {reply}"
            );
        }
        assert!(metric(&server, "walletwire_relay_history_bytes") <= 1_000_000);
        honest.exchange().await;
    }
    // The honest subscriber recovers its channel's recent history too.
    let mut late = Client::connect(&server.url()).await;
    let recovered = late.recover(&honest.channel, honest.sent - 1, "").await;
    assert_eq!(recovered["subscribe"]["recovered"], true, "{recovered}");
    assert_eq!(recovered["subscribe"]["offset"], honest.sent);
}
