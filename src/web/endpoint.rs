//! What `DappClient` and `WalletClient` share: event registration, the drivers (one per relay
//! URL), requests, notifications, disconnects, the session list and resuming stored sessions.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::*;

use super::driver::{Driver, Listeners, find, rejected};
use super::error::{from_protocol, js_error};
use super::js::{BrowserRandom, from_js, get_ms, get_string, serialize_to_js};
use super::storage::Store;
use crate::protocol::{Limits, Record, Role};

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
            .with_hub(|hub, now| match hub.connection(target.id) {
                Some(conn) => conn.notify(method, params, now),
                None => Err(crate::protocol::Error::InvalidState("closed")),
            })
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
            driver.with_hub(|hub, now| hub.resume(&record, now, Box::new(BrowserRandom)));
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
