//! See `walletwire_fuzz::targets::frame`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| walletwire_fuzz::targets::frame::run(data));
