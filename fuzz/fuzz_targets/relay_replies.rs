//! See `walletwire_fuzz::targets::relay_replies`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| walletwire_fuzz::targets::relay_replies::run(data));
