//! What `DappClient` and `WalletClient` share: event registration, the drivers (one per relay
//! URL), requests, notifications, disconnects, the session list and resuming stored sessions.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::*;

use super::driver::{Driver, find};
use super::error::{from_protocol, js_error, set};
use super::events::{Listeners, Settle, rejected};
use super::js::{BrowserRandom, get, get_ms, get_string, json_from_js, json_to_js};
use super::storage::Store;
use super::tabs::{TabRole, Tabs};
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

/// Starts a handshake on the owner: `(endpoint, connect options, calling tab)`.
pub type Connect = Box<dyn Fn(&Rc<Endpoint>, &JsValue, Option<&str>) -> Promise>;

/// Shared state of one client object.
pub struct Endpoint {
    pub listeners: Rc<Listeners>,
    pub drivers: RefCell<Vec<Rc<Driver>>>,
    pub store: Rc<Store>,
    pub limits: Limits,
    pub role: Role,
    /// With `storage: "local"`: the other clients of this role and origin (src/web/tabs.rs).
    tabs: Option<Rc<Tabs>>,
    connect: Connect,
    me: Weak<Endpoint>,
}

impl core::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint")
            .field("role", &self.role)
            .field("tabs", &self.tabs)
            .finish_non_exhaustive()
    }
}

fn op(kind: &str) -> js_sys::Object {
    let o = js_sys::Object::new();
    set(&o, "op", &kind.into());
    o
}

fn copy(to: &js_sys::Object, from: &JsValue, key: &str) {
    if let Some(v) = get(from, key) {
        set(to, key, &v);
    }
}

impl Endpoint {
    pub fn new(role: Role, options: &JsValue, connect: Connect) -> Result<Rc<Self>, JsValue> {
        let mut limits = Limits::default();
        if let Some(ms) = get_ms(options, "requestTimeoutMs") {
            limits.request_timeout_ms = ms;
        }
        if let Some(bytes) = get_ms(options, "maxPayloadBytes") {
            limits.max_payload = usize::try_from(bytes).unwrap_or(usize::MAX).max(1024);
        }
        let storage = get_string(options, "storage").unwrap_or_else(|| "local".into());
        let store = Store::open(&storage);
        let tabs = if store.is_shared() {
            let role_name = match role {
                Role::Dapp => "dapp",
                Role::Wallet => "wallet",
            };
            Some(Tabs::join(role_name).ok_or_else(|| {
                js_error(
                    "tabs_unsupported",
                    "this browser cannot share sessions between tabs (Web Locks and \
                     BroadcastChannel need a secure context: https or localhost); use \
                     storage: \"memory\"",
                )
            })?)
        } else {
            None
        };
        let listeners = Rc::new(Listeners::default());
        if let Some(tabs) = &tabs {
            listeners.set_bus(tabs);
        }
        let endpoint = Rc::new_cyclic(|me| Self {
            listeners,
            drivers: RefCell::new(Vec::new()),
            store: Rc::new(store),
            limits,
            role,
            tabs,
            connect,
            me: me.clone(),
        });
        if let Some(tabs) = &endpoint.tabs {
            tabs.start(&endpoint);
        }
        Ok(endpoint)
    }

    /// True when this client drives its sessions itself (memory storage, or the owner tab).
    fn local(&self) -> bool {
        self.tabs
            .as_ref()
            .is_none_or(|t| t.role() == TabRole::Owner)
    }

    /// Runs `op` here (the owner) or sends it to the owner.
    pub fn dispatch(&self, op: js_sys::Object) -> Promise {
        match &self.tabs {
            Some(tabs) if tabs.role() != TabRole::Owner => {
                tabs.call(op.into(), self.limits.request_timeout_ms)
            }
            _ => self.run(&op, None).0,
        }
    }

    /// Runs one call on this client's own sessions (`from`: the tab that asked, if not this
    /// one). A request also returns its session and request id.
    pub fn run(&self, op: &JsValue, from: Option<&str>) -> (Promise, Option<(String, u64)>) {
        let text = |key: &str| get_string(op, key);
        let done = || Promise::resolve(&JsValue::UNDEFINED);
        match text("op").as_deref() {
            Some("request") => {
                let params = match json_from_js(&get(op, "params").unwrap_or(JsValue::NULL)) {
                    Ok(p) => p,
                    Err(e) => return (rejected(e), None),
                };
                let method = text("method").unwrap_or_default();
                let drivers = self.drivers.borrow().clone();
                let Some(target) = find(&drivers, text("sessionId").as_deref()) else {
                    return (
                        rejected(js_error("not_connected", "no connected session")),
                        None,
                    );
                };
                let (promise, id) =
                    target
                        .driver
                        .request(target.id, &method, params, get_ms(op, "timeoutMs"));
                let session = target.driver.session_id(target.id);
                (promise, id.zip(session).map(|(id, s)| (s, id)))
            }
            Some("notify") => {
                let sent =
                    json_from_js(&get(op, "params").unwrap_or(JsValue::NULL)).and_then(|p| {
                        self.notify_local(&text("method").unwrap_or_default(), p, text("sessionId"))
                    });
                (sent.map_or_else(rejected, |()| done()), None)
            }
            Some("disconnect") => {
                self.disconnect_local(text("sessionId"));
                (done(), None)
            }
            Some("connect") => match self.me.upgrade() {
                Some(me) => (
                    (self.connect)(&me, &get(op, "options").unwrap_or(JsValue::UNDEFINED), from),
                    None,
                ),
                None => (rejected(js_error("invalid_state", "client closed")), None),
            },
            Some("resume") => (self.resume_local(false), None),
            Some("drop") => {
                for driver in self.drivers.borrow().clone() {
                    driver.drop_socket();
                }
                (done(), None)
            }
            Some(kind @ ("otp" | "cancel" | "approve" | "reject")) => {
                let url = text("url").unwrap_or_default();
                let driver = self
                    .drivers
                    .borrow()
                    .iter()
                    .find(|d| d.url() == url)
                    .cloned();
                let conn = get_ms(op, "conn").unwrap_or(0) as u32;
                match driver {
                    Some(d) if kind == "otp" => {
                        (d.submit_otp(conn, &text("code").unwrap_or_default()), None)
                    }
                    Some(d) if kind == "approve" || kind == "reject" => {
                        let grant = get(op, "grant").unwrap_or(JsValue::UNDEFINED);
                        (d.decide_proposal(conn, kind == "approve", &grant), None)
                    }
                    Some(d) => {
                        d.cancel_handshake(conn);
                        (done(), None)
                    }
                    None => (rejected(js_error("invalid_state", "closed")), None),
                }
            }
            _ => (rejected(js_error("invalid_params", "unknown call")), None),
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
        // Checked here, so a follower refuses what cannot travel as JSON at once.
        let params = match json_from_js(params) {
            Ok(p) => json_to_js(p.as_str()),
            Err(e) => return rejected(e),
        };
        let call = op("request");
        set(&call, "method", &method.into());
        set(&call, "params", &params);
        copy(&call, options, "sessionId");
        copy(&call, options, "timeoutMs");
        self.dispatch(call)
    }

    fn notify_local(
        &self,
        method: &str,
        params: crate::json::Json,
        session: Option<String>,
    ) -> Result<(), JsValue> {
        let drivers = self.drivers.borrow().clone();
        let target = find(&drivers, session.as_deref())
            .ok_or_else(|| js_error("not_connected", "no connected session"))?;
        target
            .driver
            .with_hub(|hub, now| hub.send(target.id, now, |conn| conn.notify(method, params, now)))
            .map_err(|e| from_protocol(&e))
    }

    /// Sends a notification; in a follower tab a failure arrives as an `error` event.
    pub fn notify(&self, method: &str, params: &JsValue, options: &JsValue) -> Result<(), JsValue> {
        let value = json_from_js(params)?;
        if self.local() {
            return self.notify_local(method, value, get_string(options, "sessionId"));
        }
        let call = op("notify");
        set(&call, "method", &method.into());
        set(&call, "params", &json_to_js(value.as_str()));
        copy(&call, options, "sessionId");
        let listeners = Rc::downgrade(&self.listeners);
        let failed = Closure::once_into_js(move |e: JsValue| {
            if let Some(l) = listeners.upgrade() {
                l.emit_local("error", &e);
            }
        });
        super::tabs::on_settle(&self.dispatch(call), JsValue::UNDEFINED, failed);
        Ok(())
    }

    fn disconnect_local(&self, session: Option<String>) {
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

    /// Closes one session (`sessionId`) or all of them, telling each peer.
    pub fn disconnect(&self, options: &JsValue) {
        let call = op("disconnect");
        copy(&call, options, "sessionId");
        let _ = self.dispatch(call);
    }

    /// Live sessions of this client.
    pub fn sessions_local(&self) -> Array {
        let list = Array::new();
        for driver in self.drivers.borrow().iter() {
            for (_, info) in driver.sessions() {
                list.push(&json_to_js(&info.to_json()));
            }
        }
        list
    }

    /// Live sessions (in a follower tab: the owner's, as last heard).
    pub fn sessions(&self) -> Array {
        match &self.tabs {
            Some(tabs) if !self.local() => tabs.sessions().into_iter().collect(),
            _ => self.sessions_local(),
        }
    }

    /// Stored sessions of this role, without resuming them.
    pub fn stored_sessions(&self) -> Array {
        let list = Array::new();
        let probe = Driver::stored_in(&self.store, self.role);
        for record in probe {
            if let Record::Session(s) = record {
                list.push(&json_to_js(&s.info.to_json()));
            }
        }
        list
    }

    /// Resumes every stored session (and pending dApp handshake) of this role that is not
    /// live yet; `adopt`: the requests their previous owner sent are answered here. Resolves
    /// with the live sessions.
    fn resume_local(&self, adopt: bool) -> Promise {
        let records = Driver::stored_in(&self.store, self.role);
        let live = self.sessions_local();
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
                live.push(&json_to_js(&s.info.to_json()));
            }
            driver.with_hub(|hub, now| {
                let id = hub.try_resume(&record, now, Box::new(BrowserRandom));
                if let (true, Some(conn)) = (adopt, id.and_then(|id| hub.connection(id))) {
                    conn.adopt_requests();
                }
            });
        }
        Promise::resolve(&JsValue::from(live))
    }

    /// This client became the owner after another: it resumes what that owner drove.
    /// `outbox`: what that owner had not seen the relay acknowledge, per relay URL, in order.
    pub fn take_over(&self, outbox: Vec<(String, Vec<(String, String)>)>) {
        let _ = self.resume_local(true);
        let drivers = self.drivers.borrow().clone();
        for (url, frames) in outbox {
            if let Some(driver) = drivers.iter().find(|d| d.url() == url) {
                driver.republish(frames);
            }
        }
    }

    /// Resumes stored sessions; resolves with the live ones.
    pub fn resume(&self) -> Promise {
        self.dispatch(op("resume"))
    }

    /// Follower: an event the owner relayed, made whole again (functions that call back).
    pub fn relayed_event(&self, name: &str, payload: &JsValue, message: &JsValue) {
        #[cfg(feature = "dapp")]
        if name == "session_request" {
            let uri = get_string(payload, "uri").unwrap_or_default();
            let qr = Closure::<dyn FnMut() -> JsValue>::new(move || {
                crate::qr::svg(&uri).map_or(JsValue::NULL, JsValue::from)
            });
            set(payload, "qrSvg", &qr.into_js_value());
        }
        #[cfg(feature = "dapp")]
        if name == "otp_required" {
            self.forward_to_owner(payload, message, "submit", "otp", "code");
            self.forward_to_owner(payload, message, "cancel", "cancel", "code");
        }
        #[cfg(feature = "wallet")]
        if name == "session_proposal" {
            for kind in ["approve", "reject"] {
                self.forward_to_owner(payload, message, kind, kind, "grant");
            }
        }
        let _ = message;
        self.listeners.emit_local(name, payload);
    }

    /// Sets `payload[key]` to a function that hands the owner tab the call `op` for the
    /// prompt `message` came with (its `url` and `conn`), its argument as `arg`.
    #[cfg(any(feature = "dapp", feature = "wallet"))]
    fn forward_to_owner(
        &self,
        payload: &JsValue,
        message: &JsValue,
        key: &str,
        kind: &'static str,
        arg: &'static str,
    ) {
        let me = self.me.clone();
        let message = message.clone();
        let f = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |value: JsValue| {
            let call = op(kind);
            copy(&call, &message, "url");
            copy(&call, &message, "conn");
            set(&call, arg, &value);
            match me.upgrade() {
                Some(e) => e.dispatch(call),
                None => rejected(js_error("invalid_state", "client closed")),
            }
        });
        set(payload, key, &f.into_js_value());
    }

    /// Simulates a network drop on every relay link (the clients reconnect and recover).
    pub fn drop_links(&self) {
        let _ = self.dispatch(op("drop"));
    }

    /// Ends everything this client drives; a follower just leaves (the owner's sessions go on).
    /// Hands the sessions to the next owner tab (this one froze): stops every driver without
    /// ending a session; returns the requests still waiting for an answer, and per relay URL
    /// the frames the relay has not acknowledged.
    #[allow(clippy::type_complexity)]
    pub fn suspend(
        &self,
    ) -> (
        Vec<(String, u64, Settle)>,
        Vec<(String, Vec<(String, String)>)>,
    ) {
        let drivers: Vec<_> = self.drivers.borrow_mut().drain(..).collect();
        let mut waiting = Vec::new();
        let mut unsent = Vec::new();
        for driver in drivers {
            let mut frames = Vec::new();
            waiting.extend(driver.suspend(&mut frames));
            unsent.push((driver.url(), frames));
        }
        (waiting, unsent)
    }

    pub fn request_timeout_ms(&self) -> u64 {
        self.limits.request_timeout_ms
    }

    pub fn close(&self) {
        for driver in self.drivers.borrow_mut().drain(..) {
            driver.shutdown();
        }
        if let Some(tabs) = &self.tabs {
            tabs.leave();
        }
    }
}

impl Drop for Endpoint {
    /// Like a page unload: sessions stay stored; the next tab takes over.
    fn drop(&mut self) {
        if let Some(tabs) = &self.tabs {
            tabs.leave();
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
