//! Publish/subscribe, batching, history and recovery over real WebSockets.

mod common;

use std::time::Duration;

use common::{Client, Server, channel, epoch_of};
use serde_json::{Value, json};

fn offsets(publications: &Value) -> Vec<u64> {
    publications
        .as_array()
        .map(|list| {
            list.iter()
                .map(|publication| publication["offset"].as_u64().expect("offset"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn connect_reply_announces_ping_interval_and_pong() {
    let server = Server::start(&["--ping-interval", "7"]);
    let mut client = Client::open(&server.url()).await;
    let reply = client.command("connect", json!({})).await;
    assert_eq!(reply["connect"]["ping"], 7);
    assert_eq!(reply["connect"]["pong"], true);
    assert!(reply["connect"]["version"].is_string());
}

#[tokio::test]
async fn publications_reach_subscribers_with_offsets_and_publishers_need_no_subscription() {
    let server = Server::start(&[]);
    let session = channel("session");
    let mut subscriber = Client::connect(&server.url()).await;
    let mut other = Client::connect(&server.url()).await;
    let reply = subscriber.subscribe(&session).await;
    assert_eq!(reply["subscribe"]["recoverable"], true);
    assert_eq!(reply["subscribe"]["positioned"], true);
    assert!(
        reply["subscribe"]["epoch"]
            .as_str()
            .is_some_and(|epoch| !epoch.is_empty())
    );
    other.subscribe(&session).await;

    let mut publisher = Client::connect(&server.url()).await;
    for n in 1..=3 {
        let reply = publisher
            .publish(&session, json!({"n": n, "text": "hé \n\"quoted\""}))
            .await;
        assert!(reply["publish"].is_object(), "publish reply: {reply}");
    }
    for client in [&mut subscriber, &mut other] {
        for n in 1..=3u64 {
            let push = client.publication().await;
            assert_eq!(push["push"]["channel"], session);
            assert_eq!(push["push"]["pub"]["offset"], n);
            assert_eq!(
                push["push"]["pub"]["data"],
                json!({"n": n, "text": "hé \n\"quoted\""})
            );
        }
    }
    // The publisher is not subscribed: it got nothing.
    assert!(
        publisher
            .publication_within(Duration::from_millis(200))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn several_commands_in_one_frame_are_all_answered_in_order() {
    let server = Server::start(&[]);
    let session = channel("session");
    let mut client = Client::open(&server.url()).await;
    let batch = [
        json!({"id": 1, "connect": {}}),
        json!({"id": 2, "subscribe": {"channel": session}}),
        json!({"id": 3, "publish": {"channel": session, "data": "one"}}),
        json!({"id": 4, "publish": {"channel": session, "data": "two"}}),
    ]
    .map(|command| command.to_string())
    .join("\n");
    client.send_text(batch).await;
    for id in 1..=4 {
        let reply = client.reply(id).await;
        assert!(reply.get("error").is_none(), "reply {id}: {reply}");
    }
    assert_eq!(client.publication().await["push"]["pub"]["data"], "one");
    assert_eq!(client.publication().await["push"]["pub"]["data"], "two");
}

#[tokio::test]
async fn unsubscribe_stops_delivery_and_resubscribe_resumes_it() {
    let server = Server::start(&[]);
    let session = channel("session");
    let mut client = Client::connect(&server.url()).await;
    let mut publisher = Client::connect(&server.url()).await;
    client.subscribe(&session).await;
    let reply = client
        .command("unsubscribe", json!({"channel": session}))
        .await;
    assert!(
        reply["unsubscribe"].is_object(),
        "unsubscribe reply: {reply}"
    );
    publisher.publish(&session, json!(1)).await;
    assert!(
        client
            .publication_within(Duration::from_millis(300))
            .await
            .is_none()
    );
    let reply = client.subscribe(&session).await;
    assert_eq!(reply["subscribe"]["offset"], 1);
    publisher.publish(&session, json!(2)).await;
    assert_eq!(client.publication().await["push"]["pub"]["offset"], 2);
}

#[tokio::test]
async fn recovery_returns_missed_publications_in_order() {
    let server = Server::start(&[]);
    let session = channel("session");
    let mut client = Client::connect(&server.url()).await;
    let mut publisher = Client::connect(&server.url()).await;
    publisher.publish(&session, json!("before")).await;
    let reply = client.subscribe(&session).await;
    let epoch = epoch_of(&reply);
    assert_eq!(reply["subscribe"]["offset"], 1);
    client
        .command("unsubscribe", json!({"channel": session}))
        .await;
    for n in 2..=4 {
        publisher.publish(&session, json!(n)).await;
    }
    let reply = client.recover(&session, 1, &epoch).await;
    let result = &reply["subscribe"];
    assert_eq!(result["recovered"], true, "{reply}");
    assert_eq!(result["was_recovering"], true);
    assert_eq!(result["offset"], 4);
    assert_eq!(result["epoch"], epoch.as_str());
    assert_eq!(offsets(&result["publications"]), [2, 3, 4]);
    assert_eq!(result["publications"][0]["data"], 2);
    publisher.publish(&session, json!(5)).await;
    assert_eq!(client.publication().await["push"]["pub"]["offset"], 5);
}

#[tokio::test]
async fn recovery_fails_without_publications_when_history_overflowed_or_epoch_changed() {
    let server = Server::start(&["--handshake-history-size", "4"]);
    let handshake = channel("handshake");
    let mut client = Client::connect(&server.url()).await;
    let mut publisher = Client::connect(&server.url()).await;
    let reply = client.subscribe(&handshake).await;
    let epoch = epoch_of(&reply);
    client
        .command("unsubscribe", json!({"channel": handshake}))
        .await;
    for n in 1..=6 {
        publisher.publish(&handshake, json!(n)).await;
    }
    let reply = client.recover(&handshake, 0, &epoch).await;
    assert_eq!(reply["subscribe"]["recovered"], Value::Null, "{reply}");
    assert_eq!(reply["subscribe"]["was_recovering"], true);
    assert_eq!(reply["subscribe"]["offset"], 6);
    assert!(reply["subscribe"].get("publications").is_none());

    // Offset 2 is still coverable (3..=6 kept), but not in another epoch.
    client
        .command("unsubscribe", json!({"channel": handshake}))
        .await;
    let reply = client.recover(&handshake, 2, "not-it").await;
    assert_eq!(reply["subscribe"]["recovered"], Value::Null, "{reply}");
    client
        .command("unsubscribe", json!({"channel": handshake}))
        .await;
    let reply = client.recover(&handshake, 2, &epoch).await;
    assert_eq!(reply["subscribe"]["recovered"], true, "{reply}");
    assert_eq!(offsets(&reply["subscribe"]["publications"]), [3, 4, 5, 6]);
}

/// Resubscribing with recovery while another client publishes as fast as it can: across every
/// recovery boundary the subscriber sees each offset exactly once, in order.
#[tokio::test]
async fn recovery_under_concurrent_publishing_has_no_gap_and_no_duplicate() {
    let server = Server::start(&["--publish-rate", "100000", "--publish-burst", "100000"]);
    let session = channel("session");
    const TOTAL: u64 = 400;
    let url = server.url();
    // The publisher goes ahead one batch per resubscription, so publishing always overlaps
    // recovery, however fast either side runs.
    const BATCH: u64 = 20;
    let turns = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let publishing = {
        let session = session.clone();
        let turns = turns.clone();
        tokio::spawn(async move {
            let mut publisher = Client::connect(&url).await;
            for n in 1..=TOTAL {
                publisher.publish(&session, json!(n)).await;
                if n % BATCH == 0 && n < TOTAL {
                    turns.acquire().await.expect("semaphore open").forget();
                }
            }
        })
    };
    let mut client = Client::connect(&server.url()).await;
    let reply = client.subscribe(&session).await;
    let epoch = epoch_of(&reply);
    let mut last = reply["subscribe"]["offset"].as_u64().unwrap_or(0);
    let mut resubscribes = 0;
    while last < TOTAL {
        // Take a few live publications, then leave and recover.
        for _ in 0..5 {
            let Some(push) = client.publication_within(Duration::from_secs(2)).await else {
                break;
            };
            let offset = push["push"]["pub"]["offset"].as_u64().expect("offset");
            assert_eq!(offset, last + 1, "live publication out of sequence");
            last = offset;
        }
        client
            .command("unsubscribe", json!({"channel": session}))
            .await;
        client.clear_pushes();
        let reply = client.recover(&session, last, &epoch).await;
        assert_eq!(reply["subscribe"]["recovered"], true, "{reply}");
        for offset in offsets(&reply["subscribe"]["publications"]) {
            assert_eq!(offset, last + 1, "recovered publication out of sequence");
            last = offset;
        }
        assert_eq!(reply["subscribe"]["offset"].as_u64().unwrap_or(0), last);
        resubscribes += 1;
        turns.add_permits(1);
    }
    publishing.await.expect("publisher finished");
    assert_eq!(last, TOTAL);
    assert!(
        resubscribes >= TOTAL / BATCH - 1,
        "{resubscribes} recoveries"
    );
}

#[tokio::test]
async fn history_supports_limit_since_and_reverse() {
    let server = Server::start(&[]);
    let session = channel("session");
    let mut client = Client::connect(&server.url()).await;
    let empty = client
        .command("history", json!({"channel": session, "limit": 0}))
        .await;
    let epoch = empty["history"]["epoch"]
        .as_str()
        .expect("epoch on first use")
        .to_owned();
    assert_eq!(empty["history"]["offset"], Value::Null);
    for n in 1..=5 {
        client.publish(&session, json!(n)).await;
    }
    // limit 0: just the stream top, a cheap barrier.
    let top = client
        .command("history", json!({"channel": session, "limit": 0}))
        .await;
    assert_eq!(top["history"]["offset"], 5);
    assert_eq!(top["history"]["epoch"], epoch.as_str());
    assert!(top["history"].get("publications").is_none());

    let first_two = client
        .command("history", json!({"channel": session, "limit": 2}))
        .await;
    assert_eq!(offsets(&first_two["history"]["publications"]), [1, 2]);
    let all = client
        .command("history", json!({"channel": session, "limit": -1}))
        .await;
    assert_eq!(offsets(&all["history"]["publications"]), [1, 2, 3, 4, 5]);
    let since = client
        .command(
            "history",
            json!({"channel": session, "limit": -1, "since": {"offset": 3, "epoch": epoch}}),
        )
        .await;
    assert_eq!(offsets(&since["history"]["publications"]), [4, 5]);
    let newest = client
        .command(
            "history",
            json!({"channel": session, "limit": 2, "reverse": true}),
        )
        .await;
    assert_eq!(offsets(&newest["history"]["publications"]), [5, 4]);
    let before = client
        .command(
            "history",
            json!({"channel": session, "limit": 10, "reverse": true, "since": {"offset": 3, "epoch": epoch}}),
        )
        .await;
    assert_eq!(offsets(&before["history"]["publications"]), [2, 1]);

    let wrong_epoch = client
        .command(
            "history",
            json!({"channel": session, "limit": -1, "since": {"offset": 3, "epoch": "other"}}),
        )
        .await;
    assert_eq!(wrong_epoch["error"]["code"], 112, "{wrong_epoch}");
    let ahead = client
        .command(
            "history",
            json!({"channel": session, "limit": -1, "since": {"offset": 9, "epoch": epoch}}),
        )
        .await;
    assert_eq!(ahead["error"]["code"], 112, "{ahead}");
}

#[tokio::test]
async fn history_since_a_trimmed_offset_is_unrecoverable() {
    let server = Server::start(&["--session-history-size", "3"]);
    let session = channel("session");
    let mut client = Client::connect(&server.url()).await;
    for n in 1..=6 {
        client.publish(&session, json!(n)).await;
    }
    let top = client
        .command("history", json!({"channel": session, "limit": 0}))
        .await;
    let epoch = top["history"]["epoch"].clone();
    let gone = client
        .command(
            "history",
            json!({"channel": session, "limit": -1, "since": {"offset": 1, "epoch": epoch}}),
        )
        .await;
    assert_eq!(gone["error"]["code"], 112, "{gone}");
    assert_eq!(gone["error"]["message"], "unrecoverable position");
    let kept = client
        .command(
            "history",
            json!({"channel": session, "limit": -1, "since": {"offset": 3, "epoch": epoch}}),
        )
        .await;
    assert_eq!(offsets(&kept["history"]["publications"]), [4, 5, 6]);
}
