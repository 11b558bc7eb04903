//! The browser SDK in headless Chromium against the real relay binary (started by
//! `scripts/test-browser.sh`, which passes its URL in `WALLETWIRE_RELAY_URL` at build time).
//! A `DappClient` and a `WalletClient` live in the same page and talk through the relay.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use walletwire::web::{DappClient, WalletClient};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const RELAY: &str = match option_env!("WALLETWIRE_RELAY_URL") {
    Some(url) => url,
    None => "ws://127.0.0.1:8000/connection/websocket",
};

fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).expect("test JSON")
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn text(value: &JsValue, key: &str) -> String {
    get(value, key).as_string().unwrap_or_default()
}

async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

type Handler = Closure<dyn FnMut(JsValue)>;

/// Records every payload of the events it listens to.
#[derive(Clone, Default)]
struct Recorder {
    seen: Rc<RefCell<Vec<(String, JsValue)>>>,
    keep: Rc<RefCell<Vec<Handler>>>,
}

impl Recorder {
    fn listen(&self, on: impl Fn(&str, &Function) -> Function, events: &[&str]) {
        for event in events {
            let seen = self.seen.clone();
            let name = event.to_string();
            let closure = Closure::<dyn FnMut(JsValue)>::new(move |payload: JsValue| {
                seen.borrow_mut().push((name.clone(), payload));
            });
            on(event, closure.as_ref().unchecked_ref());
            self.keep.borrow_mut().push(closure);
        }
    }

    fn all(&self, event: &str) -> Vec<JsValue> {
        self.seen
            .borrow()
            .iter()
            .filter(|(e, _)| e == event)
            .map(|(_, p)| p.clone())
            .collect()
    }

    /// Waits (up to 15 s) until `count` payloads of `event` were seen.
    async fn wait(&self, event: &str, count: usize) -> Vec<JsValue> {
        for _ in 0..300 {
            let all = self.all(event);
            if all.len() >= count {
                return all;
            }
            sleep(50).await;
        }
        panic!(
            "timed out waiting for {count} {event} events, saw {}",
            self.all(event).len()
        );
    }
}

fn dapp(storage: &str) -> (DappClient, Recorder) {
    let options = json(&format!(
        r#"{{"relayUrl":"{RELAY}","dapp":{{"name":"Browser test dApp","url":"http://127.0.0.1"}},"storage":"{storage}"}}"#
    ));
    let client = DappClient::new(options).expect("dApp client");
    let recorder = Recorder::default();
    recorder.listen(
        |e, f| client.on(e, f.clone()),
        &[
            "session_request",
            "otp_required",
            "connected",
            "message",
            "request",
            "disconnected",
            "error",
            "messages_lost",
            "state",
        ],
    );
    (client, recorder)
}

fn wallet(storage: &str) -> (WalletClient, Recorder) {
    let options = json(&format!(
        r#"{{"wallet":{{"name":"Browser test wallet"}},"storage":"{storage}"}}"#
    ));
    let client = WalletClient::new(options).expect("wallet client");
    let recorder = Recorder::default();
    recorder.listen(
        |e, f| client.on(e, f.clone()),
        &[
            "session_proposal",
            "display_otp",
            "connected",
            "message",
            "request",
            "disconnected",
            "error",
            "messages_lost",
        ],
    );
    (client, recorder)
}

/// Answers every incoming request with `{"echo": method, "params": params}`.
fn auto_respond(on: impl Fn(&str, &Function) -> Function) -> Closure<dyn FnMut(JsValue)> {
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |request: JsValue| {
        let respond: Function = get(&request, "respond").unchecked_into();
        let result = js_sys::Object::new();
        Reflect::set(&result, &"echo".into(), &get(&request, "method")).unwrap();
        Reflect::set(&result, &"params".into(), &get(&request, "params")).unwrap();
        respond.call1(&JsValue::NULL, &result).unwrap();
    });
    on("request", closure.as_ref().unchecked_ref());
    closure
}

async fn settle(promise: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

/// Pairs a dApp and a wallet in `mode`; returns both with their recorders.
async fn paired(mode: &str, storage: &str) -> (DappClient, Recorder, WalletClient, Recorder) {
    let (d, drec) = dapp(storage);
    let (w, wrec) = wallet(storage);
    let connecting = d.connect(json(&format!(r#"{{"mode":"{mode}"}}"#)));
    let request = drec.wait("session_request", 1).await.remove(0);
    let uri = text(&request, "uri");
    // Protocol v3: the QR code carries only version, mode, key and relay (PROTOCOL.md §2).
    assert!(uri.starts_with("walletwire:connect?v=3&"), "{uri}");
    assert!(uri.len() <= 200, "{} characters: {uri}", uri.len());
    let qr: Function = get(&request, "qrSvg").unchecked_into();
    assert!(
        qr.call0(&JsValue::NULL)
            .unwrap()
            .as_string()
            .unwrap()
            .contains("<svg")
    );
    let wallet_connecting = w.connect(json(&format!(r#"{{"uri":"{uri}"}}"#)));
    if mode == "untrusted" {
        let otp = text(&wrec.wait("display_otp", 1).await[0], "otp");
        let prompt = drec.wait("otp_required", 1).await.remove(0);
        let submit: Function = get(&prompt, "submit").unchecked_into();
        let wrong = if otp == "000000" { "111111" } else { "000000" };
        let error = settle(
            submit
                .call1(&JsValue::NULL, &wrong.into())
                .unwrap()
                .unchecked_into(),
        )
        .await
        .unwrap_err();
        assert_eq!(text(&error, "code"), "otp_mismatch");
        assert_eq!(get(&error, "attemptsLeft").as_f64(), Some(2.0));
        settle(
            submit
                .call1(&JsValue::NULL, &otp.into())
                .unwrap()
                .unchecked_into(),
        )
        .await
        .expect("right code accepted");
    }
    let dapp_session = settle(connecting).await.expect("dApp connected");
    let wallet_session = settle(wallet_connecting).await.expect("wallet connected");
    assert_eq!(text(&dapp_session, "id"), text(&wallet_session, "id"));
    assert_eq!(text(&dapp_session, "mode"), mode);
    (d, drec, w, wrec)
}

#[wasm_bindgen_test]
async fn a_scoped_session_carries_the_grant_and_refuses_other_methods() {
    let (d, drec) = dapp("memory");
    let (w, wrec) = wallet("memory");
    let connecting = d.connect(json(
        r#"{"mode":"trusted","scopes":{"eip155":{"chains":["eip155:1"],"methods":["echo"],"events":["accountsChanged"]}}}"#,
    ));
    let request = drec.wait("session_request", 1).await.remove(0);
    let uri = text(&request, "uri");
    assert!(
        !uri.contains("echo"),
        "scopes travel sealed, not in the QR code: {uri}"
    );
    let wallet_connecting = w.connect(json(&format!(
        r#"{{"uri":"{uri}","accounts":{{"eip155":["0x1111111111111111111111111111111111111111"]}}}}"#
    )));
    // The wallet read the sealed request: the scopes it asks for.
    let proposal = wrec.wait("session_proposal", 1).await.remove(0);
    let asked = get(&get(&get(&proposal, "request"), "scopes"), "eip155");
    assert_eq!(
        js_sys::JSON::stringify(&get(&asked, "methods")).unwrap(),
        r#"["echo"]"#
    );
    let dapp_session = settle(connecting).await.expect("dApp connected");
    let wallet_session = settle(wallet_connecting).await.expect("wallet connected");
    for session in [&dapp_session, &wallet_session] {
        let granted = get(&get(session, "scopes"), "eip155");
        assert_eq!(
            js_sys::JSON::stringify(&get(&granted, "accounts")).unwrap(),
            r#"["eip155:1:0x1111111111111111111111111111111111111111"]"#
        );
    }
    let _w_auto = auto_respond(|e, f| w.on(e, f.clone()));
    let result = settle(d.request("echo", json("[1]"), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(text(&result, "echo"), "echo");
    // Outside the grant: refused on the dApp's side, nothing sent.
    let error = settle(d.request("eth_sign", json("[]"), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(text(&error, "code"), "method_not_granted");
    assert_eq!(
        wrec.all("request").len(),
        1,
        "only the granted request reached the wallet"
    );
    d.close();
    w.close();
}

#[wasm_bindgen_test]
async fn a_wallet_that_asks_grants_what_its_user_approved_or_rejects() {
    let scopes = r#"{"eip155":{"chains":["eip155:1","eip155:10"],"methods":["echo","eth_sign"],"events":[]}}"#;
    for approve in [true, false] {
        let (d, drec) = dapp("memory");
        let (w, wrec) = wallet("memory");
        let connecting = d.connect(json(&format!(
            r#"{{"mode":"trusted","ttlMs":4000,"scopes":{scopes}}}"#
        )));
        let uri = text(&drec.wait("session_request", 1).await[0], "uri");
        let wallet_connecting = w.connect(json(&format!(
            r#"{{"uri":"{uri}","ask":true,"accounts":{{"eip155":["0xabc"]}}}}"#
        )));
        let proposal = wrec.wait("session_proposal", 1).await.remove(0);
        sleep(300).await;
        assert!(
            drec.all("connected").is_empty(),
            "nothing answered before the user decides"
        );
        let key = if approve { "approve" } else { "reject" };
        let decide: Function = get(&proposal, key).unchecked_into();
        let grant = json(r#"{"eip155":{"chains":["eip155:10"],"methods":["echo"],"events":[]}}"#);
        settle(
            decide
                .call1(&JsValue::NULL, &grant)
                .unwrap()
                .unchecked_into(),
        )
        .await
        .expect("the decision is taken");
        if approve {
            let session = settle(connecting).await.expect("dApp connected");
            settle(wallet_connecting).await.expect("wallet connected");
            assert_eq!(
                js_sys::JSON::stringify(&get(&session, "scopes")).unwrap(),
                r#"{"eip155":{"chains":["eip155:10"],"methods":["echo"],"events":[],"accounts":["eip155:10:0xabc"]}}"#
            );
            let error = settle(d.request("eth_sign", json("[]"), JsValue::UNDEFINED))
                .await
                .unwrap_err();
            assert_eq!(text(&error, "code"), "method_not_granted");
        } else {
            let error = settle(wallet_connecting).await.unwrap_err();
            assert_eq!(text(&error, "code"), "cancelled");
            // The dApp was never answered: its request runs out.
            let error = settle(connecting).await.unwrap_err();
            assert_eq!(text(&error, "code"), "request_expired");
        }
        d.close();
        w.close();
    }
}

#[wasm_bindgen_test]
async fn trusted_pairing_and_requests_both_ways() {
    let (d, drec, w, wrec) = paired("trusted", "memory").await;
    let _w_auto = auto_respond(|e, f| w.on(e, f.clone()));
    let _d_auto = auto_respond(|e, f| d.on(e, f.clone()));
    let result = settle(d.request("accounts.list", json(r#"{"chain":1}"#), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(text(&result, "echo"), "accounts.list");
    assert_eq!(get(&get(&result, "params"), "chain").as_f64(), Some(1.0));
    let result = settle(w.request("dapp.info", json("[1,2,3]"), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(text(&result, "echo"), "dapp.info");
    w.notify("accountsChanged", json(r#"["acc-2"]"#), JsValue::UNDEFINED)
        .unwrap();
    let note = drec.wait("message", 2).await;
    assert!(
        note.iter()
            .any(|m| text(m, "type") == "notification" && text(m, "method") == "accountsChanged")
    );
    // The wallet disconnects; the dApp learns it.
    w.disconnect(JsValue::UNDEFINED);
    let gone = drec.wait("disconnected", 1).await;
    assert_eq!(text(&gone[0], "reason"), "peer");
    let error = settle(d.request("after", JsValue::NULL, JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(text(&error, "code"), "not_connected");
    assert!(wrec.all("error").is_empty() && drec.all("error").is_empty());
    d.close();
    w.close();
}

#[wasm_bindgen_test]
async fn untrusted_pairing_with_the_code() {
    let (d, drec, w, _wrec) = paired("untrusted", "memory").await;
    let _w_auto = auto_respond(|e, f| w.on(e, f.clone()));
    let result = settle(d.request(
        "message.sign",
        json(r#"{"message":"hi"}"#),
        JsValue::UNDEFINED,
    ))
    .await
    .unwrap();
    assert_eq!(text(&result, "echo"), "message.sign");
    let states: Vec<String> = drec.all("state").iter().map(|s| text(s, "state")).collect();
    assert!(
        states.contains(&"awaiting_otp".to_owned()) && states.contains(&"connected".to_owned()),
        "{states:?}"
    );
    d.close();
    w.close();
}

#[wasm_bindgen_test]
async fn socket_cut_and_restored_loses_and_duplicates_nothing() {
    let (d, drec, w, _wrec) = paired("trusted", "memory").await;
    // Cut the dApp's socket, then send while it is away.
    d.simulate_network_loss();
    for i in 0..20 {
        w.notify("tick", JsValue::from(i), JsValue::UNDEFINED)
            .unwrap();
    }
    // And cut the wallet's socket in the middle of the stream too.
    w.simulate_network_loss();
    for i in 20..30 {
        w.notify("tick", JsValue::from(i), JsValue::UNDEFINED)
            .unwrap();
    }
    drec.wait("message", 30).await;
    // Give any duplicate time to arrive before counting.
    sleep(500).await;
    let ticks: Vec<f64> = drec
        .all("message")
        .iter()
        .filter(|m| text(m, "method") == "tick")
        .map(|m| get(m, "params").as_f64().unwrap())
        .collect();
    assert_eq!(
        ticks,
        (0..30).map(f64::from).collect::<Vec<_>>(),
        "in order, none lost, none twice"
    );
    assert!(drec.all("messages_lost").is_empty());
    d.close();
    w.close();
}

fn clear_storage() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.clear().unwrap();
}

#[wasm_bindgen_test]
async fn session_resumed_from_local_storage_by_a_fresh_client() {
    clear_storage();
    let (d, _drec, w, _wrec) = paired("untrusted", "local").await;
    let _w_auto = auto_respond(|e, f| w.on(e, f.clone()));
    let session = text(&d.sessions().get(0), "id");
    // The dApp page goes away without closing the session (a reload).
    drop(d);
    sleep(100).await;
    let (fresh, frec) = dapp("local");
    let stored = fresh.stored_sessions();
    let keys: Vec<String> = {
        let s = web_sys::window().unwrap().local_storage().unwrap().unwrap();
        (0..s.length().unwrap())
            .map(|i| s.key(i).unwrap().unwrap())
            .collect()
    };
    assert_eq!(stored.length(), 1, "{keys:?}");
    assert_eq!(text(&stored.get(0), "id"), session);
    let resumed: js_sys::Array = settle(fresh.resume()).await.unwrap().unchecked_into();
    assert_eq!(resumed.length(), 1);
    assert_eq!(frec.all("connected").len(), 1);
    let result = settle(fresh.request("after.reload", JsValue::NULL, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(text(&result, "echo"), "after.reload");
    fresh.close();
    w.close();
    clear_storage();
}

#[wasm_bindgen_test]
async fn request_without_answer_times_out() {
    let (d, _drec, w, _wrec) = paired("trusted", "memory").await;
    let started = js_sys::Date::now();
    let error = settle(d.request(
        "never.answered",
        JsValue::NULL,
        json(r#"{"timeoutMs":400}"#),
    ))
    .await
    .unwrap_err();
    assert_eq!(text(&error, "code"), "timeout");
    assert!(js_sys::Date::now() - started < 5_000.0);
    d.close();
    w.close();
}

/// Publishes `data` on `channel` through a raw WebSocket, as a third party would.
async fn publish_raw(channel: &str, data: &str) {
    let ws = web_sys::WebSocket::new(RELAY).unwrap();
    let opened = Promise::new(&mut |resolve, _| ws.set_onopen(Some(&resolve)));
    JsFuture::from(opened).await.unwrap();
    ws.send_with_str(r#"{"id":1,"connect":{}}"#).unwrap();
    ws.send_with_str(&format!(
        r#"{{"id":2,"publish":{{"channel":"{channel}","data":{data}}}}}"#
    ))
    .unwrap();
    sleep(200).await;
    ws.close().unwrap();
}

#[wasm_bindgen_test]
async fn junk_on_the_session_channel_is_ignored() {
    let (d, drec, w, wrec) = paired("trusted", "memory").await;
    let _w_auto = auto_respond(|e, f| w.on(e, f.clone()));
    let channel = text(&d.sessions().get(0), "channel");
    for junk in [
        r#"{"from":"wallet","seq":0,"box":"AAAA"}"#,
        r#"{"hello":"world"}"#,
        "42",
        r#"{"from":"dapp","seq":99,"box":"xyz"}"#,
    ] {
        publish_raw(&channel, junk).await;
    }
    let result = settle(d.request("still.works", JsValue::NULL, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(text(&result, "echo"), "still.works");
    assert!(drec.all("disconnected").is_empty() && wrec.all("disconnected").is_empty());
    assert!(
        drec.all("message").is_empty(),
        "junk never surfaces as a message"
    );
    d.close();
    w.close();
}

#[wasm_bindgen_test]
async fn bad_uris_and_an_unreachable_relay_give_typed_errors() {
    let (w, _wrec) = wallet("memory");
    for (uri, code) in [
        ("https://example.com", "invalid_request"),
        ("walletwire:connect?r=e30", "invalid_request"),
        // A link of protocol v2 (the request as JSON in `r`): refused by name.
        ("walletwire:connect?r=eyJ2IjoyfQ", "unsupported_version"),
        ("walletwire:connect?v=4&k=AAAA", "unsupported_version"),
    ] {
        let error = settle(w.connect(json(&format!(r#"{{"uri":"{uri}"}}"#))))
            .await
            .unwrap_err();
        assert_eq!(text(&error, "code"), code);
    }
    let error = settle(w.connect(json("{}"))).await.unwrap_err();
    assert_eq!(text(&error, "code"), "invalid_params");
    w.close();

    let options = json(
        r#"{"relayUrl":"ws://127.0.0.1:9/connection/websocket","dapp":{"name":"x"},"storage":"memory"}"#,
    );
    let d = DappClient::new(options).unwrap();
    let started = js_sys::Date::now();
    let error = settle(d.connect(json(r#"{"mode":"trusted","ttlMs":1500}"#)))
        .await
        .unwrap_err();
    assert_eq!(text(&error, "code"), "relay_unreachable");
    assert!(js_sys::Date::now() - started < 10_000.0);
    d.close();
    assert!(DappClient::new(json(r#"{"relayUrl":"http://x","dapp":{"name":"x"}}"#)).is_err());
}

#[wasm_bindgen_test]
async fn garbage_in_local_storage_is_discarded_and_never_fatal() {
    clear_storage();
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage
        .set_item("walletwire:v1:dapp:session:x", "{not json")
        .unwrap();
    storage
        .set_item(
            "walletwire:v1:dapp:session:y",
            r#"{"v":99,"kind":"session"}"#,
        )
        .unwrap();
    storage
        .set_item(
            "walletwire:v1:dapp:pending:z",
            r#"{"v":1,"kind":"pending","request":{}}"#,
        )
        .unwrap();
    storage.set_item("unrelated", "kept").unwrap();
    let (d, drec) = dapp("local");
    assert_eq!(d.stored_sessions().length(), 0);
    let resumed: js_sys::Array = settle(d.resume()).await.unwrap().unchecked_into();
    assert_eq!(resumed.length(), 0);
    assert_eq!(
        storage.length().unwrap(),
        1,
        "our garbage removed, other keys untouched"
    );
    assert_eq!(
        storage.get_item("unrelated").unwrap().as_deref(),
        Some("kept")
    );
    assert!(drec.all("error").is_empty());
    d.close();
    clear_storage();
}

/// Fills the origin's localStorage quota to the last character; returns the filler keys.
fn fill_local_storage() -> Vec<String> {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let mut keys = Vec::new();
    let mut size = 1 << 20;
    while size >= 1 {
        let value = "x".repeat(size);
        loop {
            let key = format!("filler{}", keys.len());
            if storage.set_item(&key, &value).is_err() || keys.len() > 100_000 {
                break;
            }
            keys.push(key);
        }
        size /= 4;
    }
    keys
}

#[wasm_bindgen_test]
async fn a_handshake_that_cannot_be_saved_fails_at_once_with_storage_full() {
    clear_storage();
    fill_local_storage();
    let (d, _drec) = dapp("local");
    let error = settle(d.connect(json(r#"{"mode":"trusted"}"#)))
        .await
        .expect_err("nothing can be saved");
    assert_eq!(text(&error, "code"), "storage_full");
    d.close();
    clear_storage();
}

#[wasm_bindgen_test]
async fn a_frame_whose_counter_cannot_be_saved_is_not_sent() {
    clear_storage();
    // The dApp keeps its session in localStorage; the wallet in memory, so only the dApp
    // runs out of room.
    let (d, drec) = dapp("local");
    let (w, wrec) = wallet("memory");
    let connecting = d.connect(json(r#"{"mode":"trusted"}"#));
    let uri = text(&drec.wait("session_request", 1).await[0], "uri");
    settle(w.connect(json(&format!(r#"{{"uri":"{uri}"}}"#))))
        .await
        .expect("wallet connected");
    settle(connecting).await.expect("dApp connected");
    let _w_auto = auto_respond(|e, f| w.on(e, f.clone()));
    let fillers = fill_local_storage();
    // The record grows by a character whenever a counter gains a digit: within a few dozen
    // requests one cannot be saved, and that one must fail without reaching the wallet.
    let mut answered = 0usize;
    let mut refused = None;
    for n in 0..150 {
        let params = json(&format!(r#"{{"n":{n}}}"#));
        match settle(d.request("count", params, JsValue::UNDEFINED)).await {
            Ok(result) => {
                assert_eq!(get(&get(&result, "params"), "n").as_f64(), Some(n as f64));
                answered += 1;
            }
            Err(error) => {
                refused = Some(text(&error, "code"));
                break;
            }
        }
    }
    assert_eq!(
        refused.as_deref(),
        Some("storage_full"),
        "after {answered} answers"
    );
    assert!(
        drec.all("error")
            .iter()
            .any(|e| text(e, "code") == "storage_full"),
        "an error event too"
    );
    sleep(500).await;
    assert_eq!(
        wrec.all("request").len(),
        answered,
        "the refused request was not sent"
    );
    // With room again the session goes on: same session, next request answered.
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    for key in fillers {
        storage.remove_item(&key).unwrap();
    }
    let result = settle(d.request("after", json(r#"{"n":-1}"#), JsValue::UNDEFINED))
        .await
        .expect("answered once storage has room");
    assert_eq!(text(&result, "echo"), "after");
    assert_eq!(wrec.all("request").len(), answered + 1);
    d.close();
    w.close();
    clear_storage();
}
