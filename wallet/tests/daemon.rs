//! The wallet daemon over real HTTP and real WebRTC on 127.0.0.1: the real signaling server
//! binary, the daemon in this process (its JSON-RPC endpoint on an ephemeral port, its
//! webrtc-rs peers bound to loopback), and a native dApp peer (webrtc-rs) doing what the
//! browser SDK does: login, offer and candidates, `webrtc.start` through the wallet UI's
//! admin token, polling for the answer, `get.token`, requests allowed and refused.

mod common;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use walletwire::direct::jwt::{self, Claims, Secret};
use walletwire::direct::{Error as DirectError, Permissions};
use walletwire_wallet::api::WalletApi;
use walletwire_wallet::daemon::signaling::{CallError, SignalingClient};
use walletwire_wallet::daemon::{self, DaemonHandle, DaemonOptions};
use walletwire_wallet::keys::Keyring;
use walletwire_wallet::ledger::Ledger;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceCandidateInit,
    RTCPeerConnectionIceEvent, RTCSessionDescription,
};

const DAEMON_SECRET: &[u8] = b"daemon test secret 0123456789";
const WAIT: Duration = Duration::from_secs(15);

/// The real signaling server (relay on an ephemeral port too), killed on drop.
struct SignalingServer {
    _child: Child,
    url: String,
}

impl SignalingServer {
    async fn start() -> Self {
        let mut child = Command::new(common::relay_binary())
            .args([
                "--listen",
                "127.0.0.1:0",
                "--signaling-listen",
                "127.0.0.1:0",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("the server starts");
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let url = loop {
            let line = tokio::time::timeout(WAIT, lines.next_line())
                .await
                .expect("server announces itself")
                .expect("readable")
                .expect("a line");
            if let Some(rest) = line.strip_prefix("signaling listening on ") {
                break rest.trim().to_owned();
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { _child: child, url }
    }

    async fn login(&self, permissions: Value) -> String {
        let client = SignalingClient::new(&self.url, "none").unwrap();
        client
            .call("auth.login", permissions)
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }
}

struct Daemon {
    handle: Option<DaemonHandle>,
    lines: Arc<Mutex<Vec<String>>>,
    url: String,
}

impl Daemon {
    async fn start(signaling_url: &str, name: &str) -> Self {
        let dir = common::data_dir(name);
        let keys = Keyring::open(&dir).unwrap();
        let ledger = Ledger::open(&dir, &keys).unwrap();
        let api = WalletApi::new("daemon test wallet", keys, ledger);
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let options = DaemonOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            signaling_url: signaling_url.to_owned(),
            webrtc_bind: "127.0.0.1:0".into(),
            secret: Some(DAEMON_SECRET.to_vec()),
            connect_timeout: Duration::from_secs(10),
            max_sessions: 4,
            on_event: Arc::new(move |line| sink.lock().unwrap().push(line.to_owned())),
            ..DaemonOptions::default()
        };
        let handle = daemon::start(api, options).await.unwrap();
        let url = format!("http://{}/json_rpc", handle.address);
        Self {
            handle: Some(handle),
            lines,
            url,
        }
    }

    fn admin(&self) -> String {
        self.handle.as_ref().unwrap().admin_token.clone()
    }

    async fn call(&self, token: &str, method: &str, params: Value) -> Result<Value, CallError> {
        SignalingClient::new(&self.url, token)
            .unwrap()
            .call(method, params)
            .await
    }

    async fn sessions(&self) -> Vec<Value> {
        self.call(&self.admin(), "webrtc.sessions", Value::Null)
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    /// Waits for an output line starting with `prefix`.
    async fn expect_line(&self, prefix: &str) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.starts_with(prefix))
            {
                return line.clone();
            }
            assert!(
                started.elapsed() < WAIT,
                "no {prefix} line in {:?}",
                self.lines
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn wait_no_sessions(&self) {
        let started = Instant::now();
        while !self.sessions().await.is_empty() {
            assert!(
                started.elapsed() < WAIT,
                "sessions left: {:?}",
                self.sessions().await
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn rpc_code(result: Result<Value, CallError>) -> i64 {
    match result {
        Err(CallError::Rpc(DirectError::Signaling { code, .. })) => code,
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

fn token_with(permissions: &str) -> String {
    jwt::encode(
        &Claims {
            id: 0,
            jti: jwt::token_id([3; 16]),
            aud: jwt::AUD_DAEMON.into(),
            name: "ui".into(),
            permissions: Permissions::parse(permissions).unwrap(),
            exp: walletwire_wallet::system::now_ms() / 1000 + 600,
        },
        &Secret::new(DAEMON_SECRET.to_vec()).unwrap(),
    )
}

#[tokio::test]
async fn endpoint_checks_tokens_permissions_and_params() {
    let signaling = SignalingServer::start().await;
    let daemon = Daemon::start(&signaling.url, "endpoint").await;
    assert!(
        daemon
            .expect_line("DAEMON_LISTENING http://127.0.0.1:")
            .await
            .ends_with('/')
    );
    let admin = daemon.admin();
    let dapp_token = signaling.login(json!(["AccountInfo"])).await;
    let start = json!({
        "signaling_server_token": dapp_token,
        "permissions": ["AccountInfo"],
        "name": "test dApp",
    });

    // Missing, forged, expired tokens; a token without StartWebrtc.
    let unauthorized = |r| assert_eq!(rpc_code(r), 401);
    unauthorized(daemon.call("", "webrtc.start", start.clone()).await);
    unauthorized(
        daemon
            .call(&dapp_token, "webrtc.start", start.clone())
            .await,
    );
    let expired = jwt::encode(
        &Claims {
            id: 0,
            jti: jwt::token_id([4; 16]),
            aud: jwt::AUD_DAEMON.into(),
            name: String::new(),
            permissions: Permissions::parse(r#"["Admin"]"#).unwrap(),
            exp: 1,
        },
        &Secret::new(DAEMON_SECRET.to_vec()).unwrap(),
    );
    unauthorized(daemon.call(&expired, "webrtc.start", start.clone()).await);
    // A token the daemon signed for a WebRTC session that is not live (here: never was) is
    // refused, whatever it grants.
    let orphan = jwt::encode(
        &Claims {
            id: 4242,
            jti: jwt::token_id([5; 16]),
            aud: jwt::AUD_DAEMON.into(),
            name: String::new(),
            permissions: Permissions::parse(r#"["Admin"]"#).unwrap(),
            exp: walletwire_wallet::system::now_ms() / 1000 + 600,
        },
        &Secret::new(DAEMON_SECRET.to_vec()).unwrap(),
    );
    unauthorized(daemon.call(&orphan, "wallet.info", Value::Null).await);
    let reader = token_with(r#"["AccountInfo"]"#);
    assert_eq!(
        rpc_code(daemon.call(&reader, "webrtc.start", start.clone()).await),
        403
    );
    assert_eq!(
        rpc_code(daemon.call(&reader, "webrtc.sessions", Value::Null).await),
        403
    );
    // Wallet methods over HTTP follow the caller's permissions too.
    assert_eq!(
        daemon
            .call(&reader, "wallet.info", Value::Null)
            .await
            .unwrap()["name"],
        "daemon test wallet"
    );
    assert_eq!(
        rpc_code(daemon.call(&reader, "accounts.list", Value::Null).await),
        403
    );
    assert_eq!(
        rpc_code(daemon.call(&admin, "no.such", Value::Null).await),
        -32601
    );

    // Bad params.
    let bad = |params: Value| daemon.call(&admin, "webrtc.start", params);
    assert_eq!(rpc_code(bad(json!({})).await), -32602);
    assert_eq!(
        rpc_code(bad(json!({"signaling_server_token": "x", "permissions": []})).await),
        -32602
    );
    assert_eq!(
        rpc_code(bad(json!({"signaling_server_token": dapp_token, "permissions": "Admin"})).await),
        -32602
    );
    assert_eq!(
        rpc_code(daemon.call(&admin, "webrtc.stop", json!({})).await),
        -32602
    );

    // A session whose dApp never posted an offer ends, and its entry is gone.
    let started = daemon
        .call(
            &token_with(r#"["StartWebrtc"]"#),
            "webrtc.start",
            start.clone(),
        )
        .await
        .unwrap();
    let id = started["sessionId"].as_u64().unwrap();
    let closed = daemon.expect_line(&format!("WEBRTC_CLOSED {id} ")).await;
    assert!(closed.contains("signaling_failed"), "{closed}");
    daemon.wait_no_sessions().await;

    // An offer that is not SDP.
    let junk_token = signaling.login(json!(["AccountInfo"])).await;
    SignalingClient::new(&signaling.url, &junk_token)
        .unwrap()
        .call("add.offer", json!("this is not SDP"))
        .await
        .unwrap();
    let mut junk = start.clone();
    junk["signaling_server_token"] = json!(junk_token);
    let id = daemon.call(&admin, "webrtc.start", junk).await.unwrap()["sessionId"]
        .as_u64()
        .unwrap();
    let closed = daemon.expect_line(&format!("WEBRTC_CLOSED {id} ")).await;
    assert!(closed.contains("bad_offer"), "{closed}");
    daemon.wait_no_sessions().await;
}

#[tokio::test]
async fn unreachable_signaling_and_session_cap() {
    // Nothing listens on port 9 of loopback.
    let daemon = Daemon::start("http://127.0.0.1:9/", "unreachable").await;
    let token = daemon.admin();
    let params = json!({
        "signaling_server_token": token,
        "permissions": [],
    });
    let id = daemon
        .call(&token, "webrtc.start", params.clone())
        .await
        .unwrap()["sessionId"]
        .as_u64()
        .unwrap();
    let closed = daemon.expect_line(&format!("WEBRTC_CLOSED {id} ")).await;
    assert!(closed.contains("signaling_failed"), "{closed}");
    daemon.wait_no_sessions().await;

    // A signaling server that accepts but never answers: sessions wait, the cap holds.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}/", silent.local_addr().unwrap());
    let _holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let daemon = Daemon::start(&silent_url, "silent").await;
    // Each daemon's admin token is its own, even under one secret.
    let token = daemon.admin();
    for _ in 0..4 {
        daemon
            .call(&token, "webrtc.start", params.clone())
            .await
            .unwrap();
    }
    assert_eq!(
        rpc_code(daemon.call(&token, "webrtc.start", params.clone()).await),
        503
    );
    assert_eq!(daemon.sessions().await.len(), 4);
    // `webrtc.stop` ends a waiting session.
    let first = daemon.sessions().await[0]["id"].as_u64().unwrap();
    assert_eq!(
        daemon
            .call(&token, "webrtc.stop", json!({"sessionId": first}))
            .await
            .unwrap(),
        json!(true)
    );
    daemon
        .expect_line(&format!("WEBRTC_CLOSED {first} stopped"))
        .await;
    assert_eq!(daemon.sessions().await.len(), 3);
    // Shutdown ends the rest.
    let mut daemon = daemon;
    daemon.handle.take().unwrap().shutdown().await;
    let lines = daemon.lines.lock().unwrap().clone();
    assert_eq!(
        lines.iter().filter(|l| l.ends_with(" shutdown")).count(),
        3,
        "{lines:?}"
    );
}

/// The native dApp: a webrtc-rs offerer with the `tari-data` channel.
struct NativeDapp {
    pc: Arc<dyn PeerConnection>,
    channel: Arc<dyn DataChannel>,
    messages: mpsc::UnboundedReceiver<Option<String>>,
    open: mpsc::UnboundedReceiver<()>,
    next_id: u64,
}

struct DappHandler {
    candidates: mpsc::UnboundedSender<Value>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for DappHandler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            let _ = self.candidates.send(serde_json::to_value(init).unwrap());
        }
    }
}

impl NativeDapp {
    /// Logs in, offers, and trickles candidates to the signaling server.
    async fn offer(signaling: &SignalingClient) -> Self {
        let (candidates_tx, mut candidates) = mpsc::unbounded_channel();
        let pc = PeerConnectionBuilder::new()
            .with_handler(Arc::new(DappHandler {
                candidates: candidates_tx,
            }))
            .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
            .build()
            .await
            .unwrap();
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let channel = pc.create_data_channel("tari-data", None).await.unwrap();
        let (messages_tx, messages) = mpsc::unbounded_channel();
        let (open_tx, open) = mpsc::unbounded_channel();
        {
            let channel = channel.clone();
            tokio::spawn(async move {
                while let Some(event) = channel.poll().await {
                    match event {
                        DataChannelEvent::OnOpen => {
                            let _ = open_tx.send(());
                        }
                        DataChannelEvent::OnMessage(m) => {
                            let _ = messages_tx
                                .send(Some(String::from_utf8_lossy(&m.data).into_owned()));
                        }
                        DataChannelEvent::OnClose => break,
                        _ => {}
                    }
                }
                let _ = messages_tx.send(None);
            });
        }
        let offer = pc.create_offer(None).await.unwrap();
        pc.set_local_description(offer).await.unwrap();
        let sdp = pc.local_description().await.unwrap().sdp;
        signaling.call("add.offer", json!(sdp)).await.unwrap();
        let poster = signaling.clone();
        tokio::spawn(async move {
            while let Some(candidate) = candidates.recv().await {
                let _ = poster.call("add.offer_ice_candidate", candidate).await;
            }
        });
        Self {
            pc,
            channel,
            messages,
            open,
            next_id: 0,
        }
    }

    /// Polls for the answer and candidates until the channel opens.
    async fn connect(&mut self, signaling: &SignalingClient) {
        let started = Instant::now();
        let mut answered = false;
        let mut added = 0;
        loop {
            if !answered
                && let Ok(Value::String(sdp)) = signaling.call("get.answer", Value::Null).await
            {
                let answer = RTCSessionDescription::answer(sdp).unwrap();
                self.pc.set_remote_description(answer).await.unwrap();
                answered = true;
            }
            if answered {
                let list = signaling
                    .call("get.answer_ice_candidates", Value::Null)
                    .await
                    .unwrap();
                for c in list.as_array().unwrap().iter().skip(added) {
                    added += 1;
                    let init: RTCIceCandidateInit = serde_json::from_value(c.clone()).unwrap();
                    self.pc.add_ice_candidate(init).await.unwrap();
                }
            }
            if let Ok(()) = tokio::time::timeout(Duration::from_millis(20), self.open.recv())
                .await
                .map(|o| o.unwrap())
            {
                return;
            }
            assert!(started.elapsed() < WAIT, "the data channel did not open");
        }
    }

    async fn send_raw(&mut self, text: &str) -> Value {
        self.channel.send_text(text).await.unwrap();
        let reply = tokio::time::timeout(WAIT, self.messages.recv())
            .await
            .expect("an answer in time")
            .expect("channel alive")
            .expect("channel open");
        serde_json::from_str(&reply).unwrap()
    }

    async fn call(&mut self, token: &str, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let reply = self
            .send_raw(
                &json!({"token": token, "id": id, "jsonrpc": "2.0", "method": method, "params": params})
                    .to_string(),
            )
            .await;
        assert_eq!(reply["id"], id);
        reply["payload"].clone()
    }

    /// Waits until the daemon's side closes the channel.
    async fn closed(&mut self) {
        loop {
            match tokio::time::timeout(WAIT, self.messages.recv()).await {
                Ok(Some(Some(_))) => continue,
                Ok(_) => return,
                Err(_) => panic!("the channel did not close"),
            }
        }
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

#[tokio::test]
async fn native_dapp_connects_gets_a_token_and_is_held_to_its_permissions() {
    let signaling = SignalingServer::start().await;
    let daemon = Daemon::start(&signaling.url, "native").await;
    let admin = daemon.admin();
    let mut start_to_open = Vec::new();

    for round in 0..3 {
        let requested = json!(["AccountInfo", {"AccountBalance": "All"}, "AccountList"]);
        let dapp_token = signaling.login(requested).await;
        let dapp_signaling = SignalingClient::new(&signaling.url, &dapp_token).unwrap();
        let mut dapp = NativeDapp::offer(&dapp_signaling).await;
        // The user grants less than asked: no AccountList.
        let started = Instant::now();
        let id = daemon
            .call(
                &admin,
                "webrtc.start",
                json!({
                    "signaling_server_token": dapp_token,
                    "permissions": ["AccountInfo", {"AccountBalance": "All"}],
                    "name": "native dApp",
                }),
            )
            .await
            .unwrap()["sessionId"]
            .as_u64()
            .unwrap();
        dapp.connect(&dapp_signaling).await;
        start_to_open.push(started.elapsed().as_secs_f64() * 1000.0);
        daemon.expect_line(&format!("WEBRTC_CONNECTED {id} ")).await;

        // get.token with anything but the signaling token is refused.
        let refused = dapp.call("forged", "get.token", json!({})).await;
        assert_eq!(refused["error"], "get.token needs the signaling token");
        let wallet_token = dapp.call(&dapp_token, "get.token", json!({})).await;
        let wallet_token = wallet_token.as_str().unwrap().to_owned();
        let claims = jwt::unverified_claims(&wallet_token).unwrap();
        assert_eq!(claims.id, id);
        assert_eq!(
            claims.permissions.to_json(),
            json!(["AccountInfo", {"AccountBalance": "All"}])
        );

        let info = dapp.call(&wallet_token, "wallet.info", Value::Null).await;
        assert_eq!(info["name"], "daemon test wallet");
        let refused = dapp.call(&wallet_token, "accounts.list", Value::Null).await;
        assert!(
            refused["error"]
                .as_str()
                .unwrap()
                .starts_with("permission denied"),
            "{refused}"
        );
        let account = "ab".repeat(32);
        let balance = dapp
            .call(&wallet_token, "balances.get", json!({"account": account}))
            .await;
        assert_eq!(balance["balance"], 0);
        // The signaling token is not a wallet token; junk gets a typed error.
        let wrong = dapp.call(&dapp_token, "wallet.info", Value::Null).await;
        assert_eq!(wrong["error"], "invalid token");
        let junk = dapp.send_raw("not json").await;
        assert_eq!(
            junk,
            json!({"id": null, "payload": {"error": "invalid request: expected {token, id, method, params}"}})
        );
        let partial = dapp.send_raw(r#"{"id": 77}"#).await;
        assert_eq!(partial["id"], 77);

        // Over HTTP the session's token works while the session is live (and is held to
        // its permissions there too).
        assert_eq!(
            daemon
                .call(&wallet_token, "wallet.info", Value::Null)
                .await
                .unwrap()["name"],
            "daemon test wallet"
        );
        assert_eq!(
            rpc_code(
                daemon
                    .call(&wallet_token, "accounts.list", Value::Null)
                    .await
            ),
            403
        );

        if round == 0 {
            // Round trip over the data channel.
            let mut rtts = Vec::new();
            for _ in 0..50 {
                let t = Instant::now();
                dapp.call(&wallet_token, "wallet.info", Value::Null).await;
                rtts.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            eprintln!("data-channel round trip median {:.3} ms", median(rtts));
            // The wallet UI stops the session: the dApp sees its channel close.
            daemon
                .call(&admin, "webrtc.stop", json!({"sessionId": id}))
                .await
                .unwrap();
            dapp.closed().await;
        } else {
            // The dApp goes away: the daemon closes its peer connection.
            dapp.pc.close().await.unwrap();
        }
        daemon.expect_line(&format!("WEBRTC_CLOSED {id} ")).await;
        // The session ended: its token is revoked on the HTTP endpoint too.
        assert_eq!(
            rpc_code(daemon.call(&wallet_token, "wallet.info", Value::Null).await),
            401
        );
        daemon.wait_no_sessions().await;
    }
    eprintln!(
        "webrtc.start -> data channel open (native dApp, loopback) median {:.1} ms of {start_to_open:?}",
        median(start_to_open.clone())
    );
}

/// Attack: the admin token leaked (a log, a screenshot), or someone holding the daemon's
/// secret mints tokens. Expected: `admin.rotate_token` issues a new admin token and the old
/// one is refused at once (401), as is an `Admin` token minted with the secret but not the
/// one in force, a token for the signaling server's audience under the daemon's secret, and
/// a token without an audience; a dApp session's token cannot rotate (403). The admin token
/// lives 12 hours by default, not 30 days.
#[tokio::test]
async fn attack_a_leaked_admin_token_is_revoked_by_rotation_and_audiences_do_not_mix() {
    let signaling = SignalingServer::start().await;
    let daemon = Daemon::start(&signaling.url, "rotate").await;
    let old = daemon.admin();
    let claims = jwt::unverified_claims(&old).unwrap();
    let lifetime = claims.exp - walletwire_wallet::system::now_ms() / 1000;
    assert!(
        (12 * 3600 - 60..=12 * 3600).contains(&lifetime),
        "{lifetime} s"
    );
    assert_eq!(claims.aud, jwt::AUD_DAEMON);
    assert!(daemon.call(&old, "wallet.info", Value::Null).await.is_ok());

    let rotated = daemon
        .call(&old, "admin.rotate_token", Value::Null)
        .await
        .unwrap();
    let new = rotated["token"].as_str().unwrap().to_owned();
    daemon.expect_line(&format!("ADMIN_TOKEN {new}")).await;
    assert!(daemon.call(&new, "wallet.info", Value::Null).await.is_ok());
    assert_eq!(
        rpc_code(daemon.call(&old, "wallet.info", Value::Null).await),
        401
    );

    let secret = Secret::new(DAEMON_SECRET.to_vec()).unwrap();
    let minted = |jti: [u8; 16], aud: &str| {
        jwt::encode(
            &Claims {
                id: 0,
                jti: jwt::token_id(jti),
                aud: aud.into(),
                name: "wallet-ui".into(),
                permissions: Permissions::parse(r#"["Admin"]"#).unwrap(),
                exp: walletwire_wallet::system::now_ms() / 1000 + 600,
            },
            &secret,
        )
    };
    for (what, token) in [
        ("a minted Admin token", minted([9; 16], jwt::AUD_DAEMON)),
        (
            "the signaling audience",
            minted([9; 16], jwt::AUD_SIGNALING),
        ),
        ("no audience", minted([9; 16], "")),
    ] {
        assert_eq!(
            rpc_code(daemon.call(&token, "wallet.info", Value::Null).await),
            401,
            "{what}"
        );
    }
    // A narrower operator token works but cannot rotate.
    let reader = token_with(r#"["AccountInfo"]"#);
    assert!(
        daemon
            .call(&reader, "wallet.info", Value::Null)
            .await
            .is_ok()
    );
    assert_eq!(
        rpc_code(
            daemon
                .call(&reader, "admin.rotate_token", Value::Null)
                .await
        ),
        403
    );
    assert!(daemon.call(&new, "wallet.info", Value::Null).await.is_ok());
}
