//! One owner per session store across the tabs of a browser (docs/PROTOCOL.md §12).
//!
//! Clients with `storage: "local"` of one role and origin share their sessions: exactly one of
//! them, the **owner**, holds the Web Lock `walletwire:v1:<role>` and drives every session
//! (relay link, counters, storage). Every other client (another tab, or a second client in
//! the same tab) is a **follower**: its calls travel to the owner over the BroadcastChannel of
//! the same name, and the owner's events come back. When the owner goes away (tab closed,
//! reloaded, `close()`, `free()`) the browser hands the lock to the next follower, which
//! resumes the stored sessions, adopts the requests the old owner sent (their answers reach
//! the tab that asked), and runs the calls no owner had acknowledged.

use crate::sorted::SortedMap;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Function, Object, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BroadcastChannel, MessageEvent};

use super::endpoint::Endpoint;
use super::error::{js_error, set};
use super::events::Settle;
use super::js::{get, get_ms, get_string};

/// Version of the messages between tabs; messages of another version are ignored.
const VERSION: f64 = 1.0;
/// How long a follower waits, beyond the call's own timeout, for the owner's answer.
const GRACE_MS: u64 = 5_000;
/// Calls without a timeout of their own (`resume`, `otp`, ...).
const CALL_MS: u64 = 15_000;
/// Longest a client granted the lock waits for the previous owner's `bye` (its last channel
/// message and its last storage write) before it takes over anyway: the previous owner
/// crashed, or it is a client of an older version that says no `bye`.
const HANDOVER_MS: u64 = 1_000;
/// Calls of one tab an owner remembers having run (a resent call runs once).
const MAX_SEEN: usize = 4096;
/// Unacknowledged frames of the owner a follower keeps (the relay client queues at most 1024
/// per link).
const MAX_OUTBOX: usize = 4096;
/// Answers to adopted requests an owner keeps, for a tab that missed their `orphan`.
const MAX_ANSWERED: usize = 1024;
/// Answer slots per session in `localStorage`, one character each (request id modulo 64): the
/// last answers the owner gave followers' requests, for a follower whose `done` died with its
/// owner tab.
const ANSWER_SLOTS: &[u8; 64] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

type OnMessage = Closure<dyn FnMut(MessageEvent)>;
type OnLifecycle = Closure<dyn FnMut(web_sys::Event)>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TabRole {
    /// The lock request has not answered yet: calls wait.
    Deciding,
    Owner,
    Follower,
}

/// A follower's call waiting for the owner.
struct Call {
    op: JsValue,
    settle: Settle,
    /// For a request the owner sent: its session and request id (its answer may come as an
    /// `orphan` from a later owner).
    acked: Option<(String, f64)>,
    is_request: bool,
    timer: i32,
}

/// A frame the owner queued for the relay and the relay has not acknowledged yet.
struct Unsent {
    tab: String,
    url: String,
    id: f64,
    channel: String,
    data: String,
}

pub struct Tabs {
    me: String,
    channel: BroadcastChannel,
    name: String,
    role: Cell<TabRole>,
    /// This client was a follower before it owned: taking over resumes the stored sessions.
    was_follower: Cell<bool>,
    /// Another tab of this role has been heard from (or this one followed one). Until then an
    /// owner is alone and posts no copies of its events and frames: nobody would read them,
    /// and each costs a structured clone through the browser process per frame. A tab that
    /// opens later says `hello` before it needs anything (PROTOCOL.md §12).
    peers: Cell<bool>,
    owner: RefCell<Option<String>>,
    /// Resolves the promise the lock is held with.
    release: RefCell<Option<Function>>,
    abort: Option<web_sys::AbortController>,
    calls: RefCell<SortedMap<u32, Call>>,
    next_call: Cell<u32>,
    /// Owner: calls already run, per follower.
    seen: RefCell<SortedMap<String, Vec<u32>>>,
    /// Follower: the owner's live sessions.
    sessions: RefCell<Vec<JsValue>>,
    /// Follower: the owner's frames the relay has not acknowledged, oldest first; a new owner
    /// publishes them again (the peer drops copies it has).
    outbox: RefCell<Vec<Unsent>>,
    endpoint: RefCell<Weak<Endpoint>>,
    _on_message: RefCell<Option<OnMessage>>,
    /// Owner: the `orphan` messages it posted lately, to post again for a tab that missed them
    /// (a frozen page does not get channel messages).
    answered: RefCell<std::collections::VecDeque<(String, f64, JsValue)>>,
    /// The page's `freeze` / `resume` listeners (Page Lifecycle).
    lifecycle: RefCell<Option<OnLifecycle>>,
    /// The window's `pagehide` and `storage` listeners.
    on_window: RefCell<Option<OnLifecycle>>,
    /// This client's term as the owner (random, new each time it takes charge).
    term: RefCell<String>,
    /// The term of the owner this client last heard announce itself (its own after stepping
    /// down).
    owner_term: RefCell<Option<String>>,
    /// The term of the last `bye` this client received on the channel.
    last_bye: RefCell<Option<String>>,
    /// Granted the lock, waiting for the previous owner's `bye` (the cap's timer).
    handover: Cell<Option<i32>>,
    /// The owner stepped down when the page froze; it queues for the lock again on `resume`.
    frozen: Cell<bool>,
    /// The origin's `localStorage`, where the owner keeps its last answers to followers.
    storage: Option<web_sys::Storage>,
    /// Prefix of those answers' keys, `walletwire-tabs:v1:<role>:answer:` (outside the
    /// records' `walletwire:v1:`); a key ends with `<session>:<slot>`.
    answers: String,
    /// Where an owner writes its term as the last thing it stores,
    /// `walletwire-tabs:v1:<role>:bye`.
    bye_key: String,
}

impl core::fmt::Debug for Tabs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tabs")
            .field("role", &self.role.get())
            .finish_non_exhaustive()
    }
}

fn msg(kind: &str) -> Object {
    let m = Object::new();
    set(&m, "v", &VERSION.into());
    set(&m, "t", &kind.into());
    m
}

/// An error as a plain object (an `Error` loses its `code` in a structured clone).
pub fn plain_error(error: &JsValue) -> JsValue {
    let o = Object::new();
    for key in ["code", "message", "attemptsLeft", "remoteCode", "sessionId"] {
        if let Some(v) = get(error, key) {
            set(&o, key, &v);
        }
    }
    o.into()
}

/// The `Error` a [`plain_error`] stands for.
pub fn rebuild_error(plain: &JsValue) -> JsValue {
    let error = js_error(
        &get_string(plain, "code").unwrap_or_else(|| "invalid_state".into()),
        &get_string(plain, "message").unwrap_or_default(),
    );
    for key in ["attemptsLeft", "remoteCode", "sessionId"] {
        if let Some(v) = get(plain, key) {
            set(&error, key, &v);
        }
    }
    error
}

/// A JSON-like value without its functions (what another tab can receive).
pub fn plain(value: &JsValue) -> JsValue {
    if value.is_undefined() || value.is_function() {
        return JsValue::NULL;
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| js_sys::JSON::parse(&String::from(s)).ok())
        .unwrap_or(JsValue::NULL)
}

/// The document's Page Lifecycle events a client listens to.
const LIFECYCLE_EVENTS: &[&str] = &["freeze", "resume"];
/// The window's events a client listens to.
const WINDOW_EVENTS: &[&str] = &["pagehide", "storage"];

/// Adds (`on`) or removes `f` as `target`'s listener of each of `events`.
fn listen(target: &web_sys::EventTarget, events: &[&str], f: &OnLifecycle, on: bool) {
    let f = f.as_ref().unchecked_ref();
    for event in events {
        let _ = if on {
            target.add_event_listener_with_callback(event, f)
        } else {
            target.remove_event_listener_with_callback(event, f)
        };
    }
}

fn lock_manager() -> Option<JsValue> {
    let navigator = get(&js_sys::global(), "navigator")?;
    get(&navigator, "locks")
}

/// True where this browser can coordinate tabs (Web Locks and BroadcastChannel; Web Locks
/// need a secure context: https or localhost).
pub fn supported() -> bool {
    lock_manager().is_some() && get(&js_sys::global(), "BroadcastChannel").is_some()
}

fn random_id() -> String {
    let mut bytes = [0u8; 8];
    crate::crypto::RandomSource::fill(&mut super::js::BrowserRandom, &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn set_timer(ms: u64, f: impl FnOnce() + 'static) -> i32 {
    let callback = Closure::once_into_js(f);
    web_sys::window()
        .and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(
                callback.unchecked_ref(),
                ms.min(i32::MAX as u64) as i32,
            )
            .ok()
        })
        .unwrap_or(0)
}

fn clear_timer(handle: i32) {
    if let Some(w) = web_sys::window() {
        w.clear_timeout_with_handle(handle);
    }
}

/// Calls `locks.request(name, options, callback)`; a rejection (an aborted wait) is ignored.
fn request_lock(name: &str, options: &Object, callback: JsValue) {
    let Some(locks) = lock_manager() else { return };
    let request = get(&locks, "request").and_then(|f| f.dyn_into::<Function>().ok());
    if let Some(request) = request {
        let args = js_sys::Array::of3(&name.into(), options, &callback);
        if let Ok(p) = js_sys::Reflect::apply(&request, &locks, &args) {
            on_settle(
                &p,
                JsValue::UNDEFINED,
                Closure::once_into_js(|_: JsValue| {}),
            );
        }
    }
}

impl Tabs {
    /// Joins the tabs of `role` (`dapp` or `wallet`); `None` where the browser cannot.
    pub fn join(role: &str) -> Option<Rc<Self>> {
        if !supported() {
            return None;
        }
        let name = format!("walletwire:v1:{role}");
        let channel = BroadcastChannel::new(&name).ok()?;
        let tabs = Rc::new(Self {
            me: random_id(),
            channel,
            name,
            role: Cell::new(TabRole::Deciding),
            was_follower: Cell::new(false),
            peers: Cell::new(false),
            owner: RefCell::new(None),
            release: RefCell::new(None),
            abort: web_sys::AbortController::new().ok(),
            calls: RefCell::new(SortedMap::new()),
            next_call: Cell::new(1),
            seen: RefCell::new(SortedMap::new()),
            sessions: RefCell::new(Vec::new()),
            outbox: RefCell::new(Vec::new()),
            endpoint: RefCell::new(Weak::new()),
            _on_message: RefCell::new(None),
            lifecycle: RefCell::new(None),
            on_window: RefCell::new(None),
            term: RefCell::new(String::new()),
            owner_term: RefCell::new(None),
            last_bye: RefCell::new(None),
            handover: Cell::new(None),
            answered: RefCell::new(std::collections::VecDeque::new()),
            frozen: Cell::new(false),
            storage: web_sys::window().and_then(|w| w.local_storage().ok().flatten()),
            answers: format!("walletwire-tabs:v1:{role}:answer:"),
            bye_key: format!("walletwire-tabs:v1:{role}:bye"),
        });
        let weak = Rc::downgrade(&tabs);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(tabs) = weak.upgrade() {
                tabs.message(&e.data());
            }
        });
        tabs.channel
            .set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        *tabs._on_message.borrow_mut() = Some(on_message);
        Some(tabs)
    }

    /// Starts the election once the endpoint exists.
    pub fn start(self: &Rc<Self>, endpoint: &Rc<Endpoint>) {
        *self.endpoint.borrow_mut() = Rc::downgrade(endpoint);
        let weak = Rc::downgrade(self);
        let first = Closure::once_into_js(move |lock: JsValue| -> JsValue {
            let Some(tabs) = weak.upgrade() else {
                return JsValue::UNDEFINED;
            };
            if lock.is_null() {
                tabs.follow();
                tabs.wait_for_lock();
                JsValue::UNDEFINED
            } else {
                tabs.own()
            }
        });
        let options = Object::new();
        set(&options, "ifAvailable", &true.into());
        request_lock(&self.name, &options, first);
        // A frozen owner would keep the lock while it runs nothing: it steps down first.
        let weak = Rc::downgrade(self);
        let lifecycle = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            if let Some(tabs) = weak.upgrade() {
                match e.type_().as_str() {
                    "freeze" => tabs.step_down(),
                    _ => tabs.wake(),
                }
            }
        });
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            listen(&document, LIFECYCLE_EVENTS, &lifecycle, true);
        }
        *self.lifecycle.borrow_mut() = Some(lifecycle);
        // An owner's tab closing or navigating says `bye`; another tab's storage writes may
        // carry a `bye` or an answer this client waits for.
        let weak = Rc::downgrade(self);
        let on_window = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            let Some(tabs) = weak.upgrade() else { return };
            if e.type_() == "pagehide" {
                if tabs.role.get() == TabRole::Owner {
                    tabs.say_bye();
                }
                return;
            }
            let key = get_string(&e, "key").unwrap_or_default();
            if key == tabs.bye_key {
                tabs.handed_over();
            } else if key.starts_with(tabs.answers.as_str()) {
                tabs.recover_answers();
            }
        });
        if let Some(window) = web_sys::window() {
            listen(&window, WINDOW_EVENTS, &on_window, true);
        }
        *self.on_window.borrow_mut() = Some(on_window);
    }

    /// The owner's term ends: the term goes to storage after everything else it wrote, and a
    /// `bye` to the channel after everything else it posted. The next owner waits for both
    /// (the browser orders neither the channel nor storage with the lock: PROTOCOL.md §12).
    fn say_bye(&self) {
        let term = self.term.borrow().clone();
        if let Some(storage) = &self.storage {
            let _ = storage.set_item(&self.bye_key, &term);
        }
        let m = msg("bye");
        set(&m, "tab", &self.me.clone().into());
        set(&m, "term", &term.into());
        self.post(&m);
    }

    /// True once this client, granted the lock, has heard the previous owner's `bye` on the
    /// channel and sees it in storage: everything that owner posted and stored has arrived.
    fn heard_bye(&self) -> bool {
        let previous = self.owner_term.borrow().clone();
        let Some(previous) = previous else {
            return false;
        };
        if previous == *self.term.borrow() {
            return true;
        }
        let stored = self
            .storage
            .as_ref()
            .is_none_or(|s| s.get_item(&self.bye_key).ok().flatten().as_ref() == Some(&previous));
        stored && self.last_bye.borrow().as_ref() == Some(&previous)
    }

    /// While a handover waits: takes over once the previous owner's `bye` is complete.
    fn handed_over(self: &Rc<Self>) {
        if self.handover.get().is_some() && self.heard_bye() {
            self.take_charge();
        }
    }

    /// The page is being frozen: an owner hands its sessions over. Its requests still waiting
    /// wait on as a follower's (their answers come back as `orphan`); the lock goes to the
    /// next tab at once, so the others do not wait for this one to wake.
    fn step_down(self: &Rc<Self>) {
        if self.role.get() != TabRole::Owner {
            return;
        }
        self.frozen.set(true);
        self.role.set(TabRole::Follower);
        self.was_follower.set(true);
        // The last owner this tab knows is itself: taking the lock back needs no `bye`.
        *self.owner.borrow_mut() = Some(self.me.clone());
        *self.owner_term.borrow_mut() = Some(self.term.borrow().clone());
        if let Some(endpoint) = self.endpoint.borrow().upgrade() {
            let (waiting, unsent) = endpoint.suspend();
            // Kept in case this tab takes the lock back itself (the other tabs have copies).
            let mut outbox = self.outbox.borrow_mut();
            for (url, frames) in unsent {
                for (channel, data) in frames {
                    outbox.push(Unsent {
                        tab: self.me.clone(),
                        url: url.clone(),
                        id: -1.0,
                        channel,
                        data,
                    });
                }
            }
            drop(outbox);
            for (session, request_id, settle) in waiting {
                let n = self.next_call.get();
                self.next_call.set(n.wrapping_add(1));
                let weak = Rc::downgrade(self);
                let timer = set_timer(endpoint.request_timeout_ms() + GRACE_MS, move || {
                    let call = weak.upgrade().and_then(|t| t.calls.borrow_mut().remove(&n));
                    if let Some(call) = call {
                        call.settle.reject(&js_error(
                            "timeout",
                            "the tab that owns the session did not answer in time",
                        ));
                    }
                });
                self.calls.borrow_mut().insert(
                    n,
                    Call {
                        op: JsValue::NULL,
                        settle,
                        acked: Some((session, request_id as f64)),
                        is_request: true,
                        timer,
                    },
                );
            }
        }
        self.say_bye();
        if let Some(release) = self.release.borrow_mut().take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }

    /// The page runs again after [`Tabs::step_down`]: follow, and queue for the lock.
    fn wake(self: &Rc<Self>) {
        if self.frozen.replace(false) {
            self.follow();
            self.wait_for_lock();
        }
    }

    fn wait_for_lock(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let granted = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
            match weak.upgrade() {
                Some(tabs) => tabs.own(),
                None => JsValue::UNDEFINED,
            }
        });
        let options = Object::new();
        if let Some(abort) = &self.abort {
            set(&options, "signal", &abort.signal().into());
        }
        request_lock(&self.name, &options, granted);
    }

    pub fn role(&self) -> TabRole {
        self.role.get()
    }

    /// Lock granted: hold it until [`Tabs::leave`], and take over once the previous owner's
    /// `bye` is in (at most [`HANDOVER_MS`] later); calls made meanwhile wait.
    fn own(self: &Rc<Self>) -> JsValue {
        let mut release = None;
        let held = Promise::new(&mut |resolve, _| release = Some(resolve));
        *self.release.borrow_mut() = release;
        if !self.was_follower.get() || self.heard_bye() {
            self.take_charge();
        } else {
            self.role.set(TabRole::Deciding);
            let weak = Rc::downgrade(self);
            let timer = set_timer(HANDOVER_MS, move || {
                if let Some(tabs) = weak.upgrade() {
                    tabs.take_charge();
                }
            });
            self.handover.set(Some(timer));
        }
        held.into()
    }

    /// Becomes the owner: resumes what the previous owner drove, runs this client's calls.
    fn take_charge(self: &Rc<Self>) {
        if let Some(timer) = self.handover.take() {
            clear_timer(timer);
        }
        self.role.set(TabRole::Owner);
        *self.owner.borrow_mut() = Some(self.me.clone());
        let term = random_id();
        *self.owner_term.borrow_mut() = Some(term.clone());
        *self.term.borrow_mut() = term;
        let Some(endpoint) = self.endpoint.borrow().upgrade() else {
            return;
        };
        if self.was_follower.get() {
            let mut outbox: Vec<(String, Vec<(String, String)>)> = Vec::new();
            for frame in self.outbox.borrow_mut().drain(..) {
                match outbox.iter_mut().find(|(url, _)| *url == frame.url) {
                    Some((_, frames)) => frames.push((frame.channel, frame.data)),
                    None => outbox.push((frame.url, vec![(frame.channel, frame.data)])),
                }
            }
            endpoint.take_over(outbox);
        }
        // Our own calls: those no owner acknowledged run here; a request an owner sent waits
        // for its answer, which now reaches this tab (`orphan`); anything else acknowledged
        // died with that owner.
        let calls: Vec<(u32, Call)> = self.calls.borrow_mut().drain().collect();
        for (n, call) in calls {
            match &call.acked {
                None => {
                    clear_timer(call.timer);
                    let (promise, _) = endpoint.run(&call.op, None);
                    settle_with(call.settle, &promise);
                }
                Some(_) if call.is_request => {
                    self.calls.borrow_mut().insert(n, call);
                }
                Some(_) => {
                    clear_timer(call.timer);
                    call.settle.reject(&owner_gone());
                }
            }
        }
        self.recover_answers();
        self.sweep_answers(&endpoint);
        self.announce(&endpoint);
    }

    fn answer_key(&self, session: &str, slot: u8) -> String {
        let mut key = String::with_capacity(self.answers.len() + session.len() + 2);
        key.push_str(&self.answers);
        key.push_str(session);
        key.push(':');
        key.push(char::from(slot));
        key
    }

    fn slot(rid: f64) -> u8 {
        ANSWER_SLOTS[(rid as u64 % 64) as usize]
    }

    /// Owner: keeps the answer to request `rid` of `session` a follower sent, before the
    /// `done` / `orphan` that carries it is posted. A tab that is closed right after posting
    /// may never deliver the message, while what it wrote to storage stays; the follower
    /// then finds the answer here when the owner changes (`recover_answers`).
    fn keep_answer(&self, session: &str, rid: f64, field: &str, value: &JsValue) {
        let Some(storage) = &self.storage else { return };
        let o = Object::new();
        set(&o, "session", &session.into());
        set(&o, "rid", &rid.into());
        set(&o, field, value);
        if let Ok(text) = js_sys::JSON::stringify(&o) {
            // A full store only loses this fallback; the message still goes out.
            let _ = storage.set_item(
                &self.answer_key(session, Self::slot(rid)),
                &String::from(text),
            );
        }
    }

    /// Settles this tab's requests whose answer an owner kept in storage.
    fn recover_answers(&self) {
        let Some(storage) = &self.storage else { return };
        let waiting: Vec<(u32, String, f64)> = self
            .calls
            .borrow()
            .iter()
            .filter(|(_, c)| c.is_request)
            .filter_map(|(n, c)| c.acked.clone().map(|(s, r)| (*n, s, r)))
            .collect();
        for (n, session, rid) in waiting {
            let Some(text) = storage
                .get_item(&self.answer_key(&session, Self::slot(rid)))
                .ok()
                .flatten()
            else {
                continue;
            };
            let Ok(kept) = js_sys::JSON::parse(&text) else {
                continue;
            };
            let same = get_string(&kept, "session").as_deref() == Some(session.as_str())
                && get(&kept, "rid").and_then(|v| v.as_f64()) == Some(rid);
            if !same {
                continue;
            }
            let call = self.calls.borrow_mut().remove(&n);
            if let Some(call) = call {
                clear_timer(call.timer);
                finish(call.settle, &kept);
            }
        }
    }

    /// Owner: removes the kept answers of sessions that are no longer live.
    fn sweep_answers(&self, endpoint: &Endpoint) {
        let Some(storage) = &self.storage else { return };
        let live: Vec<String> = endpoint
            .sessions_local()
            .iter()
            .filter_map(|s| get_string(&s, "id"))
            .collect();
        let len = storage.length().unwrap_or(0);
        let stale: Vec<String> = (0..len)
            .filter_map(|i| storage.key(i).ok().flatten())
            .filter(|k| {
                k.strip_prefix(self.answers.as_str()).is_some_and(|rest| {
                    !live
                        .iter()
                        .any(|l| rest.len() == l.len() + 2 && rest.starts_with(l.as_str()))
                })
            })
            .collect();
        for key in stale {
            let _ = storage.remove_item(&key);
        }
    }

    /// Owner: a session ended; its kept answers go.
    fn forget_answers(&self, session: &str) {
        let Some(storage) = &self.storage else { return };
        for &slot in ANSWER_SLOTS {
            let _ = storage.remove_item(&self.answer_key(session, slot));
        }
    }

    fn follow(self: &Rc<Self>) {
        self.role.set(TabRole::Follower);
        self.was_follower.set(true);
        let hello = msg("hello");
        set(&hello, "from", &self.me.clone().into());
        // The answers this tab still waits for (it may have missed them while frozen).
        let want = js_sys::Array::new();
        for call in self.calls.borrow().values() {
            if let (Some((session, rid)), true) = (&call.acked, call.is_request) {
                want.push(&js_sys::Array::of2(&session.into(), &(*rid).into()));
            }
        }
        set(&hello, "want", &want);
        self.post(&hello);
        self.recover_answers();
        self.resend();
    }

    /// An owner with other tabs to tell.
    fn speaks(&self) -> bool {
        self.role.get() == TabRole::Owner && (self.peers.get() || self.was_follower.get())
    }

    fn announce(&self, endpoint: &Endpoint) {
        let m = msg("owner");
        set(&m, "tab", &self.me.clone().into());
        set(&m, "term", &self.term.borrow().clone().into());
        set(&m, "sessions", &plain(&endpoint.sessions_local().into()));
        self.post(&m);
    }

    fn post(&self, m: &JsValue) {
        let _ = self.channel.post_message(m);
    }

    fn resend(&self) {
        for (n, call) in self.calls.borrow().iter() {
            if call.acked.is_none() {
                self.post_call(*n, &call.op);
            }
        }
    }

    fn post_call(&self, n: u32, op: &JsValue) {
        let m = msg("call");
        set(&m, "from", &self.me.clone().into());
        set(&m, "n", &n.into());
        set(&m, "op", op);
        self.post(&m);
    }

    /// A follower's (or a deciding client's) call: settles with the owner's answer, or with
    /// `timeout` when no owner answered in time.
    pub fn call(self: &Rc<Self>, op: JsValue, request_timeout_ms: u64) -> Promise {
        let (promise, settle) = Settle::promise();
        let n = self.next_call.get();
        self.next_call.set(n.wrapping_add(1));
        let kind = get_string(&op, "op").unwrap_or_default();
        let wait = match kind.as_str() {
            "request" => get_ms(&op, "timeoutMs").unwrap_or(request_timeout_ms) + GRACE_MS,
            // The request's lifetime plus the code's window and its grace.
            "connect" => get_ms(&op, "ttlMs").unwrap_or(120_000) + 70_000 + GRACE_MS,
            _ => CALL_MS,
        };
        let weak = Rc::downgrade(self);
        let timer = set_timer(wait, move || {
            let call = weak.upgrade().and_then(|t| t.calls.borrow_mut().remove(&n));
            if let Some(call) = call {
                call.settle.reject(&js_error(
                    "timeout",
                    "the tab that owns the session did not answer in time",
                ));
            }
        });
        if self.role.get() == TabRole::Follower {
            self.post_call(n, &op);
        }
        self.calls.borrow_mut().insert(
            n,
            Call {
                op,
                settle,
                acked: None,
                is_request: kind == "request",
                timer,
            },
        );
        promise
    }

    /// Owner: an event for the other tabs (`to`: one tab only). `extra` carries what that tab
    /// needs to answer it (`url`, `conn` of a handshake).
    pub fn broadcast(
        &self,
        name: &str,
        payload: &JsValue,
        to: Option<&str>,
        extra: &[(&str, JsValue)],
    ) {
        if self.role.get() != TabRole::Owner {
            return;
        }
        if name == "disconnected"
            && let Some(session) = get_string(payload, "sessionId")
        {
            self.forget_answers(&session);
        }
        if !self.speaks() {
            return;
        }
        let m = msg("ev");
        set(&m, "name", &name.into());
        if payload.is_instance_of::<js_sys::Error>() {
            set(&m, "error", &plain_error(payload));
        } else {
            set(&m, "payload", &plain(payload));
        }
        if let Some(to) = to {
            set(&m, "to", &to.into());
        }
        for (k, v) in extra {
            set(&m, k, v);
        }
        self.post(&m);
    }

    /// Owner: a session frame left for the relay (`id`: the relay client's publication id).
    pub fn queued(&self, url: &str, id: u64, channel: &str, data: &str) {
        if !self.speaks() {
            return;
        }
        let m = msg("out");
        set(&m, "tab", &self.me.clone().into());
        set(&m, "url", &url.into());
        set(&m, "id", &(id as f64).into());
        set(&m, "ch", &channel.into());
        set(&m, "data", &data.into());
        self.post(&m);
    }

    /// Owner: the relay acknowledged frame `id`.
    pub fn published(&self, url: &str, id: u64) {
        if !self.speaks() {
            return;
        }
        let m = msg("sent");
        set(&m, "tab", &self.me.clone().into());
        set(&m, "url", &url.into());
        set(&m, "id", &(id as f64).into());
        self.post(&m);
    }

    /// Owner: the answer to a request an earlier owner sent, for whichever tab made it.
    pub fn orphan(&self, session: &str, request_id: u64, outcome: Result<JsValue, JsValue>) {
        let key = (session.to_owned(), request_id as f64);
        let mine = self.take_acked(&key);
        if let Some(call) = mine {
            clear_timer(call.timer);
            match outcome {
                Ok(v) => call.settle.resolve(&v),
                Err(e) => call.settle.reject(&e),
            }
            return;
        }
        let m = msg("orphan");
        set(&m, "session", &session.into());
        set(&m, "rid", &(request_id as f64).into());
        let (field, value) = match outcome {
            Ok(v) => ("ok", plain(&v)),
            Err(e) => ("err", plain_error(&e)),
        };
        set(&m, field, &value);
        self.keep_answer(session, request_id as f64, field, &value);
        self.post(&m);
        let mut answered = self.answered.borrow_mut();
        if answered.len() >= MAX_ANSWERED {
            answered.pop_front();
        }
        answered.push_back((session.to_owned(), request_id as f64, m.into()));
    }

    /// Removes the call waiting for the answer to request `key` (session, request id).
    fn take_acked(&self, key: &(String, f64)) -> Option<Call> {
        let mut calls = self.calls.borrow_mut();
        let n = calls
            .iter()
            .find(|(_, c)| c.acked.as_ref() == Some(key))
            .map(|(n, _)| *n)?;
        calls.remove(&n)
    }

    /// The owner's live sessions, as a follower last heard.
    pub fn sessions(&self) -> Vec<JsValue> {
        self.sessions.borrow().clone()
    }

    /// Leaves: releases the lock (the next tab takes over) or stops waiting for it; calls
    /// still waiting reject with `cancelled`.
    pub fn leave(&self) {
        if let Some(timer) = self.handover.take() {
            clear_timer(timer);
        }
        if self.role.get() == TabRole::Owner {
            self.say_bye();
        }
        if let (Some(on_window), Some(window)) =
            (self.on_window.borrow_mut().take(), web_sys::window())
        {
            listen(&window, WINDOW_EVENTS, &on_window, false);
        }
        if let (Some(lifecycle), Some(document)) = (
            self.lifecycle.borrow_mut().take(),
            web_sys::window().and_then(|w| w.document()),
        ) {
            listen(&document, LIFECYCLE_EVENTS, &lifecycle, false);
        }
        self.channel.set_onmessage(None);
        self.channel.close();
        if let Some(abort) = &self.abort {
            abort.abort();
        }
        if let Some(release) = self.release.borrow_mut().take() {
            let _ = release.call0(&JsValue::NULL);
        }
        self.role.set(TabRole::Follower);
        for (_, call) in self.calls.borrow_mut().drain() {
            clear_timer(call.timer);
            call.settle.reject(&js_error("cancelled", "client closed"));
        }
    }

    fn message(self: &Rc<Self>, m: &JsValue) {
        if get(m, "v").and_then(|v| v.as_f64()) != Some(VERSION) {
            return;
        }
        let kind = get_string(m, "t").unwrap_or_default();
        // BroadcastChannel never hands a tab its own messages: another tab is there.
        self.peers.set(true);
        match (self.role.get(), kind.as_str()) {
            (TabRole::Owner, "hello") => {
                if let Some(endpoint) = self.endpoint.borrow().upgrade() {
                    self.announce(&endpoint);
                }
                let want = get(m, "want").map(|w| js_sys::Array::from(&w).to_vec());
                for key in want.unwrap_or_default() {
                    let session = get_string(&key, "0");
                    let rid = get(&key, "1").and_then(|v| v.as_f64());
                    let again = self
                        .answered
                        .borrow()
                        .iter()
                        .find(|(s, r, _)| Some(s) == session.as_ref() && Some(*r) == rid)
                        .map(|(_, _, m)| m.clone());
                    if let Some(again) = again {
                        self.post(&again);
                    }
                }
            }
            (TabRole::Owner, "call") => self.serve(m),
            (TabRole::Owner, _) => {}
            (_, "bye") => {
                *self.last_bye.borrow_mut() = get_string(m, "term");
                self.handed_over();
            }
            (_, "owner") => {
                let tab = get_string(m, "tab");
                let changed = *self.owner.borrow() != tab;
                *self.owner.borrow_mut() = tab;
                *self.owner_term.borrow_mut() = get_string(m, "term");
                if let Some(list) = get(m, "sessions") {
                    *self.sessions.borrow_mut() = js_sys::Array::from(&list).to_vec();
                }
                if changed {
                    // Frames of an earlier owner: the new one published them again.
                    self.outbox
                        .borrow_mut()
                        .retain(|f| Some(&f.tab) == self.owner.borrow().as_ref());
                    // Acknowledged calls other than requests died with the old owner.
                    let gone: Vec<u32> = self
                        .calls
                        .borrow()
                        .iter()
                        .filter(|(_, c)| c.acked.is_some() && !c.is_request)
                        .map(|(n, _)| *n)
                        .collect();
                    for n in gone {
                        let call = self.calls.borrow_mut().remove(&n);
                        if let Some(call) = call {
                            clear_timer(call.timer);
                            call.settle.reject(&owner_gone());
                        }
                    }
                    // Answers the old owner gave but may not have delivered.
                    self.recover_answers();
                }
                // Calls nobody acknowledged yet go to this owner (it runs each once).
                self.resend();
            }
            (_, "out") => {
                let text = |key: &str| get_string(m, key).unwrap_or_default();
                let mut outbox = self.outbox.borrow_mut();
                if outbox.len() >= MAX_OUTBOX {
                    outbox.remove(0);
                }
                outbox.push(Unsent {
                    tab: text("tab"),
                    url: text("url"),
                    id: get(m, "id").and_then(|v| v.as_f64()).unwrap_or(-1.0),
                    channel: text("ch"),
                    data: text("data"),
                });
            }
            (_, "sent") => {
                let tab = get_string(m, "tab");
                let url = get_string(m, "url");
                let id = get(m, "id").and_then(|v| v.as_f64());
                self.outbox.borrow_mut().retain(|f| {
                    tab.as_ref() != Some(&f.tab) || url.as_ref() != Some(&f.url) || id != Some(f.id)
                });
            }
            (_, "ack") if self.is_to_me(m) => {
                let n = get(m, "n").and_then(|v| v.as_f64()).unwrap_or(-1.0) as u32;
                if let Some(call) = self.calls.borrow_mut().get_mut(&n) {
                    let session = get_string(m, "session").unwrap_or_default();
                    let rid = get(m, "rid").and_then(|v| v.as_f64()).unwrap_or(-1.0);
                    call.acked = Some((session, rid));
                }
            }
            (_, "done") if self.is_to_me(m) => {
                let n = get(m, "n").and_then(|v| v.as_f64()).unwrap_or(-1.0) as u32;
                let call = self.calls.borrow_mut().remove(&n);
                if let Some(call) = call {
                    clear_timer(call.timer);
                    finish(call.settle, m);
                }
            }
            (_, "orphan") => {
                let key = (
                    get_string(m, "session").unwrap_or_default(),
                    get(m, "rid").and_then(|v| v.as_f64()).unwrap_or(-1.0),
                );
                if let Some(call) = self.take_acked(&key) {
                    clear_timer(call.timer);
                    finish(call.settle, m);
                }
            }
            (_, "ev") => {
                let to = get_string(m, "to");
                if to.is_some_and(|to| to != self.me) {
                    return;
                }
                let name = get_string(m, "name").unwrap_or_default();
                let payload = match get(m, "error") {
                    Some(e) => rebuild_error(&e),
                    None => get(m, "payload").unwrap_or(JsValue::NULL),
                };
                self.track(&name, &payload);
                if let Some(endpoint) = self.endpoint.borrow().upgrade() {
                    endpoint.relayed_event(&name, &payload, m);
                }
            }
            _ => {}
        }
    }

    fn is_to_me(&self, m: &JsValue) -> bool {
        get_string(m, "to").as_deref() == Some(self.me.as_str())
    }

    /// Follower: keeps the session list current from the owner's events.
    fn track(&self, name: &str, payload: &JsValue) {
        let id = get_string(payload, "id");
        let session = get_string(payload, "sessionId");
        let mut sessions = self.sessions.borrow_mut();
        match name {
            "connected" => {
                sessions.retain(|s| get_string(s, "id") != id);
                sessions.push(payload.clone());
            }
            "disconnected" if session.is_some() => {
                sessions.retain(|s| get_string(s, "id") != session);
                // Requests sent on that session will get no answer now.
                let ended: Vec<u32> = self
                    .calls
                    .borrow()
                    .iter()
                    .filter(|(_, c)| c.acked.as_ref().map(|a| Some(&a.0)) == Some(session.as_ref()))
                    .map(|(n, _)| *n)
                    .collect();
                for n in ended {
                    let call = self.calls.borrow_mut().remove(&n);
                    if let Some(call) = call {
                        clear_timer(call.timer);
                        call.settle.reject(&js_error(
                            &get_string(payload, "code").unwrap_or_else(|| "peer_closed".into()),
                            &get_string(payload, "message").unwrap_or_default(),
                        ));
                    }
                }
            }
            _ => {}
        }
    }

    /// Owner: runs a follower's call once and answers it.
    fn serve(self: &Rc<Self>, m: &JsValue) {
        let (Some(from), Some(n), Some(op)) = (
            get_string(m, "from"),
            get(m, "n").and_then(|v| v.as_f64()).map(|n| n as u32),
            get(m, "op"),
        ) else {
            return;
        };
        {
            let mut seen = self.seen.borrow_mut();
            let list = seen.get_or_default(from.clone());
            if list.contains(&n) {
                return;
            }
            if list.len() >= MAX_SEEN {
                list.remove(0);
            }
            list.push(n);
        }
        let Some(endpoint) = self.endpoint.borrow().upgrade() else {
            return;
        };
        let (promise, sent) = endpoint.run(&op, Some(&from));
        // Posted in the task that sent the request: a follower that saw this ack knows its
        // request left, and waits for its answer even through a change of owner.
        let ack = msg("ack");
        set(&ack, "to", &from.clone().into());
        set(&ack, "n", &n.into());
        if let Some((session, rid)) = &sent {
            set(&ack, "session", &session.into());
            set(&ack, "rid", &(*rid as f64).into());
        }
        self.post(&ack);
        let weak = Rc::downgrade(self);
        let reply = move |field: &str, value: JsValue| {
            if let Some(tabs) = weak.upgrade() {
                if let Some((session, rid)) = &sent {
                    tabs.keep_answer(session, *rid as f64, field, &value);
                }
                let done = msg("done");
                set(&done, "to", &from.clone().into());
                set(&done, "n", &n.into());
                set(&done, field, &value);
                tabs.post(&done);
            }
        };
        let reply_err = reply.clone();
        let ok = Closure::once_into_js(move |v: JsValue| reply("ok", plain(&v)));
        let err = Closure::once_into_js(move |e: JsValue| reply_err("err", plain_error(&e)));
        on_settle(&promise, ok, err);
    }
}

impl Drop for Tabs {
    fn drop(&mut self) {
        self.leave();
    }
}

fn owner_gone() -> JsValue {
    js_error(
        "cancelled",
        "the tab that owned the session went away before this call finished",
    )
}

/// Settles a follower's call with a `done` / `orphan` message's outcome.
fn finish(settle: Settle, m: &JsValue) {
    match get(m, "err") {
        Some(e) => settle.reject(&rebuild_error(&e)),
        None => settle.resolve(&get(m, "ok").unwrap_or(JsValue::NULL)),
    }
}

/// Settles `settle` the way `promise` settles.
pub fn settle_with(settle: Settle, promise: &Promise) {
    let settle = Rc::new(RefCell::new(Some(settle)));
    let other = settle.clone();
    let ok = Closure::once_into_js(move |v: JsValue| {
        if let Some(s) = settle.borrow_mut().take() {
            s.resolve(&v);
        }
    });
    let err = Closure::once_into_js(move |e: JsValue| {
        if let Some(s) = other.borrow_mut().take() {
            s.reject(&e);
        }
    });
    on_settle(promise, ok, err);
}

/// `promise.then(ok, err)` with functions that free themselves (`Closure::once_into_js`).
pub fn on_settle(promise: &JsValue, ok: JsValue, err: JsValue) {
    if let Some(then) = get(promise, "then").and_then(|f| f.dyn_into::<Function>().ok()) {
        let _ = then.call2(promise, &ok, &err);
    }
}
