//! Errors as JavaScript sees them: `Error` objects with a stable `code` string.

use wasm_bindgen::JsValue;

#[cfg(any(feature = "dapp", feature = "wallet"))]
use crate::protocol::Error;

/// An `Error` with `name = "WalletwireError"` and the given `code`.
pub fn js_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name("WalletwireError");
    let value: JsValue = error.into();
    set(&value, "code", &code.into());
    value
}

/// A protocol error as a JS error; `otp_mismatch` carries `attemptsLeft`.
#[cfg(any(feature = "dapp", feature = "wallet"))]
pub fn from_protocol(error: &Error) -> JsValue {
    let value = js_error(error.code(), &error.to_string());
    match error {
        Error::OtpMismatch { attempts_left } => {
            set(&value, "attemptsLeft", &(*attempts_left).into())
        }
        Error::Remote { code, .. } => set(&value, "remoteCode", &(*code as f64).into()),
        _ => {}
    }
    value
}

/// Sets a property, ignoring failure (only possible on frozen objects, never ours).
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(target, &key.into(), value);
}
