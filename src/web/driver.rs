//! The browser driver: one WebSocket, one timer and the storage around a [`Hub`], plus the
//! promise bookkeeping and event dispatch the JavaScript classes share.
//!
//! Re-entrancy rule: JavaScript callbacks (event handlers, promise settlements) are only ever
//! called while no `RefCell` borrow is held, so a handler may call back into the client.

use crate::sorted::SortedMap;
use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use super::error::{from_protocol, js_error, set};
use super::events::{Listeners, Settle, rejected};
use super::js::{BrowserRandom, json_from_js, json_to_js, now};
use super::storage::Store;
use crate::protocol::{Disconnect, Error, Event, Limits, Record, Role, RpcError, State};
use crate::relay::client::{RelayClientOptions, Transmit};
use crate::relay::hub::{ConnectionId, Hub, HubEvent, HubOutput};

struct Socket {
    generation: u32,
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

struct DriverState {
    hub: Hub,
    url: String,
    socket: Option<Socket>,
    generation: u32,
    timer: Option<i32>,
    timer_closure: Option<Closure<dyn FnMut()>>,
    wake_closure: Option<Closure<dyn FnMut()>>,
    /// (connection, our request id) → its promise.
    requests: SortedMap<(ConnectionId, u64), Settle>,
    /// connection → promises of `connect()` waiting for `connected`.
    connects: SortedMap<ConnectionId, Vec<Settle>>,
    /// connection → session id, once connected.
    sessions: SortedMap<ConnectionId, crate::protocol::SessionInfo>,
    /// The relay link is up.
    online: bool,
    /// The relay link has been up at least once.
    ever_online: bool,
    /// Why the last handshake that could not be saved ended, for a `connect()` promise
    /// registered after it did.
    failure: Option<(ConnectionId, JsValue)>,
    /// The tab whose `connect()` is running (owner tab serving a follower).
    caller: Option<String>,
    /// Handshakes another tab started: their prompts (`session_request`, `otp_required`,
    /// `display_otp`) go to that tab alone.
    initiators: SortedMap<ConnectionId, String>,
}

/// One relay link with its connections. Cloneable handle.
pub struct Driver {
    state: RefCell<DriverState>,
    listeners: Rc<Listeners>,
}

impl core::fmt::Debug for Driver {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Driver").finish_non_exhaustive()
    }
}

/// A connection within a driver.
pub struct Target {
    pub driver: Rc<Driver>,
    pub id: ConnectionId,
}

impl Driver {
    /// Opens the relay link at once.
    pub fn new(url: &str, store: Rc<Store>, limits: Limits, listeners: Rc<Listeners>) -> Rc<Self> {
        let options = RelayClientOptions::default();
        let mut hub = Hub::new(options, limits, Box::new(BrowserRandom));
        // Records are written in order, before the frame they account for is published.
        hub.set_store(Box::new(super::storage::Shared(store.clone())));
        if listeners.bus().is_some() {
            // The other tabs keep a copy of what the relay has not acknowledged yet.
            hub.mirror_outbox();
        }
        let driver = Rc::new(Self {
            state: RefCell::new(DriverState {
                hub,
                url: url.to_owned(),
                socket: None,
                generation: 0,
                timer: None,
                timer_closure: None,
                wake_closure: None,
                requests: SortedMap::new(),
                connects: SortedMap::new(),
                sessions: SortedMap::new(),
                online: false,
                ever_online: false,
                failure: None,
                caller: None,
                initiators: SortedMap::new(),
            }),
            listeners,
        });
        driver.install_wake();
        driver.process();
        driver
    }

    /// The relay URL.
    pub fn url(&self) -> String {
        self.state.borrow().url.clone()
    }

    /// Page visible again or network back: reconnect or probe, then recover.
    fn install_wake(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let closure = Closure::<dyn FnMut()>::new(move || {
            let Some(driver) = weak.upgrade() else { return };
            let visible = web_sys::window()
                .and_then(|w| w.document())
                .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
            if visible {
                driver.with_hub(|hub, now| {
                    hub.wake(now);
                    hub.handle_timeout(now);
                });
            }
        });
        if let Some(window) = web_sys::window() {
            let f = closure.as_ref().unchecked_ref();
            let _ = window.add_event_listener_with_callback("online", f);
            if let Some(document) = window.document() {
                let _ = document.add_event_listener_with_callback("visibilitychange", f);
            }
        }
        self.state.borrow_mut().wake_closure = Some(closure);
    }

    /// Runs `f` on the hub, then applies everything it produced.
    pub fn with_hub<R>(self: &Rc<Self>, f: impl FnOnce(&mut Hub, u64) -> R) -> R {
        let result = {
            let mut state = self.state.borrow_mut();
            let now = now();
            let r = f(&mut state.hub, now);
            state.hub.pump(now);
            r
        };
        self.process();
        result
    }

    /// Applies hub outputs until there are none, then re-arms the timer.
    pub fn process(self: &Rc<Self>) {
        loop {
            let outputs: Vec<HubOutput> = {
                let mut state = self.state.borrow_mut();
                std::iter::from_fn(|| state.hub.poll_output()).collect()
            };
            if outputs.is_empty() {
                break;
            }
            for output in outputs {
                self.apply(output);
            }
        }
        self.schedule();
    }

    fn schedule(self: &Rc<Self>) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let mut state = self.state.borrow_mut();
        if let Some(handle) = state.timer.take() {
            window.clear_timeout_with_handle(handle);
        }
        let Some(at) = state.hub.poll_timeout() else {
            return;
        };
        let delay = at.saturating_sub(now()).min(i32::MAX as u64) as i32;
        if state.timer_closure.is_none() {
            let weak = Rc::downgrade(self);
            state.timer_closure = Some(Closure::<dyn FnMut()>::new(move || {
                if let Some(driver) = weak.upgrade() {
                    driver.state.borrow_mut().timer = None;
                    driver.with_hub(|hub, now| hub.handle_timeout(now));
                }
            }));
        }
        let callback = state
            .timer_closure
            .as_ref()
            .map(|c| c.as_ref().unchecked_ref::<Function>().clone());
        if let Some(callback) = callback {
            state.timer = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(&callback, delay)
                .ok();
        }
    }

    fn apply(self: &Rc<Self>, output: HubOutput) {
        match output {
            HubOutput::Socket(Transmit::Open) => self.open_socket(),
            HubOutput::Socket(Transmit::Send(text)) => {
                let state = self.state.borrow();
                if let Some(socket) = &state.socket {
                    // A failed send means the socket is closing; onclose follows.
                    let _ = socket.ws.send_with_str(&text);
                }
            }
            HubOutput::Socket(Transmit::Close) => self.close_socket(),
            // The hub writes records itself (`Hub::set_store`).
            HubOutput::Store { .. } | HubOutput::Remove { .. } => {}
            HubOutput::Queued { id, channel, data } => {
                if let Some(bus) = self.listeners.bus() {
                    bus.queued(&self.url(), id, &channel, &data);
                }
            }
            HubOutput::Published { id } => {
                if let Some(bus) = self.listeners.bus() {
                    bus.published(&self.url(), id);
                }
            }
            HubOutput::Event(HubEvent::Event { id, event }) => self.event(id, event),
            HubOutput::Event(HubEvent::Link { up, will_retry }) => {
                {
                    let mut state = self.state.borrow_mut();
                    state.online = up;
                    state.ever_online |= up;
                }
                let payload = js_sys::Object::new();
                set(&payload, "online", &up.into());
                set(&payload, "willRetry", &will_retry.into());
                set(&payload, "url", &self.url().into());
                self.listeners.emit("relay", &payload);
                if !will_retry {
                    self.fail_everything("relay_refused", "the relay refused this client");
                }
            }
            HubOutput::Event(HubEvent::RelayError { id, code, message }) => {
                let session = self.session_id(id);
                self.emit_error(code, &message, session.as_deref());
                let handshake = !self.state.borrow().sessions.contains_key(&id);
                if code == "storage_full" && handshake {
                    // A handshake that cannot be saved is abandoned at once (the hub sends
                    // none of its frames), so `connect()` settles now, not at its timeout.
                    self.state.borrow_mut().failure = Some((id, js_error(code, &message)));
                    self.with_hub(|hub, now| {
                        if let Some(conn) = hub.connection(id) {
                            conn.close("storage full", now);
                        }
                    });
                }
                if code == "relay_refused" {
                    let waiters = self
                        .state
                        .borrow_mut()
                        .connects
                        .remove(&id)
                        .unwrap_or_default();
                    for w in waiters {
                        w.reject(&js_error(code, &message));
                    }
                }
            }
        }
    }

    fn fail_everything(self: &Rc<Self>, code: &str, message: &str) {
        let (requests, connects) = {
            let mut state = self.state.borrow_mut();
            (
                std::mem::take(&mut state.requests),
                std::mem::take(&mut state.connects),
            )
        };
        for settle in requests.into_values() {
            settle.reject(&js_error(code, message));
        }
        for settle in connects.into_values().flatten() {
            settle.reject(&js_error(code, message));
        }
    }

    fn open_socket(self: &Rc<Self>) {
        self.close_socket();
        let (url, generation) = {
            let mut state = self.state.borrow_mut();
            state.generation += 1;
            (state.url.clone(), state.generation)
        };
        let ws = match WebSocket::new(&url) {
            Ok(ws) => ws,
            Err(_) => {
                self.emit_error(
                    "relay_unreachable",
                    &format!("cannot open a WebSocket to {url}"),
                    None,
                );
                self.with_hub(|hub, now| hub.handle_close(0, now));
                return;
            }
        };
        let weak = Rc::downgrade(self);
        let current = move |weak: &Weak<Driver>| {
            weak.upgrade().filter(|d| {
                d.state
                    .borrow()
                    .socket
                    .as_ref()
                    .is_some_and(|s| s.generation == generation)
            })
        };
        let on_open = {
            let weak = weak.clone();
            Closure::<dyn FnMut()>::new(move || {
                if let Some(d) = current(&weak) {
                    d.with_hub(|hub, now| hub.handle_open(now));
                }
            })
        };
        let on_message = {
            let weak = weak.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                if let (Some(d), Some(text)) = (current(&weak), e.data().as_string()) {
                    d.with_hub(|hub, now| hub.handle_text(&text, now));
                }
            })
        };
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            if let Some(d) = current(&weak) {
                d.state.borrow_mut().socket = None;
                d.with_hub(|hub, now| hub.handle_close(e.code(), now));
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        self.state.borrow_mut().socket = Some(Socket {
            generation,
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        });
    }

    fn close_socket(&self) {
        let socket = self.state.borrow_mut().socket.take();
        if let Some(socket) = socket {
            socket.ws.set_onopen(None);
            socket.ws.set_onmessage(None);
            socket.ws.set_onclose(None);
            let _ = socket.ws.close();
        }
    }

    /// Drops the WebSocket as a network failure would (no close handshake seen by us): the
    /// client reconnects and recovers. Used by tests and by pages that know the network
    /// changed.
    pub fn drop_socket(self: &Rc<Self>) {
        self.close_socket();
        self.with_hub(|hub, now| hub.handle_close(1006, now));
    }

    /// Starts a handshake for `caller` (another tab; `None`: this one). Its prompts go to that
    /// tab whenever they come: during the call, or later (a dApp's `session_request` waits for
    /// the relay to confirm the subscription).
    pub fn start_handshake(
        self: &Rc<Self>,
        caller: Option<&str>,
        f: impl FnOnce(&mut Hub, u64) -> Result<ConnectionId, Error>,
    ) -> Result<ConnectionId, Error> {
        self.state.borrow_mut().caller = caller.map(str::to_owned);
        let started = self.with_hub(f);
        let mut state = self.state.borrow_mut();
        state.caller = None;
        if let (Ok(id), Some(caller)) = (&started, caller) {
            if !state.initiators.contains_key(id) {
                state.initiators.insert(*id, caller.to_owned());
            }
        }
        started
    }

    /// Emits a handshake prompt to the tab that started the handshake.
    fn emit_prompt(&self, id: ConnectionId, event: &str, payload: &JsValue) {
        let to = {
            let mut state = self.state.borrow_mut();
            match state.caller.clone() {
                Some(caller) if !state.initiators.contains_key(&id) => {
                    state.initiators.insert(id, caller);
                }
                _ => {}
            }
            state.initiators.get(&id).cloned()
        };
        let extra = [
            ("url", JsValue::from(self.url())),
            ("conn", JsValue::from(id)),
        ];
        self.listeners
            .emit_to(to.as_deref(), event, payload, &extra);
    }

    /// Submits the user's code to a dApp handshake.
    #[cfg(feature = "dapp")]
    pub fn submit_otp(self: &Rc<Self>, id: ConnectionId, code: &str) -> Promise {
        let result = self.with_hub(|hub, now| match hub.connection(id).and_then(|c| c.dapp()) {
            Some(dapp) => dapp.submit_otp(code, now),
            None => Err(Error::InvalidState("closed")),
        });
        match result {
            Ok(()) => Promise::resolve(&JsValue::UNDEFINED),
            Err(e) => rejected(from_protocol(&e)),
        }
    }

    /// Abandons a dApp handshake.
    #[cfg(feature = "dapp")]
    pub fn cancel_handshake(self: &Rc<Self>, id: ConnectionId) {
        self.with_hub(|hub, now| {
            if let Some(dapp) = hub.connection(id).and_then(|c| c.dapp()) {
                dapp.cancel(now);
            }
        });
    }

    #[cfg(not(feature = "dapp"))]
    pub fn submit_otp(self: &Rc<Self>, _: ConnectionId, _: &str) -> Promise {
        rejected(js_error("invalid_state", "no dApp handshake"))
    }

    #[cfg(not(feature = "dapp"))]
    pub fn cancel_handshake(self: &Rc<Self>, _: ConnectionId) {}

    /// The wallet's user decided on a proposed request: `approve` with `grant` (a scope set;
    /// undefined: everything asked for), or reject it.
    #[cfg(feature = "wallet")]
    pub fn decide_proposal(
        self: &Rc<Self>,
        id: ConnectionId,
        approve: bool,
        grant: &JsValue,
    ) -> Promise {
        let holder = js_sys::Object::new();
        set(&holder, "grant", grant);
        let grant = match super::js::get_scopes(&holder, "grant") {
            Ok(g) => g,
            Err(e) => return rejected(e),
        };
        let result = self.with_hub(
            |hub, now| match hub.connection(id).and_then(|c| c.wallet()) {
                Some(wallet) if approve => wallet.approve(grant, now),
                Some(wallet) => {
                    wallet.reject(now);
                    Ok(())
                }
                None => Err(Error::InvalidState("closed")),
            },
        );
        match result {
            Ok(()) => Promise::resolve(&JsValue::UNDEFINED),
            Err(e) => rejected(from_protocol(&e)),
        }
    }

    #[cfg(not(feature = "wallet"))]
    pub fn decide_proposal(self: &Rc<Self>, _: ConnectionId, _: bool, _: &JsValue) -> Promise {
        rejected(js_error("invalid_state", "no wallet handshake"))
    }

    /// Publishes the frames an earlier owner tab left unacknowledged (in their order).
    pub fn republish(self: &Rc<Self>, frames: Vec<(String, String)>) {
        self.with_hub(|hub, now| {
            for (channel, data) in frames {
                hub.republish(&channel, data, now);
            }
        });
    }

    pub fn session_id(&self, id: ConnectionId) -> Option<String> {
        self.state.borrow().sessions.get(&id).map(|s| s.id.clone())
    }

    /// Connection ids with a live session, and their info.
    pub fn sessions(&self) -> Vec<(ConnectionId, crate::protocol::SessionInfo)> {
        let state = self.state.borrow();
        let mut list: Vec<_> = state
            .sessions
            .iter()
            .map(|(id, s)| (*id, s.clone()))
            .collect();
        list.sort_by_key(|(id, _)| *id);
        list
    }

    /// Every stored record of `role` (pending handshakes count as dApp); unreadable or
    /// expired records are deleted.
    pub fn stored_in(store: &Store, role: Role) -> Vec<Record> {
        let now = now();
        let mut records = Vec::new();
        for (key, value) in store.records() {
            match Record::decode(&value, now) {
                Ok(record) => {
                    let matches = match &record {
                        Record::Pending(_) => role == Role::Dapp,
                        Record::Session(s) => s.info.role == role,
                    };
                    if matches {
                        records.push(record);
                    }
                }
                Err(_) => store.remove(&key),
            }
        }
        records
    }

    /// True if a live connection already owns this record's key.
    pub fn is_live(&self, record: &Record) -> bool {
        let state = self.state.borrow();
        match record {
            Record::Session(s) => state.sessions.values().any(|i| i.id == s.info.id),
            Record::Pending(_) => false,
        }
    }

    /// A promise settled when connection `id` connects or fails.
    pub fn wait_connected(self: &Rc<Self>, id: ConnectionId) -> Promise {
        let (promise, settle) = Settle::promise();
        let connected = self.state.borrow().sessions.get(&id).cloned();
        let ended = self.state.borrow_mut().hub.connection(id).is_none();
        match connected {
            Some(info) => settle.resolve(&json_to_js(&info.to_json())),
            None if ended => settle.reject(&self.ended(id)),
            None => self
                .state
                .borrow_mut()
                .connects
                .get_or_default(id)
                .push(settle),
        }
        promise
    }

    /// Sends a request on connection `id`; the promise settles with the result, the peer's
    /// error, or a timeout.
    pub fn request(
        self: &Rc<Self>,
        id: ConnectionId,
        method: &str,
        params: crate::json::Json,
        timeout_ms: Option<u64>,
    ) -> (Promise, Option<u64>) {
        let sent = self.with_hub(|hub, now| {
            let mut request_id = None;
            let sent = hub.send(id, now, |conn| {
                let sent = conn.request(method, params, timeout_ms, now);
                request_id = sent.as_ref().ok().copied();
                sent
            });
            if let (Some(request_id), Err(_)) = (request_id, &sent) {
                // Nothing will answer a request that never left.
                if let Some(conn) = hub.connection(id) {
                    conn.forget_request(request_id);
                }
            }
            sent
        });
        match sent {
            Ok(request_id) => {
                let (promise, settle) = Settle::promise();
                self.state
                    .borrow_mut()
                    .requests
                    .insert((id, request_id), settle);
                // The response may already have been processed synchronously (never with a
                // real socket, but keep the invariant simple): nothing else to do.
                (promise, Some(request_id))
            }
            Err(e) => (rejected(from_protocol(&e)), None),
        }
    }

    fn emit_error(&self, code: &str, message: &str, session: Option<&str>) {
        let error = js_error(code, message);
        set(
            &error,
            "sessionId",
            &session.map_or(JsValue::NULL, JsValue::from),
        );
        self.listeners.emit("error", &error);
    }

    fn base(&self, id: ConnectionId) -> js_sys::Object {
        let payload = js_sys::Object::new();
        set(
            &payload,
            "sessionId",
            &self.session_id(id).map_or(JsValue::NULL, JsValue::from),
        );
        payload
    }

    fn event(self: &Rc<Self>, id: ConnectionId, event: Event) {
        match event {
            #[cfg(feature = "dapp")]
            Event::SessionRequest(request) => {
                let payload = js_sys::Object::new();
                let uri = request.to_uri();
                set(&payload, "id", &request.id.clone().into());
                set(&payload, "uri", &uri.clone().into());
                set(&payload, "mode", &request.mode.as_str().into());
                set(&payload, "expiresAt", &(request.expires_at as f64).into());
                set(&payload, "request", &json_to_js(&request.to_json()));
                let qr = Closure::<dyn FnMut() -> JsValue>::new(move || {
                    crate::qr::svg(&uri).map_or(JsValue::NULL, JsValue::from)
                });
                set(&payload, "qrSvg", &qr.into_js_value());
                self.emit_prompt(id, "session_request", &payload);
            }
            #[cfg(feature = "dapp")]
            Event::OtpRequired {
                deadline,
                attempts_left,
            } => {
                let payload = self.base(id);
                set(&payload, "deadline", &(deadline as f64).into());
                set(&payload, "attemptsLeft", &attempts_left.into());
                let weak = Rc::downgrade(self);
                let submit =
                    Closure::<dyn FnMut(JsValue) -> Promise>::new(move |code: JsValue| match weak
                        .upgrade()
                    {
                        Some(driver) => {
                            driver.submit_otp(id, &code.as_string().unwrap_or_default())
                        }
                        None => rejected(js_error("invalid_state", "client closed")),
                    });
                set(&payload, "submit", &submit.into_js_value());
                let weak = Rc::downgrade(self);
                let cancel = Closure::<dyn FnMut()>::new(move || {
                    if let Some(driver) = weak.upgrade() {
                        driver.cancel_handshake(id);
                    }
                });
                set(&payload, "cancel", &cancel.into_js_value());
                self.emit_prompt(id, "otp_required", &payload);
            }
            #[cfg(feature = "wallet")]
            Event::SessionProposal(request) => {
                // The sealed request, read: who claims to ask, and for which scopes.
                let payload = self.base(id);
                set(&payload, "request", &json_to_js(&request.to_json()));
                // With `ask`, a scoped request waits for one of these (PROTOCOL.md §5).
                for approve in [true, false] {
                    let weak = Rc::downgrade(self);
                    let decide =
                        Closure::<dyn FnMut(JsValue) -> Promise>::new(move |grant: JsValue| {
                            match weak.upgrade() {
                                Some(driver) => driver.decide_proposal(id, approve, &grant),
                                None => rejected(js_error("invalid_state", "client closed")),
                            }
                        });
                    let key = if approve { "approve" } else { "reject" };
                    set(&payload, key, &decide.into_js_value());
                }
                self.emit_prompt(id, "session_proposal", &payload);
            }
            #[cfg(feature = "wallet")]
            Event::DisplayOtp { otp, deadline } => {
                let payload = self.base(id);
                set(&payload, "otp", &otp.into());
                set(&payload, "deadline", &(deadline as f64).into());
                self.emit_prompt(id, "display_otp", &payload);
            }
            Event::Connected(info) => {
                let payload = json_to_js(&info.to_json());
                let waiters = {
                    let mut state = self.state.borrow_mut();
                    state.sessions.insert(id, info);
                    state.initiators.remove(&id);
                    state.connects.remove(&id).unwrap_or_default()
                };
                for w in waiters {
                    w.resolve(&payload);
                }
                self.listeners.emit("connected", &payload);
            }
            Event::Request {
                id: request_id,
                method,
                params,
            } => {
                let payload = self.base(id);
                set(&payload, "type", &"request".into());
                set(&payload, "id", &(request_id as f64).into());
                set(&payload, "method", &method.into());
                set(&payload, "params", &json_to_js(params.as_str()));
                let weak = Rc::downgrade(self);
                let respond = Closure::<dyn FnMut(JsValue) -> Result<(), JsValue>>::new(
                    move |result: JsValue| {
                        let value = json_from_js(&result)?;
                        answer(&weak, id, request_id, Ok(value))
                    },
                );
                set(&payload, "respond", &respond.into_js_value());
                let weak = Rc::downgrade(self);
                let reject = Closure::<dyn FnMut(JsValue, JsValue) -> Result<(), JsValue>>::new(
                    move |code: JsValue, message: JsValue| {
                        let code = code
                            .as_f64()
                            .filter(|c| c.is_finite())
                            .map_or(-32000, |c| c as i64);
                        let message = message.as_string().unwrap_or_else(|| "rejected".into());
                        answer(&weak, id, request_id, Err(RpcError { code, message }))
                    },
                );
                set(&payload, "reject", &reject.into_js_value());
                // One prompt: requests reach the owner tab alone.
                self.listeners.emit_local("request", &payload);
                self.listeners.emit_local("message", &payload);
            }
            Event::Notification { method, params } => {
                let payload = self.base(id);
                set(&payload, "type", &"notification".into());
                set(&payload, "method", &method.into());
                set(&payload, "params", &json_to_js(params.as_str()));
                self.listeners.emit("message", &payload);
            }
            Event::Response {
                id: request_id,
                result,
            } => {
                let settle = self.state.borrow_mut().requests.remove(&(id, request_id));
                let outcome = result
                    .map(|v| json_to_js(v.as_str()))
                    .map_err(|e| from_protocol(&e));
                match (settle, self.listeners.bus(), self.session_id(id)) {
                    (Some(settle), _, _) => match outcome {
                        Ok(value) => settle.resolve(&value),
                        Err(e) => settle.reject(&e),
                    },
                    // A request an earlier owner tab sent (adopted on take-over).
                    (None, Some(bus), Some(session)) => bus.orphan(&session, request_id, outcome),
                    _ => {}
                }
            }
            Event::Pong { n } => {
                let payload = self.base(id);
                set(&payload, "n", &(n as f64).into());
                self.listeners.emit("pong", &payload);
            }
            Event::MessagesLost { count } => {
                let payload = self.base(id);
                set(
                    &payload,
                    "count",
                    &count.map_or(JsValue::NULL, |c| (c as f64).into()),
                );
                self.listeners.emit("messages_lost", &payload);
            }
            Event::State(s) => {
                let payload = self.base(id);
                let name = match s {
                    State::Connecting => "connecting",
                    State::AwaitingOtp => "awaiting_otp",
                    State::Connected => "connected",
                    State::Disconnected => "disconnected",
                };
                set(&payload, "state", &name.into());
                self.listeners.emit("state", &payload);
            }
            Event::Disconnected(why) => self.disconnected(id, why),
            // Events of the side this build leaves out never occur.
            #[cfg(not(all(feature = "dapp", feature = "wallet")))]
            _ => {}
        }
    }

    /// The error a connection that ended before `connected` settles its promises with.
    fn ended(&self, id: ConnectionId) -> JsValue {
        match &self.state.borrow().failure {
            Some((failed, error)) if *failed == id => error.clone(),
            _ => js_error("invalid_state", "closed"),
        }
    }

    fn disconnected(self: &Rc<Self>, id: ConnectionId, why: Disconnect) {
        self.state.borrow_mut().initiators.remove(&id);
        let payload = self.base(id);
        let failed = matches!(&self.state.borrow().failure, Some((f, _)) if *f == id);
        let (reason, error) = match &why {
            _ if failed => ("failed", self.ended(id)),
            Disconnect::Local => ("local", js_error("cancelled", "disconnected")),
            Disconnect::Peer { reason } => ("peer", js_error("peer_closed", reason)),
            Disconnect::Failed(e) => {
                let unreachable =
                    matches!(e, Error::RequestExpired) && !self.state.borrow().ever_online;
                if unreachable {
                    (
                        "failed",
                        js_error("relay_unreachable", "the relay could not be reached"),
                    )
                } else {
                    ("failed", from_protocol(e))
                }
            }
        };
        set(&payload, "reason", &reason.into());
        set(
            &payload,
            "code",
            &js_sys::Reflect::get(&error, &"code".into()).unwrap_or(JsValue::NULL),
        );
        set(
            &payload,
            "message",
            &js_sys::Reflect::get(&error, &"message".into()).unwrap_or(JsValue::NULL),
        );
        let waiters = {
            let mut state = self.state.borrow_mut();
            state.sessions.remove(&id);
            let pending: Vec<(ConnectionId, u64)> = state
                .requests
                .keys()
                .filter(|(c, _)| *c == id)
                .copied()
                .collect();
            let mut settles: Vec<Settle> = pending
                .into_iter()
                .filter_map(|k| state.requests.remove(&k))
                .collect();
            settles.extend(state.connects.remove(&id).unwrap_or_default());
            settles
        };
        for w in waiters {
            w.reject(&error);
        }
        self.listeners.emit("disconnected", &payload);
    }

    /// Closes every connection and the socket.
    /// Stops driving without ending anything (this tab hands its sessions to another): the
    /// socket closes, connects in progress reject with `cancelled`, and the requests waiting
    /// for an answer come back by session and request id (their answers reach the next owner).
    /// `frames`: the session frames the relay has not acknowledged (for the next owner).
    pub fn suspend(
        self: &Rc<Self>,
        frames: &mut Vec<(String, String)>,
    ) -> Vec<(String, u64, Settle)> {
        self.close_socket();
        let (requests, connects) = {
            let mut state = self.state.borrow_mut();
            frames.extend(state.hub.unacknowledged());
            if let (Some(handle), Some(window)) = (state.timer.take(), web_sys::window()) {
                window.clear_timeout_with_handle(handle);
            }
            let requests: Vec<_> = state.requests.drain().collect();
            let connects: Vec<_> = state.connects.drain().flat_map(|(_, c)| c).collect();
            (requests, connects)
        };
        for settle in connects {
            settle.reject(&js_error(
                "cancelled",
                "this tab was frozen; the handshake goes on in another tab",
            ));
        }
        let mut waiting = Vec::new();
        for ((id, request_id), settle) in requests {
            match self.session_id(id) {
                Some(session) => waiting.push((session, request_id, settle)),
                None => settle.reject(&js_error("cancelled", "this tab was frozen")),
            }
        }
        waiting
    }

    pub fn shutdown(self: &Rc<Self>) {
        self.with_hub(|hub, now| {
            for id in hub.ids() {
                if let Some(conn) = hub.connection(id) {
                    conn.close("client closed", now);
                }
            }
        });
        self.close_socket();
        let mut state = self.state.borrow_mut();
        if let (Some(handle), Some(window)) = (state.timer.take(), web_sys::window()) {
            window.clear_timeout_with_handle(handle);
        }
    }
}

impl Drop for Driver {
    /// Like a page unload: the socket goes away, the sessions stay stored and resumable.
    fn drop(&mut self) {
        let state = self.state.get_mut();
        if let Some(socket) = state.socket.take() {
            socket.ws.set_onopen(None);
            socket.ws.set_onmessage(None);
            socket.ws.set_onclose(None);
            let _ = socket.ws.close();
        }
        if let Some(window) = web_sys::window() {
            if let Some(handle) = state.timer.take() {
                window.clear_timeout_with_handle(handle);
            }
            if let Some(wake) = &state.wake_closure {
                let f = wake.as_ref().unchecked_ref();
                let _ = window.remove_event_listener_with_callback("online", f);
                if let Some(document) = window.document() {
                    let _ = document.remove_event_listener_with_callback("visibilitychange", f);
                }
            }
        }
    }
}

fn answer(
    weak: &Weak<Driver>,
    id: ConnectionId,
    request_id: u64,
    outcome: Result<crate::json::Json, RpcError>,
) -> Result<(), JsValue> {
    let driver = weak
        .upgrade()
        .ok_or_else(|| js_error("invalid_state", "client closed"))?;
    driver
        .with_hub(|hub, now| hub.send(id, now, |conn| conn.respond(request_id, outcome, now)))
        .map_err(|e| from_protocol(&e))
}

/// Finds the connection for a session id (or the most recent session when `None`).
pub fn find(drivers: &[Rc<Driver>], session: Option<&str>) -> Option<Target> {
    let mut best: Option<Target> = None;
    for driver in drivers {
        for (id, info) in driver.sessions() {
            if session.is_none_or(|s| s == info.id) {
                best = Some(Target {
                    driver: driver.clone(),
                    id,
                });
            }
        }
    }
    best
}
