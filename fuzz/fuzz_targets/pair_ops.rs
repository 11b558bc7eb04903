//! See `walletwire_fuzz::targets::pair_ops`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| walletwire_fuzz::targets::pair_ops::run(data));
