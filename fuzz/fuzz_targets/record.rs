//! See `walletwire_fuzz::targets::record`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| walletwire_fuzz::targets::record::run(data));
