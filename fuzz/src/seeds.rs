//! The seed corpus: a handful of valid inputs per target, made from real encodings (requests,
//! offers, frames and records produced by the core; commands as centrifuge-js sends them;
//! calls as the SDK makes them). `examples/seeds.rs` writes them to `corpus/<target>/`.

use serde_json::json;
use walletwire::direct::channel::{ChannelRequest, ChannelResponse, GET_TOKEN};
use walletwire::direct::jwt::{self, Claims, Secret};
use walletwire::direct::link::Link;
use walletwire::direct::{Permissions, signaling as rpc};
use walletwire::protocol::{
    DappConnection, Mode, Output, Record, SessionRequest, WalletConnection,
};

use crate::input::{Blob, Encode, List, json, text};
use crate::pair::Pair;
use crate::targets::{frame, offer, pair_ops, relay_replies, signaling_request};
use crate::{SplitMix, T0, dapp_options, uuid_from, wallet_options};

/// One seed: a file name (without the `seed-` prefix) and its bytes.
pub type Seed = (String, Vec<u8>);

fn seed(name: &str, bytes: Vec<u8>) -> Seed {
    (name.to_owned(), bytes)
}

fn request(mode: Mode) -> SessionRequest {
    DappConnection::new(dapp_options(mode), T0, SplitMix::boxed(1))
        .expect("valid options")
        .session_request()
        .expect("connecting")
        .clone()
}

/// Seeds of `target`.
pub fn of(target: &str) -> Vec<Seed> {
    match target {
        "session_request" => session_request(),
        "offer" => offer(),
        "frame" => frame(),
        "record" => record(),
        "relay_client_frames" => relay_client_frames(),
        "relay_replies" => relay_replies(),
        "signaling_request" => signaling_request(),
        "channel_message" => channel_message(),
        "pair_ops" => pair_ops(),
        other => panic!("no target {other}"),
    }
}

fn prefixed(selector: u8, text: &str) -> Vec<u8> {
    let mut bytes = vec![selector];
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

fn session_request() -> Vec<Seed> {
    let untrusted = request(Mode::Untrusted);
    let trusted = request(Mode::Trusted);
    vec![
        seed("uri-untrusted", prefixed(0, &untrusted.to_uri())),
        seed("uri-trusted", prefixed(0, &trusted.to_uri())),
        seed("json", prefixed(1, &untrusted.to_json())),
        // A sealed request body (the open branch seals it under the fixed invitation's key).
        seed(
            "sealed-body",
            prefixed(
                7,
                r#"{"expiresAt":1700000120000,"dapp":{"name":"Example dApp"},"scopes":{"eip155":{"chains":["eip155:1"],"methods":["personal_sign"],"events":["accountsChanged"]}}}"#,
            ),
        ),
        // Found by fuzzing: escaped control characters made a request too large to scan.
        seed(
            "regression-escaped-url",
            prefixed(2, &format!("Ex \nht\u{1}{}", "\0".repeat(216))),
        ),
        seed(
            "dapp-metadata",
            prefixed(
                2,
                "Example dApp\nhttps://dapp.example\nhttps://dapp.example/icon.png\nwss://relay.example/connection/websocket",
            ),
        ),
        // Claimed-identity tricks the dApp and the wallet refuse: a script URL, a bidi
        // override and a zero-width space in the name, a loopback-only http URL.
        seed(
            "claimed-identity-script-url",
            prefixed(
                2,
                "Uniswap\njavascript:alert(1)\ndata:image/png,x\nwss://relay.example/connection/websocket",
            ),
        ),
        seed(
            "claimed-identity-bidi-name",
            prefixed(
                2,
                "evil\u{202E}paws.inU\nhttp://localhost:5173\n\nwss://relay.example/connection/websocket",
            ),
        ),
        seed(
            "claimed-identity-zero-width",
            prefixed(
                2,
                "Uni\u{200B}swap\nhttp://uniswap.example\nhttps://u@x.example\nwss://relay.example/connection/websocket",
            ),
        ),
    ]
}

/// The offer a real wallet publishes for the request the `offer` target's dApp shows.
fn real_offer(mode: Mode) -> String {
    let dapp = DappConnection::new(dapp_options(mode), T0, SplitMix::boxed(11)).expect("valid");
    let request = dapp.session_request().expect("connecting").clone();
    let mut wallet = WalletConnection::accept(&request, wallet_options(), T0, SplitMix::boxed(12))
        .expect("a fresh request");
    let mut session_channel = None;
    while let Some(output) = wallet.poll_output() {
        if let Output::Subscribe { channel, .. } = output {
            session_channel = Some(channel);
        }
    }
    let channel = session_channel.expect("the wallet subscribes to its channel");
    let top = walletwire::protocol::StreamPosition {
        offset: 0,
        epoch: "e".into(),
    };
    wallet.handle_subscribed(&channel, top, T0);
    while let Some(output) = wallet.poll_output() {
        if let Output::Publish { data, .. } = output {
            return data;
        }
    }
    panic!("the wallet publishes its offer");
}

/// A well-formed offer body, committed to the nonce `[n; 32]` when `commit` is `Some(n)`.
fn fields(commit: Option<u8>) -> offer::Body {
    offer::Body::Fields {
        channel: [7; 16],
        raw_channel: None,
        name: text("Seed Wallet"),
        url: Some(text("https://wallet.example")),
        otp: None,
        commit: commit.map(|n| [n; 32]),
        otp_deadline: Some(60_000),
        since: Some((0, text("epoch-2"))),
    }
}

fn offer() -> Vec<Seed> {
    use offer::Op;
    let sealed = |wallet, body| Op::Sealed {
        wallet,
        body,
        nonce: [3; 24],
        wrong_id: false,
    };
    vec![
        seed(
            "untrusted-real-offer",
            offer::encode(false, &[Op::Raw(text(&real_offer(Mode::Untrusted)))]),
        ),
        seed(
            "trusted-real-offer",
            offer::encode(true, &[Op::Raw(text(&real_offer(Mode::Trusted)))]),
        ),
        seed(
            "untrusted-code-typed",
            offer::encode(
                false,
                &[
                    sealed(1, fields(Some(1))),
                    Op::Reveal {
                        offer: 0,
                        honest: true,
                        seq: 0,
                    },
                    Op::RightOtp(0),
                ],
            ),
        ),
        seed(
            "untrusted-wrong-reveal-reload",
            offer::encode(
                false,
                &[
                    sealed(1, fields(Some(1))),
                    Op::Reveal {
                        offer: 0,
                        honest: false,
                        seq: 0,
                    },
                    Op::Otp(text("000000")),
                    Op::Reload,
                    Op::Reveal {
                        offer: 0,
                        honest: true,
                        seq: 1,
                    },
                    Op::RightOtp(0),
                ],
            ),
        ),
        seed(
            "untrusted-two-offers",
            offer::encode(
                false,
                &[
                    sealed(1, fields(Some(1))),
                    sealed(2, fields(Some(2))),
                    Op::RightOtp(1),
                ],
            ),
        ),
        seed(
            "untrusted-old-kind-offer",
            offer::encode(
                false,
                &[sealed(
                    3,
                    offer::Body::Fields {
                        channel: [8; 16],
                        raw_channel: None,
                        name: text("Old Wallet"),
                        url: None,
                        otp: Some(text("123456")),
                        commit: None,
                        otp_deadline: Some(60_000),
                        since: None,
                    },
                )],
            ),
        ),
        seed(
            "trusted-sealed",
            offer::encode(true, &[sealed(4, fields(None))]),
        ),
        seed(
            "expiry-sync",
            offer::encode(
                false,
                &[
                    Op::Advance(130_000),
                    Op::Synced,
                    Op::Resubscribe {
                        offset: 0,
                        same_epoch: true,
                    },
                ],
            ),
        ),
    ]
}

fn frame() -> Vec<Seed> {
    use frame::{Op, Plain};
    let request = |wallet| Op::Request {
        wallet,
        method: text("wallet_getBalance"),
        timeout: None,
    };
    let forged = |to_wallet, seq_ahead, plain| Op::Sealed {
        to_wallet,
        seq_ahead,
        seq_back: 0,
        plain,
        nonce: [5; 24],
    };
    vec![
        seed(
            "untrusted-request-response",
            frame::encode(
                false,
                &[
                    request(false),
                    Op::Settle,
                    Op::Respond {
                        wallet: true,
                        id: 0,
                        error: false,
                    },
                    Op::Settle,
                ],
            ),
        ),
        seed(
            "trusted-forged-note-gap",
            frame::encode(
                true,
                &[forged(
                    true,
                    2,
                    Plain::Note {
                        method: text("accountsChanged"),
                        params: json(json!(["0xabc"])),
                    },
                )],
            ),
        ),
        seed(
            "forged-request-and-replay",
            frame::encode(
                false,
                &[
                    forged(
                        false,
                        0,
                        Plain::Req {
                            id: 9,
                            method: text("dapp_info"),
                            params: json(json!({})),
                        },
                    ),
                    Op::Sealed {
                        to_wallet: false,
                        seq_ahead: 0,
                        seq_back: 1,
                        plain: Plain::Ping(1),
                        nonce: [6; 24],
                    },
                    Op::Respond {
                        wallet: false,
                        id: 9,
                        error: true,
                    },
                    Op::Settle,
                ],
            ),
        ),
        seed(
            "raw-junk-timeout-close",
            frame::encode(
                false,
                &[
                    Op::Raw {
                        to_wallet: true,
                        data: text(r#"{"from":"dapp","seq":1,"box":"AAAA"}"#),
                        offset: Some(7),
                    },
                    request(true),
                    Op::Ping { wallet: false },
                    Op::Settle,
                    Op::Advance(61_000),
                    Op::Close { wallet: false },
                    Op::Settle,
                ],
            ),
        ),
    ]
}

fn clocked(record: &str) -> Vec<u8> {
    let mut bytes = 0i32.to_le_bytes().to_vec();
    bytes.extend_from_slice(record.as_bytes());
    bytes
}

fn record() -> Vec<Seed> {
    let mut seeds = Vec::new();
    // A pending handshake, and the wallet's record while it waits for the ack.
    let mut pair = Pair::new(Mode::Untrusted, 41);
    pair.settle();
    for (key, value) in pair.dapp.store.iter().chain(pair.wallet.store.iter()) {
        let name = if key.contains(":pending:") {
            "dapp-pending"
        } else {
            "wallet-awaiting-ack"
        };
        seeds.push(seed(name, clocked(value)));
    }
    // Established sessions of both roles, after some traffic.
    let mut pair = Pair::connected(Mode::Trusted, 42);
    if let Some(conn) = pair.dapp.conn.as_mut() {
        conn.request("wallet_getBalance", json!({}), None, pair.now)
            .expect("connected");
    }
    pair.apply();
    pair.settle();
    for (role, side) in [("dapp", &pair.dapp), ("wallet", &pair.wallet)] {
        let record = Record::Session(side.session_record(pair.now).expect("stored"));
        seeds.push(seed(&format!("{role}-session"), clocked(&record.encode())));
    }
    seeds
}

fn relay_client_frames() -> Vec<Seed> {
    let session = format!("session:{}", uuid_from([1; 16]));
    let handshake = format!("handshake:{}", uuid_from([2; 16]));
    let connect = r#"{"id":1,"connect":{"name":"js","version":"5.8.0"}}"#;
    let frames = |list: &[(bool, String)]| {
        let mut bytes = Vec::new();
        for (i, (second, text)) in list.iter().enumerate() {
            if i > 0 {
                bytes.push(0xff);
            }
            if *second {
                bytes.push(0xfe);
            }
            bytes.extend_from_slice(text.as_bytes());
        }
        bytes
    };
    let offer = real_offer(Mode::Untrusted);
    vec![
        seed(
            "subscribe-publish-fanout",
            frames(&[
                (false, connect.into()),
                (true, connect.into()),
                (
                    true,
                    format!(r#"{{"id":2,"subscribe":{{"channel":"{handshake}"}}}}"#),
                ),
                (
                    false,
                    format!(r#"{{"id":2,"publish":{{"channel":"{handshake}","data":{offer}}}}}"#),
                ),
                (
                    false,
                    format!(
                        r#"{{"id":3,"history":{{"channel":"{handshake}","limit":-1,"since":{{"offset":0,"epoch":""}}}}}}"#
                    ),
                ),
            ]),
        ),
        seed(
            "batched-commands-recover",
            frames(&[(
                false,
                format!(
                    "{connect}\n{{\"id\":2,\"subscribe\":{{\"channel\":\"{session}\",\"recover\":true,\"offset\":0,\"epoch\":\"x\"}}}}\n{{\"id\":3,\"publish\":{{\"channel\":\"{session}\",\"data\":{{\"from\":\"dapp\",\"seq\":0,\"box\":\"AA\"}}}}}}\n{{\"id\":4,\"unsubscribe\":{{\"channel\":\"{session}\"}}}}\n{{}}\n{{\"id\":5,\"ping\":{{}}}}"
                ),
            )]),
        ),
        seed(
            "refusals",
            frames(&[
                (false, connect.into()),
                (false, r#"{"id":2,"subscribe":{"channel":"news"}}"#.into()),
                (false, r#"{"id":3,"presence":{"channel":"x"}}"#.into()),
                (false, r#"{"id":4,"frobnicate":{}}"#.into()),
                (false, r#"{"id":5,"rpc":{"method":"x"}}"#.into()),
                (true, r#"{"id":1,"subscribe":{"channel":"x"}}"#.into()),
            ]),
        ),
    ]
}

fn relay_replies() -> Vec<Seed> {
    use relay_replies::{Answer, Op, Publication};
    let ops = |list: &[Op]| {
        let mut out = Vec::new();
        for op in list {
            op.encode(&mut out);
        }
        out
    };
    let publication = |offset, data| Publication {
        offset,
        data: json(data),
    };
    vec![
        seed(
            "subscribe-recover-push-publish",
            ops(&[
                Op::Subscribe {
                    channel: 0,
                    since: Some((1, 2)),
                },
                Op::Reply {
                    pick: 0,
                    answer: Answer::Subscribe {
                        epoch: 1,
                        offset: 4,
                        recovered: true,
                        publications: List(vec![
                            publication(3, json!({"from": "wallet", "seq": 0, "box": "AA"})),
                            publication(4, json!({"from": "wallet", "seq": 1, "box": "AA"})),
                        ]),
                    },
                },
                Op::Push {
                    channel: 0,
                    offset: 5,
                    data: json(json!({"n": 5})),
                },
                Op::Publish {
                    channel: 0,
                    data: json(json!({"from": "dapp", "seq": 0, "box": "AA"})),
                },
                Op::Reply {
                    pick: 0,
                    answer: Answer::Empty,
                },
            ]),
        ),
        seed(
            "rate-limited-publish-sync",
            ops(&[
                Op::Subscribe {
                    channel: 1,
                    since: None,
                },
                Op::Reply {
                    pick: 0,
                    answer: Answer::Subscribe {
                        epoch: 2,
                        offset: 0,
                        recovered: false,
                        publications: List(vec![]),
                    },
                },
                Op::Publish {
                    channel: 1,
                    data: json(json!({"t": "offer"})),
                },
                Op::Publish {
                    channel: 1,
                    data: json(json!({"t": "offer", "n": 2})),
                },
                Op::Reply {
                    pick: 0,
                    answer: Answer::Error {
                        code: 111,
                        temporary: true,
                    },
                },
                Op::Advance { ms: 60 },
                Op::Sync { channel: 1 },
                Op::Reply {
                    pick: 1,
                    answer: Answer::History {
                        epoch: 2,
                        offset: 1,
                        publications: List(vec![publication(1, json!({"t": "offer"}))]),
                    },
                },
            ]),
        ),
        // Found by fuzzing: a paused publication spun the driver once the link dropped.
        seed(
            "regression-pause-then-link-down",
            ops(&[
                Op::Publish {
                    channel: 1,
                    data: json(json!({"t": "offer"})),
                },
                Op::Reply {
                    pick: 0,
                    answer: Answer::Error {
                        code: 111,
                        temporary: true,
                    },
                },
                Op::Advance { ms: 25_449 },
            ]),
        ),
        // Found by fuzzing: a push read after the link dropped moved a subscription that was
        // not live (tests/fuzz_regressions.rs has the replay).
        seed(
            "regression-push-after-link-down",
            ops(&[
                Op::Subscribe {
                    channel: 0,
                    since: None,
                },
                Op::Reply {
                    pick: 0,
                    answer: Answer::Subscribe {
                        epoch: 1,
                        offset: 3,
                        recovered: false,
                        publications: List(vec![]),
                    },
                },
                Op::Text(text("not json")),
                Op::Push {
                    channel: 0,
                    offset: 9,
                    data: json(json!({"n": 9})),
                },
                Op::Advance { ms: 6_000 },
                Op::Open,
                Op::Reply {
                    pick: 0,
                    answer: Answer::Connect {
                        ping: 25,
                        pong: true,
                    },
                },
                Op::Reply {
                    pick: 0,
                    answer: Answer::Subscribe {
                        epoch: 1,
                        offset: 5,
                        recovered: true,
                        publications: List(vec![
                            publication(4, json!({"n": 4})),
                            publication(5, json!({"n": 5})),
                        ]),
                    },
                },
            ]),
        ),
        seed(
            "reconnect-epoch-change",
            ops(&[
                Op::Subscribe {
                    channel: 2,
                    since: Some((1, 7)),
                },
                Op::Close { code: 3001 },
                Op::Advance { ms: 100 },
                Op::Open,
                Op::Reply {
                    pick: 0,
                    answer: Answer::Connect {
                        ping: 25,
                        pong: true,
                    },
                },
                Op::Reply {
                    pick: 0,
                    answer: Answer::Subscribe {
                        epoch: 2,
                        offset: 1,
                        recovered: false,
                        publications: List(vec![]),
                    },
                },
                Op::Ping,
                Op::Text(text(
                    r#"{"push":{"channel":"x","pub":{"data":1,"offset":1}}}"#,
                )),
                Op::Wake,
            ]),
        ),
    ]
}

fn signaling_request() -> Vec<Seed> {
    use signaling_request::{Auth, Body, Params, Step};
    let call = |auth, method: &str, params| Step {
        json_rpc_path: false,
        auth,
        body: Body::Call {
            method: rpc::METHODS
                .iter()
                .position(|m| *m == method)
                .map_or(u8::MAX, |i| i as u8),
            id: None,
            params,
        },
    };
    let steps = |list: &[Step]| {
        let mut out = Vec::new();
        for step in list {
            step.encode(&mut out);
        }
        out
    };
    let candidate = "candidate:1 1 udp 2122260223 10.77.0.1 40000 typ host";
    vec![
        seed(
            "dapp-and-daemon",
            steps(&[
                call(
                    Auth::None,
                    rpc::AUTH_LOGIN,
                    Params::Permissions(List(vec![2, 1])),
                ),
                call(
                    Auth::Login(0),
                    rpc::ADD_OFFER,
                    Params::Sdp(text("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n")),
                ),
                call(
                    Auth::Login(0),
                    rpc::ADD_OFFER_ICE_CANDIDATE,
                    Params::Candidate(text(candidate), json(json!(null))),
                ),
                call(Auth::Login(0), rpc::GET_OFFER, Params::None),
                call(Auth::Login(0), rpc::GET_ANSWER, Params::None),
                call(
                    Auth::Login(0),
                    rpc::ADD_ANSWER,
                    Params::Sdp(text("v=0\r\n")),
                ),
                call(
                    Auth::Login(0),
                    rpc::ADD_ANSWER_ICE_CANDIDATE,
                    Params::CandidateText(text(candidate)),
                ),
                call(Auth::Login(0), rpc::GET_ANSWER_ICE_CANDIDATES, Params::None),
                call(Auth::Login(0), rpc::GET_OFFER_ICE_CANDIDATES, Params::None),
            ]),
        ),
        seed(
            "bad-tokens",
            steps(&[
                call(
                    Auth::None,
                    rpc::AUTH_LOGIN,
                    Params::LoginObject(List(vec![0]), text("Seed dApp")),
                ),
                call(Auth::Tampered(0, 40), rpc::GET_OFFER, Params::None),
                call(Auth::Foreign, rpc::ADD_OFFER, Params::Sdp(text("v=0"))),
                call(Auth::Expired, rpc::GET_ANSWER, Params::None),
                call(
                    Auth::Raw(text("Bearer x.y.z")),
                    rpc::GET_OFFER,
                    Params::None,
                ),
                call(Auth::None, rpc::GET_OFFER, Params::None),
            ]),
        ),
        seed(
            "malformed",
            steps(&[
                Step {
                    json_rpc_path: true,
                    auth: Auth::None,
                    body: Body::Raw(Blob(
                        b"{\"jsonrpc\":\"1.0\",\"method\":\"auth.login\"}".to_vec(),
                    )),
                },
                Step {
                    json_rpc_path: false,
                    auth: Auth::None,
                    body: Body::Raw(Blob(b"not json".to_vec())),
                },
                call(
                    Auth::None,
                    "no.such_method",
                    Params::Any(json(json!([1, 2]))),
                ),
                call(
                    Auth::None,
                    rpc::AUTH_LOGIN,
                    Params::Any(json(json!({"permissions": "Admin"}))),
                ),
            ]),
        ),
    ]
}

fn channel_message() -> Vec<Seed> {
    let secret = Secret::new(vec![1; 32]).expect("long enough");
    let permissions =
        Permissions::parse(r#"["AccountInfo",{"AccountBalance":"All"}]"#).expect("permissions");
    let claims = Claims {
        id: 7,
        jti: jwt::token_id([7; 16]),
        aud: jwt::AUD_DAEMON.into(),
        name: "Seed dApp".into(),
        permissions: permissions.clone(),
        exp: 1_700_000_600,
    };
    let token = jwt::encode(&claims, &secret);
    let call = ChannelRequest {
        token: token.clone(),
        id: 0,
        jsonrpc: "2.0".into(),
        method: GET_TOKEN.into(),
        params: json!({}),
    };
    let link = Link {
        name: "Seed dApp".into(),
        token: token.clone(),
        permissions: permissions.clone(),
        optional_permissions: Permissions::parse(r#"[{"TransactionSend":null}]"#)
            .expect("permissions"),
    };
    vec![
        seed("request", prefixed(0, &call.encode().expect("small"))),
        seed(
            "response",
            prefixed(1, &ChannelResponse::ok(0, json!(token)).encode()),
        ),
        seed(
            "response-error",
            prefixed(1, &ChannelResponse::error(3, "denied").encode()),
        ),
        seed("jwt", prefixed(2, &token)),
        seed(
            "claims",
            prefixed(3, &serde_json::to_string(&claims).expect("claims")),
        ),
        seed(
            "permissions",
            prefixed(4, &permissions.to_json().to_string()),
        ),
        seed("link", prefixed(5, &link.to_uri())),
    ]
}

fn pair_ops() -> Vec<Seed> {
    use pair_ops::{Op, Scale, Who};
    let request = |who| Op::Request {
        who,
        method: 0,
        big: false,
        timeout: None,
    };
    let respond = |who| Op::Respond {
        who,
        pick: 0,
        error: false,
        big: false,
    };
    vec![
        seed(
            "untrusted-session",
            pair_ops::encode(
                false,
                &[
                    Op::Settle,
                    Op::RightOtp,
                    Op::Settle,
                    request(Who::Dapp),
                    Op::Settle,
                    respond(Who::Wallet),
                    Op::Notify {
                        who: Who::Wallet,
                        method: 1,
                    },
                    Op::Settle,
                ],
            ),
        ),
        seed(
            "trusted-faults",
            pair_ops::encode(
                true,
                &[
                    Op::Settle,
                    request(Who::Dapp),
                    request(Who::Dapp),
                    Op::Fetch { who: Who::Wallet },
                    Op::Swap { who: Who::Wallet },
                    Op::Duplicate { who: Who::Wallet },
                    Op::Deliver {
                        who: Who::Wallet,
                        n: 3,
                    },
                    respond(Who::Wallet),
                    Op::Fetch { who: Who::Dapp },
                    Op::Drop { who: Who::Dapp },
                    Op::Settle,
                    Op::Advance {
                        amount: 61,
                        scale: Scale::Seconds,
                    },
                ],
            ),
        ),
        seed(
            "reloads-and-restart",
            pair_ops::encode(
                false,
                &[
                    Op::Settle,
                    Op::WrongOtp(1),
                    Op::Reload { who: Who::Dapp },
                    Op::Settle,
                    Op::RightOtp,
                    Op::Settle,
                    request(Who::Wallet),
                    Op::Reload { who: Who::Wallet },
                    Op::RelayRestart,
                    request(Who::Dapp),
                    Op::Settle,
                    Op::Reload { who: Who::Dapp },
                    Op::Settle,
                    Op::Ping { who: Who::Dapp },
                    Op::Close { who: Who::Wallet },
                    Op::Settle,
                ],
            ),
        ),
        seed(
            "handshake-expires",
            pair_ops::encode(
                false,
                &[
                    Op::Settle,
                    Op::TypedOtp(text("12-34-5")),
                    Op::Advance {
                        amount: 3,
                        scale: Scale::Minutes,
                    },
                    Op::Settle,
                ],
            ),
        ),
    ]
}

/// Checks that `bytes` read back as the ops they were written from (the encoder and
/// `arbitrary`'s reading agree), for the structured targets.
pub fn check_decodes(target: &str, bytes: &[u8]) {
    let again = |decoded: String, encoded: Vec<u8>| {
        assert_eq!(
            encoded, bytes,
            "{target}: a seed re-encodes to itself: {decoded}"
        );
    };
    match target {
        "offer" => {
            let (trusted, ops) = offer::decode(bytes);
            again(format!("{ops:?}"), offer::encode(trusted, &ops));
        }
        "frame" => {
            let (trusted, ops) = frame::decode(bytes);
            again(format!("{ops:?}"), frame::encode(trusted, &ops));
        }
        "pair_ops" => {
            let (trusted, ops) = pair_ops::decode(bytes);
            again(format!("{ops:?}"), pair_ops::encode(trusted, &ops));
        }
        "relay_replies" => {
            let ops = relay_replies::decode(bytes);
            let mut out = Vec::new();
            for op in &ops {
                op.encode(&mut out);
            }
            again(format!("{ops:?}"), out);
        }
        "signaling_request" => {
            let steps = signaling_request::decode(bytes);
            let mut out = Vec::new();
            for step in &steps {
                step.encode(&mut out);
            }
            again(format!("{steps:?}"), out);
        }
        _ => {}
    }
}
