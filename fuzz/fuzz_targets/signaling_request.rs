//! See `walletwire_fuzz::targets::signaling_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| walletwire_fuzz::targets::signaling_request::run(data));
