//! See `walletwire_fuzz::targets::relay_client_frames`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| walletwire_fuzz::targets::relay_client_frames::run(data));
