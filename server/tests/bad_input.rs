//! Bad input gets Centrifugo's error reply or close code, and never disturbs other clients.

mod common;

use std::time::Duration;

use common::{Client, Closed, Server, channel};
use serde_json::json;

/// A client subscribed to its own channel, to show it is unaffected afterwards.
struct Bystander {
    client: Client,
    channel: String,
}

impl Bystander {
    async fn join(server: &Server) -> Self {
        let channel = channel("session");
        let mut client = Client::connect(&server.url()).await;
        client.subscribe(&channel).await;
        Self { client, channel }
    }

    async fn still_works(&mut self) {
        let reply = self
            .client
            .publish(&self.channel, json!("still here"))
            .await;
        assert!(reply["publish"].is_object(), "bystander publish: {reply}");
        let push = self.client.publication().await;
        assert_eq!(push["push"]["pub"]["data"], "still here");
    }
}

async fn closes_with(server: &Server, connect_first: bool, frame: &str, expected: u16) {
    let mut bystander = Bystander::join(server).await;
    let mut client = if connect_first {
        Client::connect(&server.url()).await
    } else {
        Client::open(&server.url()).await
    };
    client.send_text(frame).await;
    assert_eq!(
        client.closed().await,
        Closed::Code(expected),
        "frame {frame:?}"
    );
    bystander.still_works().await;
}

#[tokio::test]
async fn non_json_closes_with_bad_request() {
    let server = Server::start(&[]);
    closes_with(&server, true, "this is not json", 3501).await;
    closes_with(&server, true, "{\"id\":1,\"publish\":", 3501).await;
    closes_with(&server, true, "[1,2,3]", 3501).await;
}

#[tokio::test]
async fn binary_frames_close_with_bad_request() {
    let server = Server::start(&[]);
    let mut bystander = Bystander::join(&server).await;
    let mut client = Client::connect(&server.url()).await;
    client
        .send_binary(b"{\"id\":2,\"publish\":{}}".to_vec())
        .await;
    assert_eq!(client.closed().await, Closed::Code(3501));
    bystander.still_works().await;
}

#[tokio::test]
async fn commands_before_connect_close_with_bad_request() {
    let server = Server::start(&[]);
    let session = channel("session");
    let subscribe = json!({"id": 1, "subscribe": {"channel": session}}).to_string();
    closes_with(&server, false, &subscribe, 3501).await;
}

#[tokio::test]
async fn missing_fields_close_with_bad_request() {
    let server = Server::start(&[]);
    let session = channel("session");
    closes_with(&server, true, r#"{"id":5,"subscribe":{}}"#, 3501).await;
    closes_with(
        &server,
        true,
        &json!({"id": 5, "publish": {"channel": session}}).to_string(),
        3501,
    )
    .await;
    closes_with(&server, true, r#"{"id":5,"history":{"limit":0}}"#, 3501).await;
    // A command that expects a reply must carry an id.
    closes_with(
        &server,
        true,
        &json!({"publish": {"channel": session, "data": 1}}).to_string(),
        3501,
    )
    .await;
    // A second connect.
    closes_with(&server, true, r#"{"id":9,"connect":{}}"#, 3501).await;
}

#[tokio::test]
async fn unknown_and_unavailable_methods_get_error_replies() {
    let server = Server::start(&[]);
    let mut bystander = Bystander::join(&server).await;
    let mut client = Client::connect(&server.url()).await;
    let reply = client.command("frobnicate", json!({})).await;
    assert_eq!(reply["error"]["code"], 104, "{reply}");
    assert_eq!(reply["error"]["message"], "method not found");
    let reply = client.command("rpc", json!({"method": "x"})).await;
    assert_eq!(reply["error"]["code"], 108, "{reply}");
    let reply = client
        .command("presence", json!({"channel": bystander.channel}))
        .await;
    assert_eq!(reply["error"]["code"], 108, "{reply}");
    // The connection is still usable.
    let reply = client
        .publish(&bystander.channel, json!("from the other one"))
        .await;
    assert!(reply["publish"].is_object());
    assert_eq!(
        bystander.client.publication().await["push"]["pub"]["data"],
        "from the other one"
    );
    bystander.still_works().await;
}

#[tokio::test]
async fn foreign_namespaces_and_malformed_channels_are_refused() {
    let server = Server::start(&[]);
    let mut bystander = Bystander::join(&server).await;
    let mut client = Client::connect(&server.url()).await;
    let id = uuid::Uuid::new_v4();
    for (channel, code) in [
        ("news".to_owned(), 102),
        (format!("chat:{id}"), 102),
        (format!("$private:{id}"), 102),
        (format!("session:{}", id.to_string().to_uppercase()), 103),
        ("session:not-a-uuid".to_owned(), 103),
        (format!("handshake:{id}#user"), 103),
    ] {
        for (method, body) in [
            ("subscribe", json!({"channel": channel})),
            ("publish", json!({"channel": channel, "data": 1})),
            ("history", json!({"channel": channel, "limit": 0})),
        ] {
            let reply = client.command(method, body).await;
            assert_eq!(reply["error"]["code"], code, "{method} {channel}: {reply}");
        }
    }
    bystander.still_works().await;
}

#[tokio::test]
async fn already_subscribed_and_channel_limit_are_errors() {
    let server = Server::start(&["--max-channels-per-connection", "2"]);
    let mut client = Client::connect(&server.url()).await;
    let first = channel("session");
    client.subscribe(&first).await;
    let reply = client.command("subscribe", json!({"channel": first})).await;
    assert_eq!(reply["error"]["code"], 105, "{reply}");
    client.subscribe(&channel("handshake")).await;
    let reply = client
        .command("subscribe", json!({"channel": channel("session")}))
        .await;
    assert_eq!(reply["error"]["code"], 106, "{reply}");
    assert_eq!(reply["error"]["message"], "limit exceeded");
}

#[tokio::test]
async fn oversized_frames_close_with_message_too_big() {
    let server = Server::start(&["--max-frame-size", "65536"]);
    let mut bystander = Bystander::join(&server).await;
    let mut client = Client::connect(&server.url()).await;
    // Just under the limit is fine.
    let fits =
        json!({"id": 7, "publish": {"channel": bystander.channel, "data": "x".repeat(60_000)}});
    client.send_text(fits.to_string()).await;
    assert!(client.reply(7).await["publish"].is_object());
    assert_eq!(
        bystander.client.publication().await["push"]["pub"]["offset"],
        1
    );
    let huge =
        json!({"id": 8, "publish": {"channel": bystander.channel, "data": "x".repeat(70_000)}});
    client.send_text(huge.to_string()).await;
    assert_eq!(client.closed().await, Closed::Code(1009));
    assert!(
        bystander
            .client
            .publication_within(Duration::from_millis(200))
            .await
            .is_none()
    );
    bystander.still_works().await;
}

#[tokio::test]
async fn publish_floods_get_too_many_requests() {
    let server = Server::start(&["--publish-rate", "1", "--publish-burst", "5"]);
    let mut bystander = Bystander::join(&server).await;
    let mut client = Client::connect(&server.url()).await;
    let session = channel("session");
    let mut limited = 0;
    for n in 0..20 {
        let reply = client.publish(&session, json!(n)).await;
        if reply["error"]["code"] == 111 {
            assert_eq!(reply["error"]["temporary"], true);
            limited += 1;
        } else {
            assert!(reply["publish"].is_object(), "{reply}");
        }
    }
    assert_eq!(limited, 15, "burst of 5 then limited");
    // The flooder stays connected; the bystander is unaffected.
    let reply = client
        .command("history", json!({"channel": session, "limit": 0}))
        .await;
    assert_eq!(reply["history"]["offset"], 5);
    bystander.still_works().await;
}

#[tokio::test]
async fn slow_consumers_are_closed_with_3008_without_hurting_fast_ones() {
    let server = Server::start(&[
        "--public-metrics",
        "--max-queue-bytes",
        "262144",
        "--write-timeout",
        "10s",
        "--publish-rate",
        "100000",
        "--publish-burst",
        "100000",
    ]);
    let session = channel("session");
    let mut slow = Client::connect(&server.url()).await;
    slow.subscribe(&session).await;
    let mut fast = Client::connect(&server.url()).await;
    fast.subscribe(&session).await;
    let mut publisher = Client::connect(&server.url()).await;
    const COUNT: u64 = 400;
    let payload = "y".repeat(32 * 1024);
    let fast_reader = tokio::spawn(async move {
        for offset in 1..=COUNT {
            assert_eq!(fast.publication().await["push"]["pub"]["offset"], offset);
        }
        fast
    });
    // 400 × 32 KiB = 12.5 MiB: far beyond socket buffers plus the 256 KiB queue.
    for _ in 0..COUNT {
        let reply = publisher.publish(&session, json!(payload)).await;
        assert!(reply["publish"].is_object());
    }
    fast_reader
        .await
        .expect("the fast subscriber got every publication");
    // Now the slow client reads: it gets some publications, then the 3008 close.
    let mut received = 0;
    let closed = loop {
        match slow.next().await {
            Ok(_) => received += 1,
            Err(closed) => break closed,
        }
    };
    assert_eq!(closed, Closed::Code(3008));
    assert!(received < COUNT, "the slow client was cut off");
    let (_, metrics) = server.get("/metrics");
    assert!(
        metrics.contains("walletwire_relay_disconnects_total{code=\"3008\"} 1"),
        "{metrics}"
    );
}
