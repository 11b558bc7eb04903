//! walletwire
#![forbid(unsafe_code)]

pub mod base64url;
pub mod crypto;
pub mod protocol;
pub mod relay;
