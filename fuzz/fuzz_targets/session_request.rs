//! See `walletwire_fuzz::targets::session_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| walletwire_fuzz::targets::session_request::run(data));
