//! See `walletwire_fuzz::targets::offer`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| walletwire_fuzz::targets::offer::run(data));
