//! Small bridges between Rust values and JavaScript: JSON, time, randomness, timers.

#[cfg(any(feature = "dapp", feature = "wallet"))]
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;

use super::error::js_error;
#[cfg(any(feature = "dapp", feature = "wallet"))]
use crate::crypto::RandomSource;

/// Current time in Unix milliseconds.
pub fn now() -> u64 {
    js_sys::Date::now() as u64
}

/// A serde_json value as a plain JS value (the direct flow, whose messages are serde's).
#[cfg(feature = "direct")]
pub fn to_js(value: &serde_json::Value) -> JsValue {
    json_to_js(&value.to_string())
}

/// JSON text (the SDK's own `to_json`, or a [`Json`](crate::json::Json) from the peer) as a
/// plain JS value.
pub fn json_to_js(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap_or(JsValue::NULL)
}

/// A JS value as JSON text (`undefined` becomes `null`) from the browser's own
/// `JSON.stringify`; refuses what JSON cannot carry (functions, cycles, BigInt).
#[cfg(any(feature = "dapp", feature = "wallet"))]
pub fn json_from_js(value: &JsValue) -> Result<crate::json::Json, JsValue> {
    if value.is_undefined() {
        return Ok(crate::json::Json::null());
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .and_then(|text| crate::json::Json::parse(&text).ok())
        .ok_or_else(|| js_error("invalid_params", "value cannot be encoded as JSON"))
}

/// A JS value as a serde_json value (`undefined` becomes `null`); refuses what JSON cannot
/// carry (functions, cycles, BigInt).
#[cfg(feature = "direct")]
pub fn from_js(value: &JsValue) -> Result<serde_json::Value, JsValue> {
    if value.is_undefined() {
        return Ok(serde_json::Value::Null);
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .and_then(|text| serde_json::from_str(&text).ok())
        .ok_or_else(|| js_error("invalid_params", "value cannot be encoded as JSON"))
}

/// Reads an optional property.
pub fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    js_sys::Reflect::get(target, &key.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// Reads an optional string property.
pub fn get_string(target: &JsValue, key: &str) -> Option<String> {
    get(target, key).and_then(|v| v.as_string())
}

/// Reads an optional numeric property as milliseconds.
pub fn get_ms(target: &JsValue, key: &str) -> Option<u64> {
    get(target, key)
        .and_then(|v| v.as_f64())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v as u64)
}

/// `crypto.getRandomValues`, available in every browser context walletwire runs in.
#[cfg(any(feature = "dapp", feature = "wallet"))]
#[derive(Debug)]
pub struct BrowserRandom;

#[cfg(any(feature = "dapp", feature = "wallet"))]
impl RandomSource for BrowserRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        let crypto: web_sys::Crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
            // Every browser since 2014 exposes a global `crypto`; without it nothing is secure.
            .expect("global crypto object")
            .unchecked_into();
        // getRandomValues takes at most 65536 bytes per call.
        for chunk in buf.chunks_mut(65536) {
            crypto
                .get_random_values_with_u8_array(chunk)
                .expect("crypto.getRandomValues works");
        }
    }
}

/// `options[key]` as a scope set (CAIP-25 `{namespace: {chains, methods, events}}`), read
/// from its JSON text; `Ok(None)` when absent.
#[cfg(any(feature = "dapp", feature = "wallet"))]
pub fn get_scopes(
    options: &JsValue,
    key: &str,
) -> Result<Option<crate::protocol::Scopes>, JsValue> {
    let Some(value) = get(options, key) else {
        return Ok(None);
    };
    let text = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    crate::protocol::scopes_from_json(&text)
        .map(Some)
        .map_err(|m| super::error::js_error("invalid_params", m))
}
