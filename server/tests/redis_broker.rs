//! The Redis broker against a real `redis-server` started by the test (the test fails, not
//! skips, when `redis-server` is not installed).

mod common;

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Client, Server, UNLIMITED_RATES, channel, epoch_of};
use serde_json::json;

/// A `redis-server` of the test's own on a Unix socket (no TCP port: a port picked free and
/// then handed to redis-server could be taken in between by a relay another test starts).
struct Redis {
    child: Child,
    socket: PathBuf,
    url: String,
}

impl Redis {
    fn start() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let socket = std::env::temp_dir().join(format!(
            "walletwire-redis-{}-{}.sock",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&socket);
        let child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(&socket)
            .args(["--unixsocketperm", "700"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install -y redis-server)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        let url = format!("redis+unix://{}", socket.display());
        Self { child, socket, url }
    }

    fn relay(&self, prefix: &str, extra: &[&str]) -> Server {
        let mut args = vec![
            "--broker",
            "redis",
            "--redis-url",
            &self.url,
            "--redis-prefix",
            prefix,
        ];
        args.extend_from_slice(extra);
        Server::start(&args)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}

const FAST: [&str; 8] = UNLIMITED_RATES;

#[tokio::test]
async fn two_relays_deliver_each_others_publications_in_one_sequence() {
    let redis = Redis::start();
    let node_a = redis.relay("two-nodes", &FAST);
    let node_b = redis.relay("two-nodes", &FAST);
    let session = channel("session");
    let mut on_a = Client::connect(&node_a.url()).await;
    let mut on_b = Client::connect(&node_b.url()).await;
    let epoch_a = on_a.subscribe(&session).await["subscribe"]["epoch"].clone();
    let epoch_b = on_b.subscribe(&session).await["subscribe"]["epoch"].clone();
    assert_eq!(epoch_a, epoch_b, "one stream, one epoch");

    // Concurrent publishers on both nodes: offsets are allocated atomically in Redis.
    const EACH: u64 = 100;
    let mut publishers = Vec::new();
    for url in [node_a.url(), node_b.url()] {
        let session = session.clone();
        publishers.push(tokio::spawn(async move {
            let mut publisher = Client::connect(&url).await;
            for n in 0..EACH {
                let reply = publisher
                    .publish(&session, json!({"from": url, "n": n}))
                    .await;
                assert!(reply["publish"].is_object(), "{reply}");
            }
        }));
    }
    for subscriber in [&mut on_a, &mut on_b] {
        let mut from_a = 0;
        for offset in 1..=2 * EACH {
            let push = subscriber.publication().await;
            assert_eq!(push["push"]["pub"]["offset"], offset);
            if push["push"]["pub"]["data"]["from"] == node_a.url() {
                from_a += 1;
            }
        }
        assert_eq!(
            from_a, EACH,
            "every publication of node A arrived, and of node B"
        );
    }
    for publisher in publishers {
        publisher.await.expect("publisher finished");
    }
    let history = on_b
        .command("history", json!({"channel": session, "limit": 0}))
        .await;
    assert_eq!(history["history"]["offset"], 2 * EACH);
}

#[tokio::test]
async fn a_restarted_relay_keeps_history_and_positions() {
    let redis = Redis::start();
    let session = channel("session");
    let (epoch, seen) = {
        let mut node = redis.relay("restart", &[]);
        let mut client = Client::connect(&node.url()).await;
        let reply = client.subscribe(&session).await;
        let epoch = epoch_of(&reply);
        client.publish(&session, json!("first")).await;
        assert_eq!(client.publication().await["push"]["pub"]["offset"], 1);
        for n in 2..=4 {
            client.publish(&session, json!(n)).await;
        }
        for offset in 2..=4 {
            assert_eq!(client.publication().await["push"]["pub"]["offset"], offset);
        }
        assert!(node.terminate().success());
        assert_eq!(client.closed().await, common::Closed::Code(3001));
        (epoch, 2)
    };
    // With the memory broker the restart would mean a new epoch; on Redis the new process
    // continues the stream and recovers the client from where it was.
    let node = redis.relay("restart", &[]);
    let mut publisher = Client::connect(&node.url()).await;
    publisher.publish(&session, json!(5)).await;
    let mut client = Client::connect(&node.url()).await;
    let reply = client.recover(&session, seen, &epoch).await;
    let result = &reply["subscribe"];
    assert_eq!(result["recovered"], true, "{reply}");
    assert_eq!(result["epoch"], epoch.as_str());
    assert_eq!(result["offset"], 5);
    let offsets: Vec<_> = result["publications"]
        .as_array()
        .expect("publications")
        .iter()
        .map(|publication| publication["offset"].as_u64().expect("offset"))
        .collect();
    assert_eq!(offsets, [3, 4, 5]);
    assert_eq!(result["publications"][2]["data"], 5);
    // Live delivery on the new process continues the same stream.
    publisher.publish(&session, json!(6)).await;
    assert_eq!(client.publication().await["push"]["pub"]["offset"], 6);
}

#[tokio::test]
async fn redis_history_honours_size_limit_since_and_reverse() {
    let redis = Redis::start();
    let node = redis.relay("history", &["--handshake-history-size", "3"]);
    let handshake = channel("handshake");
    let mut client = Client::connect(&node.url()).await;
    for n in 1..=5 {
        client.publish(&handshake, json!(n)).await;
    }
    let offsets = |reply: &serde_json::Value| -> Vec<u64> {
        reply["history"]["publications"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|p| p["offset"].as_u64().expect("offset"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let all = client
        .command("history", json!({"channel": handshake, "limit": -1}))
        .await;
    assert_eq!(offsets(&all), [3, 4, 5]);
    let epoch = all["history"]["epoch"].clone();
    let newest = client
        .command(
            "history",
            json!({"channel": handshake, "limit": 1, "reverse": true}),
        )
        .await;
    assert_eq!(offsets(&newest), [5]);
    let since = client
        .command(
            "history",
            json!({"channel": handshake, "limit": -1, "since": {"offset": 3, "epoch": epoch}}),
        )
        .await;
    assert_eq!(offsets(&since), [4, 5]);
    let gone = client
        .command(
            "history",
            json!({"channel": handshake, "limit": -1, "since": {"offset": 1, "epoch": epoch}}),
        )
        .await;
    assert_eq!(gone["error"]["code"], 112, "{gone}");
    let top = client
        .command("history", json!({"channel": handshake, "limit": 0}))
        .await;
    assert_eq!(top["history"]["offset"], 5);
    assert!(top["history"].get("publications").is_none());
}

/// `redis-cli DBSIZE` of the test's Redis.
fn dbsize(redis: &Redis) -> u64 {
    let output = Command::new("redis-cli")
        .arg("-s")
        .arg(&redis.socket)
        .arg("DBSIZE")
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("DBSIZE is a number")
}

#[tokio::test]
async fn attack_reading_fresh_channels_writes_nothing_to_redis() {
    // Before, each read wrote a meta key that lived 7 days: 3000 reads, 1000 keys.
    let redis = Redis::start();
    let node_a = redis.relay(
        "reads",
        &["--command-rate", "100000", "--command-burst", "100000"],
    );
    let node_b = redis.relay("reads", &[]);
    let mut attacker = Client::connect(&node_a.url()).await;
    for _ in 0..1000 {
        let fresh = channel("session");
        let history = attacker
            .command("history", json!({"channel": fresh, "limit": -1}))
            .await;
        assert!(history.get("history").is_some(), "{history}");
        let subscribed = attacker
            .command(
                "subscribe",
                json!({"channel": fresh, "recover": true, "offset": 0, "epoch": ""}),
            )
            .await;
        assert!(subscribed.get("subscribe").is_some(), "{subscribed}");
        attacker
            .command("unsubscribe", json!({"channel": fresh}))
            .await;
    }
    assert_eq!(dbsize(&redis), 1, "only the incarnation key");

    // Both nodes agree on a fresh channel's epoch, and its first publication keeps it.
    let fresh = channel("session");
    let mut on_a = Client::connect(&node_a.url()).await;
    let mut on_b = Client::connect(&node_b.url()).await;
    let epoch = epoch_of(&on_a.subscribe(&fresh).await);
    assert_eq!(epoch_of(&on_b.subscribe(&fresh).await), epoch);
    assert!(
        on_b.publish(&fresh, json!({"n": 1}))
            .await
            .get("error")
            .is_none()
    );
    for client in [&mut on_a, &mut on_b] {
        let push = client.publication().await;
        assert_eq!(push["push"]["pub"]["offset"], 1, "{push}");
    }
    let mut late = Client::connect(&node_a.url()).await;
    let recovered = late.recover(&fresh, 0, &epoch).await;
    assert_eq!(recovered["subscribe"]["recovered"], true, "{recovered}");
    assert_eq!(
        dbsize(&redis),
        3,
        "incarnation, meta and history of the one published channel"
    );
}
