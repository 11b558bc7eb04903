//! What `DappClient` and `WalletClient` share: event registration, the drivers (one per relay
//! URL), requests, notifications, disconnects, the session list and resuming stored sessions.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::*;

use super::driver::{Driver, find};
use super::error::{from_protocol, js_error};
use super::events::{Listeners, rejected};
use super::js::{BrowserRandom, from_js, get_ms, get_string, serialize_to_js};
use super::storage::Store;
use crate::protocol::{Limits, Metadata, Record, Role};

/// Reads `{name, url?, icon?}`.
pub fn metadata(value: Option<JsValue>, what: &str) -> Result<Metadata, JsValue> {
    let value =
        value.ok_or_else(|| js_error("invalid_params", &format!("{what} metadata is required")))?;
    let metadata = Metadata {
        name: get_string(&value, "name").unwrap_or_default(),
        url: get_string(&value, "url"),
        icon: get_string(&value, "icon"),
    };
    metadata
        .validate()
        .map_err(|e| js_error("invalid_params", e))?;
    Ok(metadata)
}

/// Shared state of one client object.
#[derive(Debug)]
pub struct Endpoint {
    pub listeners: Rc<Listeners>,
    pub drivers: RefCell<Vec<Rc<Driver>>>,
    pub store: Rc<Store>,
    pub limits: Limits,
    pub role: Role,
}

impl Endpoint {
    pub fn new(role: Role, options: &JsValue) -> Self {
        let mut limits = Limits::default();
        if let Some(ms) = get_ms(options, "requestTimeoutMs") {
            limits.request_timeout_ms = ms;
        }
        if let Some(bytes) = get_ms(options, "maxPayloadBytes") {
            limits.max_payload = usize::try_from(bytes).unwrap_or(usize::MAX).max(1024);
        }
        Self {
            listeners: Rc::new(Listeners::default()),
            drivers: RefCell::new(Vec::new()),
            store: Rc::new(Store::open(
                &get_string(options, "storage").unwrap_or_else(|| "local".into()),
            )),
            limits,
            role,
        }
    }

    /// The driver for `url`, created (and its socket opened) on first use.
    pub fn driver(&self, url: &str) -> Rc<Driver> {
        if let Some(d) = self.drivers.borrow().iter().find(|d| d.url() == url) {
            return d.clone();
        }
        let driver = Driver::new(
            url,
            self.store.clone(),
            self.limits.clone(),
            self.listeners.clone(),
        );
        self.drivers.borrow_mut().push(driver.clone());
        driver
    }

    /// Registers a handler; returns a function that unregisters it.
    pub fn on(&self, event: &str, handler: Function) -> Function {
        self.listeners.add(event, handler.clone());
        let listeners = Rc::downgrade(&self.listeners);
        let event = event.to_owned();
        Closure::<dyn FnMut()>::new(move || {
            if let Some(l) = listeners.upgrade() {
                l.remove(&event, &handler);
            }
        })
        .into_js_value()
        .into()
    }

    pub fn off(&self, event: &str, handler: &Function) {
        self.listeners.remove(event, handler);
    }

    pub fn request(&self, method: &str, params: &JsValue, options: &JsValue) -> Promise {
        let params = match from_js(params) {
            Ok(p) => p,
            Err(e) => return rejected(e),
        };
        let drivers = self.drivers.borrow().clone();
        let Some(target) = find(&drivers, get_string(options, "sessionId").as_deref()) else {
            return rejected(js_error("not_connected", "no connected session"));
        };
        target
            .driver
            .request(target.id, method, params, get_ms(options, "timeoutMs"))
    }

    pub fn notify(&self, method: &str, params: &JsValue, options: &JsValue) -> Result<(), JsValue> {
        let params = from_js(params)?;
        let drivers = self.drivers.borrow().clone();
        let target = find(&drivers, get_string(options, "sessionId").as_deref())
            .ok_or_else(|| js_error("not_connected", "no connected session"))?;
        target
            .driver
            .with_hub(|hub, now| hub.send(target.id, now, |conn| conn.notify(method, params, now)))
            .map_err(|e| from_protocol(&e))
    }

    /// Closes one session (`sessionId`) or all of them, telling each peer.
    pub fn disconnect(&self, options: &JsValue) {
        let session = get_string(options, "sessionId");
        for driver in self.drivers.borrow().clone() {
            driver.with_hub(|hub, now| {
                for id in hub.ids() {
                    let Some(conn) = hub.connection(id) else {
                        continue;
                    };
                    let matches = match (&session, conn.session()) {
                        (None, _) => true,
                        (Some(s), Some(info)) => *s == info.id,
                        (Some(_), None) => false,
                    };
                    if matches {
                        conn.close("disconnected by the user", now);
                    }
                }
            });
        }
    }

    /// Live sessions.
    pub fn sessions(&self) -> Array {
        let list = Array::new();
        for driver in self.drivers.borrow().iter() {
            for (_, info) in driver.sessions() {
                list.push(&serialize_to_js(&info));
            }
        }
        list
    }

    /// Stored sessions of this role, without resuming them.
    pub fn stored_sessions(&self) -> Array {
        let list = Array::new();
        let probe = Driver::stored_in(&self.store, self.role);
        for record in probe {
            if let Record::Session(s) = record {
                list.push(&serialize_to_js(&s.info));
            }
        }
        list
    }

    /// Resumes every stored session (and pending dApp handshake) of this role that is not
    /// live yet; resolves with the resumed sessions.
    pub fn resume(&self) -> Promise {
        let records = Driver::stored_in(&self.store, self.role);
        let resumed = Array::new();
        for record in records {
            let url = match &record {
                Record::Session(s) => s.info.relay.clone(),
                Record::Pending(p) => p.request.relay.clone(),
            };
            let driver = self.driver(&url);
            if driver.is_live(&record) {
                continue;
            }
            if let Record::Session(s) = &record {
                resumed.push(&serialize_to_js(&s.info));
            }
            driver.with_hub(|hub, now| hub.try_resume(&record, now, Box::new(BrowserRandom)));
        }
        Promise::resolve(&JsValue::from(resumed))
    }

    /// Simulates a network drop on every relay link (the clients reconnect and recover).
    pub fn drop_links(&self) {
        for driver in self.drivers.borrow().clone() {
            driver.drop_socket();
        }
    }

    /// Ends everything.
    pub fn close(&self) {
        for driver in self.drivers.borrow_mut().drain(..) {
            driver.shutdown();
        }
    }
}

/// The JavaScript methods both client classes expose, delegating to their `endpoint` field.
/// A second `#[wasm_bindgen] impl` block per class, so the classes keep one implementation.
macro_rules! endpoint_methods {
    ($class:ident) => {
        #[wasm_bindgen]
        impl $class {
            /// Registers an event handler; returns a function that removes it.
            pub fn on(&self, event: &str, handler: js_sys::Function) -> js_sys::Function {
                self.endpoint.on(event, handler)
            }

            /// Removes an event handler.
            pub fn off(&self, event: &str, handler: &js_sys::Function) {
                self.endpoint.off(event, handler)
            }

            /// Sends a request (`{sessionId?, timeoutMs?}`); always settles.
            pub fn request(
                &self,
                method: &str,
                params: JsValue,
                options: JsValue,
            ) -> js_sys::Promise {
                self.endpoint.request(method, &params, &options)
            }

            /// Sends a notification.
            pub fn notify(
                &self,
                method: &str,
                params: JsValue,
                options: JsValue,
            ) -> Result<(), JsValue> {
                self.endpoint.notify(method, &params, &options)
            }

            /// Ends one session (`{sessionId}`) or all, telling the peer.
            pub fn disconnect(&self, options: JsValue) {
                self.endpoint.disconnect(&options)
            }

            /// Live sessions.
            pub fn sessions(&self) -> js_sys::Array {
                self.endpoint.sessions()
            }

            /// Sessions stored in this browser, live or not.
            #[wasm_bindgen(js_name = storedSessions)]
            pub fn stored_sessions(&self) -> js_sys::Array {
                self.endpoint.stored_sessions()
            }

            /// Resumes stored sessions (and, for a dApp, pending handshakes) after a reload.
            pub fn resume(&self) -> js_sys::Promise {
                self.endpoint.resume()
            }

            /// Drops the relay connections as a network failure would; the client reconnects
            /// and recovers what it missed.
            #[wasm_bindgen(js_name = simulateNetworkLoss)]
            pub fn simulate_network_loss(&self) {
                self.endpoint.drop_links()
            }

            /// Closes every session and relay connection.
            pub fn close(&self) {
                self.endpoint.close()
            }
        }
    };
}

pub(crate) use endpoint_methods;
