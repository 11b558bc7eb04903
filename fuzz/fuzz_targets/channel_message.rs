//! See `walletwire_fuzz::targets::channel_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| walletwire_fuzz::targets::channel_message::run(data));
