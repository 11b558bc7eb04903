//! walletwire
#![forbid(unsafe_code)]

pub mod relay;
