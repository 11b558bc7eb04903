//! `WalletDaemonConnector`: the dApp side of the direct flow over `RTCPeerConnection` and
//! `fetch`. A thin driver: the messages, the link, the poll schedule and the request ids
//! come from [`crate::direct`]; this file only moves them between the browser and the core.
//!
//! Re-entrancy rule (as in the relay driver): JavaScript callbacks (event handlers, promise
//! settlements) run only while no `RefCell` borrow is held.

use crate::sorted::SortedMap;
use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    AbortController, MessageEvent, RequestInit, Response, RtcConfiguration, RtcDataChannel,
    RtcIceCandidateInit, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcPeerConnectionState,
    RtcSdpType, RtcSessionDescriptionInit,
};

use super::error::{js_error, set};
use super::events::{Listeners, Settle, rejected};
use super::js::{from_js, get, get_ms, get_string, now, to_js};
use crate::direct::channel::{ChannelRequest, ChannelResponse, GET_TOKEN, LABEL};
use crate::direct::link::Link;
use crate::direct::pending::Pending;
use crate::direct::schedule::{PollOptions, PollSchedule};
use crate::direct::signaling::{self as sig, read_candidates, read_sdp, read_token};
use crate::direct::{Error, Permissions, jwt};

/// A direct-flow error as a JS error with its stable code.
fn from_direct(error: &Error) -> JsValue {
    let value = js_error(error.code(), &error.to_string());
    if let Error::Signaling { code, .. } = error {
        set(&value, "remoteCode", &(*code as f64).into());
    }
    value
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Connecting,
    Connected,
    Closed,
}

/// The options of one connector.
#[derive(Debug, Clone)]
struct Options {
    signaling_url: String,
    name: String,
    permissions: Permissions,
    optional_permissions: Permissions,
    ice_servers: JsValue,
    poll: PollOptions,
    /// How long one `get.answer` asks the server to wait (`poll.waitMs`; 0: never).
    long_poll_ms: u64,
    request_timeout_ms: u64,
    signaling_timeout_ms: u64,
    disconnect_grace_ms: u64,
}

/// The live state of one connection attempt (`generation` tells late callbacks of an older
/// attempt to keep quiet).
struct State {
    phase: Phase,
    generation: u32,
    pc: Option<RtcPeerConnection>,
    channel: Option<RtcDataChannel>,
    handlers: Vec<Closure<dyn FnMut(JsValue)>>,
    signaling_token: Option<String>,
    wallet_token: Option<String>,
    link: Option<String>,
    pending: Pending,
    settles: SortedMap<u64, Settle>,
    connect: Option<Settle>,
    channel_open: bool,
    /// Resolves the poll loop's current wait early when the data channel opens.
    poll_waker: Option<Function>,
    grace_timer: Option<i32>,
}

struct Inner {
    options: Options,
    listeners: Listeners,
    state: RefCell<State>,
}

/// The dApp side of the direct flow. See the TypeScript declarations for the API.
#[wasm_bindgen(skip_typescript)]
pub struct WalletDaemonConnector {
    inner: Rc<Inner>,
}

impl core::fmt::Debug for WalletDaemonConnector {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WalletDaemonConnector")
            .finish_non_exhaustive()
    }
}

fn permissions(options: &JsValue, key: &str, required: bool) -> Result<Permissions, JsValue> {
    match get(options, key) {
        None if !required => Ok(Permissions::default()),
        None => Err(js_error("invalid_params", &format!("{key} is required"))),
        Some(value) => Permissions::from_json(&from_js(&value)?).map_err(|e| from_direct(&e)),
    }
}

#[wasm_bindgen]
impl WalletDaemonConnector {
    /// `new WalletDaemonConnector({name, permissions, optionalPermissions?, signalingUrl?,
    /// iceServers?, poll?, connectTimeoutMs?, requestTimeoutMs?, ...})`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<WalletDaemonConnector, JsValue> {
        let signaling_url =
            get_string(&options, "signalingUrl").unwrap_or_else(|| sig::DEFAULT_URL.into());
        if !(signaling_url.starts_with("http://") || signaling_url.starts_with("https://"))
            || signaling_url.len() > 256
        {
            return Err(js_error(
                "invalid_params",
                "signalingUrl must be an http:// or https:// URL",
            ));
        }
        let name = get_string(&options, "name").unwrap_or_default();
        if name.chars().count() > crate::direct::link::MAX_NAME_LEN {
            return Err(js_error(
                "invalid_params",
                "name longer than 128 characters",
            ));
        }
        let defaults = PollOptions::default();
        let poll_js = get(&options, "poll").unwrap_or(JsValue::UNDEFINED);
        let poll = PollOptions {
            initial_ms: get_ms(&poll_js, "initialMs").unwrap_or(defaults.initial_ms),
            max_ms: get_ms(&poll_js, "maxMs").unwrap_or(defaults.max_ms),
            timeout_ms: get_ms(&options, "connectTimeoutMs").unwrap_or(defaults.timeout_ms),
        };
        let signaling_timeout_ms = get_ms(&options, "signalingTimeoutMs").unwrap_or(10_000);
        let long_poll_ms = get_ms(&poll_js, "waitMs")
            .unwrap_or(LONG_POLL_MS)
            .min(signaling_timeout_ms / 2);
        let options = Options {
            signaling_url,
            name,
            permissions: permissions(&options, "permissions", true)?,
            optional_permissions: permissions(&options, "optionalPermissions", false)?,
            ice_servers: get(&options, "iceServers").unwrap_or_else(|| js_sys::Array::new().into()),
            poll,
            long_poll_ms,
            request_timeout_ms: get_ms(&options, "requestTimeoutMs").unwrap_or(60_000),
            signaling_timeout_ms,
            disconnect_grace_ms: get_ms(&options, "disconnectGraceMs").unwrap_or(5_000),
        };
        Ok(Self {
            inner: Rc::new(Inner {
                options,
                listeners: Listeners::default(),
                state: RefCell::new(State {
                    phase: Phase::Idle,
                    generation: 0,
                    pc: None,
                    channel: None,
                    handlers: Vec::new(),
                    signaling_token: None,
                    wallet_token: None,
                    link: None,
                    pending: Pending::default(),
                    settles: SortedMap::new(),
                    connect: None,
                    channel_open: false,
                    poll_waker: None,
                    grace_timer: None,
                }),
            }),
        })
    }

    /// Registers an event handler; returns a function that removes it.
    pub fn on(&self, event: &str, handler: Function) -> Function {
        self.inner.listeners.add(event, handler.clone());
        let weak = Rc::downgrade(&self.inner);
        let event = event.to_owned();
        Closure::<dyn FnMut()>::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.listeners.remove(&event, &handler);
            }
        })
        .into_js_value()
        .into()
    }

    /// Removes an event handler.
    pub fn off(&self, event: &str, handler: &Function) {
        self.inner.listeners.remove(event, handler)
    }

    /// Logs in, offers, shows the link (`link` event), waits for the daemon and trades the
    /// signaling token for the wallet's (`get.token`). Resolves with `{walletToken, link}`;
    /// rejects with `connect_timeout`, `signaling_unreachable`, `signaling_error`,
    /// `ice_failed`, `cancelled`, ...
    pub fn connect(&self) -> Promise {
        let generation = {
            let mut state = self.inner.state.borrow_mut();
            if matches!(state.phase, Phase::Connecting | Phase::Connected) {
                return rejected(js_error("invalid_state", "already connecting or connected"));
            }
            state.phase = Phase::Connecting;
            state.generation += 1;
            state.pending = Pending::default();
            state.channel_open = false;
            state.generation
        };
        let (promise, settle) = Settle::promise();
        self.inner.state.borrow_mut().connect = Some(settle);
        let inner = self.inner.clone();
        spawn_local(async move {
            if let Err(error) = inner.clone().run_connect(generation).await {
                inner.fail_connect(generation, &error);
            }
        });
        promise
    }

    /// Sends `method` with `params`; resolves with the payload, rejects with `remote_error`
    /// (the daemon's `{error}`), `timeout`, `not_connected`, `peer_closed`, ...
    pub fn request(&self, method: &str, params: JsValue, options: JsValue) -> Promise {
        let params = match from_js(&params) {
            Ok(p) => p,
            Err(e) => return rejected(e),
        };
        let token = self.inner.state.borrow().wallet_token.clone();
        let Some(token) = token else {
            return rejected(js_error(
                "not_connected",
                "not connected to a wallet daemon",
            ));
        };
        let timeout =
            get_ms(&options, "timeoutMs").unwrap_or(self.inner.options.request_timeout_ms);
        self.inner.send(method, params, token, timeout)
    }

    /// The original connector's `sendMessage(method, token, params)`: a call with an
    /// explicit token (the wallet's JWT) and the default timeout.
    #[wasm_bindgen(js_name = sendMessage)]
    pub fn send_message(&self, method: &str, token: &str, params: JsValue) -> Promise {
        match from_js(&params) {
            Ok(params) => self.inner.send(
                method,
                params,
                token.to_owned(),
                self.inner.options.request_timeout_ms,
            ),
            Err(e) => rejected(e),
        }
    }

    /// The `tari://` link once `connect()` has logged in, else `null`.
    #[wasm_bindgen(getter)]
    pub fn link(&self) -> Option<String> {
        self.inner.state.borrow().link.clone()
    }

    /// The wallet's JWT once connected, else `null`.
    #[wasm_bindgen(getter, js_name = walletToken)]
    pub fn wallet_token(&self) -> Option<String> {
        self.inner.state.borrow().wallet_token.clone()
    }

    /// The signaling JWT once logged in, else `null`.
    #[wasm_bindgen(getter, js_name = signalingToken)]
    pub fn signaling_token(&self) -> Option<String> {
        self.inner.state.borrow().signaling_token.clone()
    }

    /// `idle`, `connecting`, `connected` or `closed`.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        match self.inner.state.borrow().phase {
            Phase::Idle => "idle",
            Phase::Connecting => "connecting",
            Phase::Connected => "connected",
            Phase::Closed => "closed",
        }
        .into()
    }

    /// Closes the peer connection; pending calls and a pending `connect()` reject with
    /// `cancelled`.
    pub fn close(&self) {
        self.inner
            .end("local", &js_error("cancelled", "closed by the dApp"));
    }
}

impl Inner {
    /// Sleeps `ms` between polls, or less if the data channel opens meanwhile.
    async fn poll_wait(&self, ms: u64) {
        let promise = Promise::new(&mut |resolve, _| {
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                    &resolve,
                    ms.min(i32::MAX as u64) as i32,
                );
            }
            self.state.borrow_mut().poll_waker = Some(resolve);
        });
        let _ = JsFuture::from(promise).await;
        self.state.borrow_mut().poll_waker = None;
    }

    fn current(&self, generation: u32) -> bool {
        let state = self.state.borrow();
        state.generation == generation && state.phase == Phase::Connecting
    }

    /// One signaling call with its own timeout.
    async fn signal(
        &self,
        token: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, JsValue> {
        let window = web_sys::window()
            .ok_or_else(|| js_error("invalid_state", "the direct flow needs a window"))?;
        let body = sig::request_body(1, method, params);
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_body(&JsValue::from_str(&body));
        let headers = js_sys::Object::new();
        set(&headers, "Content-Type", &"application/json".into());
        if let Some(token) = token {
            set(&headers, "Authorization", &format!("Bearer {token}").into());
        }
        init.set_headers(&headers);
        let abort = AbortController::new().ok();
        if let Some(abort) = &abort {
            init.set_signal(Some(&abort.signal()));
        }
        let timer = abort.as_ref().map(|abort| {
            let abort = abort.clone();
            let closure = Closure::once_into_js(move || abort.abort());
            window
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    closure.unchecked_ref(),
                    self.options.signaling_timeout_ms.min(i32::MAX as u64) as i32,
                )
                .ok()
        });
        let result = async {
            let response =
                JsFuture::from(window.fetch_with_str_and_init(&self.options.signaling_url, &init))
                    .await
                    .map_err(|e| {
                        let aborted = js_sys::Reflect::get(&e, &"name".into())
                            .ok()
                            .and_then(|n| n.as_string())
                            .is_some_and(|n| n == "AbortError");
                        if aborted {
                            js_error(
                                "timeout",
                                &format!("signaling server did not answer {method} in time"),
                            )
                        } else {
                            js_error(
                                "signaling_unreachable",
                                "the signaling server could not be reached",
                            )
                        }
                    })?;
            let response: Response = response.unchecked_into();
            let text = JsFuture::from(
                response
                    .text()
                    .map_err(|_| js_error("signaling_unreachable", "unreadable response"))?,
            )
            .await
            .map_err(|_| js_error("signaling_unreachable", "unreadable response"))?;
            let text = text.as_string().unwrap_or_default();
            sig::read_response(&text, 1).map_err(|e| from_direct(&e))
        }
        .await;
        if let Some(Some(handle)) = timer {
            window.clear_timeout_with_handle(handle);
        }
        result
    }

    async fn run_connect(self: Rc<Self>, generation: u32) -> Result<(), JsValue> {
        let options = &self.options;
        let login = self
            .signal(
                None,
                sig::AUTH_LOGIN,
                sig::login_params(&options.permissions),
            )
            .await?;
        let token = read_token(login).map_err(|e| from_direct(&e))?;
        if !self.current(generation) {
            return Ok(());
        }
        let link = Link {
            name: options.name.clone(),
            token: token.clone(),
            permissions: options.permissions.clone(),
            optional_permissions: options.optional_permissions.clone(),
        }
        .to_uri();
        {
            let mut state = self.state.borrow_mut();
            state.signaling_token = Some(token.clone());
            state.link = Some(link.clone());
        }
        let pc = self.open_peer(generation, &token)?;
        let offer = JsFuture::from(pc.create_offer())
            .await
            .map_err(|_| js_error("webrtc_failed", "createOffer failed"))?;
        let sdp = js_sys::Reflect::get(&offer, &"sdp".into())
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        let description = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        description.set_sdp(&sdp);
        JsFuture::from(pc.set_local_description(&description))
            .await
            .map_err(|_| js_error("webrtc_failed", "setLocalDescription failed"))?;
        self.signal(Some(&token), sig::ADD_OFFER, Value::String(sdp))
            .await?;
        if !self.current(generation) {
            return Ok(());
        }
        self.emit_link(&link, &token);

        let mut schedule = PollSchedule::new(options.poll.clone(), now());
        let mut answered = false;
        let mut added = 0;
        // `get.answer` asks our signaling server to hold the call until the answer exists
        // (`waitMs`, DIRECT.md); a server that ignores it answers at once, and the schedule's
        // waits apply as before. The first call goes out at once, and so does the next one
        // after a call that did wait.
        let wait_ms = options.long_poll_ms;
        let mut long_polled = wait_ms > 0;
        loop {
            if self.state.borrow().channel_open {
                break;
            }
            let Some(delay) = schedule.next_delay(now()) else {
                return Err(js_error(
                    "connect_timeout",
                    "the wallet daemon did not connect in time",
                ));
            };
            if !long_polled {
                self.poll_wait(delay).await;
            }
            long_polled = false;
            if !self.current(generation) {
                return Ok(());
            }
            if !answered {
                let asked = now();
                let params = if wait_ms > 0 {
                    serde_json::json!({ "waitMs": wait_ms })
                } else {
                    Value::Null
                };
                let reply = self.signal(Some(&token), sig::GET_ANSWER, params).await;
                if reply.is_err() && now().saturating_sub(asked) * 5 >= wait_ms * 4 {
                    long_polled = wait_ms > 0;
                }
                match reply {
                    Ok(answer) => {
                        let answer = read_sdp(answer).map_err(|e| from_direct(&e))?;
                        let description = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
                        description.set_sdp(&answer);
                        JsFuture::from(pc.set_remote_description(&description))
                            .await
                            .map_err(|_| {
                                js_error("webrtc_failed", "the daemon's answer was refused")
                            })?;
                        answered = true;
                    }
                    Err(e) if code_of(&e) == "signaling_error" && is_not_found(&e) => continue,
                    // Unreachable or slow for one poll: try again on the next.
                    Err(e)
                        if matches!(code_of(&e).as_str(), "signaling_unreachable" | "timeout") =>
                    {
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            if let Ok(list) = self
                .signal(Some(&token), sig::GET_ANSWER_ICE_CANDIDATES, Value::Null)
                .await
            {
                let list = read_candidates(list).map_err(|e| from_direct(&e))?;
                for candidate in list.iter().skip(added) {
                    added += 1;
                    let init: RtcIceCandidateInit = to_js(candidate).unchecked_into();
                    // A candidate the browser refuses is skipped; others may still work.
                    let _ = JsFuture::from(
                        pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init)),
                    )
                    .await;
                }
            }
        }
        if !self.current(generation) {
            return Ok(());
        }
        // get.token: id 0 on a fresh attempt.
        let wallet_token = JsFuture::from(self.send(
            GET_TOKEN,
            serde_json::json!({}),
            token,
            options.request_timeout_ms,
        ))
        .await?;
        let Some(wallet_token) = wallet_token.as_string() else {
            return Err(js_error(
                "invalid_message",
                "get.token did not return a token",
            ));
        };
        if jwt::unverified_claims(&wallet_token).is_err() {
            return Err(js_error(
                "invalid_message",
                "get.token did not return a JWT",
            ));
        }
        let settle = {
            let mut state = self.state.borrow_mut();
            if state.generation != generation || state.phase != Phase::Connecting {
                return Ok(());
            }
            state.phase = Phase::Connected;
            state.wallet_token = Some(wallet_token.clone());
            state.connect.take()
        };
        let info = js_sys::Object::new();
        set(&info, "walletToken", &wallet_token.into());
        set(&info, "link", &link.into());
        if let Some(settle) = settle {
            settle.resolve(&info);
        }
        self.listeners.emit("connected", &info);
        Ok(())
    }

    fn emit_link(&self, link: &str, token: &str) {
        let payload = js_sys::Object::new();
        set(&payload, "link", &link.into());
        set(&payload, "token", &token.into());
        let text = link.to_owned();
        let qr = Closure::<dyn FnMut() -> JsValue>::new(move || {
            crate::qr::svg(&text).map_or(JsValue::NULL, |svg| svg.into())
        });
        set(&payload, "qrSvg", &qr.into_js_value());
        self.listeners.emit("link", &payload);
    }

    /// Creates the peer connection and the `tari-data` channel with their handlers.
    fn open_peer(
        self: &Rc<Self>,
        generation: u32,
        token: &str,
    ) -> Result<RtcPeerConnection, JsValue> {
        let config = RtcConfiguration::new();
        config.set_ice_servers(&self.options.ice_servers);
        let pc = RtcPeerConnection::new_with_configuration(&config)
            .map_err(|_| js_error("webrtc_unavailable", "RTCPeerConnection is not available"))?;
        let channel = pc.create_data_channel(LABEL);
        let mut handlers = Vec::new();

        let weak = Rc::downgrade(self);
        let token = token.to_owned();
        let on_candidate = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let event: RtcPeerConnectionIceEvent = event.unchecked_into();
            let (Some(inner), Some(candidate)) = (weak.upgrade(), event.candidate()) else {
                return;
            };
            if candidate.candidate().is_empty() || !inner.current(generation) {
                return;
            }
            let Ok(value) = from_js(&candidate.to_json().into()) else {
                return;
            };
            let token = token.clone();
            spawn_local(async move {
                // A lost candidate is not fatal: others (or a later poll) may connect.
                let _ = inner
                    .signal(Some(&token), sig::ADD_OFFER_ICE_CANDIDATE, value)
                    .await;
            });
        });
        pc.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
        handlers.push(on_candidate);

        let weak = Rc::downgrade(self);
        let watched = pc.clone();
        let on_state = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.connection_state(generation, watched.connection_state());
            }
        });
        pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
        handlers.push(on_state);

        let weak = Rc::downgrade(self);
        let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            if let Some(inner) = weak.upgrade() {
                let waker = {
                    let mut state = inner.state.borrow_mut();
                    if state.generation != generation {
                        return;
                    }
                    state.channel_open = true;
                    state.poll_waker.take()
                };
                // The poll loop goes on to `get.token` now, not at its next poll.
                if let Some(wake) = waker {
                    let _ = wake.call0(&JsValue::UNDEFINED);
                }
            }
        });
        channel.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        handlers.push(on_open);

        let weak = Rc::downgrade(self);
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let event: MessageEvent = event.unchecked_into();
            if let (Some(inner), Some(text)) = (weak.upgrade(), event.data().as_string()) {
                inner.receive(generation, &text);
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        handlers.push(on_message);

        let weak = Rc::downgrade(self);
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            if let Some(inner) = weak.upgrade()
                && inner.state.borrow().generation == generation
            {
                inner.end(
                    "peer",
                    &js_error("peer_closed", "the wallet daemon closed the channel"),
                );
            }
        });
        channel.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        handlers.push(on_close);

        let mut state = self.state.borrow_mut();
        state.pc = Some(pc.clone());
        state.channel = Some(channel);
        state.handlers = handlers;
        Ok(pc)
    }

    fn connection_state(self: &Rc<Self>, generation: u32, state: RtcPeerConnectionState) {
        if self.state.borrow().generation != generation {
            return;
        }
        match state {
            RtcPeerConnectionState::Failed => self.end(
                "failed",
                &js_error("ice_failed", "the peer connection failed"),
            ),
            RtcPeerConnectionState::Disconnected => {
                // Often transient: give ICE a grace period to recover before giving up.
                let weak = Rc::downgrade(self);
                let check = Closure::once_into_js(move || {
                    if let Some(inner) = weak.upgrade() {
                        let lost = {
                            let s = inner.state.borrow();
                            s.generation == generation
                                && s.pc.as_ref().is_some_and(|pc| {
                                    pc.connection_state() != RtcPeerConnectionState::Connected
                                })
                        };
                        if lost {
                            inner.end(
                                "failed",
                                &js_error("ice_failed", "the wallet daemon stopped answering"),
                            );
                        }
                    }
                });
                if let Some(window) = web_sys::window()
                    && let Ok(handle) = window
                        .set_timeout_with_callback_and_timeout_and_arguments_0(
                            check.unchecked_ref(),
                            self.options.disconnect_grace_ms.min(i32::MAX as u64) as i32,
                        )
                {
                    let old = self.state.borrow_mut().grace_timer.replace(handle);
                    if let Some(old) = old {
                        window.clear_timeout_with_handle(old);
                    }
                }
            }
            _ => {}
        }
    }

    /// Sends one call; the promise settles with its answer, its timeout, or the close.
    fn send(
        self: &Rc<Self>,
        method: &str,
        params: Value,
        token: String,
        timeout_ms: u64,
    ) -> Promise {
        let (channel, id) = {
            let mut state = self.state.borrow_mut();
            let Some(channel) = state.channel.clone().filter(|_| state.channel_open) else {
                return rejected(js_error("not_connected", "the data channel is not open"));
            };
            match state.pending.start(now(), timeout_ms) {
                Ok(id) => (channel, id),
                Err(e) => return rejected(from_direct(&e)),
            }
        };
        let request = ChannelRequest {
            token,
            id,
            jsonrpc: "2.0".into(),
            method: method.into(),
            params,
        };
        let text = match request.encode() {
            Ok(text) => text,
            Err(e) => {
                self.state.borrow_mut().pending.settle(id);
                return rejected(from_direct(&e));
            }
        };
        if channel.send_with_str(&text).is_err() {
            self.state.borrow_mut().pending.settle(id);
            return rejected(js_error(
                "not_connected",
                "the data channel refused the message",
            ));
        }
        let (promise, settle) = Settle::promise();
        self.state.borrow_mut().settles.insert(id, settle);
        let weak = Rc::downgrade(self);
        let expire = Closure::once_into_js(move || {
            if let Some(inner) = weak.upgrade() {
                inner.expire();
            }
        });
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                expire.unchecked_ref(),
                timeout_ms.min(i32::MAX as u64) as i32,
            );
        }
        promise
    }

    fn expire(&self) {
        let due: Vec<Settle> = {
            let mut state = self.state.borrow_mut();
            let ids = state.pending.expire(now());
            ids.iter()
                .filter_map(|id| state.settles.remove(id))
                .collect()
        };
        for settle in due {
            settle.reject(&js_error(
                "timeout",
                "the wallet daemon did not answer in time",
            ));
        }
    }

    fn receive(&self, generation: u32, text: &str) {
        if self.state.borrow().generation != generation {
            return;
        }
        match ChannelResponse::decode(text) {
            Ok((id, outcome)) => {
                let settle = {
                    let mut state = self.state.borrow_mut();
                    if state.pending.settle(id) {
                        state.settles.remove(&id)
                    } else {
                        None
                    }
                };
                // A late answer (after its timeout) or an unknown id is dropped.
                if let Some(settle) = settle {
                    match outcome {
                        Ok(payload) => settle.resolve(&to_js(&payload)),
                        Err(e) => settle.reject(&from_direct(&e)),
                    }
                }
            }
            Err(e) => self.listeners.emit("error", &from_direct(&e)),
        }
    }

    fn fail_connect(&self, generation: u32, error: &JsValue) {
        if self.state.borrow().generation != generation {
            return;
        }
        self.listeners.emit("error", error);
        self.end("failed", error);
    }

    /// Ends the attempt or connection: closes the peer connection, rejects what waits, and
    /// emits `disconnected` if it was connected.
    fn end(&self, reason: &str, error: &JsValue) {
        let (settles, connect, was_connected, pc, channel, handlers) = {
            let mut state = self.state.borrow_mut();
            if matches!(state.phase, Phase::Idle | Phase::Closed) {
                return;
            }
            let was_connected = state.phase == Phase::Connected;
            state.phase = Phase::Closed;
            state.generation += 1;
            state.wallet_token = None;
            state.channel_open = false;
            state.pending.drain();
            if let (Some(handle), Some(window)) = (state.grace_timer.take(), web_sys::window()) {
                window.clear_timeout_with_handle(handle);
            }
            let settles: Vec<Settle> = state.settles.drain().map(|(_, s)| s).collect();
            (
                settles,
                state.connect.take(),
                was_connected,
                state.pc.take(),
                state.channel.take(),
                std::mem::take(&mut state.handlers),
            )
        };
        if let Some(channel) = &channel {
            channel.set_onopen(None);
            channel.set_onmessage(None);
            channel.set_onclose(None);
            channel.close();
        }
        if let Some(pc) = &pc {
            pc.set_onicecandidate(None);
            pc.set_onconnectionstatechange(None);
            pc.close();
        }
        drop(handlers);
        for settle in settles {
            settle.reject(error);
        }
        if let Some(connect) = connect {
            connect.reject(error);
        }
        if was_connected {
            let payload = js_sys::Object::new();
            set(&payload, "reason", &reason.into());
            set(
                &payload,
                "code",
                &js_sys::Reflect::get(error, &"code".into()).unwrap_or(JsValue::NULL),
            );
            set(
                &payload,
                "message",
                &js_sys::Reflect::get(error, &"message".into()).unwrap_or(JsValue::NULL),
            );
            self.listeners.emit("disconnected", &payload);
        }
    }
}

fn code_of(error: &JsValue) -> String {
    js_sys::Reflect::get(error, &"code".into())
        .ok()
        .and_then(|c| c.as_string())
        .unwrap_or_default()
}

fn is_not_found(error: &JsValue) -> bool {
    js_sys::Reflect::get(error, &"remoteCode".into())
        .ok()
        .and_then(|c| c.as_f64())
        == Some(sig::codes::NOT_FOUND as f64)
}

/// Parses a `tari://` link (wallet side): `{name, token, permissions, optionalPermissions,
/// claims}`; throws `invalid_link` / `invalid_permissions`.
#[wasm_bindgen(js_name = parseDirectLink, skip_typescript)]
pub fn parse_direct_link(link: &str) -> Result<JsValue, JsValue> {
    let link = Link::parse(link).map_err(|e| from_direct(&e))?;
    let claims = jwt::unverified_claims(&link.token).map_err(|e| from_direct(&e))?;
    let value = serde_json::json!({
        "name": link.name,
        "token": link.token,
        "permissions": link.permissions,
        "optionalPermissions": link.optional_permissions,
        "claims": claims,
    });
    Ok(to_js(&value))
}

/// Longest time one `get.answer` asks the signaling server to wait for the answer.
const LONG_POLL_MS: u64 = 5_000;

#[wasm_bindgen(typescript_custom_section)]
const DIRECT_TYPES: &'static str = r#"
/** A permission: a name (`"Admin"`, `"AccountInfo"`) or a single-key object with its
 * argument (`{ AccountBalance: "All" }`, `{ TransactionSend: null }`). */
export type DirectPermission = string | { [name: string]: Json };

export type DirectErrorCode =
  | "invalid_params" | "invalid_permissions" | "invalid_link" | "invalid_state"
  | "signaling_unreachable" | "signaling_error" | "token_invalid" | "token_expired"
  | "invalid_message" | "webrtc_unavailable" | "webrtc_failed" | "connect_timeout"
  | "ice_failed" | "timeout" | "not_connected" | "peer_closed" | "cancelled"
  | "remote_error" | "too_many_pending" | "payload_too_large";

/** Errors of the direct flow: `Error` objects with a stable `code`. */
export interface DirectError extends Error {
  name: "WalletwireError";
  code: DirectErrorCode;
  /** `signaling_error`: the server's JSON-RPC error code (401 bad token, 404 not posted yet). */
  remoteCode?: number;
}

export interface WalletDaemonConnectorOptions {
  /** Shown to the user in the wallet. */
  name: string;
  /** What the dApp needs. */
  permissions: DirectPermission[];
  /** What it would like. */
  optionalPermissions?: DirectPermission[];
  /** Default `http://localhost:9100`. */
  signalingUrl?: string;
  /** `RTCIceServer`s; default none (host candidates only). */
  iceServers?: { urls: string | string[]; username?: string; credential?: string }[];
  /** Answer polling. `waitMs` (default 5 000, at most half of `signalingTimeoutMs`; 0: off): how long each `get.answer` asks the signaling server to hold the call until the answer exists (DIRECT.md); a server without it answers at once, and then `initialMs` (250) doubling to `maxMs` (2 000) spaces the calls. */
  poll?: { initialMs?: number; maxMs?: number; waitMs?: number };
  /** Overall time from `connect()` to connected (300 000). */
  connectTimeoutMs?: number;
  /** Default per-request timeout (60 000). */
  requestTimeoutMs?: number;
  /** Timeout of each signaling call (10 000). */
  signalingTimeoutMs?: number;
  /** How long an ICE `disconnected` may last before it counts as lost (5 000). */
  disconnectGraceMs?: number;
}

export interface DirectLinkEvent {
  /** `tari://<name>/<jwt>/<permissions>/<optional permissions>`. */
  link: string;
  /** The signaling JWT (what the wallet passes to `webrtc.start`). */
  token: string;
  /** The link as an SVG QR code (`null` if too long). */
  qrSvg(): string | null;
}

export interface DirectConnectedEvent { walletToken: string; link: string }

export interface DirectDisconnectedEvent {
  /** `local`: `close()`; `peer`: the daemon closed the channel; `failed`: see `code`. */
  reason: "local" | "peer" | "failed";
  code: DirectErrorCode;
  message: string;
}

export interface WalletDaemonConnectorEvents {
  link: DirectLinkEvent;
  connected: DirectConnectedEvent;
  disconnected: DirectDisconnectedEvent;
  error: DirectError;
}

export class WalletDaemonConnector {
  constructor(options: WalletDaemonConnectorOptions);
  on<K extends keyof WalletDaemonConnectorEvents>(event: K, handler: (payload: WalletDaemonConnectorEvents[K]) => void): () => void;
  off<K extends keyof WalletDaemonConnectorEvents>(event: K, handler: (payload: WalletDaemonConnectorEvents[K]) => void): void;
  /** Resolves when the data channel is open and `get.token` answered. */
  connect(): Promise<DirectConnectedEvent>;
  request<T = Json>(method: string, params?: Json, options?: { timeoutMs?: number }): Promise<T>;
  /** The original Tari connector's signature. */
  sendMessage<T = Json>(method: string, token: string, params?: Json): Promise<T>;
  readonly link: string | null;
  readonly walletToken: string | null;
  readonly signalingToken: string | null;
  readonly state: "idle" | "connecting" | "connected" | "closed";
  close(): void;
  free(): void;
}

export interface DirectLinkInfo {
  name: string;
  token: string;
  permissions: DirectPermission[];
  optionalPermissions: DirectPermission[];
  /** The signaling JWT's claims, unverified (for display only). */
  claims: { id: number; name: string; permissions: DirectPermission[]; exp: number };
}

/** Parses a `tari://` link (wallet side); throws `invalid_link` / `invalid_permissions`. */
export function parseDirectLink(link: string): DirectLinkInfo;
"#;
