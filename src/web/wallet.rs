//! `WalletClient`: the class a wallet page uses to answer dApps.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::endpoint::{Connect, Endpoint, endpoint_methods, metadata};
use super::error::{from_protocol, js_error, set};
use super::events::rejected;
use super::js::{BrowserRandom, get, get_ms, get_string};
use crate::protocol::{Metadata, Role, SessionRequest, WalletOptions};

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

    /// Answers a session request (`{uri}` or `{sessionRequest}`); resolves when connected
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
    let parsed = if let Some(uri) = get_string(options, "uri") {
        SessionRequest::from_uri(&uri)
    } else if let Some(request) = get(options, "sessionRequest") {
        let json = request
            .as_string()
            .or_else(|| js_sys::JSON::stringify(&request).ok().map(String::from));
        SessionRequest::from_json(&json.unwrap_or_default())
    } else {
        return rejected(js_error(
            "invalid_params",
            "connect needs {uri} or {sessionRequest}",
        ));
    };
    let request = match parsed {
        Ok(r) => r,
        Err(e) => return rejected(from_protocol(&e)),
    };
    let mut options = WalletOptions::new(wallet.clone());
    options.limits = endpoint.limits.clone();
    if let Some(ms) = otp_window_ms {
        options.otp_window_ms = ms;
    }
    let driver = endpoint.driver(&request.relay);
    let started = driver.start_handshake(from, |hub, now| {
        hub.connect_wallet(&request, options, now, Box::new(BrowserRandom))
    });
    match started {
        Ok(id) => driver.wait_connected(id),
        Err(e) => rejected(from_protocol(&e)),
    }
}

endpoint_methods!(WalletClient);
