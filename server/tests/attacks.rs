//! Attacks on the signaling server's tokens, over real HTTP against the real binary: forged
//! JWTs (`alg: none` and its spellings, other algorithms, guessed and attacker-chosen keys,
//! embedded keys, claims edited under a valid signature, non-canonical encodings, malformed
//! structure, bearer-header tricks, oversize tokens), expired tokens at the boundary, and a
//! valid token used for another login's data, also across a restart with the same secret.
//! Each is refused with a JSON-RPC error; the server never panics and keeps serving.
//! `server/tests/signaling.rs` already covers a wrong secret, an appended character, junk,
//! a token from a server with another random secret, and an expired token; these extend it.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use walletwire::base64url;
use walletwire::direct::Permissions;
use walletwire::direct::jwt::{self, Claims, Secret};
use walletwire::direct::signaling::codes;

mod common;

use common::Signaling;

const SECRET: &str = "attack-test-secret-0123456789";

impl Signaling {
    fn start_with_secret(secret: &str) -> Self {
        Self::start(&["--signaling-secret", secret])
    }

    /// A JSON-RPC call with a raw `Authorization` header value (None: no header).
    fn call_with(&self, authorization: Option<&str>, method: &str, params: Value) -> Value {
        self.call_from(std::net::Ipv4Addr::LOCALHOST, authorization, method, params)
    }

    /// [`Signaling::call_with`] from the client address `source` (127/8).
    fn call_from(
        &self,
        source: std::net::Ipv4Addr,
        authorization: Option<&str>,
        method: &str,
        params: Value,
    ) -> Value {
        let body =
            json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let auth = authorization
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        let (status, _, reply) = self.http_from(
            source,
            format!(
                "POST /json_rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                 {auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        assert_eq!(status, 200, "{method}: {reply}");
        serde_json::from_str(&reply).expect("a JSON-RPC response")
    }

    fn call(&self, token: &str, method: &str, params: Value) -> Value {
        self.call_with(Some(&format!("Bearer {token}")), method, params)
    }

    fn login(&self, permissions: Value) -> String {
        let reply = self.call_with(None, "auth.login", permissions);
        reply["result"].as_str().expect("a token").to_owned()
    }

    /// Asserts the server is alive and serving.
    fn assert_alive(&mut self) {
        assert!(
            self.child.try_wait().expect("wait works").is_none(),
            "the server exited"
        );
        let token = self.login(json!(["AccountInfo"]));
        let reply = self.call(&token, "get.offer", Value::Null);
        assert_eq!(reply["error"]["code"], codes::NOT_FOUND, "{reply}");
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// --- HMAC-SHA256 (FIPS 180-4, RFC 2104), so the test can sign what an attacker would sign ---

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (state, add) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *state = state.wrapping_add(add);
        }
    }
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&sha256(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    inner.extend_from_slice(data);
    let mut outer: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    outer.extend_from_slice(&sha256(&inner));
    sha256(&outer)
}

/// `b64(header).b64(claims).b64(HMAC-SHA256(key, signing input))`.
fn sign(header: &str, claims: &str, key: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        base64url::encode(header.as_bytes()),
        base64url::encode(claims.as_bytes())
    );
    let signature = hmac_sha256(key, input.as_bytes());
    format!("{input}.{}", base64url::encode(&signature))
}

/// The token's parts, decoded header and claims as text.
fn parts(token: &str) -> (String, String, String) {
    let mut it = token.split('.');
    let header = String::from_utf8(base64url::decode(it.next().unwrap()).unwrap()).unwrap();
    let claims = String::from_utf8(base64url::decode(it.next().unwrap()).unwrap()).unwrap();
    (header, claims, it.next().unwrap().to_owned())
}

const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The test's own HMAC is right: it reproduces the server's token byte for byte.
#[test]
fn hmac_matches_rfc_4231_and_the_servers_tokens() {
    assert_eq!(
        hmac_sha256(b"Jefe", b"what do ya want for nothing?"),
        *b"\x5b\xdc\xc1\x46\xbf\x60\x75\x4e\x6a\x04\x24\x26\x08\x95\x75\xc7\
           \x5a\x00\x3f\x08\x9d\x27\x39\x83\x9d\xec\x58\xb9\x64\xec\x38\x43"
    );
    let server = Signaling::start_with_secret(SECRET);
    let token = server.login(json!(["Admin"]));
    let (header, claims, _) = parts(&token);
    assert_eq!(header, HS256);
    assert_eq!(sign(&header, &claims, SECRET.as_bytes()), token);
}

/// Attack: forge a token without the secret. `alg: none` in every spelling (with an empty
/// signature, the original one, or a junk one), other algorithm names over the original
/// signature, HMAC under guessed secrets and under an empty key, a key embedded in the
/// header (`jwk`), a `kid` naming an empty file, a header that is not an object or has a
/// duplicate `alg`. Expected: every one is refused with 401 `invalid token`, on every method
/// that takes a token, and the server keeps serving.
#[test]
fn forged_tokens_are_refused() {
    let mut server = Signaling::start_with_secret(SECRET);
    let victim = server.login(json!(["AccountInfo"]));
    let (_, claims, original_signature) = parts(&victim);
    let admin_claims = {
        let mut c: Value = serde_json::from_str(&claims).unwrap();
        c["permissions"] = json!(["Admin"]);
        c["exp"] = json!(now_secs() + 365 * 24 * 3600);
        c.to_string()
    };
    let b64 = |s: &str| base64url::encode(s.as_bytes());
    let mut forged: Vec<(String, String)> = Vec::new();
    for alg in ["none", "None", "NONE", "nOnE", ""] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        for signature in ["", original_signature.as_str(), "AAAA"] {
            forged.push((
                format!("alg {alg:?}, signature {signature:?}"),
                format!("{}.{}.{signature}", b64(&header), b64(&admin_claims)),
            ));
        }
        forged.push((
            format!("alg {alg:?}, no signature part"),
            format!("{}.{}", b64(&header), b64(&admin_claims)),
        ));
    }
    for alg in [
        "HS384", "HS512", "RS256", "ES256", "PS256", "EdDSA", "hs256", "HS256 ",
    ] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        forged.push((
            format!("alg {alg} over the original signature"),
            format!("{}.{}.{original_signature}", b64(&header), b64(&claims)),
        ));
        forged.push((
            format!("alg {alg} under an empty key"),
            sign(&header, &admin_claims, b""),
        ));
    }
    for guess in [
        "",
        "secret",
        "walletwire",
        "attack-test-secret",
        "signaling-secret",
        "0000000000000000",
        SECRET.get(..SECRET.len() - 1).unwrap(),
        victim.as_str(),
    ] {
        forged.push((
            format!("HS256 under guessed secret {guess:.20?}"),
            sign(HS256, &admin_claims, guess.as_bytes()),
        ));
    }
    let attacker_key = b"attacker-chosen-key-material-0123";
    let jwk = format!(
        r#"{{"alg":"HS256","typ":"JWT","jwk":{{"kty":"oct","k":"{}"}}}}"#,
        base64url::encode(attacker_key)
    );
    forged.push((
        "embedded jwk".into(),
        sign(&jwk, &admin_claims, attacker_key),
    ));
    let jku = r#"{"alg":"HS256","typ":"JWT","jku":"http://127.0.0.1:9/keys.json"}"#;
    forged.push(("jku".into(), sign(jku, &admin_claims, attacker_key)));
    let kid = r#"{"alg":"HS256","typ":"JWT","kid":"../../../../dev/null"}"#;
    forged.push((
        "kid /dev/null, empty key".into(),
        sign(kid, &admin_claims, b""),
    ));
    let duplicate = r#"{"alg":"none","alg":"HS256","typ":"JWT"}"#;
    forged.push((
        "duplicate alg".into(),
        format!("{}.{}.", b64(duplicate), b64(&admin_claims)),
    ));
    forged.push((
        "duplicate alg, HS256 last, original signature".into(),
        format!("{}.{}.{original_signature}", b64(duplicate), b64(&claims)),
    ));
    for header in [
        r#""HS256""#,
        "[]",
        "null",
        r#"{"alg":["HS256"]}"#,
        r#"{"typ":"JWT"}"#,
    ] {
        forged.push((
            format!("header {header}"),
            format!("{}.{}.{original_signature}", b64(header), b64(&claims)),
        ));
    }

    for (what, token) in &forged {
        for (method, params) in [
            ("get.offer", Value::Null),
            ("add.offer", json!("v=0 forged")),
            ("get.answer_ice_candidates", Value::Null),
        ] {
            let reply = server.call(token, method, params);
            assert_eq!(
                reply["error"]["code"],
                codes::UNAUTHORIZED,
                "{what} on {method}: {reply}"
            );
            assert_eq!(reply["error"]["message"], "invalid token", "{what}");
        }
    }
    // The victim's own token still works and sees no forged offer.
    let reply = server.call(&victim, "get.offer", Value::Null);
    assert_eq!(reply["error"]["code"], codes::NOT_FOUND, "{reply}");
    server.assert_alive();
}

/// Attack: edit a genuine token. Claims changed under the original signature (another
/// login's id, `Admin`, a later expiry, another name, a duplicate `id` key, extra claims),
/// the signature re-encoded non-canonically (standard alphabet, padding, set trailing bits),
/// structure broken (extra or empty parts, whitespace inside), the token too long, and
/// bearer-header tricks. Expected: every variant is refused with 401; a genuine token is
/// accepted only byte for byte (surrounding whitespace aside).
#[test]
fn tampered_tokens_and_header_tricks_are_refused() {
    let mut server = Signaling::start_with_secret(SECRET);
    let victim = server.login(json!(["AccountInfo"]));
    let other = server.login(json!(["Admin"]));
    let (header, claims, signature) = parts(&victim);
    let other_jti = jwt::unverified_claims(&other).unwrap().jti;
    let b64 = |s: &str| base64url::encode(s.as_bytes());
    let with_claims = |edit: &dyn Fn(&mut Value)| {
        let mut c: Value = serde_json::from_str(&claims).unwrap();
        edit(&mut c);
        format!("{}.{}.{signature}", b64(&header), b64(&c.to_string()))
    };
    let mut tampered: Vec<(&str, String)> = vec![
        (
            "token id of another login",
            with_claims(&|c| c["jti"] = json!(other_jti)),
        ),
        (
            "the daemon's audience",
            with_claims(&|c| c["aud"] = json!(jwt::AUD_DAEMON)),
        ),
        ("no audience", with_claims(&|c| c["aud"] = json!(""))),
        (
            "Admin",
            with_claims(&|c| c["permissions"] = json!(["Admin"])),
        ),
        ("later exp", with_claims(&|c| c["exp"] = json!(u64::MAX))),
        ("name", with_claims(&|c| c["name"] = json!("evil"))),
        ("extra claim", with_claims(&|c| c["admin"] = json!(true))),
        (
            "duplicate jti key",
            format!(
                "{}.{}.{signature}",
                b64(&header),
                b64(&claims.replacen('{', &format!("{{\"jti\":\"{other_jti}\","), 1))
            ),
        ),
        (
            "claims with trailing space",
            format!(
                "{}.{}.{signature}",
                b64(&header),
                b64(&format!("{claims} "))
            ),
        ),
    ];
    // The same signature bytes, encoded differently.
    let signature_bytes = base64url::decode(&signature).unwrap();
    let mut stray = signature.clone().into_bytes();
    let last = stray.len() - 1;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.iter().position(|c| *c == stray[last]).unwrap();
    stray[last] = alphabet[index ^ 0b01]; // 32 bytes: the last character has 2 unused bits
    let stray = String::from_utf8(stray).unwrap();
    assert_eq!(signature.len(), 43);
    tampered.push((
        "signature with set trailing bits",
        format!("{}.{}.{stray}", b64(&header), b64(&claims)),
    ));
    tampered.push(("signature padded", format!("{victim}=")));
    let standard: String = signature.replace('-', "+").replace('_', "/");
    if standard != signature {
        tampered.push((
            "signature in the standard alphabet",
            format!("{}.{}.{standard}", b64(&header), b64(&claims)),
        ));
    }
    let padded_header = format!("{}=", b64(&header));
    tampered.push((
        "header padded",
        format!("{padded_header}.{}.{signature}", b64(&claims)),
    ));
    assert_eq!(signature_bytes.len(), 32);
    for (what, token) in [
        ("extra part", format!("{victim}.x")),
        ("empty extra part", format!("{victim}.")),
        (
            "signature dropped",
            victim.rsplit_once('.').unwrap().0.to_owned(),
        ),
        ("parts doubled", format!("{}.{}", b64(&header), victim)),
        ("space inside", victim.replacen('.', ". ", 1)),
        ("too long", format!("{victim}{}", "A".repeat(9_000))),
        ("empty", String::new()),
        ("dots", "..".into()),
    ] {
        tampered.push((what, token));
    }
    for (what, token) in &tampered {
        let reply = server.call(token, "get.offer", Value::Null);
        assert_eq!(
            reply["error"]["code"],
            codes::UNAUTHORIZED,
            "{what}: {reply}"
        );
    }

    // The Authorization header itself.
    for (what, header) in [
        ("lowercase scheme", format!("bearer {victim}")),
        ("no scheme", victim.clone()),
        ("Basic scheme", format!("Basic {victim}")),
        ("scheme only", "Bearer".to_owned()),
        ("scheme and space", "Bearer ".to_owned()),
        ("token twice", format!("Bearer {victim} {victim}")),
        ("token, comma, token", format!("Bearer {victim},{other}")),
    ] {
        let reply = server.call_with(Some(&header), "get.offer", Value::Null);
        assert_eq!(
            reply["error"]["code"],
            codes::UNAUTHORIZED,
            "{what}: {reply}"
        );
    }
    // A header far larger than any token: refused by HTTP or JSON-RPC, never served.
    let huge = format!("Bearer {}", "A".repeat(100_000));
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"get.offer"}"#;
    let (status, _, reply) = server.http(
        format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {huge}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert!(
        status != 200 || reply.contains("\"code\":401"),
        "{status}: {reply}"
    );
    // Non-UTF-8 bytes in the header.
    let mut raw =
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \xff\xfe.\xc3\x28.x\r\n"
            .to_vec();
    raw.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    let (status, _, reply) = server.http(&raw);
    assert!(
        status != 200 || reply.contains("\"code\":401"),
        "{status}: {reply}"
    );

    // Whitespace around a genuine token is tolerated; the token itself works.
    let reply = server.call_with(
        Some(&format!("Bearer  {victim} ")),
        "get.offer",
        Value::Null,
    );
    assert_eq!(reply["error"]["code"], codes::NOT_FOUND, "{reply}");
    server.assert_alive();
}

/// Attack: use a genuine but expired token, exactly at its expiry second and long after;
/// and a genuine token for another login's data, in the same process and after a restart
/// with the same secret (login ids start at the start time, so they never repeat). Expected:
/// expired tokens get 401 `token expired`; a token only ever reaches its own login's entry,
/// so another login's offer is never returned to it, before or after the restart.
#[test]
fn expired_tokens_and_tokens_of_another_login_get_nothing() {
    let secret = Secret::new(SECRET.as_bytes().to_vec()).unwrap();
    let first_run = Signaling::start_with_secret(SECRET);
    let a = first_run.login(json!(["Admin"]));
    let b = first_run.login(json!(["Admin"]));
    let a_jti = jwt::unverified_claims(&a).unwrap().jti;
    assert!(
        first_run
            .call(&a, "add.offer", json!("v=0 a"))
            .get("error")
            .is_none()
    );
    let reply = first_run.call(&b, "get.offer", Value::Null);
    assert_eq!(
        reply["error"]["code"],
        codes::NOT_FOUND,
        "B never sees A's offer"
    );
    for exp in [now_secs(), now_secs() - 1, 1, 0] {
        let expired = jwt::encode(
            &Claims {
                id: 0,
                jti: a_jti.clone(),
                aud: jwt::AUD_SIGNALING.into(),
                name: String::new(),
                permissions: Permissions::parse(r#"["Admin"]"#).unwrap(),
                exp,
            },
            &secret,
        );
        let reply = first_run.call(&expired, "get.offer", Value::Null);
        assert_eq!(reply["error"]["code"], codes::UNAUTHORIZED, "exp {exp}");
        assert_eq!(reply["error"]["message"], "token expired", "exp {exp}");
    }
    drop(first_run);

    let mut second_run = Signaling::start_with_secret(SECRET);
    let c = second_run.login(json!(["Admin"]));
    let c_jti = jwt::unverified_claims(&c).unwrap().jti;
    assert_ne!(c_jti, a_jti, "token ids are random, across restarts too");
    assert!(
        second_run
            .call(&c, "add.offer", json!("v=0 c"))
            .get("error")
            .is_none()
    );
    for old in [&a, &b] {
        let reply = second_run.call(old, "get.offer", Value::Null);
        assert_eq!(
            reply["error"]["code"],
            codes::NOT_FOUND,
            "a token of the first run reaches nothing of the second: {reply}"
        );
    }
    let reply = second_run.call(&c, "get.offer", Value::Null);
    assert_eq!(reply["result"], "v=0 c");
    second_run.assert_alive();
}

/// Attack: one client (one address) logs in again and again and posts an offer for each
/// login, to fill the signaling store so every honest `add.offer` gets 503. Expected: its
/// address is capped (`--signaling-max-entries-per-address`, here 5) with a 503 naming the
/// address; a client from another address (127.0.0.2 on loopback) logs in and signals as
/// usual throughout; the server stays up.
#[test]
fn attack_one_address_cannot_fill_the_signaling_store() {
    let server = Signaling::start(&["--signaling-max-entries-per-address", "5"]);
    let flooder = std::net::Ipv4Addr::new(127, 0, 0, 3);
    let honest = std::net::Ipv4Addr::new(127, 0, 0, 2);
    let call_from = |source, token: Option<&str>, method: &str, params: Value| {
        let auth = token.map(|t| format!("Bearer {t}"));
        server.call_from(source, auth.as_deref(), method, params)
    };
    let login = |source| {
        call_from(source, None, "auth.login", json!(["AccountInfo"]))["result"]
            .as_str()
            .expect("a token")
            .to_owned()
    };
    // A fresh login from `source`, and its offer.
    let login_and_offer = |source, n: u32| {
        let token = login(source);
        call_from(source, Some(&token), "add.offer", json!(format!("v=0 {n}")))
    };
    for n in 0..5 {
        let reply = login_and_offer(flooder, n);
        assert!(reply.get("error").is_none(), "offer {n}: {reply}");
    }
    for n in 5..20 {
        let reply = login_and_offer(flooder, n);
        assert_eq!(reply["error"]["code"], codes::FULL, "offer {n}: {reply}");
        assert!(
            reply["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("this address")),
            "{reply}"
        );
    }
    let token = login(honest);
    let reply = call_from(honest, Some(&token), "add.offer", json!("v=0 honest"));
    assert!(reply.get("error").is_none(), "{reply}");
    let reply = call_from(honest, Some(&token), "get.offer", Value::Null);
    assert_eq!(reply["result"], "v=0 honest");
}
