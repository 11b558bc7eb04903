//! `WalletClient`: the class a wallet page uses to answer dApps.

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;

use super::dapp::metadata;
use super::driver::rejected;
use super::endpoint::Endpoint;
use super::error::{from_protocol, js_error};
use super::js::{BrowserRandom, get, get_ms, get_string};
use crate::protocol::{Metadata, Role, SessionRequest, WalletOptions};

/// The wallet side of the relay flow. See the TypeScript declarations for the API.
#[wasm_bindgen(skip_typescript)]
#[derive(Debug)]
pub struct WalletClient {
    endpoint: Endpoint,
    wallet: Metadata,
    otp_window_ms: Option<u64>,
}

#[wasm_bindgen]
impl WalletClient {
    /// `new WalletClient({wallet: {name, url?, icon?}, storage?, requestTimeoutMs?, otpWindowMs?})`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<WalletClient, JsValue> {
        let wallet = metadata(get(&options, "wallet"), "wallet")?;
        Ok(Self {
            endpoint: Endpoint::new(Role::Wallet, &options),
            wallet,
            otp_window_ms: get_ms(&options, "otpWindowMs"),
        })
    }

    /// Registers an event handler; returns a function that removes it.
    pub fn on(&self, event: &str, handler: Function) -> Function {
        self.endpoint.on(event, handler)
    }

    /// Removes an event handler.
    pub fn off(&self, event: &str, handler: &Function) {
        self.endpoint.off(event, handler)
    }

    /// Answers a session request (`{uri}` or `{sessionRequest}`); resolves when connected
    /// (trusted: as soon as the offer is out; untrusted: when the dApp confirmed the code).
    pub fn connect(&self, options: JsValue) -> Promise {
        let parsed = if let Some(uri) = get_string(&options, "uri") {
            SessionRequest::from_uri(&uri)
        } else if let Some(request) = get(&options, "sessionRequest") {
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
        let mut options = WalletOptions::new(self.wallet.clone());
        options.limits = self.endpoint.limits.clone();
        if let Some(ms) = self.otp_window_ms {
            options.otp_window_ms = ms;
        }
        let driver = self.endpoint.driver(&request.relay);
        match driver.with_hub(|hub, now| {
            hub.connect_wallet(&request, options, now, Box::new(BrowserRandom))
        }) {
            Ok(id) => driver.wait_connected(id),
            Err(e) => rejected(from_protocol(&e)),
        }
    }

    /// Sends a request to the dApp (`{sessionId?, timeoutMs?}`); always settles.
    pub fn request(&self, method: &str, params: JsValue, options: JsValue) -> Promise {
        self.endpoint.request(method, &params, &options)
    }

    /// Sends a notification (e.g. `accountsChanged`).
    pub fn notify(&self, method: &str, params: JsValue, options: JsValue) -> Result<(), JsValue> {
        self.endpoint.notify(method, &params, &options)
    }

    /// Ends one session (`{sessionId}`) or all, telling the dApp.
    pub fn disconnect(&self, options: JsValue) {
        self.endpoint.disconnect(&options)
    }

    /// Live sessions.
    pub fn sessions(&self) -> Array {
        self.endpoint.sessions()
    }

    /// Sessions stored in this browser, live or not.
    #[wasm_bindgen(js_name = storedSessions)]
    pub fn stored_sessions(&self) -> Array {
        self.endpoint.stored_sessions()
    }

    /// Resumes stored sessions after a reload.
    pub fn resume(&self) -> Promise {
        self.endpoint.resume()
    }

    /// Drops the relay connections as a network failure would.
    #[wasm_bindgen(js_name = simulateNetworkLoss)]
    pub fn simulate_network_loss(&self) {
        self.endpoint.drop_links()
    }

    /// Closes every session and relay connection.
    pub fn close(&self) {
        self.endpoint.close()
    }
}
