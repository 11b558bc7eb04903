//! The signaling server over real HTTP on 127.0.0.1: the whole offer/answer exchange, every
//! method on both paths, CORS, and bad input (unknown methods, missing, forged and expired
//! tokens, missing data, oversize and overfull input), each answered with a JSON-RPC error.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use walletwire::direct::Permissions;
use walletwire::direct::jwt::{self, Claims, Secret};
use walletwire::direct::signaling::{MAX_CANDIDATES, codes};

mod common;

use common::Signaling;

const SECRET: &str = "test-secret-0123456789abcdef";

impl Signaling {
    fn post(&self, path: &str, token: Option<&str>, body: &str) -> (u16, String, String) {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        self.http(
            format!(
                "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                 {auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
    }

    /// A JSON-RPC call: the whole response object.
    fn call(&self, token: Option<&str>, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let (status, _, body) = self.post("/json_rpc", token, &body.to_string());
        assert_eq!(status, 200, "{method}: {body}");
        serde_json::from_str(&body).expect("JSON-RPC response")
    }

    fn ok(&self, token: Option<&str>, method: &str, params: Value) -> Value {
        let response = self.call(token, method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    fn error_code(&self, token: Option<&str>, method: &str, params: Value) -> i64 {
        let response = self.call(token, method, params);
        response["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("{method}: expected an error, got {response}"))
    }

    fn login(&self, permissions: Value) -> String {
        self.ok(None, "auth.login", permissions)
            .as_str()
            .expect("a token string")
            .to_owned()
    }
}

fn candidate(n: u32) -> Value {
    json!({
        "candidate": format!("candidate:{n} 1 udp 2122260223 10.77.0.2 5{n:04} typ host"),
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "usernameFragment": "abcd"
    })
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn offer_answer_and_candidates_round_trip_on_both_paths() {
    let server = Signaling::start(&["--signaling-secret", SECRET]);
    assert!(server.lines[0].starts_with("relay listening on ws://"));
    let permissions = json!(["AccountInfo", {"AccountBalance": "All"}]);
    let token = server.login(permissions.clone());
    let second = server.login(json!({"permissions": ["Admin"], "name": "demo"}));
    let claims = jwt::verify(
        &token,
        &Secret::new(SECRET.as_bytes().to_vec()).unwrap(),
        now_secs(),
        jwt::AUD_SIGNALING,
    )
    .expect("a valid HS256 token for the signaling audience");
    assert_eq!(claims.permissions.to_json(), permissions);
    let later = jwt::unverified_claims(&second).unwrap();
    assert_eq!(claims.jti.len(), 22, "a 128-bit token id");
    assert_ne!(later.jti, claims.jti, "every login has its own random id");
    assert_eq!(later.name, "demo");
    assert!(claims.exp > now_secs() + 60);

    let t = Some(token.as_str());
    assert_eq!(server.ok(t, "add.offer", json!("v=0 offer")), Value::Null);
    server.ok(t, "add.offer_ice_candidate", candidate(1));
    // A candidate sent as JSON text is stored as the object.
    server.ok(
        t,
        "add.offer_ice_candidate",
        Value::String(candidate(2).to_string()),
    );
    assert_eq!(server.ok(t, "get.offer", Value::Null), json!("v=0 offer"));
    assert_eq!(
        server.ok(t, "get.offer_ice_candidates", Value::Null),
        json!([candidate(1), candidate(2)])
    );
    assert_eq!(
        server.error_code(t, "get.answer", Value::Null),
        codes::NOT_FOUND
    );
    assert_eq!(
        server.ok(t, "get.answer_ice_candidates", Value::Null),
        json!([])
    );
    server.ok(t, "add.answer", json!("v=0 answer"));
    server.ok(t, "add.answer_ice_candidate", candidate(3));
    assert_eq!(server.ok(t, "get.answer", Value::Null), json!("v=0 answer"));
    assert_eq!(
        server.ok(t, "get.answer_ice_candidates", Value::Null),
        json!([candidate(3)])
    );
    // `/` is the same endpoint; another login sees none of this entry.
    let body = json!({"jsonrpc": "2.0", "id": "x", "method": "get.offer"}).to_string();
    let (_, _, reply) = server.post("/", Some(&second), &body);
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["id"], "x");
    assert_eq!(reply["error"]["code"], codes::NOT_FOUND);
}

#[test]
fn cors_is_open() {
    let server = Signaling::start(&[]);
    let (status, head, _) = server.http(
        "OPTIONS /json_rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://dapp.example\r\n\
         Access-Control-Request-Method: POST\r\n\
         Access-Control-Request-Headers: authorization, content-type\r\nConnection: close\r\n\r\n"
            .as_bytes(),
    );
    assert!(status == 200 || status == 204, "preflight status {status}");
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    assert!(head.contains("access-control-allow-headers"), "{head}");
    let (_, head, _) = server.post(
        "/",
        None,
        r#"{"jsonrpc":"2.0","id":1,"method":"auth.login","params":[]}"#,
    );
    assert!(head.contains("access-control-allow-origin"), "{head}");
}

#[test]
fn bad_input_gets_json_rpc_errors() {
    let server = Signaling::start(&["--signaling-secret", SECRET]);
    let token = server.login(json!(["Admin"]));
    let t = Some(token.as_str());

    let parse = |body: &str| -> i64 {
        let (status, _, reply) = server.post("/", t, body);
        assert_eq!(status, 200);
        serde_json::from_str::<Value>(&reply).unwrap()["error"]["code"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(parse("{not json"), codes::PARSE_ERROR);
    assert_eq!(
        parse(r#"{"id":1,"method":"get.offer"}"#),
        codes::INVALID_REQUEST
    );
    assert_eq!(
        parse(r#"[{"jsonrpc":"2.0","id":1,"method":"get.offer"}]"#),
        codes::INVALID_REQUEST
    );
    assert_eq!(
        parse(r#"{"jsonrpc":"1.0","id":1,"method":"get.offer"}"#),
        codes::INVALID_REQUEST
    );

    assert_eq!(
        server.error_code(t, "no.such", json!({})),
        codes::METHOD_NOT_FOUND
    );
    assert_eq!(
        server.error_code(None, "no.such", json!({})),
        codes::METHOD_NOT_FOUND
    );
    // Missing, forged, tampered and expired tokens.
    assert_eq!(
        server.error_code(None, "get.offer", Value::Null),
        codes::UNAUTHORIZED
    );
    let forged = jwt::encode(
        &jwt::unverified_claims(&token).unwrap(),
        &Secret::new(b"another secret of the attacker".to_vec()).unwrap(),
    );
    assert_eq!(
        server.error_code(Some(&forged), "get.offer", Value::Null),
        codes::UNAUTHORIZED
    );
    let mut tampered = token.clone();
    tampered.push('x');
    assert_eq!(
        server.error_code(Some(&tampered), "add.offer", json!("v=0")),
        codes::UNAUTHORIZED
    );
    assert_eq!(
        server.error_code(Some("junk"), "get.answer", Value::Null),
        codes::UNAUTHORIZED
    );
    let expired = jwt::encode(
        &Claims {
            id: 0,
            jti: jwt::unverified_claims(&token).unwrap().jti,
            aud: jwt::AUD_SIGNALING.into(),
            name: String::new(),
            permissions: Permissions::parse(r#"["Admin"]"#).unwrap(),
            exp: now_secs() - 1,
        },
        &Secret::new(SECRET.as_bytes().to_vec()).unwrap(),
    );
    let response = server.call(Some(&expired), "get.offer", Value::Null);
    assert_eq!(response["error"]["code"], codes::UNAUTHORIZED);
    assert_eq!(response["error"]["message"], "token expired");

    // Bad params.
    assert_eq!(
        server.error_code(None, "auth.login", json!("Admin")),
        codes::INVALID_PARAMS
    );
    assert_eq!(
        server.error_code(None, "auth.login", json!([{"A": 1, "B": 2}])),
        codes::INVALID_PARAMS
    );
    assert_eq!(
        server.error_code(t, "add.offer", json!({"sdp": "v=0"})),
        codes::INVALID_PARAMS
    );
    assert_eq!(
        server.error_code(t, "add.offer_ice_candidate", json!("not json")),
        codes::INVALID_PARAMS
    );
    assert_eq!(
        server.error_code(t, "add.answer_ice_candidate", json!({"sdpMid": "0"})),
        codes::INVALID_PARAMS
    );
    // Missing data.
    assert_eq!(
        server.error_code(t, "get.offer", Value::Null),
        codes::NOT_FOUND
    );
    // Size and count limits.
    assert_eq!(
        server.error_code(t, "add.offer", json!("v".repeat(40_000))),
        codes::TOO_LARGE
    );
    assert_eq!(
        server.error_code(
            t,
            "add.offer_ice_candidate",
            json!({"candidate": "c".repeat(3000)})
        ),
        codes::TOO_LARGE
    );
    for n in 0..MAX_CANDIDATES as u32 {
        server.ok(t, "add.answer_ice_candidate", candidate(n));
    }
    assert_eq!(
        server.error_code(t, "add.answer_ice_candidate", candidate(99)),
        codes::TOO_LARGE
    );
    // A body over the limit is refused by HTTP before JSON-RPC.
    let (status, _, _) = server.post("/", t, &"x".repeat(300 * 1024));
    assert_eq!(status, 413);
    // The server is still fine.
    server.login(json!([]));
}

#[test]
fn entries_and_bytes_are_capped() {
    let server = Signaling::start(&[
        "--signaling-max-entries",
        "2",
        "--signaling-max-bytes",
        "3000",
    ]);
    let tokens: Vec<String> = (0..3).map(|_| server.login(json!(["Admin"]))).collect();
    server.ok(Some(&tokens[0]), "add.offer", json!("a".repeat(1000)));
    server.ok(Some(&tokens[1]), "add.offer", json!("b".repeat(1000)));
    assert_eq!(
        server.error_code(Some(&tokens[2]), "add.offer", json!("c")),
        codes::FULL
    );
    assert_eq!(
        server.error_code(Some(&tokens[0]), "add.answer", json!("d".repeat(1500))),
        codes::FULL
    );
    // Replacing an SDP does not count twice.
    server.ok(Some(&tokens[0]), "add.offer", json!("e".repeat(1900)));
    assert_eq!(
        server
            .ok(Some(&tokens[0]), "get.offer", Value::Null)
            .as_str()
            .unwrap()
            .len(),
        1900
    );
}

#[test]
fn entries_expire_with_their_token() {
    let server = Signaling::start(&[
        "--signaling-token-ttl",
        "1s",
        "--signaling-max-entries",
        "1",
    ]);
    let first = server.login(json!(["Admin"]));
    server.ok(Some(&first), "add.offer", json!("v=0"));
    let second = server.login(json!(["Admin"]));
    assert_eq!(
        server.error_code(Some(&second), "add.offer", json!("v=0")),
        codes::FULL
    );
    std::thread::sleep(Duration::from_millis(2100));
    let response = server.call(Some(&first), "get.offer", Value::Null);
    assert_eq!(response["error"]["message"], "token expired");
    // The expired entry made room.
    let third = server.login(json!(["Admin"]));
    server.ok(Some(&third), "add.offer", json!("v=0"));
}

#[test]
fn secret_is_random_per_start_unless_given() {
    let token = {
        let server = Signaling::start(&[]);
        server.login(json!(["Admin"]))
    };
    let server = Signaling::start(&[]);
    assert_eq!(
        server.error_code(Some(&token), "get.offer", Value::Null),
        codes::UNAUTHORIZED
    );
    let token = {
        let server = Signaling::start(&["--signaling-secret", SECRET]);
        server.login(json!(["Admin"]))
    };
    let server = Signaling::start(&["--signaling-secret", SECRET]);
    assert_eq!(
        server.error_code(Some(&token), "get.offer", Value::Null),
        codes::NOT_FOUND
    );
    let short = Command::new(env!("CARGO_BIN_EXE_walletwire-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--signaling-listen",
            "127.0.0.1:0",
        ])
        .args(["--signaling-secret", "short"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!short.success());
}

#[test]
fn no_signaling_runs_the_relay_alone() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_walletwire-server"))
        .args(["--listen", "127.0.0.1:0", "--no-signaling"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.starts_with("relay listening on"));
    let _ = child.kill();
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
    let _ = child.wait();
    assert!(!rest.contains("signaling"), "{rest}");
}

#[test]
fn get_answer_with_wait_ms_waits_for_the_answer_and_without_it_answers_at_once() {
    let server = Signaling::start(&["--signaling-secret", SECRET]);
    let token = server.login(json!(["AccountInfo"]));
    let other = server.login(json!(["AccountInfo"]));
    let t = Some(token.as_str());
    server.ok(t, "add.offer", json!("v=0 offer"));
    // The original connector's call (no params) is unchanged: no answer yet is 404 at once.
    assert_eq!(
        server.error_code(t, "get.answer", Value::Null),
        codes::NOT_FOUND
    );
    // A long poll started before the answer exists returns the answer when it is added
    // (the add comes after it was sent; had it not waited, it would have been a 404).
    std::thread::scope(|scope| {
        let waiting = scope.spawn(|| server.call(t, "get.answer", json!({"waitMs": 10_000})));
        std::thread::sleep(Duration::from_millis(300));
        server.ok(t, "add.answer", json!("v=0 answer"));
        let response = waiting.join().expect("the long poll");
        assert_eq!(response["result"], json!("v=0 answer"), "{response}");
    });
    // With the answer there, a long poll answers at once.
    assert_eq!(
        server.ok(t, "get.answer", json!({"waitMs": 10_000})),
        json!("v=0 answer")
    );
    // Another entry's answer does not end a wait: it ends with 404 when its time is up.
    let o = Some(other.as_str());
    server.ok(o, "add.offer", json!("v=0 offer"));
    assert_eq!(
        server.error_code(o, "get.answer", json!({"waitMs": 200})),
        codes::NOT_FOUND
    );
    // Bad waits are ignored, not errors: the call answers at once as without one.
    for wait in [json!(0), json!(-5), json!("1000"), json!(1.5)] {
        assert_eq!(
            server.error_code(o, "get.answer", json!({"waitMs": wait})),
            codes::NOT_FOUND
        );
    }
    // Tokens are still checked first.
    assert_eq!(
        server.error_code(Some("junk"), "get.answer", json!({"waitMs": 5_000})),
        codes::UNAUTHORIZED
    );
}
