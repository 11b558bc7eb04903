//! `DappClient`: the class a dApp page uses to reach wallets through the relay.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::endpoint::{Endpoint, endpoint_methods, metadata};
use super::error::{from_protocol, js_error};
use super::events::rejected;
use super::js::{BrowserRandom, get, get_ms, get_string};
use crate::protocol::{DappOptions, Metadata, Mode, Role};

/// The dApp side of the relay flow. See the TypeScript declarations for the API.
#[wasm_bindgen(skip_typescript)]
#[derive(Debug)]
pub struct DappClient {
    endpoint: Endpoint,
    relay_url: String,
    dapp: Metadata,
}

#[wasm_bindgen]
impl DappClient {
    /// `new DappClient({relayUrl, dapp: {name, url?, icon?}, storage?, requestTimeoutMs?, maxPayloadBytes?})`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<DappClient, JsValue> {
        let relay_url = get_string(&options, "relayUrl").unwrap_or_default();
        if !(relay_url.starts_with("ws://") || relay_url.starts_with("wss://"))
            || relay_url.len() > 256
        {
            return Err(js_error(
                "invalid_params",
                "relayUrl must be a ws:// or wss:// URL",
            ));
        }
        let dapp = metadata(get(&options, "dapp"), "dapp")?;
        Ok(Self {
            endpoint: Endpoint::new(Role::Dapp, &options),
            relay_url,
            dapp,
        })
    }

    /// Starts a handshake (`{mode: "untrusted" | "trusted", ttlMs?}`); resolves with the
    /// session when connected, rejects with the reason it failed.
    pub fn connect(&self, options: JsValue) -> Promise {
        let mode = match get_string(&options, "mode").as_deref() {
            None | Some("untrusted") => Mode::Untrusted,
            Some("trusted") => Mode::Trusted,
            Some(other) => {
                return rejected(js_error(
                    "invalid_params",
                    &format!("unknown mode {other:?}"),
                ));
            }
        };
        let mut dapp_options = DappOptions::new(self.relay_url.clone(), self.dapp.clone());
        dapp_options.mode = mode;
        dapp_options.request_ttl_ms = get_ms(&options, "ttlMs");
        dapp_options.limits = self.endpoint.limits.clone();
        let driver = self.endpoint.driver(&self.relay_url);
        match driver
            .with_hub(|hub, now| hub.connect_dapp(dapp_options, now, Box::new(BrowserRandom)))
        {
            Ok(id) => driver.wait_connected(id),
            Err(e) => rejected(from_protocol(&e)),
        }
    }
}

endpoint_methods!(DappClient);
