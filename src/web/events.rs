//! What every JavaScript class shares, whichever entry it ships in: event handlers
//! registered with `on`, and the resolve/reject pair of a promise.

use crate::sorted::SortedMap;
use std::cell::RefCell;

use js_sys::{Function, Promise};
use wasm_bindgen::{JsCast, JsValue};

/// Event handlers registered with `on`, shared by every driver of one client object.
#[derive(Debug, Default)]
pub struct Listeners {
    handlers: RefCell<SortedMap<String, Vec<Function>>>,
    /// The owner tab relays its events to the other tabs (src/web/tabs.rs).
    #[cfg(any(feature = "dapp", feature = "wallet"))]
    bus: RefCell<std::rc::Weak<super::tabs::Tabs>>,
}

impl Listeners {
    pub fn add(&self, event: &str, handler: Function) {
        self.handlers
            .borrow_mut()
            .get_or_default(event.to_owned())
            .push(handler);
    }

    pub fn remove(&self, event: &str, handler: &Function) {
        if let Some(list) = self.handlers.borrow_mut().get_mut(event) {
            list.retain(|h| h != handler);
        }
    }

    #[cfg(any(feature = "dapp", feature = "wallet"))]
    pub fn set_bus(&self, tabs: &std::rc::Rc<super::tabs::Tabs>) {
        *self.bus.borrow_mut() = std::rc::Rc::downgrade(tabs);
    }

    #[cfg(any(feature = "dapp", feature = "wallet"))]
    pub fn bus(&self) -> Option<std::rc::Rc<super::tabs::Tabs>> {
        self.bus.borrow().upgrade()
    }

    /// Calls every handler of `event` and, in the owner tab, those of the other tabs.
    pub fn emit(&self, event: &str, payload: &JsValue) {
        #[cfg(any(feature = "dapp", feature = "wallet"))]
        if let Some(bus) = self.bus() {
            bus.broadcast(event, payload, None, &[]);
        }
        self.emit_local(event, payload);
    }

    /// An event for one tab: `to` (another tab, through the owner's channel) or this one.
    #[cfg(any(feature = "dapp", feature = "wallet"))]
    pub fn emit_to(
        &self,
        to: Option<&str>,
        event: &str,
        payload: &JsValue,
        extra: &[(&str, JsValue)],
    ) {
        match (to, self.bus()) {
            (Some(to), Some(bus)) => bus.broadcast(event, payload, Some(to), extra),
            _ => self.emit_local(event, payload),
        }
    }

    /// Calls every handler of `event` in this client; a throwing handler does not stop the
    /// others.
    pub fn emit_local(&self, event: &str, payload: &JsValue) {
        let handlers = self
            .handlers
            .borrow()
            .get(event)
            .cloned()
            .unwrap_or_default();
        for handler in handlers {
            if let Err(thrown) = handler.call1(&JsValue::NULL, payload) {
                web_sys_console_error(&thrown);
            }
        }
    }
}

fn web_sys_console_error(value: &JsValue) {
    let console = js_sys::Reflect::get(&js_sys::global(), &"console".into()).ok();
    if let Some(error) = console.and_then(|c| js_sys::Reflect::get(&c, &"error".into()).ok()) {
        if let Some(f) = error.dyn_ref::<Function>() {
            let _ = f.call2(
                &JsValue::NULL,
                &"walletwire: an event handler threw".into(),
                value,
            );
        }
    }
}

/// Resolve and reject functions of one promise.
pub(crate) struct Settle {
    resolve: Function,
    reject: Function,
}

impl Settle {
    pub(crate) fn promise() -> (Promise, Settle) {
        let mut settle = None;
        let promise =
            Promise::new(&mut |resolve, reject| settle = Some(Settle { resolve, reject }));
        // The executor runs synchronously inside `new Promise`.
        (promise, settle.expect("promise executor ran"))
    }

    pub(crate) fn resolve(self, value: &JsValue) {
        let _ = self.resolve.call1(&JsValue::NULL, value);
    }

    pub(crate) fn reject(self, error: &JsValue) {
        let _ = self.reject.call1(&JsValue::NULL, error);
    }
}

/// A promise already rejected with `error`.
pub fn rejected(error: JsValue) -> Promise {
    Promise::reject(&error)
}
