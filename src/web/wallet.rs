//! `WalletClient`: the class a wallet page uses to answer dApps.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::endpoint::{Connect, Endpoint, endpoint_methods, metadata};
use super::error::{from_protocol, js_error, set};
use super::events::rejected;
use super::js::{BrowserRandom, get, get_ms, get_scopes, get_string};
use crate::protocol::{Invitation, Metadata, Role, SessionRequest, WalletOptions};

/// The wallet side of the relay flow. See the TypeScript declarations for the API.
#[wasm_bindgen(skip_typescript)]
#[derive(Debug)]
pub struct WalletClient {
    endpoint: Rc<Endpoint>,
}

#[wasm_bindgen]
impl WalletClient {
    /// `new WalletClient({wallet: {name, url?, icon?}, storage?, requestTimeoutMs?, maxPayloadBytes?, otpWindowMs?})`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<WalletClient, JsValue> {
        let wallet = metadata(get(&options, "wallet"), "wallet")?;
        let otp_window_ms = get_ms(&options, "otpWindowMs");
        let connect: Connect = Box::new(move |endpoint, options, from| {
            connect(endpoint, &wallet, otp_window_ms, options, from)
        });
        Ok(Self {
            endpoint: Endpoint::new(Role::Wallet, &options, connect)?,
        })
    }

    /// Answers a session request (`{uri}` or `{sessionRequest}`, with `grant` scopes and
    /// `accounts` for a scoped request; `session_proposal` shows what was read); resolves when connected
    /// (trusted: as soon as the offer is out; untrusted: when the dApp confirmed the code).
    pub fn connect(&self, options: JsValue) -> Promise {
        let call = js_sys::Object::new();
        set(&call, "op", &"connect".into());
        set(&call, "options", &super::tabs::plain(&options));
        self.endpoint.dispatch(call)
    }
}

/// Runs `connect()` on the tab that owns the sessions (`from`: the tab that called it).
fn connect(
    endpoint: &Rc<Endpoint>,
    wallet: &Metadata,
    otp_window_ms: Option<u64>,
    options: &JsValue,
    from: Option<&str>,
) -> Promise {
    let mut wallet_options = WalletOptions::new(wallet.clone());
    wallet_options.limits = endpoint.limits.clone();
    if let Some(ms) = otp_window_ms {
        wallet_options.otp_window_ms = ms;
    }
    match get_scopes(options, "grant") {
        Ok(grant) => wallet_options.grant = grant,
        Err(e) => return rejected(e),
    }
    wallet_options.accounts = accounts(options);
    // `ask`: a scoped request waits for `session_proposal`'s approve(grant) or reject().
    wallet_options.ask = get(options, "ask").is_some_and(|v| v.is_truthy());
    if let Some(uri) = get_string(options, "uri") {
        // A scanned QR code: the request itself is read from the relay first.
        let invitation = match Invitation::from_uri(&uri) {
            Ok(i) => i,
            Err(e) => return rejected(from_protocol(&e)),
        };
        let driver = endpoint.driver(&invitation.relay);
        let started = driver.start_handshake(from, |hub, now| {
            hub.read_wallet(&invitation, wallet_options, now, Box::new(BrowserRandom))
        });
        return match started {
            Ok(id) => driver.wait_connected(id),
            Err(e) => rejected(from_protocol(&e)),
        };
    }
    let Some(request) = get(options, "sessionRequest") else {
        return rejected(js_error(
            "invalid_params",
            "connect needs {uri} or {sessionRequest}",
        ));
    };
    let json = request
        .as_string()
        .or_else(|| js_sys::JSON::stringify(&request).ok().map(String::from));
    let request = match SessionRequest::from_json(&json.unwrap_or_default()) {
        Ok(r) => r,
        Err(e) => return rejected(from_protocol(&e)),
    };
    let driver = endpoint.driver(&request.relay);
    let started = driver.start_handshake(from, |hub, now| {
        hub.connect_wallet(&request, wallet_options, now, Box::new(BrowserRandom))
    });
    match started {
        Ok(id) => driver.wait_connected(id),
        Err(e) => rejected(from_protocol(&e)),
    }
}

/// `accounts: {namespace: [address, ...]}`: the addresses a granted scope lists on its chains.
fn accounts(options: &JsValue) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(by_namespace) = get(options, "accounts").filter(|v| v.is_object()) else {
        return out;
    };
    let entries = js_sys::Object::entries(by_namespace.unchecked_ref());
    for entry in entries.iter() {
        let pair: js_sys::Array = entry.unchecked_into();
        let namespace = pair.get(0).as_string().unwrap_or_default();
        let list = pair.get(1);
        if js_sys::Array::is_array(&list) {
            for address in js_sys::Array::from(&list).iter() {
                if let Some(address) = address.as_string() {
                    out.push((namespace.clone(), address));
                }
            }
        }
    }
    out
}

endpoint_methods!(WalletClient);
