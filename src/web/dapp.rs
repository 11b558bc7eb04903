//! `DappClient`: the class a dApp page uses to reach wallets through the relay.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::endpoint::{Connect, Endpoint, endpoint_methods, metadata};
use super::error::{from_protocol, js_error, set};
use super::events::rejected;
use super::js::{BrowserRandom, get, get_ms, get_scopes, get_string};
use crate::protocol::{DappOptions, Metadata, Mode, Role};

/// The dApp side of the relay flow. See the TypeScript declarations for the API.
#[wasm_bindgen(skip_typescript)]
#[derive(Debug)]
pub struct DappClient {
    endpoint: Rc<Endpoint>,
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
        let connect: Connect = Box::new(move |endpoint, options, from| {
            connect(endpoint, &relay_url, &dapp, options, from)
        });
        Ok(Self {
            endpoint: Endpoint::new(Role::Dapp, &options, connect)?,
        })
    }

    /// Starts a handshake (`{mode: "untrusted" | "trusted", ttlMs?}`); resolves with the
    /// session when connected, rejects with the reason it failed.
    pub fn connect(&self, options: JsValue) -> Promise {
        let call = js_sys::Object::new();
        set(&call, "op", &"connect".into());
        set(&call, "options", &super::tabs::plain(&options));
        if let Some(ttl) = get(&options, "ttlMs") {
            set(&call, "ttlMs", &ttl);
        }
        self.endpoint.dispatch(call)
    }
}

/// Runs `connect()` on the tab that owns the sessions (`from`: the tab that called it).
fn connect(
    endpoint: &Rc<Endpoint>,
    relay_url: &str,
    dapp: &Metadata,
    options: &JsValue,
    from: Option<&str>,
) -> Promise {
    let mode = match get_string(options, "mode").as_deref() {
        None | Some("untrusted") => Mode::Untrusted,
        Some("trusted") => Mode::Trusted,
        Some(_) => {
            return rejected(js_error(
                "invalid_params",
                "mode must be \"trusted\" or \"untrusted\"",
            ));
        }
    };
    let mut dapp_options = DappOptions::new(relay_url.to_owned(), dapp.clone());
    dapp_options.mode = mode;
    dapp_options.request_ttl_ms = get_ms(options, "ttlMs");
    dapp_options.limits = endpoint.limits.clone();
    match (
        get_scopes(options, "scopes"),
        get_scopes(options, "optionalScopes"),
    ) {
        (Ok(required), Ok(optional)) => {
            dapp_options.scopes = required;
            dapp_options.optional_scopes = optional;
        }
        (Err(e), _) | (_, Err(e)) => return rejected(e),
    }
    let driver = endpoint.driver(relay_url);
    let started = driver.start_handshake(from, |hub, now| {
        hub.connect_dapp(dapp_options, now, Box::new(BrowserRandom))
    });
    match started {
        Ok(id) => driver.wait_connected(id),
        Err(e) => rejected(from_protocol(&e)),
    }
}

endpoint_methods!(DappClient);
